"""What one model run collects: the faults found, and the places checked.

A place is where a check happened (a layer constructor, or an op's call). When
the interpreter follows both sides of an `if` it cannot decide, a fault is kept
only if every side that reached its place found it too: a `self.training`
branch must not produce a report that holds on one path only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Set, Tuple

from ..shapes import Fault

Place = Tuple[int, int]  # (line, col) of the node a fault is reported at


@dataclass(frozen=True)
class Found:
    place: Place
    fault: Fault
    layer_node: object = None  # the ast.Call of the constructor, for fixes
    call_node: object = None  # the ast node of the use / op call

    @property
    def key(self):
        return (self.place, self.fault.code, self.fault.message)


@dataclass
class Run:
    found: Dict[tuple, Found] = field(default_factory=dict)
    visited: Set[Place] = field(default_factory=set)
    # first use of each layer object in this run: later uses that fail while the
    # first did not are reported at the later call
    uses: Dict[int, Tuple[Place, bool]] = field(default_factory=dict)
    # the first place checked: an inferred input that this place rejects was
    # probably not meant for this model
    first: Optional[Place] = None
    searched: Set[Place] = field(default_factory=set)  # Linears whose width was searched for

    def visit(self, place: Place, checks: bool = True) -> None:
        """`checks`: the op looks at the shape it gets (not an activation)."""
        if self.first is None and checks:
            self.first = place
        self.visited.add(place)

    def add(self, found: Found) -> None:
        self.visit(found.place)
        self.found.setdefault(found.key, found)

    def fork(self) -> "Run":
        return Run({}, set(), dict(self.uses), self.first, self.searched)

    def rejects_input(self) -> bool:
        return any(f.place == self.first for f in self.found.values())

    def join(self, a: "Run", b: "Run") -> None:
        """Merge two sides of a branch back into this run."""
        for side, other in ((a, b), (b, a)):
            other_keys = set(other.found)
            for key, f in side.found.items():
                if f.place in other.visited and key not in other_keys:
                    continue
                self.add(f)
        self.visited |= a.visited | b.visited
        if self.first is None:
            self.first = a.first or b.first
        for k, v in list(a.uses.items()) + list(b.uses.items()):
            self.uses.setdefault(k, v)
