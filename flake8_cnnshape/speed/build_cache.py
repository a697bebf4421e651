"""Instances built once per file and copied after: a ResNet builds the same
block with the same arguments many times, and each model run builds its model
again. Running a class's __init__ is the interpreter's largest cost on model
zoos; copying what it built is cheap and gives the same layers, at the same
places in the source.

Only builds outside any model run, with arguments that are immutable plain
values or classes/functions of the file, are kept: an __init__ that changes a
list it was given, or that runs layers on a tensor, is built every time. A
lambda or nested def (`activation=lambda_relu()`, the commonest argument of
model zoos' conv blocks) is such an argument by its node and the values it
reads from the functions around it, while a build does not keep it: a kept
closure could be called later, after those values changed.

A build is kept as it is, not copied: most are never asked for again. The
interpreter notes when it changes an object in place (Interp.touch), and a
kept build is copied only while nothing in it changed after it was built;
else it is built again.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Optional

from ..interp.plain import PLAIN
from ..interp.scope import MISSING, ModuleScope, Scope
from ..interp.values import UNKNOWN, ClassInfo, Function, Instance, Layer, Partial, Repeated, SizeInt, TorchRef
from . import SWITCHES

MAX_COPY = 20_000  # objects copied for one build: larger ones are built again


def build_key(cls: ClassInfo, args, kwargs) -> Optional[tuple]:
    # what _frozen(tuple(args)) and _frozen(tuple(sorted(kwargs.items()))) give,
    # without a call for each plain value and each (name, value) pair: a
    # model's build asks for a key at every block it builds
    plain = _PLAIN_TYPES
    closures = _CLOSURES[0]
    try:
        frozen_args = ("tuple",) + tuple([(type(x).__name__, x) if type(x) in plain else _frozen(x) for x in args])
        frozen_kwargs = ("tuple",) + tuple([("tuple", ("str", k), (type(v).__name__, v) if type(v) in plain else _frozen(v))
                                            if type(k) is str else _frozen((k, v)) for k, v in sorted(kwargs.items())])
    except _NotFrozen:
        return None
    # last: whether a closure is among the arguments (then a build that keeps one is not kept)
    return (id(cls.node), frozen_args, frozen_kwargs, _CLOSURES[0] != closures)


class _NotFrozen(Exception):
    pass


def _frozen(v):
    t = type(v)
    if t in _PLAIN_TYPES:
        return (t.__name__, v)
    if t is tuple:  # the arguments themselves: their plain items without a call
        return ("tuple",) + tuple([(type(x).__name__, x) if type(x) in _PLAIN_TYPES else _frozen(x) for x in v])
    if isinstance(v, PLAIN):  # None and bools too
        return (type(v).__name__, v)
    if v is UNKNOWN:  # the interpreter does the same with it every time
        return ("?",)
    if isinstance(v, tuple):
        return ("tuple",) + tuple(_frozen(x) for x in v)
    if isinstance(v, ClassInfo):
        return ("class", id(v.node))
    if t is TorchRef:  # `norm_layer=nn.BatchNorm2d`: the name is all it holds
        return ("torch", v.qual)
    if t is Partial:
        return ("partial", _frozen(v.func), _frozen(v.args), _frozen(tuple(sorted(v.kwargs.items()))))
    if isinstance(v, Function) and v.bound_self is None:
        if type(v.scope) is ModuleScope and v.scope.parent is None:
            return ("function", id(v.node))  # a module-level function: the same whoever passes it
        if type(v.scope) is Scope:
            return _closure(v)
    raise _NotFrozen()


def _closure(v: Function) -> tuple:
    """A lambda or nested def: its node and the values it reads from the
    function calls around it, as they are now."""
    names = _free_names(v.node)
    if names is None:
        raise _NotFrozen()
    read = []
    for name in names:
        scope = v.scope
        while type(scope) is Scope:
            x = scope.vars.get(name, MISSING)
            if x is not MISSING:
                read.append((name, _frozen(x)))
                break
            scope = scope.parent
    _CLOSURES[0] += 1
    return ("closure", id(v.node), tuple(read))


_CLOSURES = [0]  # closures frozen so far: build_key tells from it whether its arguments hold one
_FREE: Dict[int, tuple] = {}  # by the node's id: (the node, what _free_names gives)


def _free_names(node) -> Optional[tuple]:
    """The names a lambda or def may read from around it (its defaults' and
    its body's, less its own parameters in the body; more rather than fewer),
    sorted; None when it declares a name global or nonlocal."""
    got = _FREE.get(id(node))
    if got is not None and got[0] is node:  # (a freed tree's id may be another node's now)
        return got[1]
    a = node.args
    params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs} | {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    body = node.body if type(node.body) is list else [node.body]
    names: set = set()
    out: Optional[tuple] = None
    for part, own in [(d, False) for d in a.defaults + [d for d in a.kw_defaults if d is not None]] + [(b, True) for b in body]:
        for n in ast.walk(part):
            if type(n) is ast.Global or type(n) is ast.Nonlocal:
                break
            if type(n) is ast.Name and not (own and n.id in params):
                names.add(n.id)
        else:
            continue
        break
    else:
        out = tuple(sorted(names))
    if len(_FREE) > 50_000:
        _FREE.clear()
    _FREE[id(node)] = (node, out)
    return out


def _holds_closure(inst: Instance, parts) -> bool:
    """Whether a build keeps a lambda or nested def of a function call (in an
    attribute, a list, a dict, a layer's arguments), or is too big to say
    (parts: parts_of(inst))."""
    if parts is TOO_BIG:
        return True
    todo: list = []
    for v in [inst, *parts]:
        t = type(v)
        todo.extend(v.attrs.values() if t is Instance else v.values() if t is dict else v if t is list
                    else v.args.values.values() if t is Layer and v.args is not None else ())
    while todo:
        x = todo.pop()
        if type(x) is tuple:
            todo.extend(x)
        elif type(x) is Function and type(x.scope) is Scope:
            return True
    return False


class Copier:
    """A deep copy of what a build made (instances, layers, lists, dicts),
    keeping shared objects shared; other values are immutable and kept.
    Refused (_Changed) when one of the objects changed after `since` (when
    the build was made) on the interpreter's clock: the copy would not be what
    the build made."""

    def __init__(self, changed: Dict[int, int], since: int):
        self.memo: Dict[int, object] = {}
        self.count = 0
        self.sequentials: List[Layer] = []  # in the order they were built
        self.changed = changed
        self.since = since

    def copy(self, v):
        t = type(v)
        if t in _KEPT:  # most values: a quick way out
            return v
        if t is tuple:
            return tuple([self.copy(x) for x in v])
        if t is Repeated:  # not kept in the memo: parts_of() does not list it either
            return Repeated(tuple([self.copy(x) for x in v.items]))
        if t is not Instance and t is not Layer and t is not list and t is not dict:
            return v
        got = self.memo.get(id(v))
        if got is not None:
            return got
        if self.changed.get(id(v), 0) > self.since:
            raise _Changed()
        self.count += 1
        if self.count > MAX_COPY:
            raise _TooBig()
        if t is Instance:
            out = Instance(v.cls, {}, v.node, v.complete, v.made)
            self.memo[id(v)] = out
            out.attrs.update([(k, self.copy(x)) for k, x in v.attrs.items()])
            return out
        if t is Layer:
            out = Layer(v.kind, v.node, v.spec, v.args)
            out.owner = v.owner
            self.memo[id(v)] = out
            if v.children is not None:
                out.children = [self.copy(x) for x in v.children]
            if v.items is not None:
                out.items = {k: self.copy(x) for k, x in v.items.items()}
            if v.repeat is not None:
                out.repeat = [self.copy(x) for x in v.repeat]
            if v.kind == "Sequential":
                self.sequentials.append(out)
            return out
        if t is list:
            out = []
            self.memo[id(v)] = out
            out.extend([self.copy(x) for x in v])
            return out
        out = {}
        self.memo[id(v)] = out
        out.update([(k, self.copy(x)) for k, x in v.items()])
        return out


_PLAIN_TYPES = frozenset(PLAIN) | {SizeInt}
# immutable, or shared by every build (classes and functions of the file)
_KEPT = _PLAIN_TYPES | {type(UNKNOWN), ClassInfo, Function, TorchRef}


class _TooBig(Exception):
    pass


class _Changed(Exception):
    pass


TOO_BIG = "too big"


def sequentials_if_unchanged(inst: Instance, changed: Dict[int, int]) -> Optional[List[Layer]]:
    """The nn.Sequentials in a build of the cache, in an order that is the
    same for every build of its key; None when something in it changed after
    it was made (or it is too big to look through)."""
    parts = inst.parts
    if parts is None:
        parts = inst.parts = parts_of(inst)
    if parts is TOO_BIG:
        return None
    since = inst.born
    get = changed.get
    if get(id(inst), 0) > since:
        return None
    for v in parts:
        if get(id(v), 0) > since:
            return None
    return [v for v in parts if type(v) is Layer and v.kind == "Sequential"]


def parts_of(inst: Instance):
    """The instances, layers, lists and dicts a build holds (but itself), each
    once, in the order Copier meets them (so a copy's are its memo's, in
    order); TOO_BIG past MAX_COPY."""
    seen: Dict[int, object] = {}
    todo: list = [inst]  # children pushed last first: they pop first first, as Copier recurses
    while todo:
        v = todo.pop()
        t = type(v)
        if t is tuple:
            todo.extend(reversed(v))
            continue
        if t is Repeated:
            todo.extend(reversed(v.items))
            continue
        if t is not Instance and t is not Layer and t is not list and t is not dict or id(v) in seen:
            continue
        seen[id(v)] = v
        if len(seen) > MAX_COPY:
            return TOO_BIG
        if t is Instance:
            todo.extend(reversed(list(v.attrs.values())))
        elif t is Layer:
            todo.extend(reversed(v.repeat or ()))
            todo.extend(reversed(list((v.items or {}).values())))
            todo.extend(reversed(v.children or ()))
        else:
            todo.extend(reversed(list(v.values()) if t is dict else v))
    return list(seen.values())[1:]  # not inst itself: it would hold itself


def copy_build(inst: Instance, changed: Dict[int, int]):
    """(copy, the nn.Sequentials in it); None when something in it changed
    after it was made; TOO_BIG when it is too big to copy."""
    c = Copier(changed, inst.born)
    try:
        out = c.copy(inst)
    except _Changed:
        return None
    except (_TooBig, RecursionError):
        return TOO_BIG
    out.parts = list(c.memo.values())[1:]  # what parts_of(out) would find, in its order
    return out, c.sequentials


class BuildCache:
    """The builds of one file, by build_key: the kept Instance, or TOO_BIG."""

    def __init__(self, changed: Dict[int, int]):
        self.on = SWITCHES["build_cache"]
        self.changed = changed  # the interpreter's change clock (interp/mutation.py)
        self.builds: Dict[tuple, object] = {}
        self.copied: set = set()  # keys of the builds copied at least once

    def key(self, cls: ClassInfo, args, kwargs) -> Optional[tuple]:
        return build_key(cls, args, kwargs) if self.on else None

    def copy(self, key: tuple):
        """(a copy of the build kept under key, the nn.Sequentials in it), or
        None when there is none to copy (never kept, or changed since), or
        TOO_BIG: then nothing is kept under the key from now on."""
        kept = self.builds.get(key)
        if kept is None or kept is TOO_BIG:
            return kept
        got = copy_build(kept, self.changed)
        if got is TOO_BIG:
            self.builds[key] = TOO_BIG
        elif got is not None:
            self.copied.add(key)
        return got

    def keep(self, key: tuple, inst: Instance, clock: int) -> None:
        """Kept as it is, not copied: most builds are never asked for again, and
        a copy made later is the same while nothing in it has changed since
        this clock time (inst.born)."""
        if key[3]:
            parts = parts_of(inst)
            if _holds_closure(inst, parts):
                return  # each build holds its own closure: never copied
            inst.parts = parts  # what sequentials_if_unchanged() would work out again, in its order
        self.builds[key] = inst
        inst.key, inst.born = key, clock

    def clear(self) -> None:
        self.builds.clear()
        self.copied.clear()
