"""Convolutions. Formulas from the Shape sections of torch.nn.Conv{1,2,3}d and
ConvTranspose{1,2,3}d:
  conv:      out = floor((L + 2*padding - dilation*(kernel_size-1) - 1) / stride + 1)
  transpose: out = (L-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1
Parameters: weight (out, in/groups, *k), or (in, out/groups, *k) when
transposed, and a bias of out when bias=True. A transposed conv given
forward()'s output_size gives those sides (each within stride - 1 above the
formula's with no output_padding).
"""
from __future__ import annotations

import math
from typing import Optional

from ..shape import Shape
from ..signature import UNKNOWN, Args, Unknowable, sig
from ..spec import AXIS, Ctx, LayerSpec
from .common import given_sides, need_rank, positive, sample_form, spatial, window_fault

_CONV = dict(stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None)
_TRANSPOSE = dict(stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None)


def _channels(a: Args, x: Shape, ctx: Ctx, n: int, lazy: bool):
    """Check construction (groups) and the incoming channels, as far as the
    arguments are known. Returns False when the layer cannot run at all."""
    groups = a.opt_int("groups")
    out_ch = a.opt_int("out_channels")
    if groups is not None and groups <= 0 or out_ch is not None and out_ch <= 0:
        raise Unknowable("groups")
    in_ch = None if lazy else a.opt_int("in_channels")
    if in_ch is not None and in_ch <= 0:
        raise Unknowable("in_channels")
    if groups is not None and groups != 1:  # (every size is a multiple of 1)
        sizes = (("in_channels", in_ch), ("out_channels", out_ch))
        bad = tuple(f"{name}={v}" for name, v in sizes if v is not None and v % groups)
        if bad:
            ctx.fault("CNS007", "groups_arguments", {"groups": groups, "bad": bad})
            return False
    if lazy and not x.open and x.rank == n:
        # torch takes it as one unbatched sample whose channels are the batch, and
        # the lazy layer sizes itself to that: it runs, but the batch dim is gone.
        return False
    if not need_rank(x, ctx, (n + 1,), sample_form(n)):
        return False
    c = None if x.open else x.dims[0]
    if c is None or groups is None or (not lazy and c == in_ch):
        return True  # (with groups unknown, which number would fix it is not known either)
    if c % groups:
        # No in_channels fixes this: it would have to be a multiple of groups.
        ctx.fault("CNS007", "groups_incoming", {"groups": groups, "got": c}, at_use=True)
        return False
    if in_ch is not None:
        ctx.fault("CNS002", "channels", {"param": "in_channels", "want": in_ch, "got": c}, "in_channels", c)
    return True


def _pad_mode_ok(mode, pads, sizes) -> bool:
    """Non-zero padding modes pad with F.pad first, which has limits of its own."""
    for p, L in zip(pads, sizes):
        if L is None:
            continue
        if mode == "reflect" and p >= L:
            return False
        if mode == "circular" and p > L:
            return False
    return True


def _known(*values) -> bool:
    return all(v is not None for v in values)


def conv(n: int, lazy: bool = False):
    def rule(a: Args, x: Shape, ctx: Ctx):
        if not x.open and x.dims and x.dims[0] == 0:
            return None  # no channels at all: only empty spatial sizes are followed
        if not _channels(a, x, ctx, n, lazy):
            return None
        out_ch = a.opt_int("out_channels")
        k = a.opt_ints("kernel_size", n)
        s = a.opt_ints("stride", n)
        d = a.opt_ints("dilation", n)
        window = k + s + d
        known = None not in window
        positive(*(window if known else (v for v in window if v is not None)))
        mode = a["padding_mode"]
        if mode is not UNKNOWN and mode not in ("zeros", "reflect", "replicate", "circular"):
            raise Unknowable("padding_mode")
        pad = a["padding"]
        sizes = spatial(x, n)
        if mode is UNKNOWN or pad is UNKNOWN:
            return Shape((out_ch,) + (None,) * n)  # the channels, at least
        if pad == "same":
            if any(v != 1 for v in s):
                if _known(*s):
                    raise Unknowable("padding='same' with stride")  # torch raises ValueError
                return Shape((out_ch,) + (None,) * n)
            if mode != "zeros" and _known(*k, *d):
                total = [di * (ki - 1) for di, ki in zip(d, k)]
                if not _pad_mode_ok(mode, [t - t // 2 for t in total], sizes):
                    return None
            return Shape((out_ch,) + sizes)
        p = (0,) * n if pad == "valid" else a.ints("padding", n)
        if any(v < 0 for v in p):
            raise Unknowable("negative padding")
        if mode != "zeros" and not _pad_mode_ok(mode, p, sizes):
            return None
        outs, small = [], False
        for L, ki, si, pi, di in zip(sizes, k, s, p, d):
            if L is None or not known and (ki is None or di is None):
                outs.append(None)
                continue
            span = di * (ki - 1) + 1  # the dilated kernel
            small = small or L + 2 * pi < span
            outs.append((L + 2 * pi - span) // si + 1 if si is not None else None)
        if small:
            if known:
                window_fault(ctx, "kernel", k, None, sizes, outs)
            return None
        if 0 in sizes:
            return None  # an empty input the kernel would fit: torch's kernels differ
        return Shape((out_ch,) + tuple(outs))

    return rule


def conv_transpose(n: int, lazy: bool = False):
    def rule(a: Args, x: Shape, ctx: Ctx):
        if not _channels(a, x, ctx, n, lazy):
            return None
        mode = a["padding_mode"]
        if mode is not UNKNOWN and mode != "zeros" or isinstance(a["padding"], str):
            raise Unknowable("padding")  # torch only supports zeros / int padding here
        out_ch = a.opt_int("out_channels")
        k = a.opt_ints("kernel_size", n)
        s = a.opt_ints("stride", n)
        d = a.opt_ints("dilation", n)
        p = a.opt_ints("padding", n)
        op = a.opt_ints("output_padding", n)
        positive(*(v for v in k + s + d if v is not None))
        if any(v is not None and v < 0 for v in p + op):
            raise Unknowable("negative padding")
        if any(_known(o, si, di) and o >= si and o >= di for o, si, di in zip(op, s, d)):
            raise Unknowable("output_padding")  # torch: must be smaller than stride or dilation
        sizes = spatial(x, n)
        if a.values.get("output_size") is not None:  # forward()'s: output_padding is worked out from it
            outs = _sized_transpose(a, x, n, sizes, k, s, p, d)
            return None if 0 in outs else Shape((out_ch,) + outs)
        outs = tuple(
            (L - 1) * si - 2 * pi + di * (ki - 1) + oi + 1 if _known(L, ki, si, pi, di, oi) else None
            for L, ki, si, pi, di, oi in zip(sizes, k, s, p, d, op)
        )
        if any(o is not None and o < 0 for o in outs):
            window_fault(ctx, "padding", p, None, sizes, outs)
            return None
        if 0 in outs:
            return None  # an empty output: torch's kernels disagree whether it is one
        return Shape((out_ch,) + outs)

    return rule


def _sized_transpose(a: Args, x: Shape, n: int, sizes, k, s, p, d) -> tuple:
    """The sides of a transposed conv given forward()'s output_size (torch's
    _output_padding): its spatial entries, each between the side with no
    output padding and stride - 1 more; None for a side nobody knows."""
    sides = given_sides(a["output_size"], n, 2 if x.rank == n + 1 else 1)  # (the batch, and the channels)
    if sides is None:
        return (None,) * n
    for v, L, ki, si, pi, di in zip(sides, sizes, k, s, p, d):
        if v is None:
            continue
        if v < 0:
            raise Unknowable("output_size")
        if _known(L, ki, si, pi, di):
            low = (L - 1) * si - 2 * pi + di * (ki - 1) + 1
            if not low <= v <= low + si - 1:
                raise Unknowable("output_size")  # torch: ValueError, no layer argument to change
    return sides


def params(n: int, transposed: bool, lazy: bool):
    def count(a: Args, x: Optional[Shape]) -> int:
        if lazy:
            if x is None or x.open or not x.dims or x.dims[0] is None:
                raise Unknowable("input channels")
            cin = x.dims[0]
        else:
            cin = a.int("in_channels")
        cout, groups = a.int("out_channels"), a.int("groups")
        k = math.prod(a.ints("kernel_size", n))
        weight = cin * (cout // groups) * k if transposed else (cin // groups) * cout * k
        return weight + (cout if a.known("bias") else 0)

    return count


LAYERS = {}
for _n in (1, 2, 3):
    LAYERS[f"Conv{_n}d"] = LayerSpec(sig("in_channels", "out_channels", "kernel_size", **_CONV), conv(_n),
                                     params(_n, False, False), AXIS, takes_empty=True)
    LAYERS[f"LazyConv{_n}d"] = LayerSpec(sig("out_channels", "kernel_size", **_CONV), conv(_n, lazy=True),
                                         params(_n, False, True), AXIS)
    # forward(input, output_size=None)
    LAYERS[f"ConvTranspose{_n}d"] = LayerSpec(sig("in_channels", "out_channels", "kernel_size", **_TRANSPOSE),
                                              conv_transpose(_n), params(_n, True, False), AXIS, extra=("output_size",))
    LAYERS[f"LazyConvTranspose{_n}d"] = LayerSpec(sig("out_channels", "kernel_size", **_TRANSPOSE),
                                                  conv_transpose(_n, lazy=True), params(_n, True, True), AXIS, extra=("output_size",))
