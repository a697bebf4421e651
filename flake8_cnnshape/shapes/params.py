"""Parameter counts, as sum(p.numel() for p in layer.parameters()) gives them.
Lazy layers take their input side from the shape they receive. A layer not
listed here has no parameters of its own; None means we cannot know."""
from __future__ import annotations

import math
from typing import Callable, Dict, Optional

from .registry import Args, Unknowable
from .shape import Shape


def _conv(n: int, transposed: bool, lazy: bool):
    def count(a: Args, x: Optional[Shape]) -> int:
        if lazy:
            if x is None or x.open or not x.dims or x.dims[0] is None:
                raise Unknowable("input channels")
            cin = x.dims[0]
        else:
            cin = a.int("in_channels")
        cout, groups = a.int("out_channels"), a.int("groups")
        k = math.prod(a.ints("kernel_size", n))
        # weight: (out, in/groups, *k), or (in, out/groups, *k) when transposed
        weight = cin * (cout // groups) * k if transposed else (cin // groups) * cout * k
        return weight + (cout if a.known("bias") else 0)

    return count


def _linear(lazy: bool):
    def count(a: Args, x: Optional[Shape]) -> int:
        if lazy:
            if x is None or not x.dims or x.dims[-1] is None:
                raise Unknowable("in_features")
            cin = x.dims[-1]
        else:
            cin = a.int("in_features")
        out = a.int("out_features")
        return cin * out + (out if a.known("bias") else 0)

    return count


def _per_channel(name: str, flag: str):
    def count(a: Args, x: Optional[Shape]) -> int:
        if not a.known(flag):
            return 0
        if name in a.values:
            c = a.int(name)
        elif x is not None and not x.open and x.dims and x.dims[0] is not None:
            c = x.dims[0]  # a lazy norm takes the channels it receives
        else:
            raise Unknowable(name)
        return c * (2 if a.values.get("bias", True) else 1)

    return count


def _trailing(a: Args, x: Optional[Shape]) -> int:
    if not a.known("elementwise_affine"):
        return 0
    shape = a.known("normalized_shape")
    n = shape if isinstance(shape, int) else math.prod(shape)
    return n * (2 if a.values.get("bias", False) else 1)


PARAMS: Dict[str, Callable[[Args, Optional[Shape]], int]] = {
    "Linear": _linear(False),
    "LazyLinear": _linear(True),
    "GroupNorm": _per_channel("num_channels", "affine"),
    "LayerNorm": _trailing,
    "RMSNorm": _trailing,
    "PReLU": lambda a, x: a.int("num_parameters"),
}
for _n in (1, 2, 3):
    PARAMS[f"Conv{_n}d"] = _conv(_n, False, False)
    PARAMS[f"LazyConv{_n}d"] = _conv(_n, False, True)
    PARAMS[f"ConvTranspose{_n}d"] = _conv(_n, True, False)
    PARAMS[f"LazyConvTranspose{_n}d"] = _conv(_n, True, True)
    PARAMS[f"BatchNorm{_n}d"] = _per_channel("num_features", "affine")
    PARAMS[f"LazyBatchNorm{_n}d"] = _per_channel("num_features", "affine")
    PARAMS[f"InstanceNorm{_n}d"] = _per_channel("num_features", "affine")
    PARAMS[f"LazyInstanceNorm{_n}d"] = _per_channel("num_features", "affine")


def count_params(kind: str, args: Optional[Args], x: Optional[Shape]) -> Optional[int]:
    """Parameters of one layer, or None when they cannot be known."""
    fn = PARAMS.get(kind)
    if fn is None:
        return 0
    if args is None:
        return None
    try:
        return fn(args, x)
    except (Unknowable, TypeError, ValueError):
        return None
