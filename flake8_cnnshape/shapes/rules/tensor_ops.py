"""Tensor ops that move or merge dims: view/reshape, reductions over dims,
unsqueeze/squeeze, transpose and permute. The batch dim must stay in front:
an op that moves or merges it leaves a tensor we no longer track."""
from __future__ import annotations

import math
from typing import List, Optional

from ..shape import Shape
from ..signature import BATCH, UNKNOWN, Args, Unknowable, sig
from ..spec import OTHER, Ctx, OpSpec
from .common import full_index


def reshape(target: List[object], x: Shape, ctx: Ctx, call: str):
    """x.view(*target) / x.reshape(*target) on the batched tensor. The batch dim
    must stay in front: as BATCH (x.size(0)) or as the -1 of `view(-1, N)`."""
    if not target or any(v is UNKNOWN for v in target):
        return None
    first, rest = target[0], list(target[1:])
    if any(v is BATCH for v in rest) or not all(isinstance(v, int) and not isinstance(v, bool) for v in rest):
        return None
    if any(v < -1 for v in rest) or rest.count(-1) > (0 if first == -1 else 1):
        return None
    have = x.numel()
    if first is BATCH:
        if rest == [-1] and not x.open:  # x.view(x.size(0), -1): a flatten, whatever the sizes
            return _flat(x, [have])
        if -1 in rest:
            known = math.prod(v for v in rest if v != -1)
            if have is None:
                return None
            if known == 0 or have % known:
                ctx.fault("CNS005", "view_split", {"text": call, "count": have, "shape": x.dims, "target": _fmt(target)}, at_use=True)
                return None
            rest[rest.index(-1)] = have // known
        elif have is not None and math.prod(rest) != have:
            ctx.fault("CNS005", "view_count", {"text": call, "count": have, "shape": x.dims, "want": math.prod(rest)}, at_use=True)
            return None
        return _flat(x, rest)
    if first == -1:
        want = math.prod(rest)
        if have is not None and want != have:
            others = math.prod(rest[:-1])
            value = have // others if others and have % others == 0 else None
            factors = None
            if value is not None and len(rest) == 1 and len(x.dims) > 1:
                factors = _flat(x, [have]).factor_of(0)
            fields = {"text": call, "count": have, "shape": x.dims, "want": want, "value": value, "divides": have % want == 0}
            ctx.fault("CNS005", "view_width", fields, value=value, at_use=True, factors=factors)
            # like a wrong in_features: go on as if the number were fixed
            return None if value is None else _flat(x, rest[:-1] + [value])
        return _flat(x, rest)
    return None  # a hard-coded batch size: nothing we can check


def _flat(x: Shape, rest: List[int]) -> Shape:
    """The reshaped sample; a full flatten keeps its factors for messages."""
    if len(rest) == 1 and len(x.dims) > 1 and x.numel() is not None:
        factors = []
        for i, d in enumerate(x.dims):
            factors.extend(x.factor_of(i) or (d,))
        return Shape((rest[0],), factors=(tuple(factors),))
    return Shape(tuple(rest))


def _fmt(target) -> str:
    return "(" + ", ".join("B" if v is BATCH else str(v) for v in target) + ")"


def reduce(a: Args, x: Shape, ctx: Ctx):
    """mean/sum/amax over dims, keepdim or not; the batch dim must stay."""
    dims = a.known("dim")
    keep = a.known("keepdim")
    if dims is None or x.open:
        return None
    dims = (dims,) if isinstance(dims, int) else dims
    if not isinstance(dims, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise Unknowable("dim")
    if not dims:
        return None  # dim=() reduces every dim, the batch too
    full = x.rank + 1
    try:
        idx = {full_index(d, full) for d in dims}
    except IndexError:
        ctx.fault("CNS006", "reduce_dims", {"dims": tuple(dims), "got": x}, at_use=True)
        return None
    if 0 in idx or len(idx) < len(dims):  # the batch dim, or a dim named twice (torch refuses)
        return None
    out = [1 if i + 1 in idx else d for i, d in enumerate(x.dims)] if keep else [d for i, d in enumerate(x.dims) if i + 1 not in idx]
    return Shape(tuple(out))


def unsqueeze(a: Args, x: Shape, ctx: Ctx):
    d = a.int("dim")
    if x.open:
        return None
    full = x.rank + 2
    if not -full <= d < full:
        return None
    i = d % full
    if i == 0:
        return None
    return Shape(x.dims[: i - 1] + (1,) + x.dims[i - 1:])


def squeeze(a: Args, x: Shape, ctx: Ctx):
    d = a.known("dim")
    if x.open or d is None or isinstance(d, bool) or not isinstance(d, int):
        return None
    full = x.rank + 1
    if not -full <= d < full or d % full == 0:
        return None
    i = d % full - 1
    if x.dims[i] is None:
        return None
    return Shape(x.dims[:i] + x.dims[i + 1:]) if x.dims[i] == 1 else x


def transpose(a: Args, x: Shape, ctx: Ctx):
    d0, d1 = a.int("dim0"), a.int("dim1")
    if x.open:
        return None
    full = x.rank + 1
    if not (-full <= d0 < full and -full <= d1 < full):
        return None
    i, j = d0 % full, d1 % full
    if i == 0 or j == 0:
        return None
    dims = list(x.dims)
    dims[i - 1], dims[j - 1] = dims[j - 1], dims[i - 1]
    return Shape(tuple(dims))


def permute(order, x: Shape) -> Optional[Shape]:
    if x.open or len(order) != x.rank + 1 or not all(isinstance(v, int) and not isinstance(v, bool) for v in order):
        return None
    full = x.rank + 1
    try:
        idx = [full_index(v, full) for v in order]
    except IndexError:
        return None
    if sorted(idx) != list(range(full)) or idx[0] != 0:
        return None
    return Shape(tuple(x.dims[i - 1] for i in idx[1:]))


_REDUCE_TORCH = OpSpec(sig("input", "dim", keepdim=False, dtype=None), reduce, OTHER)
_REDUCE_METHOD = OpSpec(sig("input", dim=None, keepdim=False, dtype=None), reduce, OTHER)
FUNCTIONS = {
    "torch.mean": _REDUCE_TORCH, "torch.sum": _REDUCE_TORCH, "torch.amax": _REDUCE_TORCH,
    "torch.unsqueeze": OpSpec(sig("input", "dim"), unsqueeze, OTHER),
    "torch.squeeze": OpSpec(sig("input", dim=None), squeeze, OTHER),
    "torch.transpose": OpSpec(sig("input", "dim0", "dim1"), transpose, OTHER),
}
METHODS = {
    "mean": _REDUCE_METHOD, "sum": _REDUCE_METHOD, "amax": _REDUCE_METHOD,
    "unsqueeze": OpSpec(sig("input", "dim"), unsqueeze, OTHER),
    "squeeze": OpSpec(sig("input", dim=None), squeeze, OTHER),
    "transpose": OpSpec(sig("input", "dim0", "dim1"), transpose, OTHER),
}
