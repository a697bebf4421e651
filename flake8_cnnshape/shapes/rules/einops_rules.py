"""einops' rearrange / reduce / repeat (and the Rearrange / Reduce layers) on
whole shapes (the batch among the dims as B, see matmul.py), as einops works
them out (einops/einops.py, `_reconstruct_from_shape`): the left side names
one group of axes per input dim (`(h p1)`: h times p1), `...` stands for any
number of dims (`(...)` on the right: all of them as one), `1` for a dim of 1; an axis whose length is given
(`p1=16`) divides its dim, and at most one axis of a group is left to be
worked out. The right side says how they come out; reduce drops axes,
repeat adds them (their lengths given). Where einops raises, a fault:
CNS006 for a rank the pattern cannot take, CNS005 for a dim the lengths do
not divide or do not make.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

from ..spec import Ctx
from .matmul import B, GivesUp, describe

ELLIPSIS = "..."
COMPOSED = "(...)"  # the ellipsis inside a group: its dims multiplied into the group's


class _Bad(Exception):
    """A pattern einops itself would refuse, or one we do not read: not ours to report."""


@lru_cache(maxsize=256)
def parse(pattern: str) -> Tuple[tuple, tuple]:
    """(left, right): each a tuple of groups, a group a tuple of axis names
    ("1" for an anonymous dim of 1, "..." for the ellipsis)."""
    if pattern.count("->") != 1:
        raise _Bad()
    return tuple(_side(s) for s in pattern.split("->"))  # type: ignore[return-value]


def _side(text: str) -> tuple:
    groups: List[tuple] = []
    current: Optional[list] = None
    for token in text.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if current is not None:
                raise _Bad()
            current = []
        elif token == ")":
            if current is None:
                raise _Bad()
            groups.append(tuple(current))
            current = None
        elif token == ELLIPSIS and current is not None:
            current.append(COMPOSED)  # `(...)`: the ellipsis' dims composed into one (a bare `...` spreads them)
        elif token == ELLIPSIS or token.isidentifier() or token.isdigit():
            (current if current is not None else groups).append(token if current is not None else (token,))
        else:
            raise _Bad()
    if current is not None:
        raise _Bad()
    return tuple(groups)


def _check(kind: str, left, right) -> None:
    """What einops refuses before it looks at a shape (or we do not read): _Bad."""
    def names(side):
        return [ELLIPSIS if a == COMPOSED else a for g in side for a in g if a != "1" and not a.isdigit()]

    for side in (left, right):
        flat = names(side)
        if len(flat) != len(set(flat)):
            raise _Bad()
    if any(COMPOSED in g for g in left):
        raise _Bad()  # einops: no ellipsis inside parentheses on the left
    if kind != "reduce" and any(a.isdigit() and a != "1" for g in left for a in g):
        raise _Bad()  # anonymous lengths on the left: reduce's windows only
    if kind != "repeat" and any(a.isdigit() and a != "1" for g in right for a in g):
        raise _Bad()
    lhs, rhs = set(names(left)), set(names(right))
    if kind == "rearrange" and lhs != rhs or kind == "reduce" and not rhs <= lhs or kind == "repeat" and not lhs <= rhs:
        raise _Bad()


def _lengths(left, dims, axes: Dict[str, object], ctx: Ctx, display) -> Optional[Dict[str, object]]:
    """The length of each axis of the left side (B, an int or None), or None after a fault."""
    if (ELLIPSIS,) in left:
        at = left.index((ELLIPSIS,))
        before, after = left[:at], left[at + 1:]
        if len(dims) < len(before) + len(after):
            ctx.fault("CNS006", "einops_rank", {"pattern": display, "got": describe(dims)})
            return None
        tail = len(dims) - len(after)
        pairs = list(zip(before, dims[:at])) + list(zip(after, dims[tail:]))
        out: Dict[str, object] = {ELLIPSIS: tuple(dims[at:tail])}
    else:
        if len(dims) != len(left):
            ctx.fault("CNS006", "einops_rank", {"pattern": display, "got": describe(dims)})
            return None
        pairs = list(zip(left, dims))
        out = {}
    for group, dim in pairs:
        if not _group(group, dim, axes, out, ctx, display):
            return None
    return out


def _group(group, dim, known, out, ctx: Ctx, display) -> bool:
    if dim is B:
        if len(group) != 1 or group[0] == "1" or group[0] in known:
            raise GivesUp()  # the batch split, or held to a length: depends on its size
        out[group[0]] = B
        return True
    given = [int(a) if a.isdigit() else known.get(a) for a in group]
    if B in given:
        raise GivesUp()  # held to the batch size
    if any(g is not None and (not isinstance(g, int) or isinstance(g, bool) or g < 1) for g in given):
        raise _Bad()
    missing = [a for a, g in zip(group, given) if g is None]
    product = math.prod(g for g in given if g is not None)
    if len(missing) > 1:
        for a, g in zip(group, given):
            out[a] = g
        return True  # einops cannot work them out either: unless given in the call, they stay unknown
    if dim is None:
        for a, g in zip(group, given):
            out[a] = g
        return True
    if missing:
        if dim % product:
            ctx.fault("CNS005", "einops_divide", {"pattern": display, "dim": dim, "group": " ".join(group), "by": product})
            return False
        given[given.index(None)] = dim // product
    elif product != dim:
        ctx.fault("CNS005", "einops_length", {"pattern": display, "dim": dim, "group": " ".join(group), "makes": product})
        return False
    for a, g in zip(group, given):
        out[a] = g
    return True


def apply(kind: str, pattern: str, dims: Tuple, axes: Dict[str, object], ctx: Ctx) -> Optional[Tuple]:
    """kind is "rearrange", "reduce" or "repeat". The whole output shape
    (None after a fault); GivesUp where it depends on what is not known."""
    try:
        left, right = parse(pattern)
        _check(kind, left, right)
        lengths = _lengths(left, dims, axes, ctx, pattern)
    except _Bad:
        raise GivesUp()
    if lengths is None:
        return None
    out: List[object] = []
    for group in right:
        if group == (ELLIPSIS,):
            if ELLIPSIS not in lengths:
                raise GivesUp()
            out.extend(lengths[ELLIPSIS])
            continue
        sizes = []
        for a in group:
            if a == COMPOSED:
                if ELLIPSIS not in lengths:
                    raise GivesUp()
                sizes.extend(lengths[ELLIPSIS])  # none: a dim of 1
            elif a in lengths:
                sizes.append(lengths[a])
            elif a.isdigit():
                sizes.append(int(a))
            elif kind == "repeat" and a in axes and (axes[a] is B or isinstance(axes[a], int)):
                sizes.append(axes[a])  # a new axis: its length given (the batch, for a class token)
            else:
                raise GivesUp()  # an axis einops would refuse (or an unknown repeat): not ours
        if B in sizes:
            if len(sizes) != 1:
                raise GivesUp()  # the batch merged with other axes
            out.append(B)
        else:
            out.append(None if None in sizes else math.prod(sizes))
    if out.count(B) > 1 or (B in out and out[0] is not B):
        raise GivesUp()
    return tuple(out)
