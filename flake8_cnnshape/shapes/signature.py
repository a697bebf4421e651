"""How a call's arguments bind to a layer's or op's parameters, as Python
binds them, and the values a rule may meet that nobody knows."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ..records import Record


class _Unknown:
    """A value the evaluator could not work out. Never equal to anything."""

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:  # pragma: no cover - a guard against misuse
        raise TypeError("UNKNOWN has no truth value")


UNKNOWN = _Unknown()


class _Batch:
    """The batch size: an int nobody knows, the value of `x.size(0)`."""

    def __repr__(self) -> str:
        return "BATCH"


BATCH = _Batch()


class Unknowable(Exception):
    """Raised inside a rule when an argument it needs is not known."""


# A rule handed arguments no one would write (a list for `mode`, 1e308 for a
# scale) may fail in Python itself: that too means the output is not known.
RULE_GIVES_UP = (Unknowable, TypeError, ValueError, ArithmeticError, IndexError, KeyError)


class Sig(Record):
    __slots__ = ("params", "defaults", "kwonly", "varargs", "star", "positional", "required")
    _fields = ("params", "defaults", "kwonly", "varargs", "star")

    def __init__(self, params: Tuple[str, ...], defaults: Dict[str, object], kwonly: Tuple[str, ...] = (),
                 varargs: bool = False, star: Optional[str] = None):
        self.params = params
        self.defaults = defaults
        self.kwonly = kwonly
        self.varargs = varargs  # accepts *args/**kwargs (nn.Identity)
        self.star = star  # the parameter that takes the positional arguments past the others (x.expand(*sizes))
        # (the tables build a few hundred of these at import: no loop when there is nothing to leave out)
        self.positional = tuple(p for p in params if p not in kwonly) if kwonly else params
        self.required = tuple(p for p in params if p not in defaults)


def sig(*required: str, _kwonly: Optional[Dict[str, object]] = None, _varargs: bool = False, _star: Optional[str] = None,
        **optional: object) -> Sig:
    defaults = dict(optional)
    kwonly = dict(_kwonly or {})
    defaults.update(kwonly)
    # Keyword-only names are parameters too (BatchNorm2d(3, bias=False)); bind()
    # keeps them out of the positional slots.
    return Sig(tuple(required) + tuple(optional) + tuple(kwonly), defaults, tuple(kwonly), _varargs, _star)


class Args:
    """Constructor arguments bound to their names, defaults filled in."""

    __slots__ = ("values", "floats")

    def __init__(self, values: Dict[str, object]):
        self.values = values
        self.floats = None  # int_args.floats(), worked out on the first use (a size search applies a layer often)

    def __getitem__(self, name: str) -> object:
        return self.values[name]

    def known(self, name: str) -> object:
        v = self.values[name]
        if v is UNKNOWN:
            raise Unknowable(name)
        return v

    def int(self, name: str) -> int:
        v = self.values[name]
        if type(v) is not int and (isinstance(v, bool) or not isinstance(v, int)):  # UNKNOWN too
            raise Unknowable(name)
        return v

    def opt_int(self, name: str) -> Optional[int]:
        """int(), or None where nobody knows the value (a rule then checks what
        the other arguments fix); a known value that is no int still gives up."""
        v = self.values[name]
        if type(v) is int:  # the commonest
            return v
        return None if v is UNKNOWN else self.int(name)

    def opt_ints(self, name: str, n: int) -> Tuple[Optional[int], ...]:
        """ints(), or n Nones where nobody knows the value."""
        v = self.values[name]
        if type(v) is int:  # the commonest
            return (v,) * n
        return (None,) * n if v is UNKNOWN else self.ints(name, n)

    def ints(self, name: str, n: int) -> Tuple[int, ...]:
        """An int-or-tuple argument expanded to n entries, as torch's _ntuple does."""
        v = self.values[name]
        if type(v) is int:  # the commonest
            return (v,) * n
        if v is UNKNOWN or isinstance(v, bool):
            raise Unknowable(name)
        if isinstance(v, int):
            return (v,) * n
        if isinstance(v, (tuple, list)) and len(v) == n and all(isinstance(e, int) and not isinstance(e, bool) for e in v):
            return tuple(v)
        if isinstance(v, (tuple, list)) and len(v) == 1 and isinstance(v[0], int):
            return (v[0],) * n
        raise Unknowable(name)


def bind(spec_sig: Sig, args: List[object], kwargs: Dict[str, object]) -> Optional[Args]:
    """Bind call arguments like Python would; None when the call would fail to bind."""
    params = spec_sig.params
    positional = spec_sig.positional
    extra = None
    if len(args) > len(positional):
        if spec_sig.star is not None:
            extra = tuple(args[len(positional):])
        elif not spec_sig.varargs:
            return None
        args = args[: len(positional)]
    values: Dict[str, object] = dict(zip(positional, args))
    if spec_sig.star is not None:
        if spec_sig.star in kwargs:
            return None
        values[spec_sig.star] = extra if extra is not None else ()
    for name, v in kwargs.items():
        if name not in params:
            if spec_sig.varargs:
                continue
            return None
        if name in values:
            return None
        values[name] = v
    if len(values) < len(params) + (spec_sig.star is not None):
        for name in spec_sig.required:
            if name not in values:
                return None  # a required argument is missing: torch raises TypeError
        values = {**spec_sig.defaults, **values}
    return Args(values)


# The values whose type and equality say all a rule reads of them (UNKNOWN is
# equal to itself only): no float (-0.0 == 0.0), no tuple ((3, True) == (3, 1)).
_ALIKE = frozenset((int, bool, str, type(None), type(UNKNOWN)))


def bind_alike(memo: dict, name: str, spec_sig: Sig, args: List[object], kwargs: Dict[str, object]) -> Optional[Args]:
    """bind(), shared by the calls of a file that build a layer alike (the
    same values of the same types): a model builds the same few many times,
    and a rule's outcome is kept by its Args (interp/layers.py), so the layers
    built alike share it too. Args are never changed once bound."""
    types = tuple(map(type, args)) + tuple(map(type, kwargs.values())) if kwargs else tuple(map(type, args))
    if not _ALIKE.issuperset(types):
        return bind(spec_sig, args, kwargs)
    key = (name, id(spec_sig), tuple(args), tuple(kwargs.items()), types)
    got = memo.get(key, memo)  # (the memo itself: never a bound value)
    if got is memo:
        got = memo[key] = bind(spec_sig, args, kwargs)
    return got
