"""Helpers shared by the rules: rank checks, dim wrapping and the window
arithmetic's faults."""
from __future__ import annotations

from typing import Optional, Tuple

from ..shape import Shape
from ..signature import UNKNOWN, Unknowable
from ..spec import Ctx


def sample_form(n: int) -> str:
    return {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}[n]


def need_rank(x: Shape, ctx: Ctx, ranks: Tuple[int, ...], form: str) -> bool:
    """True if the per-sample rank is one of `ranks` (or cannot be known).
    Otherwise report CNS006 and return False."""
    if x.open or x.rank in ranks:
        return True
    ctx.fault("CNS006", "rank", {"form": form, "got": x}, at_use=True)
    return False


def full_index(dim: int, full_rank: int) -> int:
    """torch's dim wrapping on the batched tensor; raises if out of range."""
    if not -full_rank <= dim < full_rank:
        raise IndexError(dim)
    return dim % full_rank


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


def given_sides(given, n: int, lead: int) -> Optional[Tuple[Optional[int], ...]]:
    """forward()'s output_size as torch reads it (MaxUnpool, a transposed
    conv): the last n of n + lead entries, or n; each an int, or None (the
    batch, a size nobody knows). None when the size is not known at all;
    Unknowable for any other count (torch: ValueError)."""
    if given is UNKNOWN or not isinstance(given, (tuple, list)):
        return None
    if len(given) == n + lead:
        given = given[lead:]
    if len(given) != n:
        raise Unknowable("output_size")
    return tuple(v if type(v) is not bool and isinstance(v, int) else None for v in given)


def window_fault(ctx: Ctx, kind: str, k, stride, sizes, outs) -> None:
    """CNS004: the window (kind: kernel, window or padding) does not fit the
    input; `outs` are the sizes torch computes."""
    ctx.fault("CNS004", "window", {"kind": kind, "k": tuple(k), "stride": None if stride is None else tuple(stride),
                                   "sizes": tuple(sizes), "outs": tuple(outs)}, at_use=True)


def positive(*values: int) -> None:
    """Non-positive kernel/stride/dilation: torch raises at construction or forward;
    no code of ours describes it, so the known shape just ends."""
    for v in values:
        if v <= 0:
            raise Unknowable("non-positive window parameter")
