"""Every layer rule in flake8_cnnshape.shapes.catalog.LAYERS, checked against torch.

Each case is one constructor call and one per-sample input shape. torch runs it
(tests/torch_oracle.py: meta device, batch sizes 2 and 3) and the engine must
keep its contract ("never guess"):
  * torch runs it        -> no fault, and the shape is torch's (batch dim dropped)
                            or None; None is a failure for cases marked `known`
                            (the ordinary valid uses of a layer).
  * torch fails          -> shape None, unless a CNS001/2/3 fault names the
                            argument to change: then the same call with that
                            argument set to the fault's value must run in torch
                            (when no other fault ends the analysis) and give the
                            shape the engine continued with.
  * bind() refuses       -> torch's constructor raises TypeError.
  * the engine never raises.
  * a layer marked keeps_shape gives back, in torch, the shape it is given.
For calls torch runs, the same input with a dim made unknown (None) or its
leading dims made open must give no fault and a shape agreeing with torch
wherever it is known: the concrete input is one instance of the vaguer one.

Grids are fixed (plus hypothesis with derandomize=True), so failures reproduce
by their test id.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product
from typing import Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flake8_cnnshape.shapes.catalog import LAYERS
from flake8_cnnshape.shapes.shape import Shape
from flake8_cnnshape.shapes.signature import UNKNOWN, bind
from flake8_cnnshape.shapes.spec import apply

try:  # tests/ as a package, or (pytest's default rootdir import) tests/ on sys.path
    from . import torch_oracle as oracle
except ImportError:
    import torch_oracle as oracle

FIXABLE = {"CNS001", "CNS002", "CNS003", "CNS010"}
ENDING = {"CNS004", "CNS005", "CNS006", "CNS007"}
# The constructor argument each fixable code is about. A fault may leave `param`
# None (no one-argument fix to offer, as for a Linear acting on the last of
# several dims); its `value` is still what torch needs for this argument.
CODE_PARAMS = {"CNS001": ("in_features", "in1_features", "in2_features"), "CNS002": ("in_channels",),
               "CNS003": ("num_features", "num_channels", "normalized_shape", "num_parameters"),
               "CNS010": ("input_size", "embed_dim", "d_model", "kdim", "vdim")}


def fault_param(layer: str, fault) -> str:
    if fault.param is not None:
        return fault.param
    names = oracle.constructor_params(layer)
    return next(p for p in CODE_PARAMS[fault.code] if p in names)


@dataclass(frozen=True)
class Case:
    layer: str
    args: Tuple[object, ...]
    kwargs: Dict[str, object] = field(hash=False)
    dims: Tuple[int, ...]
    known: bool = False  # an ordinary valid use: the engine must not give up on it
    family: str = ""

    @property
    def id(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.layer}({', '.join(parts)})@{self.dims}"


# ---------------------------------------------------------------------------
# Grids. Each *_cases() returns its Cases; `_c` appends one to `out`.

def _c(out, family, layer, args, kwargs, dims, known=False):
    # An empty tensor is never an ordinary input: the engine may give up on it.
    out.append(Case(layer, tuple(args), dict(kwargs), tuple(dims), known and 0 not in dims, family))


def _sp(n, L):
    """n spatial dims from an int or a tuple."""
    return (L,) * n if isinstance(L, int) else tuple(L)


def conv_cases():
    out: List[Case] = []
    f = "conv"
    for n, lazy in product((1, 2, 3), (False, True)):
        name = f"{'Lazy' if lazy else ''}Conv{n}d"

        def head(cin, cout):
            return (cout,) if lazy else (cin, cout)

        # window arithmetic: kernel / stride / padding int|'same'|'valid' / dilation / sizes (incl. too small)
        if n == 3 or lazy:
            grid = product((1, 3), (1, 2), (0, 1, "same", "valid"), (1, 2), [1, 3, (2, 4, 5)[:n] if n > 1 else 5])
        elif n == 1:
            grid = product((1, 2, 3, 5), (1, 2, 3), (0, 1, 2, "same", "valid"), (1, 2), (1, 2, 3, 4, 7))
        else:
            grid = product((1, 2, 3, 5), (1, 2, 3), (0, 1, 2, "same", "valid"), (1, 2), [(1, 1), (2, 3), (3, 3), (4, 7), (7, 4)])
        for k, s, p, d, L in grid:
            _c(out, f, name, head(3, 4) + (k,), dict(stride=s, padding=p, dilation=d), (3,) + _sp(n, L), known=True)
        # positional stride / padding / dilation / groups
        _c(out, f, name, head(4, 6) + (3, 2, 1, 1, 2), {}, (4,) + (9,) * n, known=True)
        # tuples (and 1-tuples, as _ntuple accepts)
        if n == 1:
            for k, s, p, d in product([(3,), 3], [(2,), 1], [(1,), 0], [(2,), 1]):
                _c(out, f, name, head(3, 4) + (k,), dict(stride=s, padding=p, dilation=d), (3, 8), known=True)
        elif n == 2:
            ks, ss = [(1, 3), (3, 1), (2, 4)], [(1, 2), (2, 1)]
            ps, ds = [(0, 1), (1, 0), (2, 1), "same"], [(1, 2), (2, 1)]
            sizes = [(5, 3), (3, 5), (2, 8)] if not lazy else [(5, 3)]
            for k, s, p, d, L in product(ks, ss, ps, ds, sizes):
                _c(out, f, name, head(3, 4) + (k,), dict(stride=s, padding=p, dilation=d), (3,) + L, known=True)
        else:
            for k, s, p, d, L in product([(1, 3, 3), (3, 1, 2)], [1, (1, 1, 2)], [(0, 1, 1), "same"], [1, (1, 2, 1)], [(3, 5, 5), (1, 3, 3)]):
                _c(out, f, name, head(3, 4) + (k,), dict(stride=s, padding=p, dilation=d), (3,) + L, known=True)
        # tuples of the wrong length
        _c(out, f, name, head(3, 4) + ((3,) * (n + 1),), {}, (3,) + (6,) * n)
        _c(out, f, name, head(3, 4) + (3,), dict(stride=(1,) * (n + 1)), (3,) + (6,) * n)
        # groups: dividing and not, with right and wrong incoming channels
        if n < 3:
            if lazy:
                for cout, g, c in product((2, 4, 6), (1, 2, 3), (2, 3, 4, 6)):
                    _c(out, f, name, (cout, 3), dict(groups=g), (c,) + (5,) * n, known=True)
            else:
                for cin, cout, g, dc in product((2, 4, 6), (2, 3, 4, 6), (1, 2, 3, 4), (0, 1, 2)):
                    _c(out, f, name, (cin, cout, 3), dict(groups=g), (cin + dc,) + (5,) * n, known=True)
        # padding modes (F.pad first: reflect needs pad < L, circular pad <= L)
        modes = ("reflect", "replicate", "circular")
        if n == 3 or lazy:
            grid = product(modes, (1, 3, 4), (0, 1, 2, "same"), (1,), (1, 2, 3))
        else:
            grid = product(modes, (1, 2, 3, 5), (0, 1, 2, 3, "same", "valid"), (1, 2), (1, 2, 3, 4))
        for mode, k, p, d, L in grid:
            L = L if n == 1 else (L,) + (L + 1,) * (n - 1)
            _c(out, f, name, head(2, 3) + (k,), dict(padding=p, dilation=d, padding_mode=mode), (2,) + _sp(n, L), known=True)
        for mode in modes:
            _c(out, f, name, head(2, 3) + (3,), dict(padding=(1, 2, 0)[:n], padding_mode=mode), (2,) + (3,) * n, known=True)
        _c(out, f, name, head(2, 3) + (3,), dict(padding_mode="zero"), (2,) + (5,) * n)
        # ranks and channel counts
        for r in range(0, n + 3):
            for c in (1, 2, 3, 5):
                _c(out, f, name, head(3, 4) + (3,), {}, ((c,) + (5,) * (r - 1)) if r else (), known=r == n + 1 and c == 3)
        # non-positive and odd parameters
        for kw in (dict(kernel_size=0), dict(stride=0), dict(dilation=0), dict(padding=-1), dict(padding="full"),
                   dict(padding="same", stride=2), dict(groups=0), dict(out_channels=0), dict(bias=False)):
            base = dict(zip(("out_channels", "kernel_size") if lazy else ("in_channels", "out_channels", "kernel_size"), head(3, 4) + (3,)))
            base.update(kw)
            _c(out, f, name, (), base, (3,) + (6,) * n, known=kw == dict(bias=False))
    return out


def conv_transpose_cases():
    out: List[Case] = []
    f = "conv_transpose"
    for n, lazy in product((1, 2, 3), (False, True)):
        name = f"{'Lazy' if lazy else ''}ConvTranspose{n}d"

        def head(cin, cout):
            return (cout,) if lazy else (cin, cout)

        if lazy:
            grid = product((2, 3), (1, 2), (0, 1), (0, 1), (1,), [1, 3])
        elif n == 1:
            grid = product((1, 2, 3), (1, 2, 3), (0, 1, 2), (0, 1, 2), (1, 2), (1, 2, 4))
        elif n == 2:
            grid = product((1, 3), (1, 2), (0, 1, 2), (0, 1), (1, 2), [(1, 2), (3, 3)])
        else:
            grid = product((1, 3), (1, 2), (0, 1), (0, 1), (1, 2), [(1, 1, 1), (2, 3, 3)])
        for k, s, p, op, d, L in grid:
            _c(out, f, name, head(3, 4) + (k,), dict(stride=s, padding=p, output_padding=op, dilation=d), (3,) + _sp(n, L), known=True)
        if n > 1:
            for k, s, op in product([(2, 3)[:n] + (1,) * (n - 2), 3], [(2, 1, 3)[:n], 2], [(1, 0, 2)[:n], (0,) * n]):
                _c(out, f, name, head(3, 4) + (k,), dict(stride=s, output_padding=op), (3,) + (2, 3, 4)[:n], known=True)
        else:
            _c(out, f, name, head(3, 4) + ((3,),), dict(stride=(2,), output_padding=(1,)), (3, 4), known=True)
        # groups; weight is (in, out/groups, k...): the input must have in_channels channels
        if n < 3:
            if lazy:
                for cout, g, c in product((2, 4, 6), (1, 2, 3), (2, 3, 4)):
                    _c(out, f, name, (cout, 3), dict(groups=g), (c,) + (4,) * n, known=True)
            else:
                for cin, cout, g, dc in product((2, 4), (2, 4, 6), (1, 2, 3, 4), (0, 1, 2)):
                    _c(out, f, name, (cin, cout, 3), dict(groups=g), (cin + dc,) + (4,) * n, known=True)
        for r in range(0, n + 3):
            for c in (2, 3, 4):
                _c(out, f, name, head(3, 4) + (3,), {}, ((c,) + (4,) * (r - 1)) if r else (), known=r == n + 1 and c == 3)
        for kw in (dict(padding_mode="reflect"), dict(padding="same"), dict(output_padding=-1), dict(padding=-1),
                   dict(stride=0), dict(kernel_size=0), dict(bias=False)):
            base = dict(zip(("out_channels", "kernel_size") if lazy else ("in_channels", "out_channels", "kernel_size"), head(3, 4) + (3,)))
            base.update(kw)
            _c(out, f, name, (), base, (3,) + (4,) * n, known=kw == dict(bias=False))
    return out


def pool_cases():
    out: List[Case] = []
    f = "pool"
    for n in (1, 2, 3):
        mx, av, lp = f"MaxPool{n}d", f"AvgPool{n}d", f"LPPool{n}d"
        if n == 1:
            ks, ss, ps, ds, sizes = (1, 2, 3, 4, 5), (None, 1, 2, 3), (0, 1, 2), (1, 2), (1, 2, 3, 5, 6, 7)
        elif n == 2:
            ks, ss, ps, ds, sizes = (2, 3, (2, 3), (3, 1)), (None, 1, 2, (1, 2)), (0, 1, (1, 0)), (1, (2, 1)), [(1, 1), (2, 3), (4, 4), (5, 7)]
        else:
            ks, ss, ps, ds, sizes = (2, 3), (None, 2), (0, 1), (1, 2), [(2, 2, 2), (3, 4, 5)]
        for k, s, p, d, ceil, L in product(ks, ss, ps, ds, (False, True), sizes):
            _c(out, f, mx, (k,), dict(stride=s, padding=p, dilation=d, ceil_mode=ceil), (3,) + _sp(n, L), known=True)
        for k, s, p, ceil, L in product(ks, ss, ps, (False, True), sizes):
            _c(out, f, av, (k,), dict(stride=s, padding=p, ceil_mode=ceil), (3,) + _sp(n, L), known=True)
        for k, s, ceil, L in product(ks, ss, (False, True), sizes):
            _c(out, f, lp, (2, k), dict(stride=s, ceil_mode=ceil), (3,) + _sp(n, L), known=True)
        # padding exactly k//2 with ceil_mode: the last window must start inside the input or left padding
        for k, s, L in product((2, 3, 4, 5), (2, 3), (3, 4, 5, 6)):
            for layer in (mx, av):
                _c(out, f, layer, (k, s, k // 2), dict(ceil_mode=True), (2,) + (L,) * n, known=True)
        # positional call, unbatched samples (no channel dim) and wrong ranks
        _c(out, f, mx, (3, 2, 1, 1, False, True), {}, (2,) + (6,) * n, known=True)
        _c(out, f, av, (3, 2, 1, True, False), {}, (2,) + (6,) * n, known=True)
        for r in range(0, n + 3):
            dims = ((3,) + (6,) * (r - 1)) if r else ()
            for layer, args in ((mx, (2,)), (av, (2,)), (lp, (1.5, 2))):
                _c(out, f, layer, args, {}, dims, known=r in (n, n + 1))
        # return_indices, divisor_override, count_include_pad, non-positive parameters
        # (output, indices): the output is compared here, the indices by tests/test_sequence.py
        _c(out, f, mx, (2,), dict(return_indices=True), (3,) + (4,) * n, known=True)
        _c(out, f, mx, (3, 2, 1), dict(return_indices=True, ceil_mode=True), (3,) + (5,) * n, known=True)
        _c(out, f, mx, (2,), dict(return_indices=True), (3,) + (1,) * n)
        _c(out, f, av, (2,), dict(padding=1, count_include_pad=False), (3,) + (4,) * n, known=True)
        if n > 1:
            for dv in (0, 3, -1):
                _c(out, f, av, (2,), dict(divisor_override=dv), (3,) + (4,) * n, known=dv > 0)
        for kw in (dict(kernel_size=0), dict(kernel_size=2, stride=0), dict(kernel_size=3, padding=-1), dict(kernel_size=(2,) * (n + 1))):
            _c(out, f, mx, (), kw, (3,) + (5,) * n)
            _c(out, f, av, (), kw, (3,) + (5,) * n)
        _c(out, f, mx, (2,), dict(dilation=0), (3,) + (5,) * n)
        _c(out, f, lp, (2, 0), {}, (3,) + (5,) * n)
        _c(out, f, lp, (0, 2), {}, (3,) + (5,) * n, known=True)
    return out


def adaptive_cases():
    out: List[Case] = []
    f = "adaptive_pool"
    for n, kind in product((1, 2, 3), ("Avg", "Max")):
        name = f"Adaptive{kind}Pool{n}d"
        sizes_out = [1, 2, 3, 5, None, 0, -1, (None,) * n, (2,) * n, (3, None, 1)[:n], (None, 2, None)[:n], (2,) * (n + 1)]
        if n > 1:
            sizes_out.append((2,) * (n - 1))
        for o, L in product(sizes_out, [(1,) * n, (3,) * n, (2, 5, 4)[:n]]):
            ok = o is not None and not (isinstance(o, int) and o < 1) and not (isinstance(o, tuple) and len(o) != n)
            _c(out, f, name, (o,), {}, (4,) + L, known=ok or o == (None,) * n)
        for r in range(0, n + 3):
            _c(out, f, name, (2,), {}, ((3,) + (5,) * (r - 1)) if r else (), known=r in (n, n + 1))
        if kind == "Max":
            _c(out, f, name, (2, True), {}, (3,) + (4,) * n, known=True)
            _c(out, f, name, (3, True), {}, (2,) + (7,) * n, known=True)
        _c(out, f, name, ([2] * n,), {}, (3,) + (4,) * n, known=True)
    return out


def unpool_cases():
    """nn.MaxUnpool fed indices of its input's shape (the oracle's zeros), no output_size:
    out = (L - 1)*stride - 2*padding + kernel_size (output_size: test_unpool_output_size)."""
    out: List[Case] = []
    f = "unpool"
    for n in (1, 2, 3):
        name = f"MaxUnpool{n}d"
        for k, s, p, L in product((1, 2, 3), (None, 1, 2, 3), (0, 1), (1, 2, 5)):
            _c(out, f, name, (k,), dict(stride=s, padding=p), (3,) + (L,) * n, known=True)
        for r in range(0, n + 3):
            _c(out, f, name, (2,), {}, ((3,) + (4,) * (r - 1)) if r else (), known=r in (n, n + 1))
        _c(out, f, name, ((2,) * n, (1,) * n), {}, (3,) + (4,) * n, known=True)
        for kw in (dict(kernel_size=0), dict(kernel_size=2, stride=0), dict(kernel_size=(2,) * (n + 1))):
            _c(out, f, name, (), kw, (3,) + (4,) * n)
    return out


def norm_cases():
    out: List[Case] = []
    f = "norm"
    for n in (1, 2, 3):
        bn, lbn, inn, lin = f"BatchNorm{n}d", f"LazyBatchNorm{n}d", f"InstanceNorm{n}d", f"LazyInstanceNorm{n}d"
        for r, c in product(range(0, n + 3), (1, 3, 4)):
            dims = ((c,) + (3,) * (r - 1)) if r else ()
            ok_rank = r in ((1, 2) if n == 1 else (n + 1,))
            _c(out, f, bn, (3,), {}, dims, known=ok_rank and c == 3)
            _c(out, f, lbn, (), {}, dims, known=ok_rank)
            # affine / track_running_stats decide whether the channel count is checked
            for affine, track in product((False, True), (False, True)):
                if ok_rank:
                    _c(out, f, bn, (3,), dict(affine=affine, track_running_stats=track), dims, known=c == 3)
                if r in (n, n + 1):
                    _c(out, f, inn, (3,), dict(affine=affine, track_running_stats=track), dims, known=r == n + 1 and (c == 3 or not (affine or track)))
            _c(out, f, lin, (), {}, dims, known=r == n + 1)
            _c(out, f, lin, (), dict(affine=False, track_running_stats=False), dims, known=r == n + 1)
        # InstanceNorm refuses a single spatial element in training
        for layer, args in ((inn, (3,)), (lin, ())):
            _c(out, f, layer, args, {}, (3,) + (1,) * n)
            _c(out, f, layer, args, {}, (3,) + (1,) * (n - 1) + (2,), known=True)
        _c(out, f, bn, (3, 1e-3, 0.2, True, True), dict(bias=False), (3,) + (4,) * n, known=True)
    for g, nc, r, dc in product((1, 2, 3, 4), (2, 4, 6), (0, 1, 2, 3, 4), (0, 1, 2)):
        dims = ((nc + dc,) + (3,) * (r - 1)) if r else ()
        _c(out, f, "GroupNorm", (g, nc), {}, dims, known=r > 0 and dc == 0 and nc % g == 0)
        if r == 3:
            _c(out, f, "GroupNorm", (g, nc), dict(affine=False), dims, known=dc == 0 and nc % g == 0)
    _c(out, f, "GroupNorm", (0, 4), {}, (4, 3))
    for layer in ("LayerNorm", "RMSNorm"):
        for ns, dims in product([4, (4,), [4], (3, 4), [3, 4], (2, 3, 4), (5,), (4, 3), (), 0],
                                [(), (4,), (3, 4), (2, 3, 4), (5, 3, 4), (3, 5), (0,)]):
            good = dims[len(dims) - (1 if isinstance(ns, int) else len(ns)):] == ((ns,) if isinstance(ns, int) else tuple(ns))
            _c(out, f, layer, (ns,), {}, dims, known=good and len(dims) > 0 and ns != ())
            if dims == (3, 4):
                _c(out, f, layer, (ns,), dict(elementwise_affine=False), dims, known=good)
    for size, r in product((0, -1, 1, 2, 5), (0, 1, 2, 3, 4)):
        _c(out, f, "LocalResponseNorm", (size,), {}, ((3,) + (4,) * (r - 1)) if r else (), known=r >= 2 and size > 0)
    return out


def activation_cases():
    out: List[Case] = []
    f = "elementwise"
    shapes = [(), (5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]
    plain = ["ReLU", "ReLU6", "SELU", "LeakyReLU", "ELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh", "LogSigmoid",
             "Tanhshrink", "Softsign", "Hardsigmoid", "Hardswish", "Hardtanh", "Softplus", "Softshrink", "Hardshrink", "RReLU",
             "Dropout", "AlphaDropout", "FeatureAlphaDropout", "Identity", "Dropout1d", "Dropout2d", "Dropout3d", "Softmax2d"]
    for name, dims in product(plain, shapes):
        feature = {"Dropout1d": (1, 2), "Softmax2d": (2, 3), "FeatureAlphaDropout": (1, 2, 3, 4), "Dropout2d": (1, 2, 3, 4), "Dropout3d": (1, 2, 3, 4)}
        _c(out, f, name, (), {}, dims, known=len(dims) in feature.get(name, range(5)))
    refused = {("GELU", "bogus"), ("Dropout", 1.5), ("Softshrink", -1.0), ("Hardtanh", 1.0), ("Hardtanh", 2.0), ("CELU", 0.0),
               ("RReLU", 0.5), ("Dropout", "0.5"), ("Dropout1d", -0.1), ("Dropout3d", 2), ("Threshold", "a")}
    for name, args, kwargs in [
        ("LeakyReLU", (0.2, True), {}), ("ELU", (), dict(alpha=0.5)), ("GELU", (), dict(approximate="tanh")),
        ("GELU", (), dict(approximate="bogus")), ("Hardtanh", (-2.0, 2.0), {}), ("Hardtanh", (), dict(min_value=-2.0, max_value=2.0)),
        ("Softplus", (2.0, 10.0), {}), ("RReLU", (0.1, 0.3), {}), ("Dropout", (0.1,), {}), ("Dropout", (1.5,), {}),
        ("Dropout2d", (0.2, False), {}), ("Threshold", (0.1, 0.0), {}), ("Threshold", (0.1, 0.0, True), {}),
        ("Identity", (1, 2), dict(foo=3)), ("CELU", (1.0,), {}), ("Softshrink", (-1.0,), {}), ("Hardshrink", (0.1,), {}),
        # settings torch refuses, at construction or in the forward
        ("Hardtanh", (1.0, -1.0), {}), ("Hardtanh", (), dict(min_value=2.0)), ("CELU", (0.0,), {}), ("RReLU", (0.5, 0.1), {}),
        ("Dropout", ("0.5",), {}), ("Dropout1d", (-0.1,), {}), ("Dropout3d", (2,), {}), ("Threshold", ("a", 0.0), {}),
    ]:
        for dims in shapes[1:4]:
            first = (args + tuple(kwargs.values()))[0] if args or kwargs else None
            ok_rank = name != "Dropout1d" or len(dims) in (1, 2)
            _c(out, f, name, args, kwargs, dims, known=(name, first) not in refused and ok_rank)
    return out


def softmax_glu_cases():
    out: List[Case] = []
    f = "softmax_glu"
    shapes = [(), (4,), (3, 4), (2, 3, 4)]
    for name, dim, dims in product(("Softmax", "LogSoftmax", "Softmin"), (None, 0, 1, 2, 3, -1, -2, -4), shapes):
        _c(out, f, name, (dim,) if dim is not None else (), {}, dims, known=dim is not None and -len(dims) - 1 <= dim <= len(dims) and dim != 0)
    for dim, dims in product((None, -1, 0, 1, 2, -2, 3, -4), [(), (4,), (5,), (3, 4), (4, 3), (2, 3, 6)]):
        args = () if dim is None else (dim,)
        want = dims[-1] if dim in (None, -1) and dims else None
        _c(out, f, "GLU", args, {}, dims, known=want is not None and want % 2 == 0)
    for num, c, r in product((1, 3, 4), (3, 4), (0, 1, 2, 3)):
        dims = ((c,) + (5,) * (r - 1)) if r else ()
        _c(out, f, "PReLU", (num,), {}, dims, known=r >= 1 and (num == 1 or num == c))
    _c(out, f, "PReLU", (), dict(num_parameters=3, init=0.1), (3, 4), known=True)
    return out


def linear_cases():
    out: List[Case] = []
    f = "linear"
    for fin, fout, dims in product((4, 5), (3, 1, 0), [(), (4,), (5,), (2, 4), (3, 2, 4), (4, 2), (0,), (2, 0)]):
        _c(out, f, "Linear", (fin, fout), {}, dims, known=bool(dims) and dims[-1] == fin and fout > 0)
    _c(out, f, "Linear", (4,), dict(out_features=3, bias=False), (4,), known=True)
    _c(out, f, "Linear", (4, -1), {}, (4,))
    for fout, dims in product((3, 0), [(), (4,), (2, 4), (3, 2, 4), (0,)]):
        _c(out, f, "LazyLinear", (fout,), {}, dims, known=bool(dims) and fout > 0 and dims[-1] > 0)
    return out


def sequence_cases():
    """Embedding, the recurrent layers and their cells, attention, the transformer encoder layer."""
    out: List[Case] = []
    f = "sequence"
    for dims in [(5,), (), (2, 5), (0,)]:
        _c(out, f, "Embedding", (10, 4), {}, dims, known=0 not in dims)
    _c(out, f, "Embedding", (10, 4), dict(padding_idx=0), (5,), known=True)
    _c(out, f, "Embedding", (10, 4), dict(padding_idx=10), (5,))
    _c(out, f, "Embedding", (10, 4), dict(padding_idx=-10), (5,))
    for mode, dims in product(("mean", "sum", "max", "median"), [(5,), (), (2, 5)]):
        _c(out, f, "EmbeddingBag", (10, 4), dict(mode=mode), dims, known=dims == (5,) and mode != "median")
    _c(out, f, "EmbeddingBag", (10, 4), dict(padding_idx=3), (5,), known=True)
    for layer, extra in (("RNN", {}), ("GRU", {}), ("LSTM", {}), ("LSTM", dict(proj_size=2)), ("RNN", dict(nonlinearity="relu"))):
        for size, bidir, layers, first, dims in product((4, 5), (False, True), (1, 2), (False, True), [(6, 4), (4,), (2, 6, 4), (6, 5)]):
            kw = dict(extra, bidirectional=bidir, num_layers=layers, batch_first=first)
            _c(out, f, layer, (size, 3), kw, dims, known=dims[-1] == size and len(dims) <= 2)
    _c(out, f, "LSTM", (4, 3), dict(proj_size=3), (6, 4))
    _c(out, f, "GRU", (4, 0), {}, (6, 4))
    _c(out, f, "LSTM", (4, 3), dict(dropout=1.5), (6, 4))
    for layer in ("RNNCell", "GRUCell", "LSTMCell"):
        for size, dims in product((4, 5), [(4,), (), (2, 4), (5,)]):
            _c(out, f, layer, (size, 3), {}, dims, known=dims == (size,))
        _c(out, f, layer, (4, 3), dict(bias=False), (4,), known=True)
    for e, heads, dims, kw in product((8, 6), (2, 4), [(5, 8), (8,), (5, 6), (2, 5, 8)], [{}, dict(batch_first=True)]):
        _c(out, f, "MultiheadAttention", (e, heads), kw, dims, known=dims[-1] == e and e % heads == 0 and len(dims) <= 2)
        _c(out, f, "TransformerEncoderLayer", (e, heads), dict(kw, dim_feedforward=16), dims,
           known=dims[-1] == e and e % heads == 0 and len(dims) <= 2)
    _c(out, f, "MultiheadAttention", (8, 2), dict(bias=False, add_bias_kv=True), (5, 8), known=True)
    _c(out, f, "TransformerEncoderLayer", (8, 2), dict(dim_feedforward=16, bias=False, norm_first=True), (5, 8), known=True)
    for e, heads, dims, kw in product((8, 6), (2, 4), [(5, 8), (8,), (5, 6)], [{}, dict(batch_first=True)]):
        _c(out, f, "TransformerDecoderLayer", (e, heads), dict(kw, dim_feedforward=16), dims,
           known=dims[-1] == e and e % heads == 0)
    _c(out, f, "TransformerDecoderLayer", (8, 2), dict(dim_feedforward=16, bias=False), (5, 8), known=True)
    small = dict(num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    for (e, heads), kw, dims in product([(8, 2), (6, 4), (12, 3)], [{}, dict(batch_first=True)],
                                        [(5, 8), (8,), (3, 12), (4, 6), (2, 3, 8)]):
        _c(out, f, "Transformer", (e, heads), dict(kw, **small), dims, known=dims[-1] == e and e % heads == 0)
    _c(out, f, "Transformer", (8, 2), dict(small, bias=False, num_decoder_layers=2), (5, 8), known=True)
    return out


def pairwise_cases():
    """Two-tensor layers, fed the same tensor twice (tests/torch_oracle.py)."""
    out: List[Case] = []
    f = "pairwise"
    for n1, n2, dims in product((4, 5), (4, 5), [(4,), (3, 4), (5,), (2, 3, 5), ()]):
        _c(out, f, "Bilinear", (n1, n2, 3), {}, dims, known=bool(dims) and dims[-1] == n1 == n2)
    _c(out, f, "Bilinear", (4, 4, 3), dict(bias=False), (4,), known=True)
    for dim, dims in product((1, -1, 0, 2, 3), [(4,), (3, 4), (2, 3, 4), ()]):
        _c(out, f, "CosineSimilarity", (), dict(dim=dim), dims, known=bool(dims) and dim not in (0, -len(dims) - 1)
           and -len(dims) - 1 <= dim <= len(dims))
    for keep, dims in product((False, True), [(4,), (3, 4), (2, 3, 4), ()]):
        _c(out, f, "PairwiseDistance", (), dict(keepdim=keep), dims, known=bool(dims))
    return out


def flatten_cases():
    out: List[Case] = []
    f = "flatten"
    shapes = [(), (3,), (3, 4), (2, 3, 4), (2, 1, 3, 4)]
    for s, e, dims in product(range(-4, 4), range(-4, 4), shapes):
        full = len(dims) + 1
        ok = -full <= s < full and -full <= e < full and 0 < s % full <= e % full
        _c(out, f, "Flatten", (s, e), {}, dims, known=ok)
    _c(out, f, "Flatten", (), {}, (3, 4, 5), known=True)
    _c(out, f, "Flatten", (), dict(end_dim=2), (3, 4, 5), known=True)
    unfl = [(2, 3), [2, 3], (3, -1), (-1, 2), (-1,), (6,), (2, 2), (-1, -1), (1, 6, 1), (0, -1), (4, -1), (-2, -3), (2, 3, 0)]
    for dim, sizes, dims in product((-3, -2, -1, 0, 1, 2, 3), unfl, [(), (6,), (2, 6), (6, 4), (5,), (2, 3, 6)]):
        i = dim % (len(dims) + 1) if -len(dims) - 1 <= dim <= len(dims) else None
        ok = i not in (None, 0) and dims[i - 1] == 6 and -1 <= min(sizes) and sizes.count(-1) <= 1 and 0 not in sizes
        _c(out, f, "Unflatten", (dim, sizes), {}, dims, known=ok)
    return out


_INTERP_RANKS = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,), "bilinear": (2,), "bicubic": (2,), "trilinear": (3,), "area": (1, 2, 3)}


def upsample_cases():
    out: List[Case] = []
    f = "upsample"
    spatial = {1: (5,), 2: (5, 3), 3: (5, 3, 2)}
    for mode, sn in product(_INTERP_RANKS, (0, 1, 2, 3, 4)):
        dims = (2,) + spatial.get(sn, (4,) * sn)
        valid_rank = sn in _INTERP_RANKS[mode]
        for scale in (2, 2.0, 1.5, 0.7, 0.5, 0.3, 1, 0.2):
            _c(out, f, "Upsample", (), dict(scale_factor=scale, mode=mode), dims, known=valid_rank and scale != 0.2)
        for size in (1, 4, 7, 0):
            _c(out, f, "Upsample", (size,), dict(mode=mode), dims, known=valid_rank and size > 0)
        _c(out, f, "Upsample", ((3, 8, 2)[:sn] if sn else 3,), dict(mode=mode), dims, known=valid_rank)
        _c(out, f, "Upsample", (), dict(scale_factor=(2, 0.5, 1.5)[:sn] if sn else 2, mode=mode), dims, known=valid_rank)
        for align in (True, False):
            _c(out, f, "Upsample", (), dict(scale_factor=1.5, mode=mode, align_corners=align), dims)
        for rsf in (True, False):
            _c(out, f, "Upsample", (), dict(scale_factor=0.7, mode=mode, recompute_scale_factor=rsf), dims, known=valid_rank)
            _c(out, f, "Upsample", (3,), dict(mode=mode, recompute_scale_factor=rsf), dims)
    _c(out, f, "Upsample", (4,), dict(scale_factor=2), (2, 3, 3))
    _c(out, f, "Upsample", (), {}, (2, 3, 3))
    _c(out, f, "Upsample", (), dict(scale_factor=2, mode="cubic"), (2, 3, 3))
    _c(out, f, "Upsample", (None, 2, "bilinear", True), {}, (2, 3, 3), known=True)
    for name, sn in product(("UpsamplingNearest2d", "UpsamplingBilinear2d"), (1, 2, 3)):
        dims = (2,) + (3, 5, 2)[:sn]
        for kw in (dict(size=4), dict(size=(4, 6)), dict(scale_factor=2), dict(scale_factor=0.5), dict(scale_factor=1.5),
                   dict(scale_factor=(2, 0.5)), dict(size=4, scale_factor=2), {}):
            _c(out, f, name, (), kw, dims, known=sn == 2 and len(kw) == 1)
    return out


def shuffle_cases():
    out: List[Case] = []
    f = "shuffle"
    for r, c, rank in product((1, 2, 3), (4, 8, 9, 3), (1, 2, 3, 4)):
        dims = ((5,) * (rank - 3) + (c, 2, 3)) if rank >= 3 else (c, 2, 3)[-rank:]
        _c(out, f, "PixelShuffle", (r,), {}, dims, known=rank >= 3 and c % (r * r) == 0)
    for r, hw, rank in product((1, 2, 3), ((4, 6), (6, 6), (3, 4), (2, 2)), (2, 3, 4)):
        dims = ((5,) * (rank - 3) + (3,) + hw) if rank >= 3 else hw
        _c(out, f, "PixelUnshuffle", (r,), {}, dims, known=rank >= 3 and hw[0] % r == 0 and hw[1] % r == 0)
    for name in ("PixelShuffle", "PixelUnshuffle"):
        _c(out, f, name, (0,), {}, (4, 4, 4))
        _c(out, f, name, (-1,), {}, (4, 4, 4))
    for g, c, r in product((1, 2, 3), (4, 6), (0, 1, 2, 3, 4)):
        dims = ((c,) + (3,) * (r - 1)) if r else ()
        _c(out, f, "ChannelShuffle", (g,), {}, dims, known=r >= 2 and c % g == 0)
    _c(out, f, "ChannelShuffle", (0,), {}, (4, 3, 3))
    return out


def pad_cases():
    out: List[Case] = []
    f = "pad"
    for n in (1, 2, 3):
        kinds = [(f"ZeroPad{n}d", (), "constant"), (f"ConstantPad{n}d", (0.5,), "constant"), (f"ReflectionPad{n}d", (), "reflect"),
                 (f"ReplicationPad{n}d", (), "replicate"), (f"CircularPad{n}d", (), "circular")]
        pads = [0, 1, 2, 3, -1, (1, 2) * n, (0, 3) + (1, 0) * (n - 1), (2, 0) * n, (-1, 2) * n, (-2, -2) + (0, 0) * (n - 1),
                (-1, -1) * n, (1,) * (2 * n + 1), (1, 2)]
        for (name, extra, kind), p, r in product(kinds, pads, range(max(0, n - 1), n + 3)):
            for L in ((2, 3, 3, 4, 4)[:r], (4, 5, 4, 5, 4)[:r]):
                ok_len = isinstance(p, int) or len(p) == 2 * n
                ok_rank = r >= n if kind == "constant" else r in (n, n + 1)
                ok_vals = False
                if ok_len and ok_rank:
                    ps = (p,) * (2 * n) if isinstance(p, int) else p
                    lo_hi = [(ps[2 * a], ps[2 * a + 1], L[-1 - a]) for a in range(n)]
                    if kind == "constant":
                        ok_vals = all(size + lo + hi >= 1 for lo, hi, size in lo_hi)
                    elif kind == "reflect":
                        ok_vals = all(0 <= lo < size and 0 <= hi < size for lo, hi, size in lo_hi)
                    elif kind == "circular":
                        ok_vals = all(0 <= lo <= size and 0 <= hi <= size for lo, hi, size in lo_hi)
                    else:
                        ok_vals = all(lo >= 0 and hi >= 0 for lo, hi, size in lo_hi)
                _c(out, f, name, (p,) + extra, {}, L, known=ok_len and ok_rank and ok_vals)
    return out


def fold_cases():
    """nn.Unfold / nn.Fold: window grids at several sizes (those too small among
    them), ranks, and arguments torch refuses. Fold's L is the number of blocks
    torch's own unfold counts for output_size (oracle.blocks), and one more."""
    out: List[Case] = []
    f = "fold"
    _c(out, f, "Unfold", (2,), {}, (3, 5, 5), known=True)
    _c(out, f, "Fold", ((3, 3), 2), {}, (8, 4), known=True)
    for k, d, p, s, L in product((1, 2, 3, (2, 3)), (1, 2), (0, 1, (1, 0)), (1, 2, (2, 1)), [(5, 5), (3, 4), (2, 2), (1, 6)]):
        _c(out, f, "Unfold", (k,), dict(dilation=d, padding=p, stride=s), (3,) + L, known=True)
    _c(out, f, "Unfold", ((2, 3), 2, 1, (2, 1)), {}, (4, 6, 7), known=True)  # positional, as torch orders them
    for size, k, s, p, d in product(((3, 3), 4, (4, 5)), (1, 2, (2, 3)), (1, 2), (0, 1), (1, 2)):
        blocks = oracle.blocks(size, k, d, p, s)
        per = math.prod(k) if isinstance(k, tuple) else k * k
        for c, L in product((2 * per, 2 * per + 1), (blocks, blocks + 1) if blocks else (1,)):
            _c(out, f, "Fold", (size, k), dict(stride=s, padding=p, dilation=d), (c, L), known=True)
    for r in range(0, 6):
        _c(out, f, "Unfold", (2,), {}, ((3,) + (4,) * (r - 1)) if r else (), known=r == 3)
        _c(out, f, "Fold", ((3, 3), 2), {}, ((8, 4) + (1,) * (r - 2))[:r], known=r == 2)
    _c(out, f, "Unfold", (1,), {}, (4, 5))  # torch's unbatched (C, H, W), the batch for the channels
    _c(out, f, "Fold", ((2, 2), 1), {}, (4,))
    for kw in (dict(kernel_size=0), dict(stride=0), dict(dilation=0), dict(padding=-1), dict(kernel_size=(2,)),
               dict(kernel_size=(2, 3, 4)), dict(padding=(1, 2, 3)), dict(kernel_size=2.0), dict(kernel_size=True),
               dict(kernel_size=[2, 3]), dict(stride=(1,))):
        _c(out, f, "Unfold", (), dict(dict(kernel_size=2), **kw), (3, 5, 5))
        _c(out, f, "Fold", (), dict(dict(output_size=(3, 3), kernel_size=2), **kw), (8, 4))
    for size in (0, (3,), (3, 3, 3), (3.0, 3), (0, 3), [3, 3], (1, 1), (2, 5)):
        _c(out, f, "Fold", (size, 2), {}, (8, 4))
    return out


def bind_cases():
    """Calls Python itself would refuse (or, for Identity, accept)."""
    out: List[Case] = []
    f = "bind"
    first: Dict[str, Case] = {}
    for c in ALL_GRID:
        if c.known and c.layer not in first:
            first[c.layer] = c
    for layer, c in sorted(first.items()):
        _c(out, f, layer, c.args, dict(c.kwargs, bogus=1), c.dims)
        if not oracle.takes_varargs(layer):  # RNN(*args): torch reads them itself, no TypeError
            _c(out, f, layer, c.args + (1,) * 12, c.kwargs, c.dims)
        if c.args:
            _c(out, f, layer, (), c.kwargs, c.dims)
    _c(out, f, "Conv2d", (3, 4, 3), dict(out_channels=4), (3, 5, 5))
    _c(out, f, "BatchNorm2d", (3, 1e-5, 0.1, True, True, None, None, False), {}, (3, 5, 5))
    _c(out, f, "BatchNorm2d", (3,), dict(bias=False), (3, 5, 5), known=True)
    return out


def zero_size_cases():
    """A zero-sized dim (a Linear with out_features=0 upstream, say), one dim at a time."""
    out: List[Case] = []
    first: Dict[str, Case] = {}
    for c in ALL_GRID:
        if c.known and c.layer not in first:
            first[c.layer] = c
    for layer, c in sorted(first.items()):
        for i in range(len(c.dims)):
            dims = c.dims[:i] + (0,) + c.dims[i + 1:]
            _c(out, "zero_size", layer, c.args, c.kwargs, dims)
    return out


ALL_GRID = (conv_cases() + conv_transpose_cases() + pool_cases() + adaptive_cases() + unpool_cases() + norm_cases() + activation_cases()
            + softmax_glu_cases() + linear_cases() + flatten_cases() + upsample_cases() + shuffle_cases() + pad_cases()
            + sequence_cases() + pairwise_cases() + fold_cases())
ALL_GRID += bind_cases() + zero_size_cases()


def _dedupe(cases):
    """One case per call; when the same call appears twice, it is ordinary if either says so."""
    kept: Dict[str, Case] = {}
    for c in cases:
        if c.id not in kept or (c.known and not kept[c.id].known):
            kept[c.id] = c
    return list(kept.values())


CASES = _dedupe(ALL_GRID)


# ---------------------------------------------------------------------------
# The check.

def engine(layer: str, args, kwargs, x: Shape):
    """bind() then apply(); (None, None) when bind refuses. The engine must never raise."""
    spec = LAYERS[layer]
    try:
        bound = bind(spec.sig, list(args), dict(kwargs))
        return bound, None if bound is None else apply(spec, bound, x, f"nn.{layer}")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the engine raised on nn.{layer} args={args!r} kwargs={kwargs!r} input={x.describe()}: {exc!r}")


def _describe(out) -> str:
    shape = None if out.shape is None else out.shape.describe()
    return f"engine gives {shape} with faults {[(f.code, f.param, f.value, f.text) for f in out.faults]}"


def check(case: Case, depth: int = 0) -> "oracle.Verdict":
    verdict = oracle.run(case.layer, case.args, case.kwargs, case.dims)
    bound, out = engine(case.layer, case.args, case.kwargs, Shape(case.dims))
    where = f"{case.id}: {verdict}"
    if bound is None:
        assert verdict.construct_error is TypeError, f"{where}; but bind() refuses the call"
        return verdict
    where += f"; {_describe(out)}"
    for fault in out.faults:
        assert fault.code in FIXABLE | ENDING, where
        if fault.code in FIXABLE:
            assert fault.value is not None, where
            assert fault_param(case.layer, fault) in oracle.constructor_params(case.layer), where
    if out.shape is not None:
        assert out.shape.known(), where  # a fully known input gives a fully known output
    fixable = [f for f in out.faults if f.code in FIXABLE]
    ending = [f for f in out.faults if f.code in ENDING]
    if ending:
        assert out.shape is None, where
    if verdict.kind == oracle.OK:
        assert not out.faults, f"{where}; a fault on a call torch runs"
        if LAYERS[case.layer].keeps_shape:
            # the interpreter goes on with the input's shape where the rule cannot say (an argument unknown)
            assert verdict.shape == tuple(case.dims), f"{where}; marked keeps_shape, but torch changes the shape"
        if out.shape is None:
            # (an empty result is not an ordinary one: the engine may leave it)
            assert not case.known or 0 in verdict.shape, f"{where}; the engine gives up on an ordinary valid call"
        else:
            assert out.shape.dims == verdict.shape, f"{where}; wrong shape"
        if 0 not in case.dims:  # the engine takes an unknown dim to be non-empty
            check_vaguer(case, verdict)
    elif verdict.kind == oracle.UNTRACKED:
        assert out.shape is None and not out.faults, f"{where}; torch's result is not a batched tensor"
    elif not fixable:
        assert out.shape is None, f"{where}; a shape for a call torch refuses"
    else:
        check_fix(case, out, fixable, ending, where, depth)
    return verdict


def check_fix(case: Case, out, fixable, ending, where: str, depth: int) -> None:
    """The fault's value is what torch needs: set it and torch runs."""
    assert depth < 3, where
    args, kwargs = case.args, case.kwargs
    for fault in fixable:
        args, kwargs = oracle.replace_param(case.layer, args, kwargs, fault_param(case.layer, fault), fault.value)
    fixed = Case(case.layer, args, kwargs, case.dims)
    where += f"; fixed call {fixed.id}"
    bound, out2 = engine(fixed.layer, fixed.args, fixed.kwargs, Shape(fixed.dims))
    assert bound is not None, where
    assert not [f for f in out2.faults if f.code in FIXABLE], f"{where}; the fix is not accepted: {_describe(out2)}"
    got = None if out.shape is None else out.shape.dims
    got2 = None if out2.shape is None else out2.shape.dims
    assert got == got2, f"{where}; the shape after the fault is not the fixed call's: {_describe(out2)}"
    verdict2 = check(fixed, depth + 1)
    if not ending:
        assert verdict2.kind == oracle.OK, f"{where}; with the fault's value: {verdict2}"


def _vaguer(dims: Tuple[int, ...]):
    for i in range(len(dims)):
        yield Shape(dims[:i] + (None,) + dims[i + 1:])
    for i in range(len(dims) + 1):
        yield Shape(dims[i:], open=True)


def _unknown_args(case: Case):
    """The call with one argument at a time made UNKNOWN (the evaluator could not work it out)."""
    for i in range(len(case.args)):
        yield case.args[:i] + (UNKNOWN,) + case.args[i + 1:], case.kwargs
    for k in case.kwargs:
        yield case.args, dict(case.kwargs, **{k: UNKNOWN})


def check_vaguer(case: Case, verdict) -> None:
    """torch runs `case`; the same call with less known (a dim unknown, leading
    dims open, an argument UNKNOWN) must not give a fault or a different shape:
    the concrete call is one instance of the vaguer one."""
    want = verdict.shape
    vaguer = [(case.args, case.kwargs, x) for x in _vaguer(case.dims)]
    vaguer += [(args, kwargs, Shape(case.dims)) for args, kwargs in _unknown_args(case)]
    for args, kwargs, x in vaguer:
        _, out = engine(case.layer, args, kwargs, x)
        where = f"{case.id} as {Case(case.layer, args, kwargs, ()).id[:-3]} on {x.describe()}: {verdict}; {_describe(out)}"
        assert not out.faults, f"{where}; a fault for an input torch can run"
        if out.shape is None:
            continue
        got = out.shape.dims
        if out.shape.open:
            assert len(got) <= len(want), where
            pairs = zip(got, want[len(want) - len(got):])
        else:
            assert len(got) == len(want), where
            pairs = zip(got, want)
        assert all(g is None or g == w for g, w in pairs), where


def _batches(cases: List[Case], size: int = 100):
    """The cases of each layer in runs of `size`, as (test id, cases): one pytest
    item per run keeps collection and per-item overhead small."""
    by_layer: Dict[str, List[Case]] = {}
    for c in cases:
        by_layer.setdefault(c.layer, []).append(c)
    for layer, group in sorted(by_layer.items()):
        for i in range(0, len(group), size):
            yield pytest.param(group[i:i + size], id=f"{layer}-{i // size}")


@pytest.mark.parametrize("cases", list(_batches(CASES)))
def test_layer_rule(cases: List[Case]) -> None:
    """Every case of the run is checked; each failure names its case (Case.id)."""
    failures = []
    for case in cases:
        try:
            check(case)
        except AssertionError as exc:
            failures.append(str(exc).split("\n")[0])
    assert not failures, f"{len(failures)} of {len(cases)} cases fail:\n" + "\n".join(failures[:25])


# ---------------------------------------------------------------------------
# Coverage.

def test_every_layer_is_exercised() -> None:
    assert set(LAYERS) - {c.layer for c in CASES} == set()
    assert {c.layer for c in CASES} - set(LAYERS) == set()


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_ordinary_cases_are_known(layer: str) -> None:
    """Each layer has ordinary valid calls in the grid, and the engine computes
    their shape: a rule that gives up everywhere fails here."""
    ran = 0
    for c in (c for c in CASES if c.layer == layer and c.known):
        verdict = oracle.run(c.layer, c.args, c.kwargs, c.dims)
        if verdict.kind != oracle.OK or 0 in verdict.shape:
            continue  # `known` grids also hold calls torch refuses (too small, ...)
        _, out = engine(c.layer, c.args, c.kwargs, Shape(c.dims))
        assert out.shape is not None and out.shape.dims == verdict.shape, f"{c.id}: {verdict}; {_describe(out)}"
        ran += 1
        if ran == 3:
            break
    assert ran, f"no ordinary call of {layer} that torch runs"


def test_meta_agrees_with_cpu() -> None:
    """The oracle runs on meta; a sample of the grid (every 7th case) must get
    the same verdict on CPU, else the layer belongs in oracle.CPU_LAYERS."""
    differ = []
    for c in CASES[::7]:
        if c.layer in oracle.CPU_LAYERS:
            continue
        meta = oracle.run(c.layer, c.args, c.kwargs, c.dims, device="meta")
        cpu = oracle.run(c.layer, c.args, c.kwargs, c.dims, device="cpu")
        if (meta.kind, meta.shape) != (cpu.kind, cpu.shape):
            differ.append(f"{c.id}: meta {meta} / cpu {cpu}")
    assert not differ, "\n".join(differ)


# ---------------------------------------------------------------------------
# Random windows (hypothesis, derandomized): conv, transposed conv and pools
# over ranges the fixed grids only sample.

_HYP = settings(max_examples=200, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
_small = st.integers(1, 4)


@_HYP
@given(n=st.integers(1, 2), k=_small, s=_small, d=st.integers(1, 3), p=st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])),
       L=st.integers(1, 9), mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
def test_conv_random(n, k, s, d, p, L, mode) -> None:
    check(Case(f"Conv{n}d", (2, 3, k), dict(stride=s, padding=p, dilation=d, padding_mode=mode), (2,) + (L,) * n))


@_HYP
@given(n=st.integers(1, 2), k=_small, s=_small, d=st.integers(1, 3), p=st.integers(0, 3), op=st.integers(0, 3), L=st.integers(1, 6))
def test_conv_transpose_random(n, k, s, d, p, op, L) -> None:
    check(Case(f"ConvTranspose{n}d", (2, 3, k), dict(stride=s, padding=p, output_padding=op, dilation=d), (2,) + (L,) * n))


@_HYP
@given(kind=st.sampled_from(["MaxPool", "AvgPool"]), n=st.integers(1, 2), k=st.integers(1, 6), s=st.one_of(st.none(), _small),
       p=st.integers(0, 3), d=st.integers(1, 3), ceil=st.booleans(), L=st.integers(1, 12))
def test_pool_random(kind, n, k, s, p, d, ceil, L) -> None:
    kwargs = dict(stride=s, padding=p, ceil_mode=ceil)
    if kind == "MaxPool":
        kwargs["dilation"] = d
    check(Case(f"{kind}{n}d", (k,), kwargs, (2,) + (L,) * n))


@_HYP
@given(mode=st.sampled_from(["nearest", "nearest-exact", "linear", "area"]), L=st.integers(1, 40),
       scale=st.floats(0.05, 4.0, allow_nan=False, allow_infinity=False), recompute=st.sampled_from([None, True]))
def test_upsample_scale_random(mode, L, scale, recompute) -> None:
    """floor(L * scale) in double precision, as torch computes it."""
    check(Case("Upsample", (), dict(scale_factor=scale, mode=mode, recompute_scale_factor=recompute), (2, L)))
