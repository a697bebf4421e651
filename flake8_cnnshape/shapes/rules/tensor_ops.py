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
            value, factors = _last_fixed(x, rest, have)
            fields = {"text": call, "count": have, "shape": x.dims, "want": math.prod(rest), "value": value}
            ctx.fault("CNS005", "view_count", fields, value=value, at_use=True, factors=factors)
            # like a wrong in_features: go on as if the number were fixed
            return None if value is None else _flat(x, rest[:-1] + [value])
        return _flat(x, rest)
    if first == -1:
        want = math.prod(rest)
        if have is not None and want != have:
            value, factors = _last_fixed(x, rest, have)
            fields = {"text": call, "count": have, "shape": x.dims, "want": want, "value": value, "divides": have % want == 0}
            ctx.fault("CNS005", "view_width", fields, value=value, at_use=True, factors=factors)
            return None if value is None else _flat(x, rest[:-1] + [value])
        return _flat(x, rest)
    return None  # a hard-coded batch size: nothing we can check


def fitting_size(rest: List[int], have: int, i: int) -> Optional[int]:
    """The size at position i of a view's sizes that makes them hold `have` values each sample, or None."""
    others = math.prod(rest[:i] + rest[i + 1:])
    return have // others if others and have % others == 0 else None


def _last_fixed(x: Shape, rest: List[int], have: int):
    """The last number of a wrong view that makes it hold each sample (None
    when none does), and the sizes it multiplies, for the message and the fix."""
    value = fitting_size(rest, have, len(rest) - 1)
    factors = None
    if value is not None and len(rest) == 1 and len(x.dims) > 1:
        factors = _flat(x, [have]).factor_of(0)
    return value, factors


def _flat(x: Shape, rest: List[int]) -> Shape:
    """The reshaped sample; a full flatten keeps its factors for messages."""
    if len(rest) == 1 and not x.open:
        factors = x.flat_factors()
        if factors is not None:
            return Shape((rest[0],), factors=(factors,))
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


def reduce_one(a: Args, x: Shape, ctx: Ctx):
    """A reduction over one dim only (prod, argmax, argmin)."""
    d = a.known("dim")
    if d is not None and (isinstance(d, bool) or not isinstance(d, int)):
        raise Unknowable("dim")
    return reduce(a, x, ctx)


def _sizes(a: Args) -> Optional[tuple]:
    """x.expand(2, 3) or x.expand((2, 3)): the sizes as one tuple."""
    sizes = a.known("sizes")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return sizes if all(v is BATCH or (isinstance(v, int) and not isinstance(v, bool)) for v in sizes) else None


def expand(a: Args, x: Shape, ctx: Ctx):
    """x.expand(*sizes) on the batched tensor: -1 keeps a dim, a dim of 1
    grows; the batch must stay (as -1 or x.size(0))."""
    sizes = _sizes(a)
    if sizes is None or x.open or len(sizes) != x.rank + 1 or sizes[0] not in (-1, BATCH):
        return None
    out = []
    for s_, d in zip(sizes[1:], x.dims):
        if s_ is BATCH or s_ < -1:
            return None
        if s_ == -1:
            out.append(d)
        elif d == 1 or d == s_:
            out.append(s_)
        else:
            return None  # torch: the expanded size must match the existing one (or it is 1)
    return Shape(tuple(out))


def repeat(a: Args, x: Shape, ctx: Ctx):
    """x.repeat(*sizes): each dim times its count; the batch's count must be 1."""
    sizes = _sizes(a)
    if sizes is None or x.open or len(sizes) != x.rank + 1 or sizes[0] != 1 or any(v is BATCH or v < 0 for v in sizes):
        return None
    return Shape(tuple(None if d is None else d * r for d, r in zip(x.dims, sizes[1:])))


def flip(a: Args, x: Shape, ctx: Ctx):
    dims = a.known("dims")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if x.open or not dims or not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        return None
    try:
        idx = [full_index(d, x.rank + 1) for d in dims]
    except IndexError:
        return None
    return x if len(set(idx)) == len(idx) else None


def _sample_axis(x: Shape, d: int):
    """(the index in the batched tensor, the size) of dim d, when it is a
    known dim of the sample (not the batch, in range); else None."""
    if x.open:
        return None
    try:
        i = full_index(d, x.rank + 1)
    except IndexError:
        return None
    size = x.dims[i - 1] if i else None
    return None if i == 0 or size is None else (i, size)


def narrow(a: Args, x: Shape, ctx: Ctx):
    d, start, length = a.int("dim"), a.int("start"), a.int("length")
    got = _sample_axis(x, d)
    if got is None:
        return None
    i, size = got
    if length < 0 or not -size <= start <= size:
        return None
    if (start % size if size and start < 0 else start) + length > size:
        return None  # torch: start + length exceeds the dimension
    dims = list(x.dims)
    dims[i - 1] = length
    return Shape(tuple(dims))


def select(a: Args, x: Shape, ctx: Ctx):
    d, index_ = a.int("dim"), a.int("index")
    got = _sample_axis(x, d)
    if got is None:
        return None
    i, size = got
    if not -size <= index_ < size:
        return None
    return Shape(x.dims[: i - 1] + x.dims[i:])


def swapaxes(first: str, second: str):
    def rule(a: Args, x: Shape, ctx: Ctx):
        return transpose(Args({"dim0": a[first], "dim1": a[second]}), x, ctx)

    return rule


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
    if d is None and not x.open and None not in x.dims:
        # every dim of size 1 goes; the batch too where it is 1, which the rules, as torch's
        # batches of 2 and 3 (tests/torch_oracle.py), take it never to be
        return Shape(tuple(v for v in x.dims if v != 1))
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


def index(key, x: Shape) -> Optional[Shape]:
    """x[key] on the batched tensor: ints, slices, None and ... (no tensor
    indexes). The batch dim must stay as it is: only `:` may stand at it.
    None when the result is not known."""
    items = list(key) if isinstance(key, tuple) else [key]
    if not all(i is None or i is Ellipsis or type(i) is int or isinstance(i, slice) for i in items):
        return None
    if items.count(Ellipsis) > 1:
        return None
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        if x.open and at == 0:  # `x[..., :c]` on known trailing dims
            return _index_trailing(items[1:], x)
        if x.open:
            return None
        items[at:at + 1] = [slice(None)] * max(0, x.rank + 1 - used)
    if x.open:
        return None
    used = sum(1 for i in items if i is not None)
    if used > x.rank + 1:
        return None  # too many indices: torch raises IndexError
    items += [slice(None)] * (x.rank + 1 - used)
    if items[0] != slice(None):
        return None  # an int takes the batch away, a slice changes its size
    dims = []
    rest = iter(x.dims)
    for i in items[1:]:
        if i is None:
            dims.append(1)
            continue
        d = next(rest)
        if type(i) is int:
            if d is not None and not -d <= i < d:
                return None  # IndexError
            if d is None:
                return None
            continue
        if i.step is not None and i.step <= 0:
            return None
        dims.append(None if d is None else len(range(*i.indices(d))))
    return Shape(tuple(dims))


def _index_trailing(items, x: Shape) -> Optional[Shape]:
    """`x[..., a, b]` on a tensor whose leading dims are unknown."""
    if any(i is None for i in items) or len(items) > len(x.dims):
        return None
    kept = list(x.dims[: len(x.dims) - len(items)])
    for i, d in zip(items, x.dims[len(x.dims) - len(items):]):
        if type(i) is int:
            if d is None or not -d <= i < d:
                return None
        elif i.step is not None and i.step <= 0:
            return None
        else:
            kept.append(None if d is None else len(range(*i.indices(d))))
    return Shape(tuple(kept), open=True)


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
    "torch.swapaxes": OpSpec(sig("input", "axis0", "axis1"), swapaxes("axis0", "axis1"), OTHER),
    "torch.swapdims": OpSpec(sig("input", "dim0", "dim1"), swapaxes("dim0", "dim1"), OTHER),
}
_REDUCE_ONE = OpSpec(sig("input", dim=None, keepdim=False, dtype=None), reduce_one, OTHER)
_STD = OpSpec(sig("input", dim=None, unbiased=True, keepdim=False, _kwonly={"correction": None}), reduce, OTHER)
for _name in ("prod", "argmax", "argmin"):
    FUNCTIONS["torch." + _name] = _REDUCE_ONE
for _name in ("std", "var"):
    FUNCTIONS["torch." + _name] = _STD
FUNCTIONS["torch.logsumexp"] = OpSpec(sig("input", "dim", keepdim=False), reduce, OTHER)
METHODS = {
    "mean": _REDUCE_METHOD, "sum": _REDUCE_METHOD, "amax": _REDUCE_METHOD, "amin": _REDUCE_METHOD,
    "nansum": _REDUCE_METHOD, "nanmean": _REDUCE_METHOD, "prod": _REDUCE_ONE, "argmax": _REDUCE_ONE, "argmin": _REDUCE_ONE,
    "std": _STD, "var": _STD, "logsumexp": OpSpec(sig("input", "dim", keepdim=False), reduce, OTHER),
    "any": OpSpec(sig("input", dim=None, keepdim=False), reduce, OTHER), "all": OpSpec(sig("input", dim=None, keepdim=False), reduce, OTHER),
    "expand": OpSpec(sig("input", _star="sizes"), expand, OTHER),
    "repeat": OpSpec(sig("input", _star="sizes"), repeat, OTHER),
    "flip": OpSpec(sig("input", _star="dims"), flip, OTHER),
    "narrow": OpSpec(sig("input", "dim", "start", "length"), narrow, OTHER),
    "select": OpSpec(sig("input", "dim", "index"), select, OTHER),
    "swapaxes": OpSpec(sig("input", "axis0", "axis1"), swapaxes("axis0", "axis1"), OTHER),
    "swapdims": OpSpec(sig("input", "dim0", "dim1"), swapaxes("dim0", "dim1"), OTHER),
    "unsqueeze": OpSpec(sig("input", "dim"), unsqueeze, OTHER),
    "squeeze": OpSpec(sig("input", dim=None), squeeze, OTHER),
    "transpose": OpSpec(sig("input", "dim0", "dim1"), transpose, OTHER),
}
