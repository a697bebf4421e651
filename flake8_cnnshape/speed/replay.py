"""Block calls given again. A ResNet stage calls the same block, built with
the same arguments, many times; the build cache copies it. A call of such a
copy, unchanged since it was built, with the same input shape as a call
this run made already, gives what that call did: when that call found no
fault, changed nothing and built no nn.Sequential. Giving it again takes its
steps, marks its nn.Sequentials as reached, notes the block as run clean,
and returns its shape with the size search's history rebuilt on the new input.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ..interp.budget import Budget
from ..interp.events import Recorder
from ..interp.values import Instance, Tensor
from ..shapes.shape import Shape
from . import SWITCHES
from .build_cache import BuildCache, sequentials_if_unchanged

MAX_LINKS = 200  # a longer history is not kept for giving again


class Replay:
    """What a block's forward() did in a run."""

    __slots__ = ("steps", "applied", "count", "shape", "links")

    def __init__(self, steps: int, applied: List[int], count: int, shape: Shape, links):
        self.steps = steps
        self.applied = applied  # positions in sequentials_if_unchanged()
        self.count = count
        self.shape = shape
        self.links = links  # None: the output has no history; else the steps from the input

    def give(self, budget: Budget, rec: Recorder, seqs, x: Tensor, inst: Instance) -> Tensor:
        budget.tick(self.steps)
        for i in self.applied:
            rec.log.applied.add(id(seqs[i]))
        rec.ran_clean(inst)
        if self.links is None:
            return Tensor(self.shape)
        t = x
        for shape, origin in self.links:
            t = Tensor(shape, (t,) + origin)
        return t


def _links(out: Tensor, x: Tensor):
    """How out came from x, first step first: ((shape, (step, layer, axes))...);
    None for a plain tensor when it has no history; False (not kept) when its
    history does not lead back to x."""
    if out.origin is None and out is not x:
        return None if not out.root else False
    links = []
    t = out
    while t is not x:
        if t.origin is None or len(links) >= MAX_LINKS:
            return False
        links.append((t.shape, t.origin[1:]))
        t = t.origin[0]
    links.reverse()
    return links


class Replays:
    """The calls of one file's runs that can be given again."""

    def __init__(self, cache: BuildCache, budget: Budget, rec: Recorder, mutation):
        self.on = SWITCHES["replay"]
        self.cache = cache
        self.budget = budget
        self.rec = rec
        self.mutation = mutation  # its clock: while it stands still, nothing changed anywhere
        # sequentials_if_unchanged() of a block, by id: (the clock then, the block, what it gave);
        # a model's call looks through all of its blocks, and each block's call again
        self.looked: Dict[int, tuple] = {}

    def find(self, inst: Instance, args, kwargs) -> Tuple[Optional[tuple], Optional[list], Optional[Tensor]]:
        """(key, the block's nn.Sequentials, the output given again or None);
        key None: this call is not one to give again, nor to keep."""
        run = self.rec.run
        if not self.on or inst.key not in self.cache.copied or run is None or self.rec.log.trace is not None \
                or len(args) != 1 or kwargs:
            return None, None, None
        x = args[0]
        if type(x) is not Tensor:
            return None, None, None
        clock = self.mutation.clock
        got = self.looked.get(id(inst))
        if got is not None and got[0] == clock and got[1] is inst:
            seqs = got[2]
        else:
            seqs = sequentials_if_unchanged(inst, self.cache.changed)
            self.looked[id(inst)] = (clock, inst, seqs)
        if seqs is None:
            return None, None, None
        s = x.shape
        key = (inst.key, s.dims, s.open, s.factors, x.root, x.origin is not None)
        got = run.replays.get(key)
        if got is not None and got.count == len(seqs):
            return key, seqs, got.give(self.budget, self.rec, seqs, x, inst)
        return key, seqs, None

    def keep(self, key: tuple, seqs: list, x: Tensor, out, steps: int) -> None:
        """The call under key ran clean, changing nothing and building nothing."""
        if type(out) is not Tensor:
            return
        links = _links(out, x)
        if links is not False:
            applied = self.rec.log.applied
            self.rec.run.replays[key] = Replay(steps, [i for i, q in enumerate(seqs) if id(q) in applied], len(seqs), out.shape, links)
