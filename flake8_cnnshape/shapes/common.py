"""Helpers shared by the rules: rank checks and the window arithmetic."""
from __future__ import annotations

from typing import Optional, Tuple

from .registry import Ctx, Unknowable
from .shape import Shape

AXES = {1: "L", 2: "H x W", 3: "D x H x W"}


def sample_form(n: int) -> str:
    return {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}[n]


def need_rank(x: Shape, ctx: Ctx, ranks: Tuple[int, ...], form: str) -> bool:
    """True if the per-sample rank is one of `ranks` (or cannot be known).
    Otherwise report CNS006 and return False."""
    if x.open or x.rank in ranks:
        return True
    ctx.fault("CNS006", f"{ctx.layer} needs a {form} sample but receives {x.describe()}", at_use=True)
    return False


def spatial(x: Shape, n: int) -> Tuple[Optional[int], ...]:
    """The last n dims, None where unknown or absent (open shapes)."""
    dims = x.dims[-n:] if len(x.dims) >= n else ()
    if len(dims) < n:
        return (None,) * n
    return tuple(dims)


def leading(x: Shape, n: int) -> Tuple[Optional[int], ...]:
    """The dims before the last n; none when an open shape shows fewer than n
    (a plain slice x.dims[:-k] would keep dims that are really spatial)."""
    return x.dims[: max(len(x.dims) - n, 0)]


def fmt_axes(sizes) -> str:
    return " x ".join("?" if s is None else str(s) for s in sizes)


def window_fault(ctx: Ctx, what: str, sizes, outs) -> None:
    """CNS004: the window does not fit the input; `outs` are the sizes torch computes."""
    ctx.fault(
        "CNS004",
        f"{ctx.layer} {what} does not fit its {fmt_axes(sizes)} input "
        f"(output would be {fmt_axes(outs)}): the input is too small at this point",
        at_use=True,
    )


def positive(*values: int) -> None:
    """Non-positive kernel/stride/dilation: torch raises at construction or forward;
    no code of ours describes it, so the known shape just ends."""
    for v in values:
        if v <= 0:
            raise Unknowable("non-positive window parameter")
