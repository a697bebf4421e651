"""einops as model code calls it: `rearrange(x, 'b n (h d) -> b h n d',
h=8)`, `reduce`, `repeat`, and the `Rearrange` / `Reduce` layers in an
nn.Sequential. The patterns are worked out on whole shapes
(shapes/rules/einops_rules.py); a layer is a Layer whose rule puts the
batch back in front of the sample it is handed."""
from __future__ import annotations

from typing import Optional

from ..shapes.rules.einops_rules import apply
from ..shapes.rules.matmul import B
from ..shapes.shape import Shape
from ..shapes.signature import BATCH, UNKNOWN, Args, sig
from ..shapes.spec import OTHER, Ctx, LayerSpec, no_params
from .events import Recorder
from .plain import is_int
from .values import Layer, Tensor, value_of, whole_of
from .whole import on_whole

FUNCTIONS = {"einops.rearrange": "rearrange", "einops.reduce": "reduce", "einops.repeat": "repeat"}
LAYER_CLASSES = {"einops.layers.torch.Rearrange": "Rearrange", "einops.layers.torch.Reduce": "Reduce"}


def _axes(kwargs) -> Optional[dict]:
    """The axis lengths a call gives: ints, B for the batch size (an unknown
    one is left out: it may be anything)."""
    out = {}
    for k, v in kwargs.items():
        if v is UNKNOWN:
            continue
        if v is BATCH:  # `repeat(cls, "1 n d -> b n d", b=x.shape[0])`
            out[k] = B
            continue
        if not is_int(v):
            return None
        out[k] = int(v)
    return out


def call(rec: Recorder, qual: str, args, kwargs, node):
    kind = FUNCTIONS.get(qual)
    if kind is not None:
        return _function(rec, kind, args, dict(kwargs), node)
    name = LAYER_CLASSES.get(qual)
    if name is not None:
        return _layer(name, args, dict(kwargs), node)
    return UNKNOWN


def _pattern(rest, kwargs, reduces: bool):
    """(pattern, axis lengths) from the arguments after the tensor (a
    function's) or all of them (a layer's); None when they are not known."""
    pattern = rest[0] if rest else kwargs.pop("pattern", None)
    if reduces:
        kwargs.pop("reduction", None)
    axes = _axes(kwargs)
    if len(rest) > (2 if reduces else 1) or type(pattern) is not str or axes is None:
        return None
    return pattern, axes


def _function(rec: Recorder, kind: str, args, kwargs, node):
    x = args[0] if args else kwargs.pop("tensor", UNKNOWN)
    got = _pattern(args[1:], kwargs, kind == "reduce")
    if got is None:
        return value_of(None, type(x) is Tensor)
    pattern, axes = got
    return on_whole(rec, kind, type(x) is Tensor, node, lambda ctx, dims: apply(kind, pattern, dims, axes, ctx), whole_of(x))


def _layer(name: str, args, kwargs, node):
    got = _pattern(args, kwargs, name == "Reduce")
    if got is None:
        return Layer(name, node)
    return Layer(name, node, SPECS[name], Args({"pattern": got[0], "axes": got[1]}))


def _rule(kind: str):
    def rule(a: Args, x: Shape, ctx: Ctx):
        if x.open:
            return None
        out = apply(kind, a["pattern"], (B,) + x.dims, a["axes"], ctx)
        if out is None or not out or out[0] is not B:
            return None
        return Shape(out[1:])

    return rule


SPECS = {
    "Rearrange": LayerSpec(sig("pattern", "axes"), _rule("rearrange"), no_params, OTHER),
    "Reduce": LayerSpec(sig("pattern", "axes"), _rule("reduce"), no_params, OTHER),
}
