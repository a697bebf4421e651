"""Loops run a number of times nobody knows: a builder's
`for _ in range(depth): layers.append(Block(c, c))` with depth a constructor
argument nobody gives, and forward()'s `for blk in self.blocks: x = blk(x)`
over the blocks such a loop built.

The body runs twice from the state before the loop, the loop's variable
unknown (or the block of a Repeated). When the second pass leaves every value
as the first left it (a tensor with the same shape, a block built with the
same arguments), and grows each list by one block built as the first pass
built its own, any count from one on gives the state after the first pass;
zero gives the state before. The two are then joined as the sides of an `if`
are: a value they agree on stays known, a list that grew holds its first
items and then a Repeated block (values.Repeated), the first pass's faults
count. Anything else (a break, a return, a list grown otherwise, a value that
changes again) and the loop is not followed: the state goes back to what it
was before and then becomes unknown; of what the passes found, only the
faults of a first pass that ran to its end, with no `if` it could not
decide, are kept.
"""
from __future__ import annotations

from typing import List, Optional

from ..shapes.signature import UNKNOWN
from ..speed.build_cache import build_key
from .control import Break, Continue, Raised, Return, Unfollowed
from .mutation import Snapshot
from .plain import join_vars, same_value
from .values import POISON, Instance, Layer, Repeated, Tensor, unknown_length

MAX_DEPTH = 4  # how deep two blocks are compared
# open loops under way at once: a recursive helper that loops over what it is
# given (`for child in module.children(): helper(child)`) would nest without end
MAX_NESTED = 2


def open_parts(it):
    """(the items before, the blocks repeated, the items after) of what a
    loop runs over when its length is not known: a list or container holding
    one Repeated; else no item known, none before or after."""
    held = it if type(it) is list else it.repeat if type(it) is Layer and it.repeat is not None else None
    if held is None or POISON in held:
        return [], (UNKNOWN,), []
    marks = [k for k, e in enumerate(held) if type(e) is Repeated]
    if len(marks) != 1:
        return [], (UNKNOWN,), []
    k = marks[0]
    return held[:k], held[k].items, held[k + 1:]


def run_open(ex, loop, scope, item) -> bool:
    """The loop run any number of times, each pass on `item`; False (nothing
    changed) when it cannot be followed so."""
    if loop.orelse or ex.open_loops >= MAX_NESTED:
        return False
    ex.open_loops += 1
    try:
        return _run_open(ex, loop, scope, item)
    finally:
        ex.open_loops -= 1


def _run_open(ex, loop, scope, item) -> bool:
    rec, mutation = ex.rec, ex.mutation
    before = Snapshot(scope)
    marks = _marks(rec)
    run = rec.run
    first = run.fork() if run is not None else None
    undecided = rec.undecided
    ok = _pass(ex, loop, scope, item, first)
    once = before.again(scope) if ok else None
    # Its faults hold for the first iteration only where it ran no `if` it could
    # not decide: the other side may need another item than the first's.
    keep = ok and rec.undecided == undecided
    if ok:
        again = _marks(rec)
        ok = _pass(ex, loop, scope, item, run.fork() if run is not None else None)
        twice = before.again(scope)
        _rewind(rec, again)  # what the second pass logged is the first's again, or not kept at all
        grown = _grown(before, once, twice) if ok else None
        ok = grown is not None
    if not ok:
        before.restore(mutation, scope)
        # the first pass ran as the first iteration runs: what it found holds whenever the loop runs
        _rewind(rec, marks, keep_faults=keep)
        if run is not None and keep:
            run.join(run.fork(), first)
        return False
    once.restore(mutation, scope)
    for box, c0, block in zip(before.boxes, before.held, grown):
        if block is not None:
            _open(mutation, box, c0, block)
    scope.vars = join_vars(before.vars, once.vars, _alike)
    for inst, a0, a1 in zip(before.selves, before.attrs, once.attrs):
        mutation.set_attrs(inst, join_vars(a0, a1, _alike))
    for box, c0, c1, block in zip(before.boxes, before.held, once.held, grown):
        if block is None and not _same(c0, c1, 0):
            mutation.poison(box)  # the passes changed it, and no count is known
    if run is not None and keep:
        run.join(run.fork(), first)  # no pass, or some: the first pass's faults are the loop's
    if not keep:
        del rec.log.built[marks[0]:]  # nor are the nn.Sequentials it built checked on their own
    return True


def _pass(ex, loop, scope, item, side) -> bool:
    rec = ex.rec
    run = rec.run
    rec.run = side
    try:
        if not ex.assign(loop.target, item, scope):
            return False
        ex.exec_block(loop.body, scope)
    except Continue:
        pass
    except (Break, Return, Raised, Unfollowed):
        return False
    finally:
        rec.run = run
    return True


def _grown(before: Snapshot, once: Snapshot, twice: Snapshot) -> Optional[List[object]]:
    """Per box, the blocks each pass appends to it (None: a box the second pass left as the first did);
    None when the second pass changed anything else."""
    if once.vars.keys() != twice.vars.keys() or not all(_same(once.vars[k], twice.vars[k], 0) for k in once.vars):
        return None
    if not all(a.keys() == b.keys() and all(_same(a[k], b[k], 0) for k in a) for a, b in zip(once.attrs, twice.attrs)):
        return None
    out: List[object] = []
    for c0, c1, c2 in zip(before.held, once.held, twice.held):
        if _same(c1, c2, 0):
            out.append(None)
            continue
        block = _appended(c0, c1, c2)
        if block is None:
            return None
        out.append(block)
    return out


def _appended(c0, c1, c2):
    """The blocks a list (or a container's children) gets at its end in each pass, the same each time."""
    if isinstance(c0, tuple):  # a container: (children, items, repeat)
        if c0[0] is None or c0[1:] != c1[1:] or c1[1:] != c2[1:] or c0[1] is not None or c0[2] is not None:
            return None
        c0, c1, c2 = c0[0], c1[0], c2[0]
    if not all(isinstance(c, list) for c in (c0, c1, c2)) or unknown_length(c0):
        return None
    n = len(c1) - len(c0)
    if n < 1 or len(c2) - len(c1) != n or not all(a is b for a, b in zip(c0, c1)) or not all(a is b for a, b in zip(c1, c2)):
        return None
    blocks = tuple(c1[len(c0):])
    ok = all(type(b) in (Layer, Instance) and _same(b, b2, 0) for b, b2 in zip(blocks, c2[len(c1):]))
    return blocks if ok else None


def _open(mutation, box, held, blocks) -> None:
    """The box after any number of passes: what it held, then the blocks repeated."""
    mutation.note(box)
    if isinstance(box, Layer):
        box.children = None
        box.repeat = list(held[0]) + [Repeated(blocks)]
    else:
        box[:] = list(held) + [Repeated(blocks)]


def _alike(a, b) -> bool:
    return _same(a, b, 0)


def _same(a, b, depth: int) -> bool:
    """Two values a pass leaves alike: equal, tensors of one shape, or blocks
    built by one class (or torch.nn layer) with the same arguments."""
    if a is b or same_value(a, b):
        return True
    t = type(a)
    if t is not type(b) or depth > MAX_DEPTH:
        return False
    if t is tuple or t is list:
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b))
    if t is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if t is Instance:
        if a.cls is not b.cls or a.made is None or b.made is None or not a.complete or not b.complete:
            return False
        key = build_key(a.cls, *a.made)
        return key is not None and key == build_key(b.cls, *b.made)
    if t is Layer:
        if a.kind != b.kind or a.spec is not b.spec or (a.args is None) != (b.args is None) or a.repeat or b.repeat:
            return False
        if a.args is not None and not _same(a.args.values, b.args.values, depth + 1):
            return False
        return _same(a.children, b.children, depth + 1) and _same(a.items, b.items, depth + 1)
    return a is UNKNOWN and b is UNKNOWN or t is Tensor and a.shape == b.shape


def _marks(rec):
    log = rec.log
    return (len(log.built), None if log.trace is None else len(log.trace), None if log.stops is None else len(log.stops),
            rec.faults, set(rec.sides), {k: dict(v) for k, v in rec.clean.items()})


def _rewind(rec, marks, keep_faults: bool = False) -> None:
    """The file log as it was at marks: what a pass not kept built, traced, or covered is not the file's
    (keep_faults: the faults it found are counted, they stand)."""
    built, trace, stops, faults, sides, clean = marks
    log = rec.log
    del log.built[built:]
    if trace is not None and log.trace is not None:
        del log.trace[trace:]
    if stops is not None and log.stops is not None:
        del log.stops[stops:]
    if not keep_faults:
        rec.faults = faults
    rec.sides.clear()
    rec.sides.update(sides)
    rec.clean.clear()
    rec.clean.update(clean)
