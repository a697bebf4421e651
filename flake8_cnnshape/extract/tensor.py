"""Tensor operations for the interpreter: calling layers and models, functional
ops, tensor methods and arithmetic. Shape arithmetic itself is the engine's;
this module decides which rule applies and where a fault is reported."""
from __future__ import annotations

import ast
from functools import lru_cache
from typing import TYPE_CHECKING, Dict, List

from ..diagnostics import describe_input
from ..shapes import BATCH, UNKNOWN, Fault, Shape, apply, bind
from ..shapes.shape import render_factors
from ..shapes.functional import FUNCTIONS, METHODS, permute, reshape, same_shape
from ..shapes.misc import _ACT
from ..shapes.registry import RULE_GIVES_UP, Ctx, Unknowable
from .builds import sequentials_if_unchanged
from .run import Found
from .scope import OutOfBudget
from .values import Instance, Layer, Method, SizeInt, Tensor

if TYPE_CHECKING:  # pragma: no cover
    from .interp import Interp

_SPATIAL_FIRST = {f"{k}{n}d" for k in ("Conv", "ConvTranspose") for n in (1, 2, 3)}
FACTORIES = ("torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty", "torch.full", "torch.randint")


_ELEMENTWISE_LAYERS = {"Identity", "Dropout", "AlphaDropout", "FeatureAlphaDropout", "Dropout1d", "Dropout2d", "Dropout3d",
                       "Softmax", "LogSoftmax", "Softmin", "PReLU", "Threshold"}
_AXISWISE = ("Conv", "ConvTranspose", "LazyConv", "LazyConvTranspose", "MaxPool", "AvgPool", "LPPool", "AdaptiveAvgPool",
             "AdaptiveMaxPool", "BatchNorm", "LazyBatchNorm", "InstanceNorm", "LazyInstanceNorm", "ZeroPad", "ConstantPad",
             "ReflectionPad", "ReplicationPad", "CircularPad")


@lru_cache(maxsize=None)
def _layer_kind(kind: str) -> str:
    """How a layer treats the spatial axes, for the size search: "same"
    (elementwise), "axis" (each axis from itself), "flatten", or "other"."""
    if kind in _ACT or kind in _ELEMENTWISE_LAYERS:
        return "same"
    if kind == "Flatten":
        return "flatten"
    if kind.rstrip("123d") in _AXISWISE or kind in ("GroupNorm", "LocalResponseNorm", "Upsample", "UpsamplingNearest2d",
                                                    "UpsamplingBilinear2d"):
        return "axis"
    return "other"


@lru_cache(maxsize=None)
def _op_kind(name: str) -> str:
    op = name.split(".")[-1]
    if op == "flatten":
        return "flatten"
    if op.rstrip("123d") in ("max_pool", "avg_pool", "lp_pool", "adaptive_avg_pool", "adaptive_max_pool") or op in ("interpolate", "upsample", "pad"):
        return "axis"
    if op in ("transpose", "permute", "unsqueeze", "squeeze", "mean", "sum", "amax", "glu"):
        return "other"
    return "same"


def _clean(outcome):
    """A replayed step that would fail at this size (any fault) does not run."""
    return None if outcome.faults else outcome.shape


_NO_FAULTS: List[Fault] = []


def _unchanged(s):
    return s


class _Replay:
    """What a block's forward() did in a run, to give again for an equal block
    (a copy of the same build, nothing in either changed since) called in the
    same run with the same input shape: the call found no fault, changed
    nothing, built no nn.Sequential, and its visits and sides are this run's
    already. Giving it again takes its steps, marks its nn.Sequentials as
    reached, and returns its shape with the size search's history rebuilt
    on the new input."""

    __slots__ = ("steps", "applied", "count", "shape", "links")

    def __init__(self, steps: int, applied: List[int], count: int, shape: Shape, links):
        self.steps = steps
        self.applied = applied  # positions in sequentials_if_unchanged()
        self.count = count
        self.shape = shape
        self.links = links  # None: the output has no history; else the steps from the input

    def give(self, interp, seqs, x: Tensor, inst: Instance):
        interp.tick(self.steps)
        for i in self.applied:
            interp.applied.add(id(seqs[i]))
        interp.note_clean(inst)
        if self.links is None:
            return Tensor(self.shape)
        t = x
        for shape, origin in self.links:
            t = Tensor(shape, (t,) + origin)
        return t


def _links(out: Tensor, x: Tensor):
    """How out came from x, first step first: ((shape, (step, layer, kind))...);
    None for a plain tensor when it has no history; False (not kept) when its
    history does not lead back to x."""
    if out.origin is None and out is not x:
        return None if not out.root else False
    links = []
    t = out
    while t is not x:
        if t.origin is None or len(links) >= 200:
            return False
        links.append((t.shape, t.origin[1:]))
        t = t.origin[0]
    links.reverse()
    return links


def _from_input(t: Tensor) -> bool:
    """Does t come from the model's input? Only such a tensor's chain is ever
    replayed (search_width), so only its children need an origin."""
    return t.root or t.origin is not None


def place(node) -> tuple:
    return (node.lineno, node.col_offset)


def _display(qual: str) -> str:
    if qual.startswith("torch.nn.functional."):
        return "F." + qual[len("torch.nn.functional."):]
    return qual


def _as_tensor(v):
    """A value passed where a tensor is expected; unknown values are tensors
    we know nothing about."""
    if isinstance(v, Tensor):
        return v
    return Tensor(Shape.unknown()) if v is UNKNOWN else None


class TensorOps:
    def __init__(self, interp: "Interp"):
        self.interp = interp
        # one rule run per (constructor arguments, input shape): copies of a
        # build share their Args, and equal blocks see equal shapes
        self.outcomes: Dict[tuple, tuple] = {}
        self.faults = 0  # faults reported so far, in any run

    # -- reporting -------------------------------------------------------
    def report(self, faults: List[Fault], at: tuple, layer_node=None, call_node=None, sized: bool = False) -> None:
        run = self.interp.run
        if run is None:
            return
        run.visit(at, sized, not faults)
        self.faults += len(faults)
        for f in faults:
            run.add(Found(at, f, layer_node, call_node))

    # -- modules ---------------------------------------------------------
    def call_module(self, mod, args, kwargs, node):
        if isinstance(mod, Instance):
            return self.call_instance(mod, args, kwargs, node)
        x = _as_tensor(args[0]) if len(args) == 1 and not kwargs else None
        if x is None:
            if isinstance(mod, Layer) and mod.kind == "Sequential":
                # the model feeds it a tuple or more: checking it on its own
                # with one tensor, as for a part never reached, is a guess
                self.interp.applied.add(id(mod))
            return UNKNOWN
        return self.apply_layer(mod, x, node)

    def apply_layer(self, layer, x: Tensor, call_node) -> Tensor:
        interp = self.interp
        interp.steps += 1  # tick() inlined: a step per layer applied
        if interp.steps > interp.limit:
            raise OutOfBudget()
        kind = type(layer)  # the value classes have no subclasses
        if kind is Instance:
            out = self.call_instance(layer, [x], {}, call_node)
            return out if isinstance(out, Tensor) else Tensor(Shape.unknown())
        if kind is not Layer:
            return Tensor(Shape.unknown())
        if layer.kind == "Sequential":
            interp.applied.add(id(layer))
            if layer.children is None:
                return Tensor(Shape.unknown())
            for child in layer.children:
                x = self.apply_layer(child, x, None)
            return x
        spec, args = layer.spec, layer.args
        if spec is None or args is None:
            self._trace(layer, x.shape, None)
            return Tensor(Shape.unknown())
        shape = x.shape
        key = (id(args), shape.dims, shape.open, shape.factors)  # hashed and compared in C
        got = self.outcomes.get(key)
        if got is not None and got[0] is args:
            outcome = got[1]
        else:
            outcome = apply(spec, args, shape, layer.display)
            self.outcomes[key] = (args, outcome)
        if interp.trace is not None:
            self._trace(layer, shape, outcome.shape)
        run = interp.run
        faults = outcome.faults
        node = layer.node
        at = (node.lineno, node.col_offset)  # place(), inlined
        if run is not None:
            lid = id(layer)
            first = run.uses.get(lid) if run.parent is None else run.first_use(lid)
            if first is None:
                run.uses[lid] = (place(call_node) if call_node is not None else at, not faults)
            elif first[1] and faults and call_node is not None:
                at = place(call_node)  # fits at its first use, not at this one
            # a layer that sees only part of the input's size says nothing of it
            if faults:
                self.report(faults, at, layer.node, call_node, sized=spec.sized and not shape.open and shape.numel() is not None)
            elif run.accepted is None and spec.sized and not shape.open and shape.numel() is not None:
                run.visit(at, True)
            else:
                run.visited.add(at)
        if layer.kind == "Linear" and shape.dims and shape.dims[-1] is None:
            self.search_width(layer, x, at)
        out = outcome.shape if outcome.shape is not None else Shape.unknown()
        if not x.root and x.origin is None:  # not _from_input(x)
            return Tensor(out)
        step = lambda s: _clean(apply(spec, args, s, layer.display))  # noqa: E731
        return Tensor(out, (x, step, layer, _layer_kind(layer.kind)))

    def search_width(self, layer: Layer, x: Tensor, at) -> None:
        """A Linear whose incoming width depends on the input size, in a
        model whose input size nobody gave: does any size fit?"""
        run = self.interp.run
        if run is None or at in run.searched:
            return
        run.searched.add(at)
        steps = []
        t = x
        kinds = []
        while t.origin is not None and len(steps) < 200:
            parent, step, src_layer, kind = t.origin
            steps.append((step, src_layer))
            kinds.append(kind)
            t = parent
        if not t.root or not steps:
            return
        steps.reverse()
        kinds.reverse()
        # each spatial axis must be worked out from itself alone (no transpose,
        # no reshape), then flattened once, with only elementwise ops after it
        if "other" in kinds or kinds.count("flatten") != 1:
            return
        if any(k != "same" for k in kinds[kinds.index("flatten") + 1:]):
            return
        first = steps[0][1]
        if first is None or first.args is None or first.kind not in _SPATIAL_FIRST:
            return
        n = int(first.kind[-2])
        try:
            channels = first.args.int("in_channels")
            want = layer.args.int("in_features")
        except Unknowable:
            return

        def replay(sides):
            self.interp.tick(len(steps))
            s = Shape((channels,) + tuple(sides))
            for step, _ in steps:
                s = step(s)
                if s is None:
                    return None
            return s

        from ..shapes.search import search  # only models nobody gives a size for need it

        verdict = search(replay, n, want)
        if verdict is None:
            return
        axes = " x ".join(["H'", "W'"][:n] if n == 2 else ["L'"] if n == 1 else ["D'", "H'", "W'"])
        name = layer.display
        if verdict.fits:
            sides = " x ".join(f"{a}..{b}" if a != b else str(a) for a, b in verdict.sides)
            sizes = " x ".join(str(v) for v in verdict.sizes)
            msg = f"{name} in_features={want} ({verdict.channels} x {sizes}) assumes inputs of {sides}"
            self.report([Fault("CNS100", msg, at_use=False)], at, layer.node, None)
        elif want % verdict.channels:
            msg = (f"{name} expects in_features={want} but receives {verdict.channels} x {axes}, "
                   f"a multiple of {verdict.channels}, for every input size{_examples(replay, channels, n)}")
            self.report([Fault("CNS001", msg)], at, layer.node, None)
        else:
            ranges = ", ".join(f"{a}..{b}" for a, b in verdict.ranges)
            msg = (f"{name} expects in_features={want} but no input from 1 to 4096 per side gives it: "
                   f"it receives {verdict.channels} x {axes} with {axes.replace(' x ', ', ')} in {ranges}"
                   f"{_examples(replay, channels, n)}")
            self.report([Fault("CNS001", msg)], at, layer.node, None)

    def _trace(self, layer: Layer, x: Shape, out) -> None:
        """`cnnshape show` asks for every leaf layer applied, in order."""
        if self.interp.trace is not None:
            self.interp.trace.append((layer, x, out))

    def call_instance(self, inst: Instance, args, kwargs, node):
        forward = inst.cls.bound_method("forward", inst)
        if forward is None or not inst.cls.is_module:
            return UNKNOWN
        args = [Tensor(Shape.unknown()) if a is UNKNOWN else a for a in args]
        interp = self.interp
        run = interp.run
        key = seqs = None
        if inst.key in interp.copied and run is not None and interp.trace is None and len(args) == 1 and not kwargs:
            # a block the build cache copied, as built: a call this run made
            # already, with the same shape in, is given again (see _Replay)
            x = args[0]
            if type(x) is Tensor:
                seqs = sequentials_if_unchanged(inst, interp.changed)
                if seqs is not None:
                    s = x.shape
                    key = (inst.key, s.dims, s.open, s.factors, x.root, x.origin is not None)
                    got = run.replays.get(key)
                    if got is not None and got.count == len(seqs):
                        return got.give(interp, seqs, x, inst)
        faults, steps, clock, created = self.faults, interp.steps, interp.clock, len(interp.created)
        out = interp.call_function(forward, args, kwargs)
        if faults == self.faults and interp.run is not None and inst.made is not None:
            interp.note_clean(inst)
            if key is not None and interp.clock == clock and len(interp.created) == created and type(out) is Tensor:
                links = _links(out, args[0])
                if links is not False:
                    applied = interp.applied
                    run.replays[key] = _Replay(interp.steps - steps, [i for i, q in enumerate(seqs) if id(q) in applied],
                                               len(seqs), out.shape, links)
        return out

    # -- torch.* and F.* ---------------------------------------------------
    def call_torch(self, qual: str, args, kwargs, node):
        spec = FUNCTIONS.get(qual)
        if spec is not None:
            return self.functional(spec, _display(qual), args, kwargs, node)
        if qual in FACTORIES:
            return self.factory(qual, args, kwargs)
        if qual == "torch.cat" or qual == "torch.concat" or qual == "torch.concatenate":
            return self.cat(args, kwargs, node)
        if qual == "torch.reshape" and len(args) == 2 and not kwargs:
            return self.reshape(args[0], args[1], "torch.reshape", node)
        if qual in ("torch.add", "torch.mul", "torch.sub") and len(args) == 2 and not kwargs:
            return self.binary(node, args[0], args[1])
        if qual == "torch.permute" and len(args) == 2:
            return self.permute(args[0], args[1])
        return UNKNOWN

    def functional(self, spec, name: str, args, kwargs, node):
        if spec.rule is same_shape and args and "input" not in kwargs:
            # F.relu(x) and its kind, a third of these calls: what binding
            # and the rule would give, without them
            x = _as_tensor(args[0])
            if x is None:
                return UNKNOWN
            self.report(_NO_FAULTS, place(node), None, node)
            return Tensor(x.shape, (x, _unchanged, None, _op_kind(name)) if _from_input(x) else None)
        bound = bind(spec.sig, list(args), dict(kwargs))
        if bound is None:
            return UNKNOWN
        x = _as_tensor(bound.values.get("input"))
        if x is None:
            return UNKNOWN
        ctx = Ctx(name)
        try:
            out = spec.rule(bound, x.shape, ctx)
        except RULE_GIVES_UP:
            out, ctx.faults = None, []
        self.report(ctx.faults, place(node), None, node)
        if not _from_input(x):
            return Tensor(out if out is not None else Shape.unknown())

        def step(s, rule=spec.rule, bound=bound, name=name):
            ctx = Ctx(name)
            try:
                out = rule(bound, s, ctx)
            except RULE_GIVES_UP:
                return None
            return None if ctx.faults else out

        return Tensor(out if out is not None else Shape.unknown(), (x, step, None, _op_kind(name)))

    def factory(self, qual, args, kwargs):
        dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        if qual in ("torch.full",):
            dims = args[0] if args else ()
        if qual == "torch.randint":
            dims = kwargs.get("size", args[-1] if args else ())
        dims = list(dims) if isinstance(dims, (tuple, list)) else []
        if len(dims) < 2 or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
            return Tensor(Shape.unknown())
        return Tensor(Shape(tuple(dims[1:])))

    def cat(self, args, kwargs, node):
        tensors = args[0] if args else kwargs.get("tensors", UNKNOWN)
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        items = self.interp.iterate(tensors)
        if items is UNKNOWN or not items or not isinstance(dim, int) or isinstance(dim, bool):
            return UNKNOWN
        if not all(isinstance(t, Tensor) and not t.shape.open for t in items):
            return Tensor(Shape.unknown())
        ranks = {t.shape.rank for t in items}
        if len(ranks) != 1:
            return Tensor(Shape.unknown())
        rank = ranks.pop()
        full = rank + 1
        if not -full <= dim < full or dim % full == 0:
            return Tensor(Shape.unknown())
        i = dim % full - 1
        out = []
        for k in range(rank):
            col = [t.shape.dims[k] for t in items]
            if k == i:
                out.append(None if any(c is None for c in col) else sum(col))
                continue
            known = {c for c in col if c is not None}
            if len(known) > 1:
                shapes = ", ".join(t.shape.describe() for t in items)
                self.report([Fault("CNS008", f"torch.cat along dim {dim} needs the other dims to agree but receives {shapes}")], place(node), None, node)
                return Tensor(Shape.unknown())
            out.append(known.pop() if known and len(known) == 1 and all(c is not None for c in col) else None)
        return Tensor(Shape(tuple(out)))

    # -- tensor methods and attributes -------------------------------------
    def attribute(self, t: Tensor, attr: str):
        if attr == "shape":
            return self.sizes(t)
        if attr in ("data",):
            return t
        return Method(t, attr)

    def sizes(self, t: Tensor):
        if t.shape.open:
            return UNKNOWN
        return (BATCH,) + tuple(UNKNOWN if d is None else SizeInt(d) for d in t.shape.dims)

    def index(self, t: Tensor, key):
        return UNKNOWN

    def method(self, t: Tensor, name: str, args, kwargs, node):
        if name == "size":
            sizes = self.sizes(t)
            if not args and not kwargs:
                return sizes
            d = args[0] if args else kwargs.get("dim")
            if sizes is UNKNOWN or not isinstance(d, int) or isinstance(d, bool):
                return UNKNOWN if d != 0 else BATCH
            try:
                return sizes[d]
            except IndexError:
                return UNKNOWN
        if name == "dim" and not args:
            return UNKNOWN if t.shape.open else t.shape.rank + 1
        if name in ("view", "reshape"):
            target = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
            return self.reshape(t, target, f"x.{name}", node)
        if name == "view_as" and len(args) == 1 and isinstance(args[0], Tensor):
            return args[0]
        if name == "permute":
            order = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
            return self.permute(t, order)
        if name in ("add", "mul", "sub", "add_", "mul_") and len(args) == 1 and not kwargs:
            return self.binary(node, t, args[0])
        spec = METHODS.get(name)
        if spec is not None:
            return self.functional(spec, f"x.{name}", [t] + list(args), kwargs, node)
        return UNKNOWN

    def reshape(self, t, target, name, node):
        t = _as_tensor(t)
        if t is None or not isinstance(target, (tuple, list)):
            return UNKNOWN
        if t.shape.open:
            return Tensor(Shape.unknown())
        text = name + "(" + ", ".join("x.size(0)" if v is BATCH else ("?" if v is UNKNOWN else str(v)) for v in target) + ")"
        ctx = Ctx(name)
        try:
            out = reshape(list(target), t.shape, ctx, text)
        except RULE_GIVES_UP:
            out, ctx.faults = None, []
        folds = target and target[0] == -1 and any(isinstance(v, SizeInt) for v in target[1:])
        if folds and ctx.faults:
            out, ctx.faults = None, []  # the batch absorbs part of each sample; its size is not ours to know
        self.report(ctx.faults, place(node), None, node)
        if not _from_input(t):
            return Tensor(out if out is not None else Shape.unknown())

        def step(s):
            ctx = Ctx(name)
            try:
                out = reshape(list(target), s, ctx, text)
            except RULE_GIVES_UP:
                return None
            return None if ctx.faults else out

        flat = len(target) == 2 and (target[0] is BATCH or target[0] == -1)
        return Tensor(out if out is not None else Shape.unknown(), (t, step, None, "flatten" if flat else "other"))

    def permute(self, t, order):
        if not isinstance(t, Tensor) or not isinstance(order, (tuple, list)):
            return UNKNOWN
        out = permute(list(order), t.shape)
        return Tensor(out if out is not None else Shape.unknown())

    def builtin(self, name, args, node):
        if name == "len" and len(args) == 1 and isinstance(args[0], Tensor):
            return BATCH
        return UNKNOWN

    # -- arithmetic --------------------------------------------------------
    def binary(self, node, a, b):
        """Elementwise arithmetic with broadcasting, batch dims aligned."""
        op = getattr(node, "op", None)
        if isinstance(op, ast.MatMult):
            return Tensor(Shape.unknown())
        ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
        if ta and tb:
            return self.broadcast(node, a.shape, b.shape)
        t, other = (a, b) if ta else (b, a)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return t
        return Tensor(Shape.unknown())

    def broadcast(self, node, x: Shape, y: Shape):
        if x.open or y.open or x.rank != y.rank:
            return Tensor(Shape.unknown())
        out = []
        for p, q in zip(x.dims, y.dims):
            if p is not None and q is not None and p != q and p != 1 and q != 1:
                msg = f"elementwise op needs matching shapes but receives {x.describe()} and {y.describe()}"
                self.report([Fault("CNS008", msg)], place(node), None, node)
                return Tensor(Shape.unknown())
            if p == 1:
                out.append(q)
            elif q == 1:
                out.append(p)
            else:
                out.append(p if p is not None else q)
        return Tensor(Shape(tuple(out)))


def _examples(replay, channels: int, n: int) -> str:
    """What the width is for two common input sizes: `(3136 = 64 x 7 x 7 for
    input (1, 28, 28); ...)`, so the number to write can be read off."""
    out = []
    for side in (28, 32, 64, 224):
        s = replay((side,) * n)
        if s is not None and s.dims and s.dims[-1] is not None and len(s.dims) == 1:
            f = s.factor_of(0)
            inp = describe_input((channels,) + (side,) * n)
            out.append(f"{s.dims[0]}" + (f" = {render_factors(f)}" if f else "") + f" for input {inp}")
        if len(out) == 2:
            break
    return f" (e.g. {'; '.join(out)})" if out else ""


def kwargs_ok(kwargs: Dict[str, object]) -> bool:
    return not kwargs
