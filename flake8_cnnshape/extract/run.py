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
    # An inferred input size is taken for this model only if the first layer
    # built for a channel or feature count accepts it, with no fault before:
    # None until such a layer is reached, then whether it accepted.
    accepted: Optional[bool] = None
    early_fault: bool = False
    searched: Set[Place] = field(default_factory=set)  # Linears whose width was searched for
    # a side of a branch: the run it was forked from, whose first uses it sees
    # (`uses` holds only the side's own; the parent waits while a side runs)
    parent: Optional["Run"] = None

    def first_use(self, layer_id: int) -> Optional[Tuple[Place, bool]]:
        run: Optional[Run] = self
        while run is not None:
            got = run.uses.get(layer_id)
            if got is not None:
                return got
            run = run.parent
        return None

    def visit(self, place: Place, sized: bool = False, ok: bool = True) -> None:
        if sized and self.accepted is None:
            self.accepted = ok
        self.visited.add(place)

    def add(self, found: Found) -> None:
        if self.accepted is None:
            self.early_fault = True
        self.visited.add(found.place)
        self.found.setdefault(found.key, found)

    def fork(self) -> "Run":
        return Run({}, set(), {}, self.accepted, self.early_fault, self.searched, self)

    def rejects_input(self) -> bool:
        return self.early_fault or self.accepted is False

    def join(self, a: "Run", b: "Run") -> None:
        """Merge two sides of a branch back into this run."""
        self.early_fault = self.early_fault or a.early_fault or b.early_fault
        sides = {a.accepted, b.accepted} - {None}
        if self.accepted is None and sides:
            self.accepted = False not in sides
        for side, other in ((a, b), (b, a)):
            other_keys = set(other.found)
            for key, f in side.found.items():
                if f.place in other.visited and key not in other_keys:
                    continue
                self.found.setdefault(key, f)  # its place is in side.visited, added below
        self.visited |= a.visited | b.visited
        for k, v in list(a.uses.items()) + list(b.uses.items()):
            if self.first_use(k) is None:
                self.uses[k] = v
