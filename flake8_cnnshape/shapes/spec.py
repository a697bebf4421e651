"""What the engine knows of one layer or op, as data.

A LayerSpec holds everything about a torch.nn layer: its constructor
signature, its shape rule, its parameter count, how it treats the spatial
axes (for the size search), the dtype of input it takes, and the name of
its functional twin where torch has one. An OpSpec is the same for a
functional op or tensor method, which has no parameters. The interpreter
knows no layer by name: it looks the spec up and applies it.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Tuple

from ..findings import Fault
from ..records import Record
from .shape import Shape
from .int_args import CHECKED, as_ints, floats
from .signature import RULE_GIVES_UP, Args, Sig, Unknowable

# How a layer or op treats the spatial axes, for the size search (search.py):
SAME = "same"  # elementwise: the shape passes through
AXIS = "axis"  # each spatial axis worked out from that axis alone (conv, pool, pad, resize)
FLATTEN = "flatten"  # merges the sample into one feature dim
OTHER = "other"  # anything else (a Linear, a transpose, a reshape)

# The arguments that fix the channel or feature count a layer is built for:
# such a layer tells whether an input size was meant for the model at all.
SIZE_PARAMS = frozenset({"in_channels", "in_features", "num_features", "num_channels", "normalized_shape", "input_size",
                         "embed_dim", "d_model"})


class Ctx:
    """What a rule reports through."""

    __slots__ = ("layer", "kind", "faults")

    def __init__(self, layer: str, kind: Optional[str] = None):
        self.layer = layer  # display name, e.g. "nn.Linear"
        self.kind = kind  # the torch.nn class, when a layer's rule runs
        self.faults: List[Fault] = []

    def fault(self, code: str, msg: str, fields: dict, param: Optional[str] = None, value: object = None,
              at_use: bool = False, factors: Optional[Tuple[int, ...]] = None) -> None:
        self.faults.append(Fault(code, msg, self.layer, fields, param, value, at_use, factors, self.kind))


Rule = Callable[[Args, Shape, Ctx], Optional[Shape]]
Params = Callable[[Args, Optional[Shape]], int]  # raises Unknowable when it cannot know


def keep_shape(a: Args, x: Shape, ctx: Ctx) -> Shape:
    """The rule of an op that changes no shape and checks nothing (the
    interpreter takes such ops without binding their arguments)."""
    return x


def no_params(a: Args, x: Optional[Shape]) -> int:
    return 0


class LayerSpec(Record):
    __slots__ = ("sig", "rule", "params", "axes", "dtype", "functional", "takes_empty", "keeps_shape", "sized", "size_param",
                 "returns", "extra")
    _fields = ("sig", "rule", "params", "axes", "dtype", "functional", "takes_empty", "keeps_shape", "returns", "extra")

    def __init__(self, sig: Sig, rule: Rule, params: Params, axes: str, dtype: str = "float",
                 functional: Optional[str] = None, takes_empty: bool = False, keeps_shape: Optional[bool] = None,
                 returns: Optional[Callable] = None, extra: Tuple[str, ...] = ()):
        self.sig = sig
        self.rule = rule
        self.params = params  # as sum(p.numel() for p in layer.parameters()) counts them
        self.axes = axes
        self.dtype = dtype  # of the input it takes: "float", or "index" (an embedding)
        self.functional = functional  # the qualified name of its functional twin (torch.nn.functional.max_pool2d)
        # the rule knows what torch (on the CPU) does with an empty dim
        self.takes_empty = takes_empty
        # whenever it runs, its output has its input's shape (an activation, a
        # norm): after a fault the analysis goes on with that shape, which is
        # what the layer gives once fixed (BatchNorm2d -> BatchNorm1d)
        self.keeps_shape = axes == SAME if keeps_shape is None else keeps_shape
        # the argument that fixes the channel or feature count it is built for, if any
        self.size_param = next((p for p in sig.params if p in SIZE_PARAMS), None)
        self.sized = self.size_param is not None
        # what forward() returns besides the output, when more than it (an
        # LSTM's (output, (h_n, c_n))): returns(args, input, output) gives the
        # structure, "out" for the output, whole shapes (B the batch) or None
        self.returns = returns
        # the tensors forward() takes after the input (the key and value of
        # attention, which the rule reads from args; a recurrent layer's hx, unread)
        self.extra = extra


class OpSpec(Record):
    """A functional op or tensor method: bound like the torch function, its
    tensor argument named `input`."""

    __slots__ = _fields = ("sig", "rule", "axes")

    def __init__(self, sig: Sig, rule: Rule, axes: str):
        self.sig = sig
        self.rule = rule
        self.axes = axes


class Outcome(Record):
    __slots__ = _fields = ("shape", "faults")

    def __init__(self, shape: Optional[Shape], faults: Optional[List[Fault]] = None):
        self.shape = shape
        self.faults = faults if faults is not None else []


def apply(spec: LayerSpec, args: Args, x: Shape, layer: str, kind: Optional[str] = None) -> Outcome:
    """Run one rule. Anything the rule cannot know makes the output unknown."""
    ctx = Ctx(layer, kind)
    if 0 in x.dims and not spec.takes_empty:
        # Empty tensors: torch's kernels disagree about them (some raise, some
        # run and keep or drop the empty dim), so no rule follows one.
        return Outcome(None, [])
    floated: List[Fault] = []
    if kind in CHECKED:
        bad = floats(kind, args)
        if bad:  # torch builds or runs none of it: said once, then on as if each were the int it stands for
            order = spec.sig.params
            names = sorted((p for p, _ in bad), key=lambda p: order.index(p) if p in order else len(order))
            ctx.fault("CNS011", "float_arg", {"params": names}, param=names[0])
            floated = list(ctx.faults)
            args = as_ints(args, bad)
            if args is None:
                return Outcome(None, floated)
    try:
        out = spec.rule(args, x, ctx)
    except RULE_GIVES_UP:
        return Outcome(None, floated)
    return Outcome(out, ctx.faults)


def count_params(spec: Optional[LayerSpec], args: Optional[Args], x: Optional[Shape]) -> Optional[int]:
    """Parameters of one layer (a lazy one sized by its input x), or None
    when they cannot be known."""
    if spec is None or args is None:
        return None
    try:
        return spec.params(args, x)
    except (Unknowable, TypeError, ValueError):
        return None
