"""List, generator and dict comprehensions, for the Evaluator: each `for`
unrolled over what it iterates (within MAX_SEQ items), each `if` decided,
or the whole comprehension unknown."""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from ..shapes.signature import UNKNOWN
from .budget import MAX_SEQ
from .control import LoopExit
from .scope import Scope

if TYPE_CHECKING:  # annotations only
    from .api import EvaluatorPart


def comprehension(ev: "EvaluatorPart", node, scope: Scope, pair: bool = False):
    """The items (pairs for a dict) a comprehension makes, or UNKNOWN."""
    out: List[object] = []
    try:
        _generate(ev, node, 0, Scope(scope), out, pair)
    except LoopExit:
        return UNKNOWN
    return out


def _generate(ev: "EvaluatorPart", node, i: int, inner: Scope, out: List[object], pair: bool) -> None:
    """The items from the comprehension's i-th `for` on. (A function that
    calls itself, not a closure: that would be a reference cycle holding the
    whole file's analysis until the next collection.)"""
    if i == len(node.generators):
        if pair:
            out.append((ev.eval(node.key, inner), ev.eval(node.value, inner)))
        else:
            out.append(ev.eval(node.elt, inner))
        if len(out) > MAX_SEQ:
            raise LoopExit()
        return
    g = node.generators[i]
    items = ev.iterate(ev.eval(g.iter, inner))
    if items is UNKNOWN or g.is_async:
        raise LoopExit()
    for item in items:
        ev.budget.tick()
        if not ev.ex.assign(g.target, item, inner):
            raise LoopExit()
        ok = True
        for cond in g.ifs:
            t = ev.truth(ev.eval(cond, inner))
            if t is None:
                raise LoopExit()
            ok = ok and t
        if ok:
            _generate(ev, node, i + 1, inner, out, pair)
