"""Layers and ops that keep the shape: activations, dropout, softmax, PReLU,
GLU (which halves one dim), and elementwise arithmetic between tensors with
broadcasting. Some check a setting torch checks, or the rank they take;
PReLU checks its num_parameters against the channels."""
from __future__ import annotations

from typing import Optional

from ..shape import Shape
from ..signature import UNKNOWN, Args, Unknowable, sig
from ..spec import OTHER, SAME, Ctx, LayerSpec, OpSpec, keep_shape, no_params
from .common import full_index, need_rank

F = "torch.nn.functional."


def _setting(a: Args, name: str):
    """A setting torch validates: its value, or None when we cannot see it (an
    unseen value is not held against the layer). A non-number ends the shape."""
    v = a[name]
    if v is UNKNOWN:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Unknowable(name)
    return v


def _numbers(a: Args, *names: str) -> bool:
    for name in names:
        _setting(a, name)  # F.threshold takes numbers only
    return True


def _p_ok(a: Args) -> bool:
    p = _setting(a, "p")  # _DropoutNd: ValueError unless 0 <= p <= 1
    return p is None or 0 <= p <= 1


def _hardtanh_ok(a: Args) -> bool:
    # Hardtanh asserts max_val > min_val; min_value/max_value are the old names.
    lo = _setting(a, "min_value") if a["min_value"] is not None else _setting(a, "min_val")
    hi = _setting(a, "max_value") if a["max_value"] is not None else _setting(a, "max_val")
    return lo is None or hi is None or hi > lo


def _approximate_ok(a: Args) -> bool:
    v = a["approximate"]
    return v is UNKNOWN or v in ("none", "tanh")  # F.gelu refuses anything else


def _rrelu_ok(a: Args) -> bool:
    lo, hi = _setting(a, "lower"), _setting(a, "upper")
    return lo is None or hi is None or lo <= hi  # rrelu: lower bound <= upper bound


_VALID = {
    "Hardtanh": _hardtanh_ok,
    "GELU": _approximate_ok,
    "RReLU": _rrelu_ok,
    "CELU": lambda a: _setting(a, "alpha") != 0,  # celu divides by alpha
    "Softshrink": lambda a: (_setting(a, "lambd") or 0) >= 0,  # softshrink: lambda must be >= 0
    "Threshold": lambda a: _numbers(a, "threshold", "value"),
    "Dropout": _p_ok, "AlphaDropout": _p_ok,
}


def checked(valid, *ranks: int, form: str = ""):
    """Shape-preserving once `valid` accepts the settings torch checks, and (if
    `ranks` are given) only for those per-sample ranks."""

    def rule(a: Args, x: Shape, ctx: Ctx):
        if not valid(a):
            return None
        return x if not ranks or need_rank(x, ctx, ranks, form) else None

    return rule


def ranked(*ranks: int, form: str):
    """Shape-preserving, but only for some per-sample ranks."""

    def rule(a: Args, x: Shape, ctx: Ctx):
        return x if need_rank(x, ctx, ranks, form) else None

    return rule


def along_dim(name: str, default_ok: bool = True):
    """Softmax-like: shape kept, the dim argument must exist."""

    def rule(a: Args, x: Shape, ctx: Ctx):
        d = a.known(name)
        if d is None:
            return x if default_ok else None
        if isinstance(d, bool) or not isinstance(d, int):
            raise Unknowable(name)
        if not x.open:
            try:
                full_index(d, x.rank + 1)
            except IndexError:
                ctx.fault("CNS006", "along_dim", {"dim": d, "got": x}, at_use=True)
                return None
        return x

    return rule


def glu(a: Args, x: Shape, ctx: Ctx):
    d = a.int("dim")
    if x.open:
        if d < 0 and -d <= len(x.dims) and x.dims[d] is not None and x.dims[d] % 2 == 0:
            dims = list(x.dims)
            dims[d] //= 2
            return x.with_dims(dims)
        return None
    try:
        i = full_index(d, x.rank + 1)
    except IndexError:
        ctx.fault("CNS006", "halves_dim", {"dim": d, "got": x}, at_use=True)
        return None
    if i == 0 or x.dims[i - 1] is None or x.dims[i - 1] % 2:
        return None
    dims = list(x.dims)
    dims[i - 1] //= 2
    return x.with_dims(dims)


def broadcast(x: Shape, y: Shape, ctx: Ctx) -> Optional[Shape]:
    """Two batched tensors' shapes broadcast, the batch dims aligned (so only
    samples of one rank: another rank would align a batch with a sample dim).
    CNS008 where a pair of sizes is neither equal nor 1."""
    if x.open or y.open or x.rank != y.rank:
        return None
    out = []
    for p, q in zip(x.dims, y.dims):
        if p is not None and q is not None and p != q and p != 1 and q != 1:
            ctx.fault("CNS008", "broadcast", {"a": x, "b": y})
            return None
        out.append(q if p == 1 else p if q == 1 else p if p is not None else q)
    return Shape(tuple(out))


def tensor_shape(v) -> Optional[Shape]:
    """The shape of a tensor argument (a value that carries a Shape)."""
    shape = getattr(v, "shape", None)
    return shape if type(shape) is Shape else None


def binary(name: str, inplace: bool = False, numbers: bool = True):
    """x op other: a number keeps x's shape (where torch takes one); a tensor
    broadcasts with it (an in-place op must keep x's shape: `x.add_(y)`
    cannot grow x)."""

    def rule(a: Args, x: Shape, ctx: Ctx):
        other = a[name]
        if type(other) in (int, float, bool):
            return x if numbers else None
        y = tensor_shape(other)
        if y is None:
            raise Unknowable(name)
        out = broadcast(x, y, ctx)
        if out is not None and inplace and out.dims != x.dims:
            ctx.fault("CNS008", "broadcast", {"a": x, "b": y})
            return None
        return out if out is None or out.dims != x.dims else x

    return rule


def masked_fill(a: Args, x: Shape, ctx: Ctx):
    """x.masked_fill(mask, value): the mask broadcasts to x's shape."""
    mask = tensor_shape(a["mask"])
    if mask is None:
        raise Unknowable("mask")
    out = broadcast(x, mask, ctx)
    return x if out is not None and out.dims == x.dims else None


def to_dtype(a: Args, x: Shape, ctx: Ctx):
    """x.type(dtype) keeps the shape; x.type() returns the type's name, no tensor."""
    return x if a["dtype"] is not None else None


def prelu(a: Args, x: Shape, ctx: Ctx):
    n = a.int("num_parameters")
    if n == 1 or x.open:
        return x
    c = x.dims[0] if x.dims else 1  # a 1-D input has one channel to torch's prelu
    if c is not None and c != n:
        ctx.fault("CNS003", "prelu", {"want": n, "got": c}, "num_parameters", c)
    return x


ACTIVATIONS = {
    # name: keyword parameters (all optional) of the elementwise activations
    "ReLU": dict(inplace=False), "ReLU6": dict(inplace=False), "SELU": dict(inplace=False),
    "LeakyReLU": dict(negative_slope=0.01, inplace=False), "ELU": dict(alpha=1.0, inplace=False),
    "CELU": dict(alpha=1.0, inplace=False), "GELU": dict(approximate="none"), "SiLU": dict(inplace=False),
    "Mish": dict(inplace=False), "Sigmoid": {}, "Tanh": {}, "LogSigmoid": {}, "Tanhshrink": {}, "Softsign": {},
    "Hardsigmoid": dict(inplace=False), "Hardswish": dict(inplace=False),
    "Hardtanh": dict(min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None),
    "Softplus": dict(beta=1.0, threshold=20.0), "Softshrink": dict(lambd=0.5), "Hardshrink": dict(lambd=0.5),
    "RReLU": dict(lower=1.0 / 8, upper=1.0 / 3, inplace=False),
    "Dropout": dict(p=0.5, inplace=False), "AlphaDropout": dict(p=0.5, inplace=False),
}

# elementwise: an empty tensor goes through them as it is
LAYERS = {name: LayerSpec(sig(**kw), checked(_VALID[name]) if name in _VALID else keep_shape, no_params, SAME, takes_empty=True)
          for name, kw in ACTIVATIONS.items()}
LAYERS.update({
    "Threshold": LayerSpec(sig("threshold", "value", inplace=False), checked(_VALID["Threshold"]), no_params, SAME),
    "Identity": LayerSpec(sig(_varargs=True), keep_shape, no_params, SAME),
    "Dropout1d": LayerSpec(sig(p=0.5, inplace=False), checked(_p_ok, 1, 2, form="(C,) or (C, L)"), no_params, SAME),
    # feature dropout needs a channel dim; dropout3d adds a batch dim itself first
    "Dropout2d": LayerSpec(sig(p=0.5, inplace=False), checked(_p_ok, *range(1, 16), form="(C, ...)"), no_params, SAME),
    "Dropout3d": LayerSpec(sig(p=0.5, inplace=False), checked(_p_ok), no_params, SAME),
    "FeatureAlphaDropout": LayerSpec(sig(p=0.5, inplace=False), checked(_p_ok, *range(1, 16), form="(C, ...)"), no_params, SAME),
    "Softmax": LayerSpec(sig(dim=None), along_dim("dim"), no_params, SAME, functional=F + "softmax"),
    "LogSoftmax": LayerSpec(sig(dim=None), along_dim("dim"), no_params, SAME, functional=F + "log_softmax"),
    "Softmin": LayerSpec(sig(dim=None), along_dim("dim"), no_params, SAME, functional=F + "softmin"),
    "Softmax2d": LayerSpec(sig(), ranked(2, 3, form="(C, H, W)"), no_params, OTHER),  # plain Module.__init__: no arguments
    "GLU": LayerSpec(sig(dim=-1), glu, no_params, OTHER, functional=F + "glu"),
    "PReLU": LayerSpec(sig(num_parameters=1, init=0.25, device=None, dtype=None), prelu, lambda a, x: a.int("num_parameters"), SAME),
})

# Elementwise ops: the shape passes through. Names under F, under torch, and as methods.
F_ELEMENTWISE = (
    "relu relu6 elu selu celu gelu silu mish sigmoid tanh hardtanh hardsigmoid hardswish "
    "leaky_relu softplus softsign softshrink hardshrink tanhshrink logsigmoid rrelu threshold "
    "dropout dropout1d dropout2d dropout3d alpha_dropout feature_alpha_dropout normalize"
).split()
TORCH_ELEMENTWISE = "relu sigmoid tanh exp abs neg sqrt square log clamp clip sin cos erf".split()
_LIKE = ("rand_like", "randn_like", "zeros_like", "ones_like", "empty_like", "full_like")  # a new tensor of x's shape
METHOD_ELEMENTWISE = (
    "relu sigmoid tanh exp abs neg sqrt square log clamp clip sin cos erf contiguous float double half "
    "detach clone to cpu cuda type_as relu_ sigmoid_ tanh_ clamp_ requires_grad_ bfloat16 "
    "neg_ abs_ exp_ log_ sqrt_ sin_ cos_ floor ceil round trunc sign reciprocal rsqrt log1p expm1 log2 log10 "
    "int long bool zero_ normal_ uniform_"
).split()
# x op other, with broadcasting; method, torch.* and in-place forms
BINARY = "add sub mul div pow remainder fmod maximum minimum true_divide floor_divide".split()
INPLACE = "add_ sub_ mul_ div_ pow_".split()
_ANY = sig("input", _varargs=True)

_softmax = along_dim("dim")
_F_SOFTMAX = OpSpec(sig("input", dim=None, _stacklevel=3, dtype=None), _softmax, SAME)
FUNCTIONS = {F + name: OpSpec(_ANY, keep_shape, SAME) for name in F_ELEMENTWISE}
FUNCTIONS.update({"torch." + name: OpSpec(_ANY, keep_shape, SAME) for name in TORCH_ELEMENTWISE + list(_LIKE)})
FUNCTIONS.update({F + "softmax": _F_SOFTMAX, F + "log_softmax": _F_SOFTMAX, F + "softmin": _F_SOFTMAX})
FUNCTIONS["torch.softmax"] = FUNCTIONS["torch.log_softmax"] = OpSpec(sig("input", "dim", dtype=None), _softmax, SAME)
FUNCTIONS[F + "glu"] = OpSpec(sig("input", dim=-1), glu, OTHER)
METHODS = {name: OpSpec(_ANY, keep_shape, SAME) for name in METHOD_ELEMENTWISE}
_OTHER = {"pow": "exponent"}  # the name torch gives the second operand
for _name in BINARY:
    _arg = _OTHER.get(_name, "other")
    _sig = sig("input", _arg, alpha=1) if _name in ("add", "sub") else sig("input", _arg)
    METHODS[_name] = FUNCTIONS["torch." + _name] = OpSpec(_sig, binary(_arg, numbers=_name not in ("maximum", "minimum")), SAME)
for _name in INPLACE:
    _arg = _OTHER.get(_name[:-1], "other")
    METHODS[_name] = OpSpec(sig("input", _arg, alpha=1) if _name in ("add_", "sub_") else sig("input", _arg), binary(_arg, True), SAME)
METHODS["masked_fill"] = METHODS["masked_fill_"] = OpSpec(sig("input", "mask", "value"), masked_fill, SAME)
METHODS["type"] = OpSpec(sig("input", dtype=None, non_blocking=False), to_dtype, SAME)
METHODS["fill_"] = OpSpec(sig("input", "value"), keep_shape, SAME)
METHODS["clamp_min"] = OpSpec(sig("input", "min"), keep_shape, SAME)
METHODS["clamp_max"] = OpSpec(sig("input", "max"), keep_shape, SAME)
METHODS["softmax"] = METHODS["log_softmax"] = OpSpec(sig("input", "dim", dtype=None), _softmax, SAME)
