"""Normalization layers: the per-channel (or trailing) sizes they were built for
must match what arrives. BatchNorm{1,2,3}d and InstanceNorm check dim 1;
GroupNorm checks dim 1 and that num_groups divides it; LayerNorm/RMSNorm check
the trailing dims against normalized_shape. Parameters: a weight and a bias
per channel when affine (LayerNorm: per normalized element). F.batch_norm
keeps the shape of what it is given, its statistics and affine tensors the
file's own (a synchronized BatchNorm's forward())."""
from __future__ import annotations

import math
from typing import Optional

from ..shape import Shape
from ..signature import UNKNOWN, Args, Unknowable, sig
from ..spec import AXIS, OTHER, SAME, Ctx, LayerSpec, OpSpec, no_params
from .common import need_rank

_BN = dict(eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None)
_IN = dict(eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None)
_LAZY_IN = dict(_IN, affine=True, track_running_stats=True)
_BIAS = {"bias": True}


def _check_channels(a: Args, x: Shape, ctx: Ctx, name: str, *sized: str) -> None:
    """The channel count must match, but torch only checks it against the
    weight or running stats: when every flag in `sized` is off there are none.
    Nothing is checked where the count or a flag is not known."""
    want = a.opt_int(name)
    if want is None:
        return
    c = None if x.open or not x.dims else x.dims[0]
    if c is None or c == want:
        return  # (the commonest: nothing to check)
    if any(a[flag] is UNKNOWN for flag in sized):
        return
    if not sized or any(a.known(flag) for flag in sized):
        ctx.fault("CNS003", "channels", {"param": name, "want": want, "got": c}, name, c)


def batch_norm(n: int, lazy: bool = False):
    ranks = {1: (1, 2), 2: (3,), 3: (4,)}[n]
    form = {1: "(C,) or (C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}[n]

    def rule(a: Args, x: Shape, ctx: Ctx):
        if not need_rank(x, ctx, ranks, form):
            return None
        if not lazy:
            _check_channels(a, x, ctx, "num_features", "affine", "track_running_stats")
        return x

    return rule


def instance_norm(n: int, lazy: bool = False):
    form = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}[n]

    def rule(a: Args, x: Shape, ctx: Ctx):
        # A sample of rank n is taken by torch as one unbatched input whose
        # channels are the batch: nothing we can check.
        if not x.open and x.rank == n:
            return None
        if not need_rank(x, ctx, (n + 1,), form):
            return None
        if not x.open and all(d == 1 for d in x.dims[1:]):
            return None  # torch refuses a single spatial element in training
        flags = (a["affine"], a["track_running_stats"])
        if not lazy and UNKNOWN not in flags and any(flags):
            _check_channels(a, x, ctx, "num_features")
        return x

    return rule


def group_norm(a: Args, x: Shape, ctx: Ctx):
    groups = a.opt_int("num_groups")
    channels = a.opt_int("num_channels")
    if groups is not None and groups <= 0:
        raise Unknowable("num_groups")
    if groups is None:
        return x if need_rank(x, ctx, tuple(range(1, 16)), "(C, ...)") else None
    if channels is not None and channels % groups:
        ctx.fault("CNS007", "num_groups", {"groups": groups, "channels": channels})
        return None
    if not need_rank(x, ctx, tuple(range(1, 16)), "(C, ...)"):
        return None
    c = None if x.open else x.dims[0]
    if c is not None and c % groups:
        # torch checks this before the weight: no num_channels would do.
        ctx.fault("CNS007", "num_groups_incoming", {"groups": groups, "got": c}, at_use=True)
        return None
    _check_channels(a, x, ctx, "num_channels", "affine")
    return x


def trailing_norm(a: Args, x: Shape, ctx: Ctx):
    if a["normalized_shape"] is UNKNOWN:
        return x  # what it normalizes is not known; it keeps the shape
    want = a.known("normalized_shape")
    want = (want,) if isinstance(want, int) and not isinstance(want, bool) else want
    if not isinstance(want, (tuple, list)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in want):
        raise Unknowable("normalized_shape")
    want = tuple(want)
    k = len(want)
    if k == 0:
        raise Unknowable("normalized_shape")  # torch: must be at least 1-dimensional
    if not x.open and x.rank is not None and x.rank + 1 < k:
        ctx.fault("CNS006", "trailing_rank", {"count": k, "got": x}, at_use=True)
        return None
    if len(x.dims) < k:
        # Only an open shape gets here without a fault: its hidden dims may fill
        # the rest. A closed one would normalize over the batch dim.
        return x if x.open else None
    got = x.dims[-k:]
    if all(g is not None for g in got) and tuple(got) != want:
        shown = got[0] if k == 1 else tuple(got)
        wrote = want[0] if k == 1 else want
        ctx.fault("CNS003", "normalized_shape", {"want": wrote, "got": shown}, "normalized_shape", shown)
    return x


def local_response(a: Args, x: Shape, ctx: Ctx):
    if a.int("size") < 1:
        raise Unknowable("size")  # torch: kernel size should be greater than zero
    if not need_rank(x, ctx, tuple(range(2, 16)), "(C, ...) of at least 2 dims"):
        return None
    return x


def per_channel(name: str, flag: str):
    """A weight (and a bias unless bias=False) per channel when `flag` is on;
    a lazy norm takes the channels it receives."""
    def count(a: Args, x: Optional[Shape]) -> int:
        if not a.known(flag):
            return 0
        if name in a.values:
            c = a.int(name)
        elif x is not None and not x.open and x.dims and x.dims[0] is not None:
            c = x.dims[0]
        else:
            raise Unknowable(name)
        return c * (2 if a.values.get("bias", True) else 1)

    return count


def trailing_params(a: Args, x: Optional[Shape]) -> int:
    if not a.known("elementwise_affine"):
        return 0
    shape = a.known("normalized_shape")
    n = shape if isinstance(shape, int) else math.prod(shape)
    return n * (2 if a.values.get("bias", False) else 1)


_BN_PARAMS = per_channel("num_features", "affine")
LAYERS = {}
for _n in (1, 2, 3):
    LAYERS[f"BatchNorm{_n}d"] = LayerSpec(sig("num_features", **_BN, _kwonly=_BIAS), batch_norm(_n), _BN_PARAMS, AXIS, keeps_shape=True)
    LAYERS[f"LazyBatchNorm{_n}d"] = LayerSpec(sig(**_BN, _kwonly=_BIAS), batch_norm(_n, lazy=True), _BN_PARAMS, AXIS, keeps_shape=True)
    LAYERS[f"InstanceNorm{_n}d"] = LayerSpec(sig("num_features", **_IN, _kwonly=_BIAS), instance_norm(_n), _BN_PARAMS, AXIS, keeps_shape=True)
    LAYERS[f"LazyInstanceNorm{_n}d"] = LayerSpec(sig(**_LAZY_IN, _kwonly=_BIAS), instance_norm(_n, lazy=True), _BN_PARAMS, AXIS, keeps_shape=True)
LAYERS["GroupNorm"] = LayerSpec(sig("num_groups", "num_channels", eps=1e-5, affine=True, device=None, dtype=None, _kwonly=_BIAS),
                                group_norm, per_channel("num_channels", "affine"), AXIS, keeps_shape=True)
LAYERS["LayerNorm"] = LayerSpec(sig("normalized_shape", eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None),
                                trailing_norm, trailing_params, OTHER, keeps_shape=True)
LAYERS["RMSNorm"] = LayerSpec(sig("normalized_shape", eps=None, elementwise_affine=True, device=None, dtype=None),
                              trailing_norm, trailing_params, OTHER, keeps_shape=True)
LAYERS["LocalResponseNorm"] = LayerSpec(sig("size", alpha=1e-4, beta=0.75, k=1.0), local_response, no_params, AXIS, keeps_shape=True)


def f_batch_norm(a: Args, x: Shape, ctx: Ctx) -> Optional[Shape]:
    """F.batch_norm(input, running_mean, running_var, weight, bias, training, ...).
    torch checks each given tensor against dim 1, a size the engine does not
    know for a tensor argument: only None and unknown values (a module's
    running stats set by torch's own __init__, which sizes them right) let the
    shape through. Eval mode needs the running stats."""
    if x.open or not x.dims:
        return None
    stats = [a[p] for p in ("running_mean", "running_var", "weight", "bias")]
    if any(v is not None and v is not UNKNOWN for v in stats):
        return None
    if (stats[0] is None or stats[1] is None) and a.known("training") is not True:
        return None
    return x


FUNCTIONS = {"torch.nn.functional.batch_norm": OpSpec(
    sig("input", "running_mean", "running_var", weight=None, bias=None, training=False, momentum=0.1, eps=1e-5),
    f_batch_norm, SAME)}
