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
from ..shapes.signature import BATCH, UNKNOWN, Args, Unknowable, sig
from ..shapes.spec import OTHER, Ctx, LayerSpec, no_params
from .events import Recorder
from .layers import place
from .values import Layer, Tensor, value_of
from .whole import whole_of

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
        if type(v) is not int and not (isinstance(v, int) and not isinstance(v, bool)):
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


def _function(rec: Recorder, kind: str, args, kwargs, node):
    x = args[0] if args else kwargs.pop("tensor", UNKNOWN)
    tensor = type(x) is Tensor
    pattern = args[1] if len(args) > 1 else kwargs.pop("pattern", None)
    if kind == "reduce":
        kwargs.pop("reduction", None)
        if len(args) > 3:
            return value_of(None, tensor)
    elif len(args) > 2:
        return value_of(None, tensor)
    dims, axes = whole_of(x), _axes(kwargs)
    if type(pattern) is not str or dims is None or axes is None:
        return value_of(None, tensor)
    ctx = Ctx(kind)
    try:
        out = apply(kind, pattern, dims, axes, ctx)
    except Unknowable:
        out, ctx.faults = None, []
    rec.report(ctx.faults, place(node), None, node)
    return value_of(out, tensor)


def _layer(name: str, args, kwargs, node):
    pattern = args[0] if args else kwargs.pop("pattern", None)
    if name == "Reduce":
        kwargs.pop("reduction", None)
        if len(args) > 2:
            return Layer(name, node)
    elif len(args) > 1:
        return Layer(name, node)
    axes = _axes(kwargs)
    if type(pattern) is not str or axes is None:
        return Layer(name, node)
    return Layer(name, node, SPECS[name], Args({"pattern": pattern, "axes": axes}))


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
