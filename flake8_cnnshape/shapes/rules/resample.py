"""Layers and ops that move values between the channels and the spatial
sizes, or change the sizes without weights: padding, upsampling
(F.interpolate's size or floor(L * scale_factor)), pixel shuffles, the
channel shuffle, and nn.Unfold / nn.Fold (im2col / col2im). None has
parameters.

Unfold / Fold (torch docs, their Shape sections): Unfold takes (N, C, H, W)
and gives (N, C * prod(kernel_size), L), L = prod over the spatial dims of
floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1);
Fold takes (N, C * prod(kernel_size), L) and gives (N, C, *output_size), L
the blocks that formula counts for output_size. Both are 2-d only."""
from __future__ import annotations

import math

from ..shape import Shape
from ..signature import UNKNOWN, Args, Unknowable, sig
from ..spec import AXIS, OTHER, Ctx, LayerSpec, OpSpec, no_params
from .common import need_rank, positive, spatial, window_fault

F = "torch.nn.functional."


def pad(n: int, kind: str):
    """Pads take (left, right, top, bottom, front, back): last dim first."""

    def rule(a: Args, x: Shape, ctx: Ctx):
        p = _paddings(a["padding"], 2 * n)
        if kind == "constant":
            ranks = tuple(range(n - 1, 16))
        else:
            ranks = (n, n + 1)
        if not need_rank(x, ctx, ranks, f"{'(C, ' if n else '('}{' x '.join(['*'] * n)})"):
            return None
        if kind == "constant" and not x.open and x.rank < n:
            return None  # F.pad pads the batch dim too: it runs, but no batch dim is left
        if kind != "constant" and any(v is not None and v < 0 for v in p):
            raise Unknowable("negative padding")
        dims = list(x.dims)
        for axis in range(n):
            lo, hi = p[2 * axis], p[2 * axis + 1]
            j = len(dims) - 1 - axis
            if j < 0:
                return None
            L = dims[j]
            if L is None or lo is None or hi is None:
                dims[j] = None  # an amount nobody knows: only this dim's size is lost
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


def _paddings(v, count: int):
    """A padding layer's amounts, `count` of them, None where one is not known.
    An argument nobody knows is not taken: a shorter tuple pads fewer dims."""
    if type(v) is int:
        return (v,) * count
    if isinstance(v, (tuple, list)) and len(v) == count and all(_amount(e) for e in v):
        return tuple(None if e is UNKNOWN else e for e in v)
    raise Unknowable("padding")


def _amount(e) -> bool:
    """An int, or a value nobody knows (`diff // 2` of a size nobody knows)."""
    return e is UNKNOWN or isinstance(e, int) and not isinstance(e, bool)


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
        return interpolate(x, ctx, a["size"], a["scale_factor"], mode)

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
    # a size or scale nobody knows (`size=skip.shape[2:]` of an input nobody
    # knows) loses those sizes only: the batch, the channels and the rank stay
    if size is not None:
        outs = (size,) * n if isinstance(size, int) or size is UNKNOWN else tuple(size)
        if len(outs) != n or not all(_amount(v) for v in outs):
            raise Unknowable("size")
        outs = tuple(None if v is UNKNOWN else v for v in outs)
    else:
        scales = (scale,) * n if isinstance(scale, (int, float)) or scale is UNKNOWN else tuple(scale)
        if len(scales) != n or not all(s is UNKNOWN or isinstance(s, (int, float)) and not isinstance(s, bool) and s > 0 for s in scales):
            raise Unknowable("scale_factor")
        outs = tuple(None if L is None or s is UNKNOWN else math.floor(float(L) * float(s)) for L, s in zip(sizes, scales))
    if mode == "area" and 0 in outs:
        return None  # area is adaptive_avg_pool, which returns an empty tensor here
    if any(v is not None and v < 1 for v in outs) or any(L is not None and L < 1 for L in sizes):
        ctx.fault("CNS004", "resize", {"sizes": tuple(sizes), "outs": tuple(outs)}, at_use=True)
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
        ctx.fault("CNS007", "upscale", {"factor": r, "got": c}, at_use=True)
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
        ctx.fault("CNS007", "groups_incoming", {"groups": g, "got": c}, at_use=True)
        return None
    return x


def _interp(a: Args, x: Shape, ctx: Ctx):
    mode = a.known("mode")
    if mode not in _INTERP_RANKS:
        raise Unknowable("mode")
    return interpolate(x, ctx, a["size"], a["scale_factor"], mode)


def _pad(a: Args, x: Shape, ctx: Ctx):
    p = a.known("pad")
    if not isinstance(p, (tuple, list)) or len(p) % 2 or not all(_amount(v) for v in p):
        raise Unknowable("pad")
    mode = a.known("mode")
    kind = {"constant": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}.get(mode)
    if kind is None:
        raise Unknowable("mode")
    n = len(p) // 2
    if kind != "constant" and n > 3:
        raise Unknowable("pad")
    return pad(n, kind)(Args({"padding": tuple(p)}), x, ctx)


def _pair(a: Args, name: str):
    """An int or 2 ints, as torch's _pair hands them to im2col / col2im (a
    1-tuple is refused there, unlike the convs' _ntuple)."""
    v = a.known(name)
    if type(v) is int:
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(type(e) is int for e in v):
        return tuple(v)
    raise Unknowable(name)


def _blocks_window(a: Args):
    """kernel_size, dilation, padding, stride; a window torch refuses whatever
    the input (non-positive, negative padding) is no fault of the input's."""
    k, d, p, s = (_pair(a, n) for n in ("kernel_size", "dilation", "padding", "stride"))
    positive(*k, *d, *s)
    if min(p) < 0:
        raise Unknowable("negative padding")
    return k, d, p, s


def _blocks(sizes, k, d, p, s):
    """The sliding blocks along each dim (None where the size is not known);
    torch floors the division (div_rtn)."""
    return tuple(None if L is None else (L + 2 * pi - di * (ki - 1) - 1) // si + 1
                 for L, ki, di, pi, si in zip(sizes, k, d, p, s))


def _times(*values):
    return None if None in values else math.prod(values)


def unfold(a: Args, x: Shape, ctx: Ctx):
    """(C, H, W) to (C * kh * kw, L). A (H, W) sample is torch's unbatched
    (C, H, W), the batch taken for the channels: not followed."""
    k, d, p, s = _blocks_window(a)
    if not need_rank(x, ctx, (2, 3), "(C, H, W)"):
        return None
    if len(x.dims) < 3:
        return None  # the rank may be 2 (open) or is
    c, sizes = x.dims[-3], spatial(x, 2)
    blocks = _blocks(sizes, k, d, p, s)
    if any(b is not None and b < 1 for b in blocks):
        window_fault(ctx, "kernel", k, None if s == (1, 1) else s, sizes, blocks)
        return None
    return Shape((_times(c, *k), _times(*blocks)))


def fold(a: Args, x: Shape, ctx: Ctx):
    """(C * kh * kw, L) to (C, *output_size): torch refuses channels the kernel
    does not divide (CNS007) and an L that is not the blocks output_size
    makes (CNS005). A (L,) sample is torch's unbatched form: not followed."""
    k, d, p, s = _blocks_window(a)
    size = _pair(a, "output_size")
    if min(size) < 1:
        raise Unknowable("output_size")
    blocks = _blocks(size, k, d, p, s)
    if min(blocks) < 1:
        raise Unknowable("kernel_size")  # no L fits output_size: the arguments' fault, whatever the input
    if not need_rank(x, ctx, (1, 2), "(C x kernel, L)"):
        return None
    if len(x.dims) < 2:
        return None
    c, got = x.dims[-2:]
    per = k[0] * k[1]
    ok = True
    if c is not None and c % per:
        ctx.fault("CNS007", "fold_channels", {"kernel": k, "got": c}, at_use=True)
        ok = False
    if got is not None and got != blocks[0] * blocks[1]:
        ctx.fault("CNS005", "fold_blocks", {"size": size, "kernel": k, "blocks": blocks, "got": got}, at_use=True)
        ok = False
    return Shape((None if c is None else c // per,) + size) if ok else None


_UNFOLD_SIG = dict(dilation=1, padding=0, stride=1)

LAYERS = {
    "Unfold": LayerSpec(sig("kernel_size", **_UNFOLD_SIG), unfold, no_params, OTHER, functional=F + "unfold"),
    "Fold": LayerSpec(sig("output_size", "kernel_size", **_UNFOLD_SIG), fold, no_params, OTHER, functional=F + "fold"),
    "Upsample": LayerSpec(sig(size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None),
                          upsample(None), no_params, AXIS, functional=F + "interpolate"),
    "UpsamplingNearest2d": LayerSpec(sig(size=None, scale_factor=None), upsample("nearest"), no_params, AXIS),
    "UpsamplingBilinear2d": LayerSpec(sig(size=None, scale_factor=None), upsample("bilinear"), no_params, AXIS),
    "PixelShuffle": LayerSpec(sig("upscale_factor"), pixel_shuffle, no_params, OTHER),
    "PixelUnshuffle": LayerSpec(sig("downscale_factor"), pixel_unshuffle, no_params, OTHER),
    "ChannelShuffle": LayerSpec(sig("groups"), channel_shuffle, no_params, OTHER),
}
for _n in (1, 2, 3):
    LAYERS[f"ZeroPad{_n}d"] = LayerSpec(sig("padding"), pad(_n, "constant"), no_params, AXIS, functional=F + "pad")
    LAYERS[f"ConstantPad{_n}d"] = LayerSpec(sig("padding", "value"), pad(_n, "constant"), no_params, AXIS, functional=F + "pad")
    LAYERS[f"ReflectionPad{_n}d"] = LayerSpec(sig("padding"), pad(_n, "reflect"), no_params, AXIS, functional=F + "pad")
    LAYERS[f"ReplicationPad{_n}d"] = LayerSpec(sig("padding"), pad(_n, "replicate"), no_params, AXIS, functional=F + "pad")
    LAYERS[f"CircularPad{_n}d"] = LayerSpec(sig("padding"), pad(_n, "circular"), no_params, AXIS, functional=F + "pad")

_INTERP_SIG = sig("input", size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False)
FUNCTIONS = {
    F + "interpolate": OpSpec(_INTERP_SIG, _interp, AXIS),
    F + "upsample": OpSpec(sig("input", size=None, scale_factor=None, mode="nearest", align_corners=None), _interp, AXIS),
    F + "pad": OpSpec(sig("input", "pad", mode="constant", value=None), _pad, AXIS),
    F + "unfold": OpSpec(sig("input", "kernel_size", **_UNFOLD_SIG), unfold, OTHER),
    F + "fold": OpSpec(sig("input", "output_size", "kernel_size", **_UNFOLD_SIG), fold, OTHER),
}
