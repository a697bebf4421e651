"""The ways a class is built: the calls and factories read for them so far,
the parameters nobody knows, ways that differ in more than numbers."""
from __future__ import annotations

import ast
from typing import List, Optional

from ..interp.values import UNKNOWN, ClassInfo


def unknown_parameters(init: ast.FunctionDef, calls: List[ast.Call]) -> dict:
    """__init__'s parameters the class is built with but nobody knows:
    the required ones, and those some call gives a value that is not known
    where it stands (that call does not build it with the default)."""
    a = init.args
    positional = (a.posonlyargs + a.args)[1:]
    names = [p.arg for p in positional] + [p.arg for p in a.kwonlyargs]
    required = len(positional) - len(a.defaults)
    unknown = {p.arg for p in positional[:max(0, required)]}
    unknown |= {p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None}
    for node in calls:
        if any(isinstance(v, ast.Starred) for v in node.args) or any(k.arg is None for k in node.keywords):
            unknown |= set(names)  # *args or **kwargs: any of them
            continue
        unknown |= {p.arg for p in positional[:len(node.args)]}
        unknown |= {k.arg for k in node.keywords if k.arg in names}
    return {n: UNKNOWN for n in names if n in unknown}


def complete(cls: ClassInfo, args, kwargs):
    """A way with the required parameters it leaves out unknown (a factory
    forwarding **kwargs builds with what its caller gives)."""
    init = cls.method("__init__")
    if init is None:
        return args, kwargs
    a = init.args
    positional = (a.posonlyargs + a.args)[1:]
    required = positional[len(args):len(positional) - len(a.defaults)]
    missing = [p.arg for p in required if p.arg not in kwargs]
    missing += [p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None and p.arg not in kwargs]
    return (args, dict(kwargs, **{m: UNKNOWN for m in missing})) if missing else (args, kwargs)


def required(fn: ast.FunctionDef) -> List[str]:
    """The parameters of fn without a default."""
    a = fn.args
    positional = a.posonlyargs + a.args
    return ([p.arg for p in positional[:len(positional) - len(a.defaults)]]
            + [p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None])


class WaySearch:
    """The ways of building one class found so far: the fully known ones
    first (in the order of the calls, or of the factories), then those with
    unknown parts (from factories)."""

    def __init__(self, calls: List[ast.Call]):
        self.calls = list(calls)  # not read yet
        self.factories: List[ast.FunctionDef] = []  # the module functions the calls with unknown arguments stand in
        self.todo: Optional[List[ast.FunctionDef]] = None  # the factories not run yet, once they are needed
        self.known: list = []  # the ways, completed
        self.unknown: list = []
        self.keys: set = set()
        self.differs = False  # some known way differs from the first in more than numbers

    @property
    def done(self) -> bool:
        return not self.calls and (bool(self.known) or self.todo == [])

    def settled(self, second: bool) -> bool:
        """Is the first way known (and a second that differs in more than numbers, when asked for)?"""
        return bool(self.known) and (not second or self.differs)

    def add(self, way, completed) -> None:
        args, kwargs = way
        key = (repr(args), repr(sorted(kwargs.items())))
        if key in self.keys:
            return
        self.keys.add(key)
        if not known(way):
            self.unknown.append(completed)
            return
        if self.known and not self.differs:
            self.differs = differ(self.known[0], completed)
        self.known.append(completed)


def known(way) -> bool:
    args, kwargs = way
    return all(v is not UNKNOWN for v in list(args) + list(kwargs.values()))


def differ(a, b) -> bool:
    """Do two ways of building differ in more than numbers?"""
    return repr(_blind(a)) != repr(_blind(b))


def _blind(v):
    """v with its numbers left out."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "#"
    if isinstance(v, (list, tuple)):
        return type(v)(_blind(x) for x in v)
    if isinstance(v, dict):
        return {k: _blind(x) for k, x in sorted(v.items())}
    return v
