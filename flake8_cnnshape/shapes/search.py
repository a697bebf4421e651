"""When nobody says the input size: does ANY size give a Linear its in_features?

`replay(sides)` returns the shape the Linear receives for an input with those
spatial sides. Each spatial axis of a conv/pool/pad/upsample chain is worked
out from that axis alone, and is non-decreasing in its input side, so the
width is C x a_1(s_1) x ... x a_n(s_n) and each a_i can be searched by
bisection (the other sides held large). Sides from 1 to MAX_SIDE are tried; any doubt means no answer.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

from ..records import Record
from .shape import Shape

MAX_SIDE = 4096
MAX_REPLAYS = 600


class GiveUp(Exception):
    pass


class Verdict(Record):
    __slots__ = _fields = ("fits", "channels", "sides", "sizes", "ranges")

    def __init__(self, fits: bool, channels: int, sides: Optional[Tuple[Tuple[int, int], ...]] = None,
                 sizes: Optional[Tuple[int, ...]] = None, ranges: Optional[Tuple[Tuple[int, int], ...]] = None):
        self.fits = fits
        self.channels = channels
        self.sides = sides  # when it fits: per axis, the input sides that give the needed size
        self.sizes = sizes  # a_i at those sides
        self.ranges = ranges  # when it never fits: per axis, the sizes the axis can reach


class _Axes:
    """Axis i's output size as a function of its own input side, the other
    sides held at MAX_SIDE (so that they never make the input too small)."""

    def __init__(self, replay: Callable[[Tuple[int, ...]], Optional[Shape]], n: int):
        self.replay = replay
        self.n = n
        self.cache: Dict[Tuple[int, ...], Optional[Tuple[int, ...]]] = {}
        self.sizes: Dict[Tuple[int, int], Optional[int]] = {}  # (axis, side) -> at()

    def parts(self, sides: Tuple[int, ...]) -> Optional[Tuple[int, ...]]:
        """(C, a_1, ..., a_n) for these input sides, or None where it does not run."""
        if sides not in self.cache:
            if len(self.cache) >= MAX_REPLAYS:
                raise GiveUp("too many replays")
            shape = self.replay(sides)
            parts = None
            if shape is not None and not shape.open and shape.dims and shape.dims[-1] is not None:
                f = shape.factor_of(len(shape.dims) - 1)
                if f is not None and len(f) == self.n + 1 and None not in f:
                    parts = tuple(f)
            self.cache[sides] = parts
        return self.cache[sides]

    def at(self, axis: int, s: int) -> Optional[int]:
        key = (axis, s)
        if key in self.sizes:
            return self.sizes[key]
        if self.n > 1:
            # every axis at side s in one replay: each is worked out from itself
            # alone, so where this runs it gives what one replay per axis would
            p = self.parts((s,) * self.n)
            if p is not None:
                self.sizes.update(((i, s), p[i + 1]) for i in range(self.n))
                return p[axis + 1]
        p = self.parts(tuple(s if i == axis else MAX_SIDE for i in range(self.n)))
        self.sizes[key] = None if p is None else p[axis + 1]
        return self.sizes[key]


def search(replay: Callable[[Tuple[int, ...]], Optional[Shape]], n: int, want: int) -> Optional[Verdict]:
    """None when the question cannot be settled."""
    try:
        return _search(_Axes(replay, n), n, want)
    except GiveUp:
        return None


def _search(ax: _Axes, n: int, want: int) -> Optional[Verdict]:
    top = ax.parts((MAX_SIDE,) * n)
    if top is None:
        return None
    channels = top[0]
    lows = []
    for axis in range(n):
        # the smallest side that runs at all (too small fails, larger works)
        lo, hi = 1, MAX_SIDE
        while lo < hi:
            mid = (lo + hi) // 2
            if ax.at(axis, mid) is None:
                lo = mid + 1
            else:
                hi = mid
        # the sizes must not go down as the side grows (each AXIS rule is a
        # floor of a non-decreasing function of its side): checked at a few
        # sides before bisection is trusted
        samples = sorted({lo + (MAX_SIDE - lo) * k // 7 for k in range(8)})
        seen = [ax.at(axis, s) for s in samples]
        if any(v is None for v in seen) or any(a > b for a, b in zip(seen, seen[1:])):
            return None
        if ax.parts(tuple(lo if i == axis else MAX_SIDE for i in range(n)))[0] != channels:
            return None
        lows.append(lo)
    ranges = tuple((ax.at(i, lows[i]), top[i + 1]) for i in range(n))
    if want % channels:
        return Verdict(False, channels, ranges=ranges)
    target = want // channels
    if not all(r[0] >= 1 for r in ranges):
        return None
    low_prod, top_prod = 1, 1
    for a, b in ranges:
        low_prod, top_prod = low_prod * a, top_prod * b
    if not low_prod <= target <= top_prod:
        return Verdict(False, channels, ranges=ranges)
    found: Dict[Tuple[int, int], Optional[Tuple[int, int]]] = {}

    def sides_for(axis: int, size: int) -> Optional[Tuple[int, int]]:
        key = (axis, size)
        if key not in found:
            found[key] = _interval(ax, axis, size, lows[axis])
        return found[key]

    # the most even split first: 7 x 7 reads better than 1 x 49
    for split in sorted(set(_factorizations(target, n)), key=lambda t: (max(t) - min(t), t)):
        if all(ranges[i][0] <= split[i] <= ranges[i][1] for i in range(n)):
            sides = [sides_for(i, split[i]) for i in range(n)]
            if all(s is not None for s in sides):
                return Verdict(True, channels, sides=tuple(sides), sizes=tuple(split))
    return Verdict(False, channels, ranges=ranges)


def _interval(ax: _Axes, axis: int, size: int, lo: int) -> Optional[Tuple[int, int]]:
    """The input sides whose axis output is `size`, by bisection."""
    def first_at_least(v: int) -> int:
        if ax.at(axis, lo) >= v:
            return lo  # the commonest: the smallest size the axis gives (1 x 1 before the flatten)
        a, b = lo, MAX_SIDE + 1
        while a < b:
            mid = (a + b) // 2
            if ax.at(axis, mid) >= v:
                b = mid
            else:
                a = mid + 1
        return a

    start = first_at_least(size)
    if start > MAX_SIDE or ax.at(axis, start) != size:
        return None
    end = first_at_least(size + 1) - 1
    return (start, end)


def _factorizations(t: int, n: int) -> List[Tuple[int, ...]]:
    if n == 1:
        return [(t,)]
    out = []
    d = 1
    while d * d <= t:
        if t % d == 0:
            for first in {d, t // d}:
                out.extend((first,) + rest for rest in _factorizations(t // first, n - 1))
        d += 1
        if len(out) > 2000:
            raise GiveUp("too many factorizations")
    return out
