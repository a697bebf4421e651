"""Linear layers, and the flattens that feed them: nn.Flatten, torch.flatten,
x.flatten and nn.Unflatten. A Linear acts on the last dim; its parameters
are in_features x out_features and a bias of out_features."""
from __future__ import annotations

import math
from typing import Optional

from ..shape import Shape
from ..signature import Args, Unknowable, sig
from ..spec import FLATTEN, OTHER, Ctx, LayerSpec, OpSpec, no_params
from .common import full_index


def flatten(x: Shape, start_dim: int, end_dim: int, ctx: Ctx):
    """torch.flatten on the batched tensor. Merging the batch dim into others
    leaves a tensor we no longer track."""
    if x.open:
        if start_dim == 1 and end_dim == -1:
            return Shape((None,))
        return None
    full = x.rank + 1
    try:
        s, e = full_index(start_dim, full), full_index(end_dim, full)
    except IndexError:
        ctx.fault("CNS006", "flatten_dims", {"start": start_dim, "end": end_dim, "got": x}, at_use=True)
        return None
    if s > e:
        raise Unknowable("start_dim after end_dim")
    if s == 0:
        return x if e == 0 else None
    i, j = s - 1, e  # per-sample slice [i, j)
    merged = x.dims[i:j]
    size = None if any(d is None for d in merged) else math.prod(merged)
    fac = x.flat_factors(i, j)
    dims = x.dims[:i] + (size,) + x.dims[j:]
    old = x.factors or (None,) * len(x.dims)
    return Shape(dims, False, None).with_dims(dims, old[:i] + (fac,) + old[j:])


def linear(lazy: bool):
    def rule(a: Args, x: Shape, ctx: Ctx):
        out = a.opt_int("out_features")
        if out is not None and out < 0:
            raise Unknowable("out_features")
        if not x.open and x.rank == 0:
            if lazy:
                return None  # it sizes itself to the batch as features: runs, batch gone
            ctx.fault("CNS006", "no_feature_dim", {}, at_use=True)
            return None
        last = x.dims[-1] if x.dims else None
        want = None if lazy else a.opt_int("in_features")
        if want is not None and last is None and (x.open or x.rank == 1):
            _multiple(want, x.factor_of(len(x.dims) - 1) if x.dims else None, ctx)
        elif want is not None:
            if last is not None and last != want:
                if x.open or x.rank == 1:
                    parts = x.factor_of(len(x.dims) - 1)
                    ctx.fault("CNS001", "linear_width", {"want": want, "got": last, "parts": parts}, "in_features", last,
                              factors=parts)
                else:
                    # torch would take in_features=last, but the author most
                    # likely meant to flatten: no single number fixes it
                    ctx.fault("CNS001", "linear_last_dim",
                              {"want": want, "got": x, "last": last, "flat": x.numel(), "flat_shape": x.dims}, None, last)
        return x.with_dims(x.dims[:-1] + (out,)) if x.dims else Shape((out,), open=True)

    return rule


def _multiple(want: int, parts, ctx: Ctx) -> None:
    """A flattened width some of whose sizes are known ((None, 6, 6): 36 times
    a channel count nobody knows): an in_features that is no multiple of
    their product is wrong whatever the unknown sizes are."""
    if parts is None:
        return
    multiple = math.prod(f for f in parts if f is not None)
    if multiple > 1 and want % multiple:
        ctx.fault("CNS001", "linear_multiple", {"want": want, "parts": parts, "multiple": multiple}, "in_features", None)


def linear_params(lazy: bool):
    def count(a: Args, x: Optional[Shape]) -> int:
        if lazy:
            if x is None or not x.dims or x.dims[-1] is None:
                raise Unknowable("in_features")
            cin = x.dims[-1]
        else:
            cin = a.int("in_features")
        out = a.int("out_features")
        return cin * out + (out if a.known("bias") else 0)

    return count


def flatten_rule(a: Args, x: Shape, ctx: Ctx):
    return flatten(x, a.int("start_dim"), a.int("end_dim"), ctx)


def unflatten(a: Args, x: Shape, ctx: Ctx):
    dim = a.int("dim")
    sizes = a.known("unflattened_size")
    if not isinstance(sizes, (tuple, list)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
        raise Unknowable("unflattened_size")
    if x.open:
        return None
    try:
        i = full_index(dim, x.rank + 1)
    except IndexError:
        ctx.fault("CNS006", "unflatten_dim", {"dim": dim, "got": x}, at_use=True)
        return None
    if i == 0:
        return None
    have = x.dims[i - 1]
    sizes = list(sizes)
    if sizes.count(-1) > 1 or any(v < -1 for v in sizes):
        raise Unknowable("unflattened_size")
    if have is None:
        return None if -1 in sizes else x.with_dims(x.dims[: i - 1] + tuple(sizes) + x.dims[i:])
    known = math.prod(v for v in sizes if v != -1)
    if -1 in sizes:
        if known == 0 or have % known:
            ctx.fault("CNS005", "unflatten_split", {"have": have, "sizes": tuple(sizes)}, at_use=True)
            return None
        sizes[sizes.index(-1)] = have // known
    elif known != have:
        ctx.fault("CNS005", "unflatten_holds", {"have": have, "sizes": tuple(sizes), "holds": known}, at_use=True)
        return None
    return x.with_dims(x.dims[: i - 1] + tuple(sizes) + x.dims[i:])


LAYERS = {
    "Linear": LayerSpec(sig("in_features", "out_features", bias=True, device=None, dtype=None), linear(False),
                        linear_params(False), OTHER),
    "LazyLinear": LayerSpec(sig("out_features", bias=True, device=None, dtype=None), linear(True), linear_params(True), OTHER),
    "Flatten": LayerSpec(sig(start_dim=1, end_dim=-1), flatten_rule, no_params, FLATTEN, functional="torch.flatten"),
    "Unflatten": LayerSpec(sig("dim", "unflattened_size"), unflatten, no_params, OTHER),
}
FUNCTIONS = {"torch.flatten": OpSpec(sig("input", start_dim=0, end_dim=-1), flatten_rule, FLATTEN)}
METHODS = {"flatten": OpSpec(sig("input", start_dim=0, end_dim=-1), flatten_rule, FLATTEN)}
