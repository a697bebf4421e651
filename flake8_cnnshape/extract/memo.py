"""Module calls done once per structure and input shape.

A ResNet stage applies the same block, built with the same arguments, to the
same shape several times; each way of building a model applies them again.
A call of a module (a class instance's forward(), or an nn.Sequential) is
kept with what it did to the model run, and replayed when an equal module
(same layers, same constructor arguments, same sharing of objects) is called
with the same input shape in the same run state.

What a call does is taken whole: it runs under a run of its own (`Run.fork`),
which is then merged into the model's run exactly as if it had run there. A
call is kept only when replaying it is exact:
- it reads no first use recorded before it (a layer used again),
- it changes no object (Interp.mutations) and builds no nn.Sequential,
- it does not search for an input size (that reads the tensor's history
  before the call),
- all it uses and applies belongs to the module called, so that a replay can
  find the same object in an equal module by position.
Replays tick the steps the call took: the budget runs out where it did.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional

from ..shapes import BATCH, UNKNOWN
from .scope import _PLAIN
from .values import ClassInfo, Function, Instance, Layer, SizeInt, Tensor, TorchRef

if TYPE_CHECKING:  # pragma: no cover
    from .interp import Interp

MAX_OBJECTS = 300  # objects a key walks: the model's own outermost call is never equal to another
MAX_CHAIN = 200  # the size search follows as many steps back


class _NoKey(Exception):
    pass


def structure(root, objects: List[object]) -> Optional[tuple]:
    """A key equal for modules built alike: kinds, constructor arguments (the
    same Args object: copies of one build share them), attribute names and
    values, and which objects are shared. `objects` gets the mutable objects
    in walk order, so that equal keys pair them by position. None when some
    value cannot be compared this way."""
    seen: Dict[int, int] = {}
    try:
        return _token(root, seen, objects)
    except (_NoKey, RecursionError):
        return None


def _token(v, seen: Dict[int, int], objects: List[object]):
    t = type(v)
    if t in _PLAIN_TYPES:
        return (t, v)
    if v is UNKNOWN or v is BATCH:
        return v
    if t is ClassInfo:
        return ("class", id(v.node))
    if t is TorchRef:
        return ("torch", v.qual)
    if t is Function and v.bound_self is None:
        return ("function", id(v.node), id(v.scope))
    got = seen.get(id(v))
    if got is not None:
        return ("shared", got)
    if len(objects) >= MAX_OBJECTS:
        raise _NoKey()
    if t is Layer:
        seen[id(v)] = len(objects)
        objects.append(v)
        kids = None if v.children is None else tuple([_token(c, seen, objects) for c in v.children])
        items = None if v.items is None else tuple([(k, _token(c, seen, objects)) for k, c in v.items.items()])
        return ("layer", v.kind, id(v.node), id(v.args), kids, items)
    if t is Instance:
        seen[id(v)] = len(objects)
        objects.append(v)
        return ("instance", id(v.cls.node), v.complete,
                tuple([(k, _token(c, seen, objects)) for k, c in v.attrs.items()]))
    if t is list or t is dict:
        seen[id(v)] = len(objects)
        objects.append(v)
        if t is list:
            return ("list", tuple([_token(c, seen, objects) for c in v]))
        return ("dict", tuple([(k, _token(c, seen, objects)) for k, c in v.items()]))
    if t is tuple:
        return ("tuple", tuple([_token(c, seen, objects) for c in v]))
    if t is Tensor and v.origin is None:
        return ("tensor", v.shape, v.root)
    raise _NoKey()


_PLAIN_TYPES = frozenset(_PLAIN) | {SizeInt}


class _Entry:
    __slots__ = ("steps", "found", "visited", "uses", "applied", "accepted", "early_fault", "out")

    def __init__(self, steps, found, visited, uses, applied, accepted, early_fault, out):
        self.steps = steps
        self.found = found  # the Found of the call, in order
        self.visited = visited
        self.uses = uses  # (position of the layer in the module, its first use)
        self.applied = applied  # positions of the nn.Sequentials applied
        self.accepted = accepted
        self.early_fault = early_fault
        self.out = out  # see _template


class CallMemo:
    def __init__(self, interp: "Interp"):
        self.interp = interp
        self.entries: Dict[tuple, _Entry] = {}

    def call(self, module, x: Tensor, compute):
        """compute() applies module to x; done once per equal call."""
        interp = self.interp
        run = interp.run
        if run is None or interp.trace is not None:
            return compute()
        objects: List[object] = []
        shape = structure(module, objects)
        if shape is None:
            return compute()
        key = (shape, x.shape, run.accepted, run.early_fault, interp.depth)
        entry = self.entries.get(key)
        if entry is not None:
            ids = [id(objects[p]) for p, _ in entry.uses]
            if all(run.first_use(i) is None for i in ids):
                return self._replay(entry, objects, ids, x)
            return compute()
        return self._record(key, objects, x, compute)

    def _record(self, key, objects, x: Tensor, compute):
        interp = self.interp
        run = interp.run
        side = run.fork()
        applied, interp.applied = interp.applied, set()
        steps, mutations, created, searches = interp.steps, interp.mutations, len(interp.created), interp.searches
        interp.run = side
        try:
            out = compute()
        finally:
            interp.run = run
            mine, interp.applied = interp.applied, applied
            applied |= mine
        run.absorb(side)
        if side.read_before or interp.mutations != mutations or len(interp.created) != created or interp.searches != searches:
            return out
        position = {id(o): i for i, o in enumerate(objects)}
        uses = [(position.get(k), v) for k, v in side.uses.items()]
        done = [position.get(k) for k in mine]
        template = _template(out, x, position)
        if template is not _NO and all(p is not None for p, _ in uses) and None not in done:
            self.entries[key] = _Entry(interp.steps - steps, list(side.found.values()), side.visited, uses, done,
                                       side.accepted, side.early_fault, template)
        return out

    def _replay(self, e: _Entry, objects, ids, x: Tensor):
        interp = self.interp
        interp.tick(e.steps)
        run = interp.run
        run.early_fault = run.early_fault or e.early_fault
        if run.accepted is None:
            run.accepted = e.accepted
        for f in e.found:
            run.found.setdefault(f.key, f)
        run.visited |= e.visited
        for i, (_, use) in zip(ids, e.uses):
            run.uses[i] = use
        interp.applied.update(id(objects[p]) for p in e.applied)
        return _rebuild(e.out, x, objects)


_NO = object()


def _template(v, x: Tensor, position: Dict[int, int]):
    """What the call returned, with its tensors' history back to the input
    recorded step by step (the size search of a later Linear follows it);
    _NO when it returned something a replay could not give again."""
    t = type(v)
    if t in _PLAIN_TYPES or v is UNKNOWN or v is BATCH:
        return ("value", v)
    if t is tuple:
        items = [_template(e, x, position) for e in v]
        return _NO if any(i is _NO for i in items) else ("tuple", items)
    if t is not Tensor:
        return _NO
    links = []
    cur = v
    while cur is not x and cur.origin is not None and len(links) < MAX_CHAIN:
        parent, step, layer, kind = cur.origin
        links.append((cur.shape, step, position.get(id(layer)) if layer is not None else None, layer, kind))
        cur = parent
    if cur is not x:
        return ("value", v)  # no history back to the input: the same tensor does
    links.reverse()
    return ("tensor", links)


def _rebuild(template, x: Tensor, objects):
    kind, body = template
    if kind == "value":
        return body
    if kind == "tuple":
        return tuple(_rebuild(i, x, objects) for i in body)
    t = x
    for shape, step, pos, layer, op in body:
        t = Tensor(shape, (t, step, objects[pos] if pos is not None else layer, op))
    return t
