"""Linear, Flatten/Unflatten, activations, dropout, padding, upsampling and
pixel shuffles."""
from __future__ import annotations

import math

from .common import fmt_axes, need_rank
from .registry import UNKNOWN, Args, Ctx, LayerSpec, Unknowable, sig
from .shape import Shape, render_factors


def _full_index(dim: int, full_rank: int) -> int:
    """torch's dim wrapping on the batched tensor; raises if out of range."""
    if not -full_rank <= dim < full_rank:
        raise IndexError(dim)
    return dim % full_rank


def flatten(x: Shape, start_dim: int, end_dim: int, ctx: Ctx):
    """torch.flatten on the batched tensor. Merging the batch dim into others
    leaves a tensor we no longer track."""
    if x.open:
        if start_dim == 1 and end_dim == -1:
            return Shape((None,))
        return None
    full = x.rank + 1
    try:
        s, e = _full_index(start_dim, full), _full_index(end_dim, full)
    except IndexError:
        ctx.fault("CNS006", f"{ctx.layer} flattens dims {start_dim}..{end_dim} but receives {x.describe()}", at_use=True)
        return None
    if s > e:
        raise Unknowable("start_dim after end_dim")
    if s == 0:
        return x if e == 0 else None
    i, j = s - 1, e  # per-sample slice [i, j)
    merged = x.dims[i:j]
    factors = []
    for k in range(i, j):
        f = x.factor_of(k)
        factors.extend(f if f is not None else (x.dims[k],))
    size = None if any(d is None for d in merged) else math.prod(merged)
    fac = tuple(factors) if size is not None and len(factors) > 1 else None
    dims = x.dims[:i] + (size,) + x.dims[j:]
    old = x.factors or (None,) * len(x.dims)
    return Shape(dims, False, None).with_dims(dims, old[:i] + (fac,) + old[j:])


def width_text(x: Shape, i: int) -> str:
    d = x.dims[i]
    f = x.factor_of(i)
    return f"{d} ({render_factors(f)})" if f else str(d)


def linear(lazy: bool):
    def rule(a: Args, x: Shape, ctx: Ctx):
        out = a.int("out_features")
        if out < 0:
            raise Unknowable("out_features")
        if not x.open and x.rank == 0:
            if lazy:
                return None  # it sizes itself to the batch as features: runs, batch gone
            ctx.fault("CNS006", f"{ctx.layer} needs a feature dim but receives one number per sample", at_use=True)
            return None
        last = x.dims[-1] if x.dims else None
        if not lazy:
            want = a.int("in_features")
            if last is not None and last != want:
                if x.open or x.rank == 1:
                    ctx.fault("CNS001", f"{ctx.layer} expects in_features={want} but receives {width_text(x, -1)}", "in_features", last,
                              factors=x.factor_of(len(x.dims) - 1))
                else:
                    n = x.numel()
                    hint = "" if n is None else f"; flattened it would be {n} ({render_factors(x.dims)})"
                    if n == want:
                        hint = f"; it holds {want} values per sample: flatten first (nn.Flatten())"
                    # torch would take in_features=last, but the author most
                    # likely meant to flatten: no single number fixes it
                    ctx.fault(
                        "CNS001",
                        f"{ctx.layer} expects in_features={want} but receives {x.describe()} and acts on its last dim, {last}{hint}",
                        None,
                        last,
                    )
        return x.with_dims(x.dims[:-1] + (out,)) if x.dims else Shape((out,), open=True)

    return rule


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
        i = _full_index(dim, x.rank + 1)
    except IndexError:
        ctx.fault("CNS006", f"{ctx.layer} unflattens dim {dim} but receives {x.describe()}", at_use=True)
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
            ctx.fault("CNS005", f"{ctx.layer} cannot split {have} into {tuple(sizes)}", at_use=True)
            return None
        sizes[sizes.index(-1)] = have // known
    elif known != have:
        ctx.fault("CNS005", f"{ctx.layer} splits {have} into {tuple(sizes)}, which holds {known}", at_use=True)
        return None
    return x.with_dims(x.dims[: i - 1] + tuple(sizes) + x.dims[i:])


def same(a: Args, x: Shape, ctx: Ctx):
    return x


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
                _full_index(d, x.rank + 1)
            except IndexError:
                ctx.fault("CNS006", f"{ctx.layer} works along dim {d} but receives {x.describe()}", at_use=True)
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
        i = _full_index(d, x.rank + 1)
    except IndexError:
        ctx.fault("CNS006", f"{ctx.layer} halves dim {d} but receives {x.describe()}", at_use=True)
        return None
    if i == 0 or x.dims[i - 1] is None or x.dims[i - 1] % 2:
        return None
    dims = list(x.dims)
    dims[i - 1] //= 2
    return x.with_dims(dims)


def prelu(a: Args, x: Shape, ctx: Ctx):
    n = a.int("num_parameters")
    if n == 1 or x.open:
        return x
    c = x.dims[0] if x.dims else 1  # a 1-D input has one channel to torch's prelu
    if c is not None and c != n:
        ctx.fault("CNS003", f"{ctx.layer} expects num_parameters={n} (or 1) but receives {c} channels", "num_parameters", c)
    return x


def pad(n: int, kind: str):
    """Pads take (left, right, top, bottom, front, back): last dim first."""

    def rule(a: Args, x: Shape, ctx: Ctx):
        p = a.ints("padding", 2 * n) if not isinstance(a["padding"], int) else (a.int("padding"),) * (2 * n)
        if kind == "constant":
            ranks = tuple(range(n - 1, 16))
        else:
            ranks = (n, n + 1)
        if not need_rank(x, ctx, ranks, f"{'(C, ' if n else '('}{fmt_axes(['*'] * n)})"):
            return None
        if kind == "constant" and not x.open and x.rank < n:
            return None  # F.pad pads the batch dim too: it runs, but no batch dim is left
        if kind != "constant" and any(v < 0 for v in p):
            raise Unknowable("negative padding")
        dims = list(x.dims)
        for axis in range(n):
            lo, hi = p[2 * axis], p[2 * axis + 1]
            j = len(dims) - 1 - axis
            if j < 0:
                return None
            L = dims[j]
            if L is None:
                continue
            if kind == "reflect" and (lo >= L or hi >= L):
                return None
            if kind == "circular" and (lo > L or hi > L):
                return None
            if L + lo + hi < 1:
                return None
            dims[j] = L + lo + hi
        return x.with_dims(dims)

    return rule


_INTERP_RANKS = {"nearest": (2, 3, 4), "nearest-exact": (2, 3, 4), "linear": (2,), "bilinear": (3,), "bicubic": (3,), "trilinear": (4,), "area": (2, 3, 4)}


def upsample(mode_default: str | None):
    def rule(a: Args, x: Shape, ctx: Ctx):
        mode = mode_default or a.known("mode")
        if mode not in _INTERP_RANKS:
            raise Unknowable("mode")
        if mode_default is None:
            # F.interpolate: ValueError for align_corners outside the interpolating
            # modes, and for recompute_scale_factor=True with a size.
            if mode in ("nearest", "nearest-exact", "area") and a.known("align_corners") is not None:
                raise Unknowable("align_corners")
            if a.known("recompute_scale_factor") and a.known("size") is not None:
                raise Unknowable("recompute_scale_factor")
        return interpolate(x, ctx, a.known("size"), a.known("scale_factor"), mode)

    return rule


def interpolate(x: Shape, ctx: Ctx, size, scale, mode: str):
    """F.interpolate's output size: `size`, or floor(L * scale_factor)."""
    if (size is None) == (scale is None):
        raise Unknowable("size/scale_factor")
    if not need_rank(x, ctx, _INTERP_RANKS[mode], f"(C, *spatial) for mode '{mode}'"):
        return None
    if x.open:
        return None
    n = x.rank - 1
    sizes = x.dims[1:]
    if size is not None:
        outs = (size,) * n if isinstance(size, int) else tuple(size)
        if len(outs) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in outs):
            raise Unknowable("size")
    else:
        scales = (scale,) * n if isinstance(scale, (int, float)) else tuple(scale)
        if len(scales) != n or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in scales):
            raise Unknowable("scale_factor")
        outs = tuple(None if L is None else math.floor(float(L) * float(s)) for L, s in zip(sizes, scales))
    if mode == "area" and 0 in outs:
        return None  # area is adaptive_avg_pool, which returns an empty tensor here
    if any(v is not None and v < 1 for v in outs) or any(L is not None and L < 1 for L in sizes):
        ctx.fault("CNS004", f"{ctx.layer} would produce {fmt_axes(outs)} from its {fmt_axes(sizes)} input", at_use=True)
        return None
    return x.with_dims(x.dims[:1] + outs)


def pixel_shuffle(a: Args, x: Shape, ctx: Ctx):
    r = a.int("upscale_factor")
    if r <= 0:
        raise Unknowable("upscale_factor")
    if not need_rank(x, ctx, tuple(range(2, 16)), "(C, H, W)"):
        return None
    if x.open and len(x.dims) < 3:
        return None
    c, h, w = x.dims[-3:] if len(x.dims) >= 3 else (None,) + tuple(x.dims[-2:])
    if len(x.dims) < 3:
        return None  # the channel dim would be the batch
    if c is not None and c % (r * r):
        ctx.fault("CNS007", f"{ctx.layer} needs channels divisible by {r * r} (upscale_factor {r} squared) but receives {c}", at_use=True)
        return None
    mul = lambda v, f: None if v is None else v * f  # noqa: E731
    return x.with_dims(x.dims[:-3] + (None if c is None else c // (r * r), mul(h, r), mul(w, r)))


def pixel_unshuffle(a: Args, x: Shape, ctx: Ctx):
    r = a.int("downscale_factor")
    if r <= 0:
        raise Unknowable("downscale_factor")
    if not need_rank(x, ctx, tuple(range(2, 16)), "(C, H, W)"):
        return None
    if len(x.dims) < 3:
        return None  # the batch dim would be the channels
    c, h, w = x.dims[-3:]
    if any(v is not None and v % r for v in (h, w)):
        return None
    div = lambda v: None if v is None else v // r  # noqa: E731
    return x.with_dims(x.dims[:-3] + (None if c is None else c * r * r, div(h), div(w)))


def channel_shuffle(a: Args, x: Shape, ctx: Ctx):
    g = a.int("groups")
    if g <= 0:
        raise Unknowable("groups")
    if not need_rank(x, ctx, tuple(range(2, 16)), "(C, ...)"):
        return None
    c = None if x.open else x.dims[0]
    if c is not None and c % g:
        ctx.fault("CNS007", f"{ctx.layer} groups={g} does not divide the {c} incoming channels", at_use=True)
        return None
    return x


_ACT = {
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
LAYERS = {name: LayerSpec(sig(**kw), checked(_VALID[name]) if name in _VALID else same, takes_empty=True) for name, kw in _ACT.items()}
LAYERS.update({
    "Threshold": LayerSpec(sig("threshold", "value", inplace=False), checked(_VALID["Threshold"])),
    "Identity": LayerSpec(sig(_varargs=True), same),
    "Dropout1d": LayerSpec(sig(p=0.5, inplace=False), checked(_p_ok, 1, 2, form="(C,) or (C, L)")),
    # feature dropout needs a channel dim; dropout3d adds a batch dim itself first
    "Dropout2d": LayerSpec(sig(p=0.5, inplace=False), checked(_p_ok, *range(1, 16), form="(C, ...)")),
    "Dropout3d": LayerSpec(sig(p=0.5, inplace=False), checked(_p_ok)),
    "FeatureAlphaDropout": LayerSpec(sig(p=0.5, inplace=False), checked(_p_ok, *range(1, 16), form="(C, ...)")),
    "Softmax": LayerSpec(sig(dim=None), along_dim("dim")),
    "LogSoftmax": LayerSpec(sig(dim=None), along_dim("dim")),
    "Softmin": LayerSpec(sig(dim=None), along_dim("dim")),
    "Softmax2d": LayerSpec(sig(), ranked(2, 3, form="(C, H, W)")),  # plain Module.__init__: no arguments
    "GLU": LayerSpec(sig(dim=-1), glu),
    "PReLU": LayerSpec(sig(num_parameters=1, init=0.25, device=None, dtype=None), prelu),
    "Linear": LayerSpec(sig("in_features", "out_features", bias=True, device=None, dtype=None), linear(False)),
    "LazyLinear": LayerSpec(sig("out_features", bias=True, device=None, dtype=None), linear(True)),
    "Flatten": LayerSpec(sig(start_dim=1, end_dim=-1), flatten_rule),
    "Unflatten": LayerSpec(sig("dim", "unflattened_size"), unflatten),
    "Upsample": LayerSpec(sig(size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None), upsample(None)),
    "UpsamplingNearest2d": LayerSpec(sig(size=None, scale_factor=None), upsample("nearest")),
    "UpsamplingBilinear2d": LayerSpec(sig(size=None, scale_factor=None), upsample("bilinear")),
    "PixelShuffle": LayerSpec(sig("upscale_factor"), pixel_shuffle),
    "PixelUnshuffle": LayerSpec(sig("downscale_factor"), pixel_unshuffle),
    "ChannelShuffle": LayerSpec(sig("groups"), channel_shuffle),
})
for _n in (1, 2, 3):
    LAYERS[f"ZeroPad{_n}d"] = LayerSpec(sig("padding"), pad(_n, "constant"))
    LAYERS[f"ConstantPad{_n}d"] = LayerSpec(sig("padding", "value"), pad(_n, "constant"))
    LAYERS[f"ReflectionPad{_n}d"] = LayerSpec(sig("padding"), pad(_n, "reflect"))
    LAYERS[f"ReplicationPad{_n}d"] = LayerSpec(sig("padding"), pad(_n, "replicate"))
    LAYERS[f"CircularPad{_n}d"] = LayerSpec(sig("padding"), pad(_n, "circular"))
