"""Tensor shapes as the engine sees them.

A Shape holds the per-sample dims (the batch dim is implied and never stored).
A dim is an int when known, None when it depends on something we do not know.
`open=True` means there may be more leading dims we know nothing about, as after
a Linear applied to a tensor of unknown rank: only the trailing dims are known.
`factors` remembers, per dim, the sizes a flatten multiplied together, so a
message can say "3136 (64 x 7 x 7)"; for a dim nobody knows, the sizes that
are known among them ((None, 6, 6): a multiple of 36).
"""
from __future__ import annotations

from math import prod
from typing import Optional, Tuple

from ..records import Record

Dim = Optional[int]


class Shape(Record):
    __slots__ = ("dims", "open", "factors", "_hash")
    _fields = ("dims", "open", "factors")

    def __init__(self, dims: Tuple[Dim, ...], open: bool = False,
                 factors: Optional[Tuple[Optional[Tuple[int, ...]], ...]] = None):
        self.dims = dims
        self.open = open
        self.factors = factors
        self._hash: Optional[int] = None

    def __eq__(self, other):
        if other.__class__ is Shape:
            return self.dims == other.dims and self.open == other.open and self.factors == other.factors
        return NotImplemented

    def __hash__(self) -> int:
        # shapes key the interpreter's caches: hash the fields once
        h = self._hash
        if h is None:
            h = self._hash = hash((self.dims, self.open, self.factors))
        return h

    @staticmethod
    def unknown() -> "Shape":
        """A tensor about which nothing is known, not even its rank."""
        return _UNKNOWN

    @property
    def rank(self) -> Optional[int]:
        """Per-sample rank, or None when leading dims are unknown."""
        return None if self.open else len(self.dims)

    def known(self) -> bool:
        return not self.open and None not in self.dims

    def numel(self) -> Dim:
        """Per-sample element count, None when unknown."""
        if not self.known():
            return None
        return prod(self.dims)  # type: ignore[arg-type]

    def factor_of(self, i: int) -> Optional[Tuple[int, ...]]:
        if self.factors is None:
            return None
        return self.factors[i]

    def flat_factors(self, start: int = 0, end: Optional[int] = None) -> Optional[Tuple[Dim, ...]]:
        """The sizes dims[start:end] multiply to when flattened, None for one
        nobody knows: (None, 6, 6) says the width is a multiple of 36. None
        when no size is known, or when there is only one."""
        got = []
        for i in range(start, len(self.dims) if end is None else end):
            f = self.factor_of(i)
            got.extend(f if f is not None else (self.dims[i],))
        return tuple(got) if len(got) > 1 and any(f is not None and f > 1 for f in got) else None

    def with_dims(self, dims, factors=None) -> "Shape":
        dims = tuple(dims)
        if factors is not None and all(f is None for f in factors):
            factors = None
        return Shape(dims, self.open, tuple(factors) if factors is not None else None)

    def describe(self) -> str:
        parts = ["?" if d is None else str(d) for d in self.dims]
        if self.open:
            parts.insert(0, "...")
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 and not self.open else "") + ")"


_UNKNOWN = Shape((), open=True)  # shapes are immutable: one is enough


def render_factors(factors: Tuple[int, ...]) -> str:
    return " x ".join(str(f) for f in factors)
