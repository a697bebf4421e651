"""Layers and models applied to tensors: a torch.nn layer's spec and rule
(one rule run per constructor arguments and input shape), an nn.Sequential's
children in turn, a model's forward(). Where a fault is reported: at the
layer's constructor, or at the call that uses it where an earlier use of the
same layer fitted. And, for a model nobody gives a size for, whether any
input size gives a Linear its in_features (the size search)."""
from __future__ import annotations

from typing import Dict, List, Optional, TYPE_CHECKING

from ..findings import Fault
from ..shapes.shape import Shape
from ..shapes.signature import RULE_GIVES_UP, UNKNOWN, Args, Unknowable
from ..shapes.spec import SAME, apply
from ..speed.replay import Replays
from .budget import Budget, OutOfBudget
from .events import Recorder
from .torch_subclasses import BASE
from .mutation import Mutations
from .project import FOREIGN_LINE, in_zoo, zoo_read
from .open_loops import open_parts
from .values import CHAINS, Fixed, Instance, Layer, Packed, SizeInt, Tensor, children, value_of

if TYPE_CHECKING:  # annotations only: machine.py wires the parts
    from .api import CallsPart

_SPATIAL_FIRST = {f"{k}{n}d" for k in ("Conv", "ConvTranspose") for n in (1, 2, 3)}
_EXAMPLE_SIDES = (28, 32, 64, 224)  # the input sides a width is stated at, where a model nobody sizes gets one


_OTHER_TENSORS = (Fixed, Packed)  # what a layer may be given besides a model's batch-first tensor
_UNREAD = ("hx", "offsets", "per_sample_weights")  # extra tensors whose shapes no rule reads
_GIVEN = ("offsets",)  # of those, the ones whose being given changes the output
_SIZES = ("output_size",)  # extra arguments that are sizes, not tensors (MaxUnpool's): handed over as they are


def place(node) -> tuple:
    return (node.lineno, node.col_offset)


def as_tensor(v) -> Optional[Tensor]:
    """A value passed where a tensor is expected; unknown values are tensors
    we know nothing about."""
    if isinstance(v, Tensor):
        return v
    return Tensor(Shape.unknown()) if v is UNKNOWN else None


def _clean(outcome):
    """A replayed step that would fail at this size (any fault) does not run."""
    return None if outcome.faults else outcome.shape


class Layers:
    def __init__(self, budget: Budget, rec: Recorder, mutation: Mutations, replays: Replays):
        self.budget = budget
        self.rec = rec
        self.mutation = mutation
        self.replays = replays
        # one rule run per (constructor arguments, input shape): copies of a
        # build share their Args, and equal blocks see equal shapes
        self.outcomes: Dict[tuple, tuple] = {}
        self.calls: CallsPart = None  # type: ignore[assignment]  # set by machine.py

    def call_module(self, mod, args, kwargs, node):
        if isinstance(mod, Instance):
            return self.call_instance(mod, args, kwargs, node)
        if args and type(args[0]) in _OTHER_TENSORS:
            return self._other_input(mod, args, kwargs, node)
        if type(mod) is Layer and mod.spec is not None and mod.spec.extra and (len(args) > 1 or kwargs):
            return self._with_extra(mod, args, kwargs, node)
        if type(mod) is Layer and mod.kind in CHAINS and args and type(args[0]) is Tensor:
            return self.apply_layer(mod, args[0], node)  # its masks do not change the shapes
        x = as_tensor(args[0]) if len(args) == 1 and not kwargs else None
        if x is None:
            if isinstance(mod, Layer) and mod.kind == "Sequential":
                # the model feeds it a tuple or more: checking it on its own
                # with one tensor, as for a part never reached, is a guess
                self.rec.log.applied.add(id(mod))
                kids = mod.children
                if kids and type(kids[0]) is Instance and len(args) == 1 and not kwargs and type(args[0]) is tuple:
                    return self._chain(kids, args[0])  # blocks of the file that take and give (a, b)
            return UNKNOWN
        return self.apply_layer(mod, x, node)

    def _other_input(self, mod, args, kwargs, node):
        """A layer given a Fixed with the model's batch inside (`self.lstm(x.permute(1, 0, 2))`: sequence
        first, whole.py) or a PackedSequence (packed.py)."""
        if type(args[0]) is Fixed:
            from . import whole

            return whole.seq_first(self, mod, args, kwargs, node) if type(mod) is Layer else UNKNOWN
        from . import packed  # imported when the first PackedSequence is met

        ok = type(mod) is Layer and mod.kind in packed.RECURRENT and len(args) <= 2 and set(kwargs) <= {"hx"}
        return packed.through(self, mod, args[0], node) if ok else UNKNOWN  # (hx does not change the shapes)

    def _with_extra(self, layer: Layer, args, kwargs, node):
        """A layer whose forward() takes more tensors: attention's key and
        value (their shapes handed to the rule), a recurrent layer's hx (not
        read), an EmbeddingBag's offsets (only whether there are any).
        Other keywords (masks, need_weights) do not change the shapes."""
        names = layer.spec.extra
        first = "query" if "key" in names else "input"  # forward()'s name for the input (attention's, the others')
        if not args and first in kwargs:
            args, kwargs = [kwargs[first]], {k: v for k, v in kwargs.items() if k != first}
        given = dict(zip(names, args[1:]))
        given.update((k, v) for k, v in kwargs.items() if k in names)
        x = as_tensor(args[0]) if args else None
        if x is None or len(args) > 1 + len(names) or layer.args is None:
            return UNKNOWN
        read = {k: v for k, v in given.items() if k not in _UNREAD and k not in _SIZES}
        if any(type(v) is not Tensor for v in read.values()):
            return UNKNOWN
        read = {k: v.shape for k, v in read.items()}
        read.update((k, True) for k, v in given.items() if k in _GIVEN and v is not None)
        read.update((k, _size_value(v)) for k, v in given.items() if k in _SIZES)
        bound = Args({**layer.args.values, **read}) if read else layer.args
        return self.apply_layer(layer, x, node, bound)

    def apply_layer(self, layer, x: Tensor, call_node, bound=None):
        budget = self.budget
        budget.steps += 1  # tick() inlined: a step per layer applied
        if budget.steps > budget.limit:
            raise OutOfBudget()
        kind = type(layer)  # the value classes have no subclasses
        if kind is Instance:
            out = self.call_instance(layer, [x], {}, call_node)
            return out if isinstance(out, Tensor) else Tensor(Shape.unknown())
        if kind is not Layer:
            return Tensor(Shape.unknown())
        rec = self.rec
        if layer.kind == "Sequential" or layer.kind in CHAINS:
            return self._apply_chain(layer, x, call_node)
        spec, args = layer.spec, (layer.args if bound is None else bound)
        trace = rec.log.trace
        if spec is None or args is None:
            if trace is not None:
                trace.append((layer, x.shape, None, ()))
                if not x.shape.open:
                    rec.log.stop(layer.node.lineno, layer.display, "layer not modelled" if spec is None else "its arguments are not known")
            return Tensor(Shape.unknown())
        shape = x.shape
        key = (id(args), shape.dims, shape.open, shape.factors)  # hashed and compared in C
        got = self.outcomes.get(key)
        if got is not None and got[0] is args:
            outcome = got[1]
        else:
            outcome = apply(spec, args, shape, layer.display, layer.kind)
            self.outcomes[key] = (args, outcome)
        if outcome.faults and x.choices is not None:  # a wrong view's other size this layer takes: the one to change
            shape, outcome = self._pick_view(x.choices, spec, args, layer) or (shape, outcome)
        if trace is not None:
            _trace(rec.log, layer, shape, outcome)
        faults = outcome.faults
        node = layer.node
        at = (node.lineno, node.col_offset)  # place(), inlined
        if rec.run is not None:
            at = self._note_use(rec, layer, shape, faults, at, call_node)
        if layer.kind == "Linear" and shape.dims and shape.dims[-1] is None and self.search_width(layer, x, at) and faults:
            rec.run.drop(at, "linear_multiple")  # the search's verdict says more: for which input sizes
        out = outcome.shape
        if out is None:
            # a layer that gives back the shape it takes does so whatever its
            # arguments (`nn.PReLU(c)`, c unknown) and whatever it refused
            out = shape if spec.keeps_shape else Shape.unknown()
        if not x.root and x.origin is None:  # not from the model's input: no history to keep
            y = Tensor(out)
        else:
            step = lambda s: _clean(apply(spec, args, s, layer.display, layer.kind))  # noqa: E731
            y = Tensor(out, (x, step, layer, spec.axes))
        return y if spec.returns is None else returned(spec, args, shape, y)

    def _apply_chain(self, layer: Layer, x: Tensor, call_node):
        """An nn.Sequential (or a layer that runs its children so) applied: its children in turn."""
        rec = self.rec
        rec.log.applied.add(id(layer))
        if layer.children is None:
            return self._open_chain(layer, x) if layer.repeat is not None else Tensor(Shape.unknown())
        where = call_node if call_node is not None else layer.node
        if rec.entry is None and zoo_read() and where is not None and not in_zoo(where.lineno):
            # the file's nn.Sequential over parts of a torchvision model: their faults are reported at it
            rec.entry = (place(where), "a torchvision model")
            try:
                out = self._chain(layer.children, x)
            finally:
                rec.entry = None
        else:
            out = self._chain(layer.children, x)
        if rec.log.trace is not None and type(out) is Tensor:
            rec.log.trace.append((layer, None, out.shape, ()))  # what a part gives as a whole (show.py)
        return out

    def _pick_view(self, choices, spec, args, layer: Layer):
        """A wrong view's output whose first taker refuses it: the view's other size that makes this layer
        fit, said at the view instead of its last size (the run's report there is replaced). (shape, outcome)."""
        fault, node, options = choices
        at, run = place(node), self.rec.run
        if run is None or not any(f.place == at and f.fault is fault for f in run.found.values()):
            return None  # reported in another run or side: not this one's to change
        for index, old_size, value, shape in options:
            outcome = apply(spec, args, shape, layer.display, layer.kind)
            if not outcome.faults and outcome.shape is not None:
                old = fault.fields
                fields = {k: old[k] for k in ("text", "count", "shape", "want") if k in old}
                fields.update(at=index, old=old_size, value=value, divides=old.get("divides"))
                run.drop(at, fault.msg)
                self.rec.report([Fault("CNS005", "view_at", fault.layer, fields, value=value, at_use=True)], at, None, node)
                return shape, outcome
        return None

    def _open_chain(self, layer: Layer, x: Tensor):
        """An nn.Sequential of a list that holds a Repeated (open_loops.py): its
        items before, then the blocks repeated any number of times (known only
        when they give back the shape they take, or its channels with sides
        nobody knows: upsampling blocks), then the items after."""
        head, blocks, tail = open_parts(layer)
        x = self._chain(head, x)
        if type(x) is not Tensor or UNKNOWN in blocks:
            return Tensor(Shape.unknown())
        y = self._chain(blocks, x)
        if type(y) is not Tensor or y.shape != x.shape:
            # none of them gives x; any count gives the channels when one gives them back from any sides
            sides = Shape(x.shape.dims[:1] + (None,) * (x.shape.rank - 1)) if not x.shape.open and x.shape.rank > 1 else None
            if sides is None or type(y) is not Tensor or y.shape.open or y.shape.dims[:1] != sides.dims[:1]:
                return Tensor(Shape.unknown())
            z = self._chain(blocks, Tensor(sides))
            if type(z) is not Tensor or z.shape != sides:
                return Tensor(Shape.unknown())
            return self._chain(tail, Tensor(sides))
        return self._chain(tail, Tensor(x.shape))  # no history: the count of blocks it went through is not known

    def _chain(self, children, x):
        """An nn.Sequential's (or a chain's) children, one after another."""
        for child in children:
            if type(x) is not Tensor:  # what an LSTM returns: a tuple, which only a module of the file takes
                if type(child) is not Instance:
                    return Tensor(Shape.unknown())
                x = self.call_instance(child, [x], {}, None)
                continue
            x = self.apply_layer(child, x, None)
        return x

    def _note_use(self, rec: Recorder, layer: Layer, shape: Shape, faults, at, call_node):
        """What the run notes of one use of a layer: where its faults stand (at
        the later call when an earlier use fitted) and whether the input was
        the model's. Returns the place."""
        run, spec = rec.run, layer.spec
        lid = id(layer)
        first = run.uses.get(lid) if run.parent is None else run.first_use(lid)
        if first is None:
            run.uses[lid] = (place(call_node) if call_node is not None else at, not faults)
        elif first[1] and faults and call_node is not None:
            at = place(call_node)  # fits at its first use, not at this one
        if not faults and run.accepted is not None:  # (the commonest: nothing more to note)
            run.visited.add(at)
            return at
        # a layer that sees only part of the input's size, or whose own size
        # is not known, says nothing of whether the input is the model's
        sized = spec.sized and not shape.open and shape.numel() is not None
        if sized and layer.args.values[spec.size_param] is UNKNOWN:
            if run.accepted is None:
                run.accepted = False  # the first sized layer cannot tell: an inferred size is not taken
            sized = False
        if faults:
            rec.report(faults, at, layer, call_node, sized=sized)
        elif run.accepted is None and sized:
            run.visit(at, True)
        else:
            run.visited.add(at)
        return at

    def call_instance(self, inst: Instance, args, kwargs, node):
        forward = inst.cls.bound_method("forward", inst)
        if not inst.cls.is_module:
            return UNKNOWN
        if forward is None:
            base = inst.attrs.get(BASE)
            if base is not None:  # a subclass of a torch layer: torch's forward
                return self.call_module(base, args, kwargs, node)
            if inst.cls.derives("torch.nn.Sequential") and len(args) == 1 and not kwargs and type(args[0]) is Tensor:
                return self.sequential_forward(inst, args[0], node)  # nn.Sequential.forward of a subclass
            return UNKNOWN
        args = [Tensor(Shape.unknown()) if a is UNKNOWN else a for a in args]
        key, seqs, given = self.replays.find(inst, args, kwargs)
        if given is not None:
            return given
        rec, budget, mutation = self.rec, self.budget, self.mutation
        faults, steps, clock, built = rec.faults, budget.steps, mutation.clock, len(rec.log.built)
        entering = rec.entry is None and node is not None and not in_zoo(node.lineno) and in_zoo(inst.cls.node.lineno)
        if entering:
            rec.entry = (place(node), f"torchvision's {inst.cls.name}")
        elif rec.entry is None and inst.cls.node.lineno >= FOREIGN_LINE and inst.node is not None and inst.node.lineno < FOREIGN_LINE:
            # a class of another file of the project that this file builds: a fault inside it is reported at the build
            entering, rec.entry, rec.entry_foreign = True, (place(inst.node), inst.cls.name), True
        try:
            out = self.calls.call_function(forward, args, kwargs)
        finally:
            if entering:
                rec.entry, rec.entry_foreign = None, False
        if rec.log.trace is not None and type(out) is Tensor:
            rec.log.trace.append((inst, None, out.shape, ()))  # what a part gives as a whole (show.py)
        if faults == rec.faults and rec.run is not None and inst.made is not None:
            rec.ran_clean(inst)
            if key is not None and mutation.clock == clock and len(rec.log.built) == built:
                self.replays.keep(key, seqs, args[0], out, budget.steps - steps)
        return out

    def sequential_forward(self, inst: Instance, x: Tensor, node) -> Tensor:
        """nn.Sequential.forward of a subclass's instance: its modules one after another."""
        kids = children(inst)
        if kids is UNKNOWN:
            return Tensor(Shape.unknown())
        for child in kids:
            x = self.apply_layer(child, x, None)
        return x

    # -- the size search ---------------------------------------------------
    def search_width(self, layer: Layer, x: Tensor, at) -> bool:
        """A Linear whose incoming width depends on the input size, in a
        model whose input size nobody gave: does any size fit? True when
        the search reported its verdict."""
        run = self.rec.run
        if run is None or at in run.searched:
            return False
        run.searched.add(at)
        steps = []
        t = x
        kinds = []
        while t.origin is not None and len(steps) < 200:
            parent, step, src_layer, axes = t.origin
            steps.append((step, src_layer))
            kinds.append(axes)
            t = parent
        if not t.root or not steps:
            return False
        steps.reverse()
        kinds.reverse()
        # each spatial axis must be worked out from itself alone (no transpose,
        # no reshape), then flattened once, with only elementwise ops after it
        if "other" in kinds or kinds.count("flatten") != 1:
            return False
        if any(k != SAME for k in kinds[kinds.index("flatten") + 1:]):
            return False
        first = steps[0][1]
        if first is None or first.args is None or first.kind not in _SPATIAL_FIRST:
            return False
        n = int(first.kind[-2])
        try:
            channels = first.args.int("in_channels")
            want = layer.args.int("in_features")
        except Unknowable:
            return False

        replay = _replayer(steps, kinds, channels, self.budget)
        from ..shapes.search import search  # only models nobody gives a size for need it

        verdict = search(replay, n, want)
        if verdict is None:
            return False
        self.rec.report([_width_fault(layer, want, verdict, replay, channels, n)], at, layer, None)
        return True


def _size_value(v):
    """A size argument as a rule reads it: None, a tuple of ints (a side
    nobody knows, or the batch, as UNKNOWN), or UNKNOWN."""
    if v is None:
        return None
    if type(v) is not tuple and type(v) is not list:
        return UNKNOWN
    return tuple(int(d) if type(d) is SizeInt or type(d) is int else UNKNOWN for d in v)


def returned(spec, args, shape: Shape, out: Tensor):
    """What a layer that returns more than its output returns (an LSTM's
    `(output, (h_n, c_n))`), spec.returns saying what; the output alone
    where it is not known (nothing after it is then known either)."""
    try:
        structure = spec.returns(args, shape, out.shape) if not out.shape.open or out.shape.dims else None
    except RULE_GIVES_UP:
        structure = None
    return out if structure is None else _value(structure, out)


def _value(part, out: Tensor):
    if part == "out":
        return out
    if type(part) is tuple and part and all(type(p) is tuple or p is None or p == "out" for p in part):
        return tuple(_value(p, out) for p in part)
    return value_of(part, True)


def _trace(log, layer, shape: Shape, outcome) -> None:
    """A layer applied, for `cnnshape show`: what it gave (a layer that keeps
    its shape gives it, known or not its arguments), where the shape ended."""
    keeps = layer.spec.keeps_shape
    log.trace.append((layer, shape, shape if outcome.shape is None and keeps and not outcome.faults else outcome.shape,
                      outcome.faults))
    if outcome.shape is None and not shape.open and not keeps:
        log.stop(layer.node.lineno, layer.display, _why_unknown(outcome.faults))


def _why_unknown(faults) -> str:
    if faults:
        return f"its {faults[0].code} leaves no shape to go on with"
    return "some of its arguments are not known"


def _replayer(steps, kinds, channels: int, budget):
    """The shape the chain of steps makes of an input of the given sides."""
    # what the rest of the chain makes of the shape at step i: after a few
    # strided layers most sides tried meet ones tried before
    rest: dict = {}
    # an elementwise layer (ReLU, Dropout) depends on the rank and the
    # channels alone, which the sides do not change: once it passed, it passes
    same = {i for i, (_, src) in enumerate(steps) if src is not None and kinds[i] == SAME}
    passes: set = set()

    def replay(sides):
        s = Shape((channels,) + tuple(sides))
        passed = []
        for i, (step, _) in enumerate(steps):
            if i in passes and 0 not in s.dims:
                continue
            key = (i, s)
            if key in rest:
                s = rest[key]
                break
            passed.append(key)
            budget.tick(1)
            s = step(s)
            if s is None:
                break
            if i in same:
                passes.add(i)
        for key in passed:
            rest[key] = s
        return s

    return replay


def _width_fault(layer: Layer, want: int, verdict, replay, channels: int, n: int) -> Fault:
    name = layer.display
    if verdict.fits:
        fields = {"want": want, "channels": verdict.channels, "sizes": verdict.sizes, "sides": verdict.sides}
        return Fault("CNS100", "assumes_inputs", name, fields, kind=layer.kind)
    axes = " x ".join(["H'", "W'"][:n] if n == 2 else ["L'"] if n == 1 else ["D'", "H'", "W'"])
    examples = _examples(replay, channels, n)
    if want % verdict.channels:
        fields = {"want": want, "channels": verdict.channels, "axes_text": axes, "examples": examples}
        return Fault("CNS001", "width_multiple", name, fields, kind=layer.kind)
    fields = {"want": want, "channels": verdict.channels, "axes_text": axes, "ranges": verdict.ranges, "examples": examples}
    return Fault("CNS001", "width_out_of_reach", name, fields, kind=layer.kind)


def _examples(replay, channels: int, n: int) -> tuple:
    """What the width is for two common input sizes: ((3136, (64, 7, 7),
    (1, 28, 28)), ...), so the number to write can be read off."""
    out: List[tuple] = []
    for side in _EXAMPLE_SIDES:
        s = replay((side,) * n)
        if s is not None and s.dims and s.dims[-1] is not None and len(s.dims) == 1:
            out.append((s.dims[0], s.factor_of(0), (channels,) + (side,) * n))
        if len(out) == 2:
            break
    return tuple(out)
