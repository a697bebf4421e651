"""Ops called in forward(): torch.nn.functional, torch.* and tensor methods.
Each entry binds like the torch function (its tensor argument is named
`input` and is passed to the rule as `x`) and reuses the layer rules where the
arithmetic is the same."""
from __future__ import annotations

import math
from typing import Dict, List, Optional

from . import misc, pool
from .registry import BATCH, UNKNOWN, Args, Ctx, LayerSpec, Unknowable, sig
from .shape import Shape, render_factors

F = "torch.nn.functional."

# Elementwise: the shape passes through. Names under F, under torch, and as methods.
_ELEMENTWISE = (
    "relu relu6 elu selu celu gelu silu mish sigmoid tanh hardtanh hardsigmoid hardswish "
    "leaky_relu softplus softsign softshrink hardshrink tanhshrink logsigmoid rrelu threshold "
    "dropout dropout1d dropout2d dropout3d alpha_dropout feature_alpha_dropout normalize"
).split()
_TORCH_ELEMENTWISE = "relu sigmoid tanh exp abs neg sqrt square log clamp clip sin cos erf".split()
_METHOD_ELEMENTWISE = (
    "relu sigmoid tanh exp abs neg sqrt square log clamp clip sin cos erf contiguous float double half "
    "detach clone to cpu cuda type_as relu_ sigmoid_ tanh_ clamp_ requires_grad_ bfloat16"
).split()


def same_shape(a: Args, x: Shape, ctx: Ctx):
    """Elementwise ops: the input's shape, nothing to check (tensor.py takes
    them without binding their arguments)."""
    return x


def _flatten(a: Args, x: Shape, ctx: Ctx):
    return misc.flatten(x, a.int("start_dim"), a.int("end_dim"), ctx)


def _softmax(a: Args, x: Shape, ctx: Ctx):
    return misc.along_dim("dim")(a, x, ctx)


def _interp(a: Args, x: Shape, ctx: Ctx):
    mode = a.known("mode")
    if mode not in misc._INTERP_RANKS:
        raise Unknowable("mode")
    return misc.interpolate(x, ctx, a.known("size"), a.known("scale_factor"), mode)


def _pad(a: Args, x: Shape, ctx: Ctx):
    p = a.known("pad")
    if not isinstance(p, (tuple, list)) or len(p) % 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in p):
        raise Unknowable("pad")
    mode = a.known("mode")
    kind = {"constant": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}.get(mode)
    if kind is None:
        raise Unknowable("mode")
    n = len(p) // 2
    if kind != "constant" and n > 3:
        raise Unknowable("pad")
    padded = Args({"padding": tuple(p)})
    return misc.pad(n, kind)(padded, x, ctx)


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
                ctx.fault("CNS005", f"{call} cannot split the {_values(x)} values of each sample into {_fmt(target)}", at_use=True)
                return None
            rest[rest.index(-1)] = have // known
        elif have is not None and math.prod(rest) != have:
            ctx.fault("CNS005", f"{call} asks for {math.prod(rest)} values per sample but each sample holds {_values(x)}", at_use=True)
            return None
        return _flat(x, rest)
    if first == -1:
        want = math.prod(rest)
        if have is not None and want != have:
            others = math.prod(rest[:-1])
            value = have // others if others and have % others == 0 else None
            effect = "silently changes the batch size" if have % want == 0 else "raises for most batch sizes"
            if value is not None:
                msg = f"{call} should end in {value}: each sample holds {_values(x)} values; {want} {effect}"
            else:
                msg = f"{call} asks for {want} values per sample but each sample holds {_values(x)}; it {effect}"
            factors = None
            if value is not None and len(rest) == 1 and len(x.dims) > 1:
                factors = _flat(x, [have]).factor_of(0)
            ctx.fault("CNS005", msg, value=value, at_use=True, factors=factors)
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


def _values(x: Shape) -> str:
    n = x.numel()
    return f"{n} ({render_factors(x.dims)})" if len(x.dims) > 1 else str(n)


def _fmt(target) -> str:
    return "(" + ", ".join("B" if v is BATCH else str(v) for v in target) + ")"


def _reduce(a: Args, x: Shape, ctx: Ctx):
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
        idx = {misc._full_index(d, full) for d in dims}
    except IndexError:
        ctx.fault("CNS006", f"{ctx.layer} reduces dims {tuple(dims)} but receives {x.describe()}", at_use=True)
        return None
    if 0 in idx or len(idx) < len(dims):  # the batch dim, or a dim named twice (torch refuses)
        return None
    out = [1 if i + 1 in idx else d for i, d in enumerate(x.dims)] if keep else [d for i, d in enumerate(x.dims) if i + 1 not in idx]
    return Shape(tuple(out))


def _unsqueeze(a: Args, x: Shape, ctx: Ctx):
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


def _squeeze(a: Args, x: Shape, ctx: Ctx):
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


def _transpose(a: Args, x: Shape, ctx: Ctx):
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


def _permute(order, x: Shape):
    if x.open or len(order) != x.rank + 1 or not all(isinstance(v, int) and not isinstance(v, bool) for v in order):
        return None
    full = x.rank + 1
    try:
        idx = [misc._full_index(v, full) for v in order]
    except IndexError:
        return None
    if sorted(idx) != list(range(full)) or idx[0] != 0:
        return None
    return Shape(tuple(x.dims[i - 1] for i in idx[1:]))


def table() -> Dict[str, LayerSpec]:
    t: Dict[str, LayerSpec] = {}
    for name in _ELEMENTWISE:
        t[F + name] = LayerSpec(sig("input", _varargs=True), same_shape)
    for name in _TORCH_ELEMENTWISE:
        t["torch." + name] = LayerSpec(sig("input", _varargs=True), same_shape)
    for name in ("rand_like", "randn_like", "zeros_like", "ones_like", "empty_like", "full_like"):
        t["torch." + name] = LayerSpec(sig("input", _varargs=True), same_shape)  # a new tensor of x's shape
    for n in (1, 2, 3):
        t[F + f"max_pool{n}d"] = LayerSpec(
            sig("input", "kernel_size", stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False),
            pool.max_pool(n),
        )
        avg = dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True)
        if n > 1:
            avg["divisor_override"] = None
        t[F + f"avg_pool{n}d"] = LayerSpec(sig("input", "kernel_size", **avg), pool.avg_pool(n))
        t[F + f"lp_pool{n}d"] = LayerSpec(sig("input", "norm_type", "kernel_size", stride=None, ceil_mode=False), pool.lp_pool(n))
        t[F + f"adaptive_avg_pool{n}d"] = LayerSpec(sig("input", "output_size"), pool.adaptive(n, False))
        t[F + f"adaptive_max_pool{n}d"] = LayerSpec(sig("input", "output_size", return_indices=False), pool.adaptive(n, True))
    # torch.max_pool2d etc. are the same ops without the return_indices option.
    for n in (1, 2, 3):
        t[f"torch.max_pool{n}d"] = LayerSpec(
            sig("input", "kernel_size", stride=(), padding=0, dilation=1, ceil_mode=False), _torch_pool(pool.max_pool(n))
        )
    soft = LayerSpec(sig("input", dim=None, _stacklevel=3, dtype=None), _softmax)
    for name in ("softmax", "log_softmax", "softmin"):
        t[F + name] = soft
    t["torch.softmax"] = t["torch.log_softmax"] = LayerSpec(sig("input", "dim", dtype=None), _softmax)
    t[F + "glu"] = LayerSpec(sig("input", dim=-1), misc.glu)
    interp = sig("input", size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False)
    t[F + "interpolate"] = LayerSpec(interp, _interp)
    t[F + "upsample"] = LayerSpec(sig("input", size=None, scale_factor=None, mode="nearest", align_corners=None), _interp)
    t[F + "pad"] = LayerSpec(sig("input", "pad", mode="constant", value=None), _pad)
    t["torch.flatten"] = LayerSpec(sig("input", start_dim=0, end_dim=-1), _flatten)
    t["torch.mean"] = t["torch.sum"] = t["torch.amax"] = LayerSpec(sig("input", "dim", keepdim=False, dtype=None), _reduce)
    t["torch.unsqueeze"] = LayerSpec(sig("input", "dim"), _unsqueeze)
    t["torch.squeeze"] = LayerSpec(sig("input", dim=None), _squeeze)
    t["torch.transpose"] = LayerSpec(sig("input", "dim0", "dim1"), _transpose)
    return t


def _torch_pool(rule):
    def wrapped(a: Args, x: Shape, ctx: Ctx):
        if a["stride"] == ():
            a.values["stride"] = None
        a.values.setdefault("return_indices", False)
        return rule(a, x, ctx)

    return wrapped


def method_table() -> Dict[str, LayerSpec]:
    """Tensor methods, bound with the tensor as `input`."""
    t: Dict[str, LayerSpec] = {}
    for name in _METHOD_ELEMENTWISE:
        t[name] = LayerSpec(sig("input", _varargs=True), same_shape)
    t["flatten"] = LayerSpec(sig("input", start_dim=0, end_dim=-1), _flatten)
    t["softmax"] = t["log_softmax"] = LayerSpec(sig("input", "dim", dtype=None), _softmax)
    t["mean"] = t["sum"] = t["amax"] = LayerSpec(sig("input", dim=None, keepdim=False, dtype=None), _reduce)
    t["unsqueeze"] = LayerSpec(sig("input", "dim"), _unsqueeze)
    t["squeeze"] = LayerSpec(sig("input", dim=None), _squeeze)
    t["transpose"] = LayerSpec(sig("input", "dim0", "dim1"), _transpose)
    return t


FUNCTIONS = table()
METHODS = method_table()


def permute(order, x: Shape) -> Optional[Shape]:
    return _permute(order, x)
