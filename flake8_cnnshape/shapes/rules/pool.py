"""Pooling. torch's pooling_output_shape (aten/src/ATen/native/Pool.h), which the
MaxPool/AvgPool docs state as
  out = floor((L + 2*padding - dilation*(kernel_size-1) - 1) / stride + 1)
with ceil instead of floor under ceil_mode, minus one if the last window would
start in the right padding. Padding may be at most half the kernel size.
Pools accept a sample with or without the channel dim (torch's unbatched form).
They have no parameters. A MaxPool layer built with return_indices=True gives
(output, indices), the indices of the output's shape; MaxUnpool takes them
back to the size nn.MaxUnpool's docs give:
  out = (L - 1)*stride - 2*padding + kernel_size
or the output_size forward() is given, which must lie strictly within stride
of that (torch's _unpool_output_size).
"""
from __future__ import annotations

from ..shape import Shape
from ..signature import UNKNOWN, Args, Unknowable, sig
from ..spec import AXIS, OTHER, Ctx, LayerSpec, OpSpec, no_params
from .common import given_sides, leading, need_rank, positive, sample_form, spatial, window_fault
from .matmul import B

F = "torch.nn.functional."


def pool_out(L: int, k: int, p: int, s: int, d: int, ceil: bool) -> int:
    out = (L + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= L + p:
        out -= 1
    return out


def _window(n, a: Args, x: Shape, ctx: Ctx, k, s, p, d, ceil, whole_kernel=False):
    """The window arithmetic; an argument nobody knows (None) leaves its axes unknown."""
    known = ceil is not None and None not in k + s + p + d
    if known:  # the commonest: every argument known
        positive(*k, *s, *d)
        if any(pi < 0 or pi > ki // 2 for pi, ki in zip(p, k)):
            raise Unknowable("padding")  # torch: pad should be at most half of kernel size
    else:
        positive(*(v for v in k + s + d if v is not None))
        if any(pi is not None and ki is not None and (pi < 0 or pi > ki // 2) for pi, ki in zip(p, k)):
            raise Unknowable("padding")
    if not need_rank(x, ctx, (n, n + 1), sample_form(n)):
        return None
    sizes = spatial(x, n)
    if not known:
        # some axes are unknown: the others are known only if nothing of theirs is missing
        outs = tuple(pool_out(L, ki, pi, si, di, ceil) if None not in (L, ki, pi, si, di, ceil) else None
                     for L, ki, pi, si, di in zip(sizes, k, p, s, d))
        if any(o is not None and o < 1 for o in outs):
            return None
        return x.with_dims(leading(x, n) + outs)
    outs, bad, empty = [], False, False
    for L, ki, pi, si, di in zip(sizes, k, p, s, d):
        if L is None:
            outs.append(None)
            continue
        o = pool_out(L, ki, pi, si, di, ceil)
        # avg_pool3d also wants the input itself at least as large as the
        # kernel, padding aside (pool3d_shape_check with check_input_size)
        bad = bad or o < 1 or whole_kernel and L < ki
        empty = empty or L < 1
        outs.append(o)
    if bad:
        window_fault(ctx, "window", k, s, sizes, tuple(outs))
        return None
    if empty:
        return None
    return x.with_dims(leading(x, n) + tuple(outs))


def _stride(a: Args, n: int, k):
    return k if a["stride"] is None else a.opt_ints("stride", n)


def _ceil(a: Args):
    v = a["ceil_mode"]
    return None if v is UNKNOWN else bool(v)


def max_pool(n, indices: bool = False):
    """indices: the layer, whose (output, indices) its returns() gives; the
    functional's tuple is not followed."""
    def rule(a: Args, x: Shape, ctx: Ctx):
        if a.known("return_indices") is not False and not (indices and a["return_indices"] is True):
            return None  # a tuple comes out: the next layer cannot take it
        k = a.opt_ints("kernel_size", n)
        return _window(n, a, x, ctx, k, _stride(a, n, k), a.opt_ints("padding", n), a.opt_ints("dilation", n), _ceil(a))

    return rule


def avg_pool(n):
    def rule(a: Args, x: Shape, ctx: Ctx):
        if n > 1 and a["divisor_override"] == 0:
            raise Unknowable("divisor_override")  # torch: "divisor must be not zero"
        k = a.opt_ints("kernel_size", n)
        return _window(n, a, x, ctx, k, _stride(a, n, k), a.opt_ints("padding", n), (1,) * n, _ceil(a), n == 3)

    return rule


def lp_pool(n):
    # LPPool is avg_pool with padding 0, raised to the power and back.
    def rule(a: Args, x: Shape, ctx: Ctx):
        if a["norm_type"] == 0:
            raise Unknowable("norm_type")  # the forward takes the 1/norm_type power
        k = a.opt_ints("kernel_size", n)
        return _window(n, a, x, ctx, k, _stride(a, n, k), (0,) * n, (1,) * n, _ceil(a), n == 3)

    return rule


def adaptive(n, indices: bool, layer: bool = False):
    def rule(a: Args, x: Shape, ctx: Ctx):
        if indices and a.known("return_indices") is not False and not (layer and a["return_indices"] is True):
            return None
        size = a["output_size"]
        if size is UNKNOWN:  # the spatial sizes it gives are not known; the rest is
            return x.with_dims(leading(x, n) + (None,) * n) if need_rank(x, ctx, (n, n + 1), sample_form(n)) else None
        if size is None:
            raise Unknowable("output_size")  # torch: a bare None is not a size (None entries are)
        if isinstance(size, int):
            size = (size,) * n
        if not isinstance(size, (tuple, list)) or len(size) != n:
            raise Unknowable("output_size")
        if not all(v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1) for v in size):
            raise Unknowable("output_size")
        if n == 1 and None in size:
            raise Unknowable("output_size")  # adaptive_*_pool1d takes ints only
        if not need_rank(x, ctx, (n, n + 1), sample_form(n)):
            return None
        sizes = spatial(x, n)
        if any(L is not None and L < 1 for L in sizes):
            return None
        outs = tuple(L if v is None else v for v, L in zip(size, sizes))
        return x.with_dims(leading(x, n) + outs)

    return rule


def with_indices(a: Args, x: Shape, out: Shape):
    """What a max pool layer returns: its output, and with return_indices
    the indices, of the output's shape."""
    return ("out", (B,) + out.dims) if a["return_indices"] is True and not out.open else None


def _unpool_size(a: Args, n: int, sizes, k, s, p):
    """The output's sides: out = (L - 1)*stride - 2*padding + kernel_size, or
    forward()'s output_size (the last n of n or n + 2 entries, each strictly
    within stride of that); None for a side not known."""
    default = tuple(None if None in (L, ki, si, pi) else (L - 1) * si - 2 * pi + ki for L, ki, si, pi in zip(sizes, k, s, p))
    given = a.values.get("output_size")
    if given is None:
        return default
    sides = given_sides(given, n, 2)
    if sides is None:
        return (None,) * n
    for v, want, si in zip(sides, default, s):
        if v is not None and want is not None and si is not None and not want - si < v < want + si:
            raise Unknowable("output_size")  # torch: ValueError, no layer argument to change
    return sides


def max_unpool(n):
    def rule(a: Args, x: Shape, ctx: Ctx):
        k = a.opt_ints("kernel_size", n)
        s = _stride(a, n, k)
        p = a.opt_ints("padding", n)
        positive(*(v for v in k + s if v is not None))
        if not need_rank(x, ctx, (n, n + 1), sample_form(n)):
            return None
        index = a.values.get("indices")
        if index is not None and (index.open or index.dims != x.dims):
            return None  # torch wants indices of the input's shape (a model's own, from its pool, mostly)
        outs = _unpool_size(a, n, spatial(x, n), k, s, p)
        if any(o is not None and o < 1 for o in outs):
            return None
        return x.with_dims(leading(x, n) + outs)

    return rule


def _torch_pool(rule):
    """torch.max_pool2d: F.max_pool2d without the return_indices option, and
    stride () for the kernel size."""
    def wrapped(a: Args, x: Shape, ctx: Ctx):
        if a["stride"] == ():
            a.values["stride"] = None
        a.values.setdefault("return_indices", False)
        return rule(a, x, ctx)

    return wrapped


LAYERS = {}
FUNCTIONS = {}
for _n in (1, 2, 3):
    _avg = dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True)
    if _n > 1:
        _avg["divisor_override"] = None
    LAYERS[f"MaxPool{_n}d"] = LayerSpec(sig("kernel_size", stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False),
                                        max_pool(_n, True), no_params, AXIS, functional=F + f"max_pool{_n}d",
                                        returns=with_indices)
    # the output depends on forward()'s indices and output_size too: no axis of the size search
    LAYERS[f"MaxUnpool{_n}d"] = LayerSpec(sig("kernel_size", stride=None, padding=0), max_unpool(_n), no_params, OTHER,
                                          keeps_shape=False, extra=("indices", "output_size"))
    LAYERS[f"AvgPool{_n}d"] = LayerSpec(sig("kernel_size", **_avg), avg_pool(_n), no_params, AXIS, functional=F + f"avg_pool{_n}d")
    LAYERS[f"LPPool{_n}d"] = LayerSpec(sig("norm_type", "kernel_size", stride=None, ceil_mode=False), lp_pool(_n), no_params, AXIS,
                                       functional=F + f"lp_pool{_n}d")
    LAYERS[f"AdaptiveAvgPool{_n}d"] = LayerSpec(sig("output_size"), adaptive(_n, False), no_params, AXIS,
                                                functional=F + f"adaptive_avg_pool{_n}d")
    LAYERS[f"AdaptiveMaxPool{_n}d"] = LayerSpec(sig("output_size", return_indices=False), adaptive(_n, True, True), no_params, AXIS,
                                                functional=F + f"adaptive_max_pool{_n}d", returns=with_indices)
    FUNCTIONS[F + f"max_pool{_n}d"] = OpSpec(
        sig("input", "kernel_size", stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False), max_pool(_n), AXIS)
    FUNCTIONS[F + f"avg_pool{_n}d"] = OpSpec(sig("input", "kernel_size", **_avg), avg_pool(_n), AXIS)
    FUNCTIONS[F + f"lp_pool{_n}d"] = OpSpec(sig("input", "norm_type", "kernel_size", stride=None, ceil_mode=False), lp_pool(_n), AXIS)
    FUNCTIONS[F + f"adaptive_avg_pool{_n}d"] = OpSpec(sig("input", "output_size"), adaptive(_n, False), AXIS)
    FUNCTIONS[F + f"adaptive_max_pool{_n}d"] = OpSpec(sig("input", "output_size", return_indices=False), adaptive(_n, True), AXIS)
for _n in (1, 2, 3):
    FUNCTIONS[f"torch.max_pool{_n}d"] = OpSpec(sig("input", "kernel_size", stride=(), padding=0, dilation=1, ceil_mode=False),
                                               _torch_pool(max_pool(_n)), AXIS)
