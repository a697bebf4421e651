"""Tensor operations in forward(): torch.* and F.* ops, tensor methods and
attributes, view/reshape, torch.cat, the tensor factories, and arithmetic
with broadcasting. The shape arithmetic itself is the engine's (shapes/);
this decides which rule applies and where a fault is reported (at the op's
call). A tensor that comes from the model's input keeps how it was made,
for the size search to replay."""
from __future__ import annotations

import ast
from math import prod
from typing import List, TYPE_CHECKING

from ..findings import Fault
from ..shapes.catalog import FUNCTIONS, METHODS
from ..shapes.rules.elementwise import broadcast
from ..shapes.rules.tensor_ops import fitting_size, index, permute, reshape
from ..shapes.shape import Shape
from ..shapes.signature import BATCH, RULE_GIVES_UP, UNKNOWN, bind
from ..shapes.spec import FLATTEN, OTHER, SAME, Ctx, keep_shape
from .budget import MAX_SEQ
from .events import Recorder
from .layers import as_tensor, place
from .plain import is_int
from .values import Fixed, Method, SizeInt, Tensor

if TYPE_CHECKING:  # annotations only: machine.py wires the parts
    from .api import EvaluatorPart

# the wrapper of torch before 0.4, now a function that gives its tensor back
_VARIABLE = ("torch.autograd.Variable", "torch.autograd.variable.Variable")
# the typed constructors of old code: `torch.FloatTensor(x.size())` makes one of that size, as x.new does
_LEGACY = tuple(f"torch.{where}{kind}Tensor" for where in ("", "cuda.")
                for kind in ("Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool")) + ("torch.Tensor",)
_FOLLOWED = ("torch.cat", "torch.concat", "torch.concatenate", "torch.reshape", "torch.permute", "torch.chunk", "torch.split",
             "torch.stack") + _VARIABLE + _LEGACY  # call_torch's own
# `x.new_zeros(size)`: a tensor of that size (x gives only the dtype and device)
_NEW = {"new_zeros": "torch.zeros", "new_ones": "torch.ones", "new_empty": "torch.empty", "new_full": "torch.full"}
_WHOLE_FUNCTIONS = ("torch.nn.functional.scaled_dot_product_attention", "torch.nn.functional.embedding", "torch.einsum",
                    "torch.nn.functional.linear", "torch.nn.functional.conv1d", "torch.nn.functional.conv2d",
                    "torch.nn.functional.conv3d",
                    "torch.arange", "torch.linspace")
_SWAPS = ("transpose", "swapaxes", "swapdims")
_TORCH_SWAPS = frozenset("torch." + name for name in _SWAPS)
PRODUCTS = ("matmul", "bmm", "mm")  # matrix products: whole.py (imported when one is met, as einops_calls.py)
PACKING = ("torch.nn.utils.rnn.pack_padded_sequence", "torch.nn.utils.rnn.pack_sequence",
           "torch.nn.utils.rnn.pad_packed_sequence")  # packed.py (imported when one is met)
FACTORIES = ("torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty", "torch.full", "torch.randint")
_NO_FAULTS: List[Fault] = []


def _unchanged(s):
    return s


def _from_input(t: Tensor) -> bool:
    """Does t come from the model's input? Only such a tensor's chain is ever
    replayed (the size search), so only its children need an origin."""
    return t.root or t.origin is not None


def _reshaped(target, shape: Shape, name: str, text: str):
    """The engine's reshape: (the shape, its faults); (None, []) where it gives up."""
    ctx = Ctx(name)
    try:
        return reshape(list(target), shape, ctx, text), ctx.faults
    except RULE_GIVES_UP:
        return None, []


def view_choices(target, shape: Shape) -> list:
    """The other single sizes that would make a wrong view hold each sample (the fault names the last):
    (index in target, the size written there, the size that fits, the shape it gives)."""
    have, rest = shape.numel(), list(target[1:])
    if not is_int(have) or not all(is_int(v) and v > 0 for v in rest):
        return []
    out = []
    for i in range(len(rest) - 1):
        fits = fitting_size(rest, have, i)
        if fits is not None and fits != rest[i]:
            out.append((i + 1, rest[i], fits, Shape(tuple(rest[:i] + [fits] + rest[i + 1:]))))
    return out


def _partly_known(rest) -> "Shape | None":
    """`x.view(-1, 128, h, w)` with h, w unknown: whatever the count, what
    comes out (if torch takes it) is (128, h, w) per sample."""
    if UNKNOWN not in rest or not all(v is UNKNOWN or is_int(v) and v > 0 for v in rest):
        return None
    return Shape(tuple(None if v is UNKNOWN else int(v) for v in rest))


def modelled(qual: str) -> bool:
    """Does the analysis follow calls of this torch (or einops) function?"""
    from . import einops_calls

    return (qual in FUNCTIONS or qual in FACTORIES or qual[6:] in PRODUCTS or qual in einops_calls.FUNCTIONS
            or qual in _WHOLE_FUNCTIONS or qual in _FOLLOWED or qual in PACKING)


def _display(qual: str) -> str:
    if qual.startswith("torch.nn.functional."):
        return "F." + qual[len("torch.nn.functional."):]
    return qual


def _other_batch(v) -> bool:
    """A reshape's first size that is not the model's batch: one nobody knows, or a number (not -1)."""
    return v is UNKNOWN or is_int(v) and v != -1


class TensorOps:
    def __init__(self, rec: Recorder):
        self.rec = rec
        self.ev: EvaluatorPart = None  # type: ignore[assignment]  # set by machine.py

    # -- torch.* and F.* ---------------------------------------------------
    def call_torch(self, qual: str, args, kwargs, node):
        spec = FUNCTIONS.get(qual)
        if spec is not None:
            if qual in _TORCH_SWAPS and len(args) == 3 and type(args[0]) is Tensor:
                return self.method(args[0], qual[6:], list(args[1:]), kwargs, node)
            return self.functional(spec, _display(qual), args, kwargs, node)
        if qual in FACTORIES:
            return self.factory(qual, args, kwargs)
        if qual == "torch.cat" or qual == "torch.concat" or qual == "torch.concatenate":
            return self.cat(args, kwargs, node)
        if qual == "torch.stack":
            return self.stack(args, kwargs, node)
        if qual in _WHOLE_FUNCTIONS:
            from . import whole

            return whole.call(self.rec, qual, args, kwargs, node)
        if qual in PACKING:
            from . import packed

            return packed.call(qual, args, kwargs, self.ev.iterate)
        if qual == "torch.reshape" and len(args) == 2 and not kwargs:
            return self.reshape(args[0], args[1], "torch.reshape", node)
        if (qual == "torch.chunk" or qual == "torch.split") and args and isinstance(args[0], Tensor):
            return self.pieces(qual[6:], args[0], list(args[1:]), dict(kwargs))
        if qual == "torch.permute" and len(args) == 2:
            return self.permute(args[0], args[1])
        if qual[6:] in PRODUCTS and qual.startswith("torch.") and len(args) == 2 and not kwargs:
            from . import whole

            return whole.product(self.rec, qual[6:], qual, args[0], args[1], node)
        if qual in ("torch.max", "torch.min") and args and type(args[0]) is Tensor:
            return self.extreme(qual[6:], args[0], list(args[1:]), kwargs, node)
        if qual in _VARIABLE:
            return args[0] if args and type(args[0]) in (Tensor, Fixed) else UNKNOWN
        if qual in _LEGACY:
            return self.new("new", args) if not kwargs else UNKNOWN
        if qual in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            from . import whole

            return whole.parameter(args, kwargs)
        if qual.startswith("einops."):
            from . import einops_calls

            return einops_calls.call(self.rec, qual, args, kwargs, node)
        return UNKNOWN

    def functional(self, spec, name: str, args, kwargs, node):
        if spec.rule is keep_shape and args and "input" not in kwargs:
            # F.relu(x) and its kind, a third of these calls: what binding
            # and the rule would give, without them
            x = as_tensor(args[0])
            if x is None:
                return UNKNOWN
            self.rec.report(_NO_FAULTS, place(node), None, node)
            # a factory's tensor keeps all its dims (`nn.Parameter(torch.log(t))`)
            return Tensor(x.shape, (x, _unchanged, None, spec.axes) if _from_input(x) else None, whole=x.whole)
        bound = bind(spec.sig, list(args), dict(kwargs))
        if bound is None:
            return UNKNOWN
        x = as_tensor(bound.values.get("input"))
        if x is None:
            return UNKNOWN
        ctx = Ctx(name)
        try:
            out = spec.rule(bound, x.shape, ctx)
        except RULE_GIVES_UP:
            out, ctx.faults = None, []
        self.rec.report(ctx.faults, place(node), None, node)
        if not _from_input(x):
            return Tensor(out if out is not None else Shape.unknown())

        def step(s, rule=spec.rule, bound=bound, name=name):
            ctx = Ctx(name)
            try:
                out = rule(bound, s, ctx)
            except RULE_GIVES_UP:
                return None
            return None if ctx.faults else out

        return Tensor(out if out is not None else Shape.unknown(), (x, step, None, spec.axes))

    def factory(self, qual, args, kwargs):
        dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        if qual in ("torch.full",):
            dims = args[0] if args else ()
        if qual == "torch.randint":
            dims = kwargs.get("size", args[-1] if args else ())
        dims = list(dims) if isinstance(dims, (tuple, list)) else []
        if len(dims) > 1 and dims[0] is BATCH:  # `torch.zeros(x.size(0), c, h, w)`: a tensor of the model's batch
            rest = dims[1:]
            if all(d is UNKNOWN or is_int(d) and d >= 0 for d in rest):
                return Tensor(Shape(tuple(None if d is UNKNOWN else int(d) for d in rest)))
            return Tensor(Shape.unknown())
        if not dims or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in dims):
            return Tensor(Shape.unknown())
        whole_dims = tuple(int(d) for d in dims)  # for nn.Parameter: then no dim is a batch
        if len(dims) < 2:
            return Tensor(Shape.unknown(), whole=whole_dims)
        return Tensor(Shape(whole_dims[1:]), whole=whole_dims)

    def cat(self, args, kwargs, node):
        tensors = args[0] if args else kwargs.get("tensors", UNKNOWN)
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        items = self.ev.iterate(tensors)
        if items is UNKNOWN or not items or not isinstance(dim, int) or isinstance(dim, bool):
            return UNKNOWN
        if any(type(t) is Fixed for t in items):
            from . import whole

            return whole.cat(self.rec, items, dim, node)
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
                fault = Fault("CNS008", "cat", "torch.cat", {"dim": dim, "shapes": tuple(t.shape for t in items)})
                self.rec.report([fault], place(node), None, node)
                return Tensor(Shape.unknown())
            out.append(known.pop() if known and len(known) == 1 and all(c is not None for c in col) else None)
        return Tensor(Shape(tuple(out)))

    def stack(self, args, kwargs, node):
        """torch.stack: tensors of one shape, a new dim of their count at `dim`
        (in front of the batch: not a tensor we follow)."""
        tensors = args[0] if args else kwargs.get("tensors", UNKNOWN)
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        items = self.ev.iterate(tensors)
        if items is UNKNOWN or not items or not is_int(dim):
            return UNKNOWN
        if not all(isinstance(t, Tensor) and not t.shape.open for t in items):
            return Tensor(Shape.unknown())
        shape = items[0].shape
        for t in items[1:]:
            if t.shape.rank != shape.rank or any(p is not None and q is not None and p != q
                                                 for p, q in zip(t.shape.dims, shape.dims)):
                fault = Fault("CNS008", "stack", "torch.stack", {"shapes": tuple(t.shape for t in items)})
                self.rec.report([fault], place(node), None, node)
                return Tensor(Shape.unknown())
        full = shape.rank + 2  # of the output
        if not -full <= dim < full or dim % full == 0:
            return Tensor(Shape.unknown())
        dims = tuple(next((d for d in col if d is not None), None) for col in zip(*(t.shape.dims for t in items)))
        i = dim % full - 1
        return Tensor(Shape(dims[:i] + (len(items),) + dims[i:]))

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
        if name in PRODUCTS and len(args) == 1 and not kwargs:
            from . import whole

            return whole.product(self.rec, name, f"x.{name}", t, args[0], node)
        if name in _SWAPS and len(args) == 2 and not kwargs and 0 in args and not t.shape.open:
            order = list(range(t.shape.rank + 1))  # `x.transpose(0, 1)`: the batch moved (permute)
            if all(type(a) is int and -len(order) <= a < len(order) for a in args):
                order[args[0]], order[args[1]] = order[args[1]], order[args[0]]
                return self.permute(t, order)
        if name == "chunk" or name == "split":
            return self.pieces(name, t, list(args), dict(kwargs))
        if name in ("max", "min"):
            return self.extreme(name, t, list(args), kwargs, node)
        if name in _NEW or name == "new":
            return self.new(name, args)
        spec = METHODS.get(name)
        if spec is not None:
            return self.functional(spec, f"x.{name}", [t] + list(args), kwargs, node)
        return UNKNOWN

    def extreme(self, name: str, t: Tensor, args, kwargs, node):
        """torch.max / x.max (and min): of another tensor, elementwise as torch.maximum; over a dim,
        (values, indices), both of the reduced shape; of all the values, a number (not followed)."""
        other = args[0] if args else kwargs.get("other")
        if type(other) is Tensor or type(other) is Fixed:
            return self.functional(METHODS[name + "imum"], f"torch.{name}", [t, other], {}, node) if len(args) + len(kwargs) == 1 else UNKNOWN
        dim = args[0] if args else kwargs.get("dim")
        if dim is None or not set(kwargs) <= {"dim", "keepdim"} or len(args) > 2:
            return UNKNOWN
        keep = args[1] if len(args) > 1 else kwargs.get("keepdim", False)
        values = self.functional(METHODS["amax"], f"x.{name}", [t, dim], {"keepdim": keep}, node)
        return (values, Tensor(values.shape)) if type(values) is Tensor and not values.shape.open else UNKNOWN

    def new(self, name: str, args):
        """`x.new_zeros(x.size())`, `x.new(x.size())`, `x.new(2, 3)`: a tensor of that size. `x.new` of
        anything but ints or a size read off a tensor makes one of that data: not followed."""
        if name == "new":
            if not (args and all(type(a) is int or type(a) is SizeInt for a in args)
                    or len(args) == 1 and type(args[0]) is tuple and args[0] and args[0][0] is BATCH):
                return UNKNOWN
            return self.factory("torch.zeros", list(args), {})
        if name == "new_full":
            return self.factory("torch.full", list(args[:1]), {}) if len(args) == 2 else UNKNOWN
        return self.factory(_NEW[name], list(args), {})

    def reshape(self, t, target, name, node):
        t = as_tensor(t)
        if t is None or not isinstance(target, (tuple, list)):
            return UNKNOWN
        if t.shape.open:
            return Tensor(Shape.unknown())
        text = name + "(" + ", ".join("x.size(0)" if v is BATCH else ("?" if v is UNKNOWN else str(v)) for v in target) + ")"
        out, faults = _reshaped(target, t.shape, name, text)
        if target and target[0] == -1:
            out, faults = self._fold(target, t.shape, out, faults, name, text)
        elif faults and target[0] is BATCH and self.rec.run is not None and self.rec.run.folds:
            out, faults = self._unfold(target, t.shape, name, text)
        if out is None and not faults and target and (target[0] is BATCH or target[0] == -1):
            out = _partly_known(target[1:])
        elif out is None and not faults and target and _other_batch(target[0]):
            # `x.view(x.size(0) * k, ...)`, a hard-coded batch: what comes out is not led by the model's batch
            return Fixed(tuple(None if not is_int(v) or v < 0 else int(v) for v in target))
        self.rec.report(faults, place(node), None, node)
        if not _from_input(t):
            y = Tensor(out if out is not None else Shape.unknown())
        else:
            def step(s):
                out, faults = _reshaped(target, s, name, text)
                return None if faults else out

            flat = len(target) == 2 and (target[0] is BATCH or target[0] == -1)
            y = Tensor(out if out is not None else Shape.unknown(), (t, step, None, FLATTEN if flat else OTHER))
        if len(faults) == 1 and faults[0].msg in ("view_count", "view_width") and out is not None:
            choices = view_choices(target, t.shape)
            if choices:
                y.choices = (faults[0], node, choices)
        return y

    def _fold(self, target, shape: Shape, out, faults, name: str, text: str):
        """view(-1, ...) with sizes read off the tensor folds part of each
        sample into the batch on purpose (per-frame CNNs, attention windows):
        the batch is then k times the model's, which a later view(-1, ...) of
        plain numbers may undo. Anything else about a folded batch is not ours
        to know: no fault, and an unknown shape. (shape, faults) after it."""
        run = self.rec.run
        if any(isinstance(v, SizeInt) for v in target[1:]):
            rows = target[1:]
            have = shape.numel()
            if not (is_int(have) and all(is_int(v) and v > 0 for v in rows)):
                return (None if faults else out), []
            got = prod(rows)
            if have % got:
                return None, []
            if run is not None and have > got:
                run.folds.append(have // got)
            return Shape(tuple(int(v) for v in rows)), []
        if not faults or run is None or not run.folds:
            return out, faults
        return self._unfold(target, shape, name, text)  # the same rows as a (k, *dims) sample of the model's batch

    def pieces(self, name: str, t: Tensor, args, kwargs):
        """x.chunk(n, dim) / x.split(size, dim): a tuple of tensors, the last
        one shorter where the dim does not divide (as torch splits it)."""
        first = args[0] if args else kwargs.get("chunks" if name == "chunk" else "split_size_or_sections")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if len(args) > 2 or t.shape.open or not is_int(dim):
            return UNKNOWN
        full = t.shape.rank + 1
        d = dim + full if dim < 0 else dim
        if not 1 <= d < full:
            return UNKNOWN  # the batch, or out of range
        size = t.shape.dims[d - 1]
        if size is None or size < 1:
            return UNKNOWN
        if name == "split" and isinstance(first, (list, tuple)):
            if not all(is_int(v) and v >= 0 for v in first) or sum(first) != size:
                return UNKNOWN
            sizes = list(first)
        else:
            if not is_int(first) or first < 1:
                return UNKNOWN
            step = -(-size // first) if name == "chunk" else first
            count = -(-size // step)
            sizes = [step] * (count - 1) + [size - step * (count - 1)]
        if len(sizes) > MAX_SEQ:
            return UNKNOWN
        dims = t.shape.dims
        return tuple(Tensor(Shape(dims[:d - 1] + (int(n),) + dims[d:])) for n in sizes)

    def _unfold(self, target, shape: Shape, name: str, text: str):
        """A reshape that does not fit after a fold, read as of the model's
        batch, the sample then (k, *dims) for a fold of k: `view(-1, T, N)` of
        plain numbers, or one led by the batch size read before the fold
        (`B, H, W, C = x.shape` ... `h.reshape(B, H, W, -1)`; x.size(0) read
        after the fold is the tensor's own, the plain reading, tried first).
        Nothing is said when no fold fits: which batch it is is not ours to know."""
        for k in reversed(self.rec.run.folds):
            unfolded, again = _reshaped(target, Shape((k,) + shape.dims), name, text)
            if not again:
                return unfolded, []
        return None, []

    def index(self, t: Tensor, key):
        """t[key]: slices, ints, None and ...; what else is unknown."""
        out = index(key, t.shape)
        return Tensor(out if out is not None else Shape.unknown())

    def permute(self, t, order):
        if not isinstance(t, Tensor) or not isinstance(order, (tuple, list)):
            return UNKNOWN
        out = permute(list(order), t.shape)
        if out is None and order and order[0] != 0:  # the batch moved: a whole shape (whole.py)
            from . import whole

            return whole.batch_moved(t, order)
        return Tensor(out if out is not None else Shape.unknown())

    def builtin(self, name, args, node):
        if name == "len" and len(args) == 1 and isinstance(args[0], Tensor):
            return BATCH
        return UNKNOWN

    # -- arithmetic --------------------------------------------------------
    def binary(self, node, a, b):
        """Arithmetic operators (`out + x`, `x * 2`), with broadcasting."""
        op = getattr(node, "op", None)
        if isinstance(op, ast.MatMult) or type(a) is Fixed or type(b) is Fixed:
            from . import whole

            if isinstance(op, ast.MatMult):
                return whole.product(self.rec, "matmul", "@", a, b, node)
            return whole.binary(self.rec, node, a, b)
        ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
        if ta and tb:
            ctx = Ctx("elementwise op")
            out = broadcast(a.shape, b.shape, ctx)
            if ctx.faults:
                self.rec.report(ctx.faults, place(node), None, node)
            return Tensor(out if out is not None else Shape.unknown())
        t, other = (a, b) if ta else (b, a)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            # a new tensor (an in-place method on it must not change t), of t's shape and
            # history, and a factory's all its dims (`nn.Parameter(torch.randn(n, d) * 0.02)`)
            return Tensor(t.shape, (t, _unchanged, None, SAME) if _from_input(t) else None, whole=t.whole)
        return Tensor(Shape.unknown())
