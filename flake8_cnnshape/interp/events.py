"""What the interpreter notes as it goes, for those who read it afterwards:
the faults a run found and the places it checked (Run), and over the whole
file, the nn.Sequentials built and applied, the sides of `if`s taken, the
instances whose forward() ran clean, and (for `cnnshape show`) each layer
applied with its input and output (FileLog). The interpreter writes through
one Recorder; the scheduler, the coverage and show read what it wrote.

When the interpreter follows both sides of an `if` it cannot decide, a fault
is kept only if every side that reached its place found it too: a
`self.training` branch must not produce a report that holds on one path only.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Set, Tuple

from ..findings import Fault, Finding, Place
from .project import FOREIGN_LINE, foreign_place, in_zoo


class Run:
    """One model run: what it found and checked."""

    __slots__ = ("found", "visited", "uses", "accepted", "early_fault", "searched", "parent", "replays", "sides", "clean",
                 "folds")

    def __init__(self, accepted: Optional[bool] = None, early_fault: bool = False,
                 searched: Optional[Set[Place]] = None, parent: Optional["Run"] = None):
        self.found: Dict[tuple, Finding] = {}  # by (place, code, text)
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
        self.replays: Dict[tuple, object] = {}  # block calls this run can give again (speed/replay.py)
        # the sides of `if`s taken, and by class the arguments of the
        # instances whose forward() ran to its end with no fault: what the
        # file's log takes when the run is kept (models/coverage.py)
        self.sides: set = set() if parent is None else parent.sides
        self.clean: Dict[object, Dict[int, tuple]] = {} if parent is None else parent.clean
        # `x.view(-1, 64, x.size(3), x.size(4))` folded k samples' rows into the
        # batch: a later view(-1, ...) may unfold them (tensors.py)
        self.folds: List[int] = [] if parent is None else parent.folds

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

    def add(self, found: Finding) -> None:
        if self.accepted is None:
            self.early_fault = True
        self.visited.add(found.place)
        self.found.setdefault(found.key(), found)

    def drop(self, place: Place, msg: str) -> None:
        """Forget the findings of one message at a place (a later check there said more)."""
        for key in [k for k, f in self.found.items() if f.place == place and f.fault.msg == msg]:
            del self.found[key]

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


class FileLog:
    """What the interpreter did over the whole file."""

    __slots__ = ("built", "applied", "sides", "clean", "trace", "stops")

    def __init__(self):
        self.built: List[object] = []  # every nn.Sequential built, in order
        self.applied: Set[int] = set()  # ids of the nn.Sequentials some run applied (or fed a tuple)
        # as in Run, for what happened outside any run and in the runs kept
        self.sides: set = set()
        self.clean: Dict[object, Dict[int, tuple]] = {}
        # (layer, input shape, output shape, the rule's faults) of each leaf layer applied, when
        # asked; and (part, None, output shape, ()) of each module and nn.Sequential when it returns
        self.trace: Optional[list] = None
        # with the trace, where a known shape went in and none came out: (line, what, why)
        self.stops: Optional[List[Tuple[Optional[int], str, str]]] = None

    def stop(self, line: Optional[int], what: str, why: str) -> None:
        if self.stops is not None and (line, what, why) not in self.stops:
            self.stops.append((line, what, why))

    def reach(self, box) -> None:
        """A run read the container box (and so what it holds) other than by
        calling it, as forward() reads `self.blocks._modules` or iterates
        `self.layers`: it is the model's to use, not an nn.Sequential to check
        on its own as if it ran its children one after another."""
        todo = [box]
        while todo:
            v = todo.pop()
            if id(v) not in self.applied:
                self.applied.add(id(v))
                todo.extend(c for c in list(v.children or ()) + list((v.items or {}).values())
                            if type(c) is type(box) and (c.children is not None or c.items is not None))

    def keep(self, run: Run) -> None:
        """A run whose findings count: what it went through counts too."""
        self.sides |= run.sides
        for cls_node, made in run.clean.items():
            self.clean.setdefault(cls_node, {}).update(made)

    def clear(self) -> None:
        self.built.clear()
        self.applied.clear()
        self.sides.clear()
        self.clean.clear()


class Recorder:
    """Where the interpreter writes: the run under way (None outside runs;
    a side of a branch while one runs) and the file's log. `sides` and
    `clean` are the run's while one is under way, else the log's."""

    __slots__ = ("run", "log", "sides", "clean", "faults", "entry", "entry_foreign", "undecided")

    def __init__(self):
        self.log = FileLog()
        # (the place of the file's call into a torchvision model, the model as
        # a message names it) while that model runs: a fault inside it is reported there
        self.entry: Optional[Tuple[Place, str]] = None
        self.entry_foreign = False  # the entry holds for any other file's line: a script's build of a project class
        self.run: Optional[Run] = None
        self.sides = self.log.sides
        self.clean = self.log.clean
        self.faults = 0  # faults reported so far, in any run
        self.undecided = 0  # `if`s and `x if c else y`s so far whose test was not known: both sides ran

    def begin(self, run: Run) -> None:
        self.run = run
        self.sides = run.sides
        self.clean = run.clean

    def end(self) -> None:
        self.run = None
        self.sides = self.log.sides
        self.clean = self.log.clean

    def report(self, faults: List[Fault], at: Place, layer=None, call_node=None, sized: bool = False) -> None:
        """A check at `at` (a layer built for a size when `sized`) and what it
        found; layer: the layer object at fault (its constructor call is where
        the number to change is; the object tells fix which instance it is)."""
        run = self.run
        if run is None:
            return
        if self.entry is not None and (in_zoo(at[0]) or self.entry_foreign and at[0] >= FOREIGN_LINE):
            inside = at[0]
            at, name = self.entry
            if not in_zoo(inside):  # a class of another file of the project: where in it
                got = foreign_place(inside)
                name = name if got is None else f"{name}, {os.path.basename(got[0])} line {got[1]}"
            if faults and any(key[0] == at for key in run.found):
                faults = []  # one fault inside a torchvision model is the user's to know: the rest follow from it
            faults = [f.inside(name) for f in faults[:1]]
        run.visit(at, sized, not faults)
        self.faults += len(faults)
        for f in faults:
            run.add(Finding(at, f, None, None if layer is None else layer.node, call_node, layer))

    def ran_clean(self, inst) -> None:
        """A run took inst's forward() to its end with no fault."""
        self.clean.setdefault(inst.cls.node, {})[id(inst.made)] = inst.made
