"""Layers that take two tensors: nn.Bilinear, nn.CosineSimilarity and
nn.PairwiseDistance. The second tensor reaches the rule in its arguments
(`input2`, LayerSpec.extra); absent (the layer test feeds one tensor twice),
it is the first.

Shapes (torch docs): Bilinear (*, H_in1) and (*, H_in2), the same leading
dims, give (*, H_out); CosineSimilarity computes along `dim` (of the
batched tensors) and drops it, the inputs broadcast; PairwiseDistance works
along the last dim, which it drops (keeps as 1 with keepdim).
"""
from __future__ import annotations

from ..shape import Shape
from ..signature import Args, Unknowable, sig
from ..spec import OTHER, Ctx, LayerSpec, no_params
from .common import full_index
from .elementwise import broadcast


def _second(a: Args, x: Shape) -> Shape:
    return a.values.get("input2", x)


def bilinear(a: Args, x: Shape, ctx: Ctx):
    y = _second(a, x)
    out = a.int("out_features")
    if out < 0 or x.open or y.open or x.rank == 0 or x.rank != y.rank or x.dims[:-1] != y.dims[:-1]:
        raise Unknowable("inputs")  # torch wants the same leading dims: not followed
    for t, param in ((x, "in1_features"), (y, "in2_features")):
        want, last = a.opt_int(param), t.dims[-1]
        if want is not None and last is not None and want != last:
            ctx.fault("CNS001", "bilinear_width", {"param": param, "want": want, "got": last}, param, last)
    return Shape(x.dims[:-1] + (out,))


def bilinear_params(a: Args, x) -> int:
    out = a.int("out_features")
    return out * a.int("in1_features") * a.int("in2_features") + (out if a.known("bias") else 0)


def cosine(a: Args, x: Shape, ctx: Ctx):
    both = broadcast(x, _second(a, x), ctx)
    if both is None:
        return None
    d = full_index(a.int("dim"), both.rank + 1)
    if d == 0:
        return None  # the batch reduced away
    return Shape(both.dims[:d - 1] + both.dims[d:])


def pairwise(a: Args, x: Shape, ctx: Ctx):
    both = broadcast(x, _second(a, x), ctx)
    if both is None or both.rank == 0:
        return None
    keep = a.known("keepdim")
    if not isinstance(keep, bool):
        raise Unknowable("keepdim")
    return Shape(both.dims[:-1] + ((1,) if keep else ()))


LAYERS = {
    "Bilinear": LayerSpec(sig("in1_features", "in2_features", "out_features", bias=True, device=None, dtype=None), bilinear,
                          bilinear_params, OTHER, extra=("input2",)),
    "CosineSimilarity": LayerSpec(sig(dim=1, eps=1e-8), cosine, no_params, OTHER, extra=("input2",)),
    "PairwiseDistance": LayerSpec(sig(p=2.0, eps=1e-6, keepdim=False), pairwise, no_params, OTHER, extra=("input2",)),
}
