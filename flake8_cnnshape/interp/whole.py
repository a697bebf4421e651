"""Tensors a module makes itself (Fixed: a parameter, no batch dim; or one
whose batch dim is not first, as an LSTM's h_n or a model's tensor after a
permute moved its batch, which a sequence-first layer takes) and matrix
products, on whole shapes (shapes/rules/matmul.py): what a model's tensor
meets in attention and position-embedding code. A Fixed value goes only
through these; anything else done with it is unknown."""
from __future__ import annotations

import math

from ..shapes.catalog import LAYERS
from ..shapes.rules.matmul import PRODUCTS, B, broadcast, describe, einsum
from ..shapes.shape import Shape
from ..shapes.signature import BATCH, UNKNOWN, Unknowable, bind
from ..findings import Fault
from ..shapes.spec import SAME, Ctx, apply
from .events import Recorder
from .plain import is_int
from .packed import RECURRENT
from .values import CHAINS, Fixed, Layer, Method, SizeInt, Tensor, value_of, whole_of

# methods that give a tensor of the same shape: whatever their arguments,
# and (in place, or elementwise) when they are numbers
_SAME = frozenset("contiguous float double half bfloat16 detach clone cuda cpu to type requires_grad_ zero_ "
                  "uniform_ normal_".split())
_SAME_WITH_NUMBERS = frozenset("fill_ mul_ add_ div_ sub_ clamp_ abs exp log sqrt sigmoid tanh relu neg".split())


def is_number(v) -> bool:
    return type(v) in (int, float, SizeInt)  # SizeInt: `x_dim - 1` of `_, _, x_dim, y_dim = x.size()`


def parameter(args, kwargs):
    """nn.Parameter(data): the tensor a factory made, all its dims its own."""
    v = as_fixed(args[0] if args else kwargs.get("data"))
    return Fixed(v.dims, True) if type(v) is Fixed else v


def on_whole(rec: Recorder, display: str, tensor: bool, node, compute, *wholes):
    """compute(ctx, *wholes) on whole shapes (GivesUp or another Unknowable:
    not known), its faults reported at node; the value it gives (a model's
    tensor when one operand was, see value_of)."""
    if any(w is None for w in wholes):
        return value_of(None, tensor)
    ctx = Ctx(display)
    try:
        out = compute(ctx, *wholes)
    except Unknowable:
        out, ctx.faults = None, []
    rec.report(ctx.faults, (node.lineno, node.col_offset), None, node)  # layers.place(), which imports this module
    return value_of(out, tensor)


def product(rec: Recorder, name: str, display: str, a, b, node):
    """torch.matmul / `@` / bmm / mm of two tensors, either kind."""
    rule = PRODUCTS[name]
    return on_whole(rec, display, Tensor in (type(a), type(b)), node, lambda ctx, p, q: rule(p, q, ctx), whole_of(a), whole_of(b))


def call(rec: Recorder, qual: str, args, kwargs, node):
    """F.scaled_dot_product_attention(q, k, v), F.embedding(input, weight), F.linear(input, weight), torch.einsum,
    torch.arange/linspace."""
    if qual == "torch.einsum":
        return _einsum(rec, args, kwargs, node)
    if qual == "torch.arange" or qual == "torch.linspace":
        return _ranged(qual[6:], args, kwargs)
    if qual in CONVS:
        return _conv(rec, CONVS[qual], args, kwargs, node)
    if qual.endswith("scaled_dot_product_attention") and len(args) >= 3:
        return attention(rec, args[0], args[1], args[2], node)
    weight = args[1] if len(args) > 1 else kwargs.get("weight")
    if qual.endswith(".linear") and args and type(weight) is Fixed and len(weight.dims) == 2 and B not in weight.dims:
        # F.linear(x, W): x @ W.T (a layer's weight read off it, or a parameter the module makes)
        return product(rec, "matmul", "F.linear", args[0], Fixed(weight.dims[::-1]), node)
    if qual.endswith("embedding") and args and type(args[0]) is Tensor and type(weight) is Fixed and len(weight.dims) == 2:
        x = args[0].shape
        return Tensor(Shape(x.dims + weight.dims[1:], x.open))  # a row of the weight per index
    return UNKNOWN


_REDUCTIONS = frozenset(("mean", "sum", "std", "var", "amax", "amin"))


def _reduced(dims, args, kwargs):
    """`w.mean(dim=(1, 2, 3), keepdim=True)` of a made tensor (a standardized weight): the dims left."""
    if len(args) > 2 or set(kwargs) - {"dim", "keepdim"}:
        return UNKNOWN
    dim = args[0] if args else kwargs.get("dim")
    keep = args[1] if len(args) > 1 else kwargs.get("keepdim", False)
    if dim is None or B in dims or type(keep) is not bool:
        return UNKNOWN if dim is not None or B in dims else Fixed(())
    picked = (dim,) if type(dim) is int else tuple(dim) if type(dim) in (tuple, list) else None
    if picked is None or not picked or not all(type(d) is int and -len(dims) <= d < len(dims) for d in picked):
        return UNKNOWN
    gone = {d % len(dims) for d in picked}
    if len(gone) < len(picked):
        return UNKNOWN  # a dim named twice: torch refuses
    return Fixed(tuple(1 if i in gone else d for i, d in enumerate(dims)) if keep else tuple(d for i, d in enumerate(dims) if i not in gone))


CONVS = {f"torch.nn.functional.conv{n}d": f"Conv{n}d" for n in (1, 2, 3)}
_CONV_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")


def _conv(rec: Recorder, kind: str, args, kwargs, node):
    """F.conv2d(x, weight, ...) with a weight of known shape (a layer's, or a parameter the module makes): the
    convolution that weight is, applied; a fault is reported at the call (no number of it to change there)."""
    if len(args) > len(_CONV_ARGS) or set(kwargs) - set(_CONV_ARGS):
        return UNKNOWN
    a = dict(zip(_CONV_ARGS, args), **kwargs)
    x, w, groups = a.get("input"), a.get("weight"), a.get("groups", 1)
    if type(x) is not Tensor or type(w) is not Fixed or len(w.dims) != int(kind[-2]) + 2 or not is_int(groups) or groups < 1:
        return UNKNOWN
    if not all(is_int(d) and d > 0 for d in w.dims):
        return UNKNOWN
    spec = LAYERS[kind]
    given = {"in_channels": w.dims[1] * groups, "out_channels": w.dims[0], "kernel_size": w.dims[2:], "groups": groups}
    given.update((k, a[k]) for k in ("stride", "padding", "dilation") if k in a)
    bound = bind(spec.sig, [], given)
    if bound is None:
        return UNKNOWN
    out = apply(spec, bound, x.shape, "F." + kind.lower(), kind)
    rec.report(out.faults, (node.lineno, node.col_offset), None, node)
    return Tensor(out.shape if out.shape is not None else Shape.unknown())


_RANGE_OPTIONS = frozenset(("dtype", "device", "requires_grad", "layout", "pin_memory", "out"))


def _ranged(name: str, args, kwargs):
    """torch.arange(end) / (start, end[, step]) and torch.linspace(start, end, steps): one dim, of the count
    torch gives (float bounds and steps counted in doubles, as torch counts them)."""
    if set(kwargs) - _RANGE_OPTIONS:
        return UNKNOWN
    if name == "linspace":
        steps = args[2] if len(args) == 3 else None
        return Fixed((int(steps),)) if is_int(steps) and steps >= 0 else UNKNOWN
    if not 1 <= len(args) <= 3 or not all(is_number(v) for v in args):
        return UNKNOWN
    start, end, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else 1)
    if step == 0 or (end - start) * step < 0 or max(abs(start), abs(end)) > 2 ** 53:
        return UNKNOWN  # torch refuses it
    if _ints((start, end, step)):
        return Fixed((-((start - end) // step),))  # ceil((end - start) / step)
    return Fixed((math.ceil((float(end) - float(start)) / float(step)),))  # in doubles, as torch counts


def cat(rec: Recorder, items, dim: int, node):
    """torch.cat of tensors one of which a module made itself (a coordinate grid), on whole shapes: the
    same dims but `dim`, which adds up. The model's batch beside a size is not compared (it may be 1)."""
    tensor = any(type(t) is Tensor for t in items)
    wholes = [whole_of(t) for t in items]
    if any(w is None for w in wholes) or len({len(w) for w in wholes}) != 1 or not -len(wholes[0]) <= dim < len(wholes[0]):
        return value_of(None, tensor)
    at = dim % len(wholes[0])
    out = []
    for k, col in enumerate(zip(*wholes)):
        if k == at:
            out.append(None if B in col or None in col else sum(col))
        elif B in col:
            if any(d is not B for d in col):
                return value_of(None, tensor)
            out.append(B)
        elif len(set(col) - {None}) > 1:
            rec.report([Fault("CNS008", "cat_whole", "torch.cat", {"dim": dim, "shapes": ", ".join(describe(w) for w in wholes)})],
                       (node.lineno, node.col_offset), None, node)
            return value_of(None, tensor)
        else:
            out.append(None if None in col else col[0])
    return value_of(tuple(out), tensor)


def _einsum(rec: Recorder, args, kwargs, node):
    operands = list(args[1:])
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = list(operands[0])
    tensor = any(type(t) is Tensor for t in operands)
    if kwargs or not args or type(args[0]) is not str or not operands:
        return value_of(None, tensor)
    equation = args[0]
    return on_whole(rec, "torch.einsum", tensor, node, lambda ctx, *ws: einsum(equation, ws, ctx),
                    *(whole_of(t) for t in operands))


def attention(rec: Recorder, q, k, v, node):
    """softmax(q @ k^T) @ v, on whole shapes: (..., L, E), (..., S, E), (..., S, Ev) give (..., L, Ev)."""
    def compute(ctx, wq, wk, wv):
        scores = PRODUCTS["matmul"](wq, wk[:-2] + (wk[-1], wk[-2]), ctx)
        return PRODUCTS["matmul"](scores, wv, ctx) if scores is not None else None

    tensor, wk = Tensor in (type(q), type(k), type(v)), whole_of(k)
    if wk is not None and len(wk) < 2:
        return value_of(None, tensor)
    return on_whole(rec, "F.scaled_dot_product_attention", tensor, node, compute, whole_of(q), wk, whole_of(v))


def binary(rec: Recorder, node, a, b):
    """An arithmetic operator with a Fixed operand: a number keeps its shape,
    a tensor of either kind broadcasts with it."""
    if is_number(a) or is_number(b):
        return b if is_number(a) else a
    return on_whole(rec, "elementwise op", Tensor in (type(a), type(b)), node, lambda ctx, p, q: broadcast(p, q, ctx),
                    whole_of(a), whole_of(b))


def attribute(f: Fixed, attr: str):
    if attr == "shape":
        return _sizes(f)
    if attr == "data":
        return f
    return Method(f, attr)


def _size(d):
    return UNKNOWN if d is None else BATCH if d is B else d


def _sizes(f: Fixed):
    return tuple(_size(d) for d in f.dims)


def index(f: Fixed, key):
    """f[...] with ints, slices, None and `...` (`h_n[-1]`: the last layer's state; `out[-1, :, :]`, the
    last step; `pos[None, None, :, None]`). An int or a part of the model's batch, or of a dim of unknown
    size (but its first or last), is not followed."""
    keys = key if type(key) is tuple else (key,)
    dims, out, i = f.dims, [], 0
    named = sum(1 for k in keys if k is not None and k is not Ellipsis)
    if named > len(dims) or sum(1 for k in keys if k is Ellipsis) > 1:
        return UNKNOWN
    for k in keys:
        if k is None:
            out.append(1)
        elif k is Ellipsis:
            out.extend(dims[i:i + len(dims) - named])
            i += len(dims) - named
        elif type(k) is int:
            n = dims[i]
            if n is B or (n is None and k not in (0, -1)) or n is not None and not -n <= k < n:
                return UNKNOWN
            i += 1
        elif type(k) is slice and all(v is None or type(v) is int for v in (k.start, k.stop, k.step)) and k.step != 0:
            n = dims[i]
            if k != slice(None) and (n is None or n is B):
                return UNKNOWN
            out.append(n if k == slice(None) else len(range(n)[k]))
            i += 1
        else:
            return UNKNOWN
    return value_of(tuple(out) + tuple(dims[i:]), False)


def method(rec: Recorder, f: Fixed, name: str, args, kwargs, node):
    dims = f.dims
    if name == "size" and not kwargs:
        if not args:
            return _sizes(f)
        d = args[0]
        if type(d) is not int or not -len(dims) <= d < len(dims):
            return UNKNOWN
        return _size(dims[d])
    if name == "dim" and not args:
        return len(dims)
    if name in _REDUCTIONS:
        return _reduced(dims, args, kwargs)
    if name == "t" and not args and not kwargs:  # torch's t(): a matrix transposed, a vector as it is
        return f if len(dims) < 2 else _permute(dims, (1, 0)) if len(dims) == 2 else UNKNOWN
    if name in _SAME:
        return f
    if name in _SAME_WITH_NUMBERS:
        return f if all(is_number(a) for a in args) and all(is_number(v) for v in kwargs.values()) else UNKNOWN
    if name in PRODUCTS and len(args) == 1 and not kwargs:
        return product(rec, name, f"x.{name}", f, args[0], node)
    if kwargs:
        return UNKNOWN
    target = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
    if name in ("view", "reshape"):
        return _reshape(dims, target) if B not in dims else UNKNOWN
    if name == "permute":
        return _permute(dims, target)
    if name == "transpose" and len(target) == 2:
        order = list(range(len(dims)))
        try:
            order[target[0]], order[target[1]] = order[target[1]], order[target[0]]
        except (IndexError, TypeError):
            return UNKNOWN
        return _permute(dims, order)
    if name == "unsqueeze" and len(target) == 1 and type(target[0]) is int and -len(dims) - 1 <= target[0] <= len(dims):
        d = target[0] if target[0] >= 0 else target[0] + len(dims) + 1
        return value_of(dims[:d] + (1,) + dims[d:], False)
    if name == "expand":
        return _expand(dims, target)
    if name == "repeat":
        return _repeat(dims, target) if B not in dims else UNKNOWN
    if name == "type_as" and len(args) == 1 and type(args[0]) in (Tensor, Fixed):
        return f  # the other's dtype and device, this one's shape
    if name == "gather" and len(args) == 2:
        # its output has the index's shape, of the input's rank (torch refuses another)
        index = whole_of(args[1])
        return Fixed(index) if index is not None and B not in index else Fixed((None,) * len(dims))
    return UNKNOWN


def batch_moved(t: Tensor, order):
    """`x.permute(1, 0, 2)` of a model's tensor, the batch moved off the front
    (what sequence-first recurrent and attention layers take): its whole shape,
    a Fixed with B where the batch went; still a model's tensor, unknown, where
    the order is not a permutation."""
    out = _permute((B,) + t.shape.dims, list(order)) if not t.shape.open else UNKNOWN
    return Tensor(Shape.unknown()) if out is UNKNOWN else out


def seq_first(layers, layer, args, kwargs, node):
    """A layer given tensors whose batch is not first ((T, B, F) after a
    permute): applied with their first dim as the batch its rule implies, the
    model's batch a dim of unknown size there (which no rule reports on); it
    comes back where it was in what the layer gives. A recurrent layer's h_n
    and c_n have the batch torch reads (batch_first or not); the other
    tensors a layer gives besides its output are not known."""
    if B not in args[0].dims:
        return UNKNOWN  # a module's own tensor (a parameter) through a layer: not a model's tensor
    # the tensors the model's batch is in; a module's own (a mask, `self.src_mask`) goes as it is
    moved = [a for a in args if type(a) is Fixed and B in a.dims] + [v for v in kwargs.values() if type(v) is Fixed and B in v.dims]
    if any(B not in f.dims[1:-1] for f in moved) or len({f.dims.index(B) for f in moved}) != 1 or not _keeps_leading(layer):
        return Tensor(Shape.unknown())
    out = layers.call_module(layer, [_batch_hidden(a) for a in args], {k: _batch_hidden(v) for k, v in kwargs.items()}, node)
    recurrent = layer.kind in RECURRENT and layer.args is not None
    seq_major = recurrent and layer.args.values.get("batch_first") is False
    return _batch_back(out, moved[0].dims.index(B), moved[0].dims[0], recurrent, seq_major)


# layers whose rule changes no dim but the last few (and those only by their own sizes): the model's batch, a dim
# of unknown size to them, goes through where it was. A layer that reshapes, merges or scales other dims (Flatten,
# Fold, PixelShuffle, a conv taking the batch for channels) would give a dim of unknown size that is not the batch.
_LAST_DIMS = frozenset(("RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
                        "Transformer", "Linear", "Embedding", "Identity"))
_NORMS = frozenset(("LayerNorm", "RMSNorm"))


def _keeps_leading(layer) -> bool:
    if layer.kind in CHAINS or layer.kind == "Sequential":
        return layer.children is not None and all(type(c) is Layer and _keeps_leading(c) for c in layer.children)
    if layer.spec is None or layer.args is None:
        return False
    if layer.kind in _NORMS:  # over the last dim only: a wider normalized_shape would reach the batch
        shape = layer.args.values.get("normalized_shape")
        return is_int(shape) or type(shape) in (tuple, list) and len(shape) == 1
    return layer.kind in _LAST_DIMS or layer.spec.axes == SAME


def _batch_hidden(v):
    """A Fixed with the model's batch inside, as the tensor a layer's rule takes: its first dim the batch."""
    return Tensor(Shape(tuple(None if d is B else d for d in v.dims[1:]))) if type(v) is Fixed and B in v.dims else v


def _batch_back(v, at: int, seq, recurrent: bool, seq_major: bool):
    """What the layer gave, the model's batch at `at` of each whole shape again
    (`seq` the first dim, the batch its rule saw; `seq_major`: a recurrent
    layer with batch_first=False, whose h_n has the model's batch)."""
    if type(v) is Tensor:
        s = v.shape
        if s.open or len(s.dims) < at or s.dims[at - 1] is not None:
            return Tensor(Shape.unknown())
        return Fixed((seq,) + s.dims[:at - 1] + (B,) + s.dims[at:])
    if type(v) is Fixed and recurrent and len(v.dims) == 3:  # (layers * directions, N, hidden)
        n = B if seq_major and v.dims[1] is None else seq if v.dims[1] is B else v.dims[1]
        return Fixed((v.dims[0], n, v.dims[2]))
    if type(v) is tuple:
        return tuple(_batch_back(p, at, seq, recurrent, seq_major) for p in v)
    return UNKNOWN


def as_fixed(v):
    """What register_buffer / register_parameter keep: the tensor a factory made, all its dims its own."""
    if type(v) is Fixed:
        return v
    if type(v) is Tensor and v.whole is not None:
        return Fixed(v.whole)
    return UNKNOWN


def _repeat(dims, sizes):
    """`coords.repeat(x.shape[0], 1, 1, 1)`: the model's batch as the first
    size, over a new dim or one of 1, makes a model's tensor."""
    if sizes and sizes[0] is BATCH and (len(sizes) > len(dims) or dims and dims[0] == 1):
        rest = _repeat(dims if len(sizes) > len(dims) else dims[1:], sizes[1:])
        return UNKNOWN if rest is UNKNOWN else value_of((B,) + rest.dims, True)
    if not sizes or not _ints(sizes) or len(sizes) < len(dims) or any(v < 0 for v in sizes):
        return UNKNOWN
    extra = len(sizes) - len(dims)
    return Fixed(tuple(sizes[:extra]) + tuple(None if d is None else d * s for d, s in zip(dims, sizes[extra:])))


def _ints(values) -> bool:
    return all(is_int(v) for v in values)


def _reshape(dims, target):
    if not target or not _ints(target) or any(v < -1 for v in target) or list(target).count(-1) > 1:
        return UNKNOWN
    if None in dims:
        return Fixed(tuple(None if v == -1 else int(v) for v in target))
    have = 1
    for d in dims:
        have *= d
    known = 1
    for v in target:
        if v != -1:
            known *= v
    if -1 in target:
        if known == 0 or have % known:
            return UNKNOWN  # torch refuses it: not a size we go on with
        target = tuple(have // known if v == -1 else v for v in target)
    elif known != have:
        return UNKNOWN
    return Fixed(tuple(int(v) for v in target))


def _permute(dims, order):
    n = len(dims)
    if not _ints(order) or len(order) != n:
        return UNKNOWN
    idx = [o + n if o < 0 else o for o in order]
    if sorted(idx) != list(range(n)):
        return UNKNOWN
    return value_of(tuple(dims[i] for i in idx), False)  # `h_n.permute(1, 0, 2)`: the batch in front again


def _expand(dims, sizes):
    """`cls_token.expand(x.size(0), -1, -1)`: a (1, ...) parameter grown to
    the model's batch is one of the model's tensors. New dims go in front
    (`steps.expand(x.size(0), -1)` of an (8,) tensor), never as -1."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    extra = len(sizes) - len(dims)
    if extra < 0 or any(s == -1 for s in sizes[:extra]):
        return UNKNOWN
    dims = (1,) * extra + tuple(dims)
    out = []
    for s, d in zip(sizes, dims):
        if d is B:
            if s is not BATCH and s != -1:
                return UNKNOWN
            out.append(B)
        elif s is BATCH:
            if d != 1 or out:
                return UNKNOWN
            out.append(B)
        elif is_int(s):
            if s == -1:
                out.append(d)
            elif d is None or d == 1 or d == s:
                out.append(int(s))
            else:
                return UNKNOWN
        else:
            return UNKNOWN
    return value_of(tuple(out), True)
