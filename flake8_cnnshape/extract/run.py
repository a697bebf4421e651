"""What one model run collects: the faults found, and the places checked.

A place is where a check happened (a layer constructor, or an op's call). When
the interpreter follows both sides of an `if` it cannot decide, a fault is kept
only if every side that reached its place found it too: a `self.training`
branch must not produce a report that holds on one path only.
"""
from __future__ import annotations

from typing import Dict, Optional, Set, Tuple

from ..records import Record
from ..shapes import Fault

Place = Tuple[int, int]  # (line, col) of the node a fault is reported at


class Found(Record):
    __slots__ = _fields = ("place", "fault", "layer_node", "call_node")

    def __init__(self, place: Place, fault: Fault, layer_node: object = None, call_node: object = None):
        self.place = place
        self.fault = fault
        self.layer_node = layer_node  # the ast.Call of the constructor, for fixes
        self.call_node = call_node  # the ast node of the use / op call

    @property
    def key(self):
        return (self.place, self.fault.code, self.fault.message)


class Run:
    __slots__ = ("found", "visited", "uses", "accepted", "early_fault", "searched", "parent", "replays")

    def __init__(self, accepted: Optional[bool] = None, early_fault: bool = False,
                 searched: Optional[Set[Place]] = None, parent: Optional["Run"] = None):
        self.found: Dict[tuple, Found] = {}
        self.visited: Set[Place] = set()
        # first use of each layer object in this run: later uses that fail
        # while the first did not are reported at the later call
        self.uses: Dict[int, Tuple[Place, bool]] = {}
        # An inferred input size is taken for this model only if the first
        # layer built for a channel or feature count accepts it, with no fault
        # before: None until such a layer is reached, then whether it accepted.
        self.accepted = accepted
        self.early_fault = early_fault
        self.searched: Set[Place] = searched if searched is not None else set()  # Linears whose width was searched for
        # a side of a branch: the run it was forked from, whose first uses it
        # sees (`uses` holds only the side's own; the parent waits while a side runs)
        self.parent = parent
        self.replays: Dict[tuple, object] = {}  # block calls this run can give again (tensor.py)

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
        return Run(self.accepted, self.early_fault, self.searched, self)

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
