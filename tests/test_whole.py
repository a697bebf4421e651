"""Whole shapes (shapes/rules/matmul.py, interp/whole.py) against torch:
matrix products and broadcasting between the model's tensors (the batch B
in front) and the tensors a module makes itself (no batch), the methods
such a tensor is taken through, and the conv arguments a layer keeps as
tuples. The truth is torch on zero CPU tensors, with B at 2 and at 3: a
shape we give must be torch's at both, a fault must be torch refusing at
both; a give-up claims nothing, and the grid must hold enough claims that
the test says something."""
from __future__ import annotations

import itertools

import pytest

from flake8_cnnshape.interp import whole
from flake8_cnnshape.interp.values import Fixed, Tensor
from flake8_cnnshape.shapes.shape import Shape
from flake8_cnnshape.shapes.rules.matmul import B, GivesUp, PRODUCTS, broadcast
from flake8_cnnshape.shapes.spec import Ctx

torch = pytest.importorskip("torch")

SHAPES = [(4,), (3, 4), (4, 5), (B, 4), (B, 4, 5), (B, 3, 4), (1, 4, 5), (2, 4, 5), (B, 5, 4), (1, 3, 4),
          (B, 2, 3, 4), (2, 1, 4, 5), (1, 5), (5,), (B, 1), (B,), (1, 2, 1, 3), (None, 4), (B, None, 4)]


def _torch(fn, a, b, batch):
    """torch's whole shape of fn(a, b) with B as batch, or None when it refuses."""
    concrete = [tuple(batch if d is B else 6 if d is None else d for d in s) for s in (a, b)]
    try:
        return tuple(fn(torch.zeros(concrete[0]), torch.zeros(concrete[1])).shape)
    except RuntimeError:
        return None


def _ours(rule, a, b):
    ctx = Ctx("op")
    try:
        out = rule(a, b, ctx)
    except GivesUp:
        return "gives up", []
    return out, [f.code for f in ctx.faults]


def _check(rule, fn, a, b):
    """The claim ours makes on (a, b), checked at two batch sizes (a size
    nobody knows is 6 in torch); its kind."""
    out, codes = _ours(rule, a, b)
    if out == "gives up":
        return "gives up"
    truths = [_torch(fn, a, b, batch) for batch in (2, 3)]
    if codes:
        assert all(t is None for t in truths), (a, b, codes, truths)
        return "fault"
    if out is None:
        return "gives up"
    for batch, t in zip((2, 3), truths):
        if None in a or None in b:
            if t is None:
                continue  # with the unknown size at 6 torch may refuse: ours says what it is if it runs
        want = tuple(batch if d is B else d for d in out)
        assert t is not None and all(w is None or w == got for w, got in zip(want, t)) and len(want) == len(t), (
            a, b, out, t)
    return "shape"


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_products_agree_with_torch(name):
    fn = {"matmul": torch.matmul, "bmm": torch.bmm, "mm": torch.mm}[name]
    kinds = [_check(PRODUCTS[name], fn, a, b) for a, b in itertools.product(SHAPES, SHAPES)]
    assert kinds.count("shape") >= 8 and kinds.count("fault") >= 8, kinds


def test_broadcast_agrees_with_torch():
    kinds = [_check(broadcast, torch.add, a, b) for a, b in itertools.product(SHAPES, SHAPES)]
    assert kinds.count("shape") >= 40 and kinds.count("fault") >= 20, kinds


class _Rec:
    def __init__(self):
        self.faults = []

    def report(self, faults, *args, **kwargs):
        self.faults += faults


# (dims, method, arguments, whether it is followed)
CASES = [
    ((1, 8, 1, 4), "view", (1, 8, -1), True), ((1, 8, 4), "permute", (0, 2, 1), True),
    ((2, 3, 4), "transpose", (1, 2), True), ((8, 4), "unsqueeze", (0,), True), ((8, 4), "unsqueeze", (-1,), True),
    ((3, 4), "reshape", (12,), True), ((3, 4), "view", (5, -1), False), ((3, 4), "size", (1,), True),
    ((1, 1, 16), "expand", (whole.BATCH, -1, -1), True), ((1, 1, 16), "expand", (whole.BATCH, 5, -1), True),
    ((2, 1, 16), "expand", (whole.BATCH, -1, -1), False), ((8,), "expand", (whole.BATCH, -1), True),
    ((8,), "expand", (whole.BATCH, 3, -1), True), ((8,), "expand", (-1, 8), False), ((1, 8), "expand", (whole.BATCH, 2, 4, -1), True), ((3, 4), "contiguous", (), True), ((3, 4), "mul_", (2,), True),
    ((3, 4), "t", (), True), ((4,), "t", (), True), ((2, 3, 4), "t", (), False),
    ((8, 3, 3, 3), "mean", ((1, 2, 3), True), True), ((8, 3), "sum", (0,), True), ((2, 3, 4), "amax", (-1,), True),
    ((2, 3, 4), "var", ([0, 2],), True), ((3, 4), "std", (), True), ((2, 3), "mean", ((0, 0),), False), ((2, 3), "sum", (2,), False),
    ((1, 5, 7), "repeat", (whole.BATCH, 1, 1, 1), True), ((1, 5, 7), "repeat", (whole.BATCH, 2, 1), True),
    ((1, 5, 7), "repeat", (whole.BATCH, 1, 1, 2), True), ((2, 5, 7), "repeat", (whole.BATCH, 1, 1), False),
    ((5, 7), "repeat", (whole.BATCH, 1), False), ((1, 5, 7), "repeat", (whole.BATCH, 1), False),
]


@pytest.mark.parametrize("dims,name,args,followed", CASES)
def test_fixed_methods_agree_with_torch(dims, name, args, followed):
    got = whole.method(_Rec(), Fixed(dims), name, list(args), {}, None)
    assert (got is not whole.UNKNOWN) == followed
    for batch in (2, 3):
        real = [batch if a is whole.BATCH else a for a in args]
        try:
            truth = getattr(torch.zeros(dims), name)(*real)
        except (RuntimeError, IndexError):
            truth = None
        if got is whole.UNKNOWN:
            continue
        if isinstance(got, int):
            assert got == truth
        elif isinstance(got, Fixed):
            assert truth is not None and tuple(truth.shape) == got.dims
        else:  # a model tensor: the batch in front, per-sample dims after
            assert truth is not None and tuple(truth.shape) == (batch,) + got.shape.dims


@pytest.mark.parametrize("kind,n", [("Conv1d", 1), ("Conv2d", 2), ("Conv3d", 3), ("ConvTranspose2d", 2)])
def test_conv_keeps_its_sizes_as_tuples(kind, n):
    from flake8_cnnshape.interp.access import _as_torch_keeps

    layer = getattr(torch.nn, kind)(4, 4, 3, stride=2, padding=1, dilation=1)
    for attr in ("kernel_size", "stride", "padding", "dilation"):
        assert _as_torch_keeps(kind, attr, getattr(layer, attr)[0]) == getattr(layer, attr)
    pool = torch.nn.MaxPool2d(3, stride=2)
    assert _as_torch_keeps("MaxPool2d", "stride", 2) == pool.stride == 2


class _Ops:
    """tensors.TensorOps with a recorder that keeps the faults, for ops tried alone."""

    def __init__(self):
        from flake8_cnnshape.interp.tensors import TensorOps

        self.rec = _Rec()
        self.rec.run = None
        self.ops = TensorOps(self.rec)

        class _Ev:
            @staticmethod
            def iterate(v):
                return list(v) if isinstance(v, (list, tuple)) else whole.UNKNOWN

        self.ops.ev = _Ev()


class _Node:
    lineno, col_offset = 1, 0


def _tensor(dims):
    from flake8_cnnshape.interp.values import Tensor
    from flake8_cnnshape.shapes.shape import Shape

    return Tensor(Shape(dims))


@pytest.mark.parametrize("shapes", [[(3, 4)] * 3, [(3, 4), (3, 5)], [(4,), (4,)], [(2, 3, 4)] * 2, [(3, 4), (3,)]])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, 3])
def test_stack_agrees_with_torch(shapes, dim):
    t = _Ops()
    got = t.ops.stack([[_tensor(s) for s in shapes], dim], {}, _Node())
    for batch in (2, 3):
        try:
            truth = tuple(torch.stack([torch.zeros((batch,) + s) for s in shapes], dim).shape)
        except (RuntimeError, IndexError):
            truth = None
        if t.rec.faults:
            assert truth is None
        elif not got.shape.open:
            assert truth is not None and truth == (batch,) + got.shape.dims


@pytest.mark.parametrize("q,k,v", [((4, 10, 8), (4, 12, 8), (4, 12, 6)), ((10, 8), (12, 8), (12, 8)),
                                   ((4, 10, 8), (4, 12, 7), (4, 12, 6)), ((4, 10, 8), (4, 12, 8), (4, 11, 6)),
                                   ((4, 10, 8), (1, 12, 8), (1, 12, 8))])
def test_attention_agrees_with_torch(q, k, v):
    from torch.nn.functional import scaled_dot_product_attention

    rec = _Rec()
    got = whole.attention(rec, *(_tensor(s) for s in (q, k, v)), _Node())
    for batch in (2, 3):
        try:
            truth = tuple(scaled_dot_product_attention(*(torch.zeros((batch,) + s) for s in (q, k, v))).shape)
        except RuntimeError:
            truth = None
        if rec.faults:
            assert truth is None and {f.code for f in rec.faults} == {"CNS009"}
        else:
            assert truth == (batch,) + got.shape.dims
    assert bool(rec.faults) == (q == (4, 10, 8) and k[-1] != 8 or v[-2] != k[-2])


def test_embedding_function_agrees_with_torch():
    from torch.nn.functional import embedding

    got = whole.call(_Rec(), "torch.nn.functional.embedding", [_tensor((7,)), Fixed((10, 4))], {}, _Node())
    assert (2,) + got.shape.dims == tuple(embedding(torch.zeros(2, 7, dtype=torch.long), torch.zeros(10, 4)).shape)


EINSUMS = [("bhid,bhjd->bhij", [(B, 2, 5, 4), (B, 2, 6, 4)]), ("bhid,bhjd->bhij", [(B, 2, 5, 4), (B, 2, 6, 3)]),
           ("bhij,bhjd->bhid", [(B, 2, 5, 6), (B, 2, 6, 4)]), ("bij,bjk->bik", [(B, 3, 4), (B, 5, 2)]),
           ("bi,ij->bj", [(B, 4), (4, 6)]), ("bi,ij->bj", [(B, 4), (5, 6)]), ("ij,jk", [(3, 4), (4, 5)]),
           ("bnd,d->bn", [(B, 7, 4), (4,)]), ("bnd,d->bn", [(B, 7, 4), (1,)]), ("bi,bi->b", [(B, 4), (1, 4)]),
           ("bi,bi->b", [(B, 4), (3, 4)]), ("b i d, b j d -> b i j", [(B, 3, 4), (B, 5, 4)]), ("...d,d->...", [(B, 4), (4,)]),
           ("ii->i", [(3, 3)]), ("bij->bji", [(B, 2, 3)]), ("bi,j->bij", [(B, 2), (None,)]),
           ("bij,bjk->bik", [(B, 3), (B, 3, 4)]), ("bi,cj->bc", [(B, 4), (B, 5)])]
# the ellipsis: the dims it covers broadcast across the operands (aligned on the right), or are summed
ELLIPSES = [("...ij,...jk->...ik", [(B, 3, 4), (B, 4, 5)]), ("...ij,...jk->...ik", [(B, 3, 4), (4, 5)]),
            ("...ij,...jk->...ik", [(B, 2, 3, 4), (2, 4, 5)]), ("...ij,...jk->...ik", [(B, 2, 3, 4), (3, 4, 5)]),
            ("...ij,...jk->...ik", [(B, 2, 3, 4), (1, 4, 5)]), ("...ij,...jk->...ik", [(B, 3, 4), (B, 5, 6)]),
            ("...ij,...jk->...ik", [(B, 3, 4), (7, 4, 5)]), ("...ij,...jk->...ik", [(4,), (4, 5)]),
            ("...ij,...jk->...ik", [(B, None, 4), (4, 5)]), ("...ij,...jk->...ik", [(B, 2, 3, 4), (None, 4, 5)]),
            ("...ij,...jk->...ik", [(B, 3, 4), (4, 5), (1,)]), ("...ij,...jk", [(B, 3, 4), (B, 4, 5)]),
            ("...ij,...jk", [(B, 2, 3, 4), (5, 1, 4, 6)]), ("...ij,...jk->ik", [(3, 4), (4, 5)]),
            ("...ij,...jk->ik", [(B, 3, 4), (B, 4, 5)]), ("...ij,jk->...ki", [(B, 3, 4), (4, 5)]),
            ("b...d,bd->b...", [(B, 7, 4), (B, 4)]), ("b...d,bd->b...", [(B, 7, 5, 4), (B, 4)]),
            ("b...d,bd->b...", [(B, 7, 4), (B, 5)]), ("b...d,bd->b...", [(B, 4), (B, 4)]), ("b...d,bd->b", [(B, 7, 5, 4), (B, 4)]),
            ("b...d,d->b...", [(B, 7, 4), (4,)]), ("b ... d, b d -> b ...", [(B, 7, 4), (B, 4)]),
            ("...d,d->...", [(B, 7, 4), (5,)]), ("...i,...i->...", [(B, 1, 4), (3, 4)]), ("...i,...i->...", [(B, 2, 4), (3, 4)]),
            ("...,...->...", [(B, 3), (3,)]), ("...->", [(B, 3)]), ("...", [(B, 3)]), ("ij...", [(3, 4, 5)]),
            ("ij...->...ij", [(3, 4, 5, 6)]), ("ij,jk->...ik", [(3, 4), (4, 5)]), ("...Ab,b...", [(B, 3, 4), (4,)]),
            ("...ij", [(4,)]), ("i...i", [(3, 2, 3)]), ("a...b...", [(B, 3, 4)]), ("...i.,i", [(B, 4), (4,)]),
            ("...ij,...jk->...ik...", [(3, 4), (4, 5)]), ("b...i,b...j->b...ij", [(B, 5, 3), (B, 5, 4)]),
            ("b...i,b...j->b...ij", [(B, 5, 3), (B, 6, 4)]), ("bhnd,...d->bhn...", [(B, 2, 5, 4), (7, 4)])]


@pytest.mark.parametrize("equation,shapes", EINSUMS + ELLIPSES)
def test_einsum_agrees_with_torch(equation, shapes):
    from flake8_cnnshape.shapes.rules.matmul import einsum

    ctx = Ctx("torch.einsum")
    try:
        got = einsum(equation, shapes, ctx)
    except GivesUp:
        return
    for batch in (2, 3):
        tensors = [torch.zeros(tuple(batch if d is B else 6 if d is None else d for d in s)) for s in shapes]
        try:
            truth = tuple(torch.einsum(equation, *tensors).shape)
        except RuntimeError:
            truth = None
        if ctx.faults:
            assert truth is None, (equation, shapes, [f.text for f in ctx.faults])
        elif truth is not None or not any(None in s for s in shapes):
            assert truth is not None and len(truth) == len(got), (equation, shapes, got, truth)
            assert all(w is None or (batch if w is B else w) == t for w, t in zip(got, truth)), (equation, got, truth)


@pytest.mark.parametrize("grid,shapes,faults", [("plain", 8, 3), ("ellipsis", 20, 6)])
def test_einsum_grid_says_something(grid, shapes, faults):
    from flake8_cnnshape.shapes.rules.matmul import einsum

    kinds = []
    for equation, operands in EINSUMS if grid == "plain" else ELLIPSES:
        ctx = Ctx("e")
        try:
            einsum(equation, operands, ctx)
            kinds.append("fault" if ctx.faults else "shape")
        except GivesUp:
            kinds.append("gives up")
    assert kinds.count("shape") >= shapes and kinds.count("fault") >= faults, kinds


def test_type_as_keeps_the_shape_as_torch():
    other = Tensor(Shape((3,)))
    got = whole.method(_Rec(), Fixed((1, 5, 7)), "type_as", [other], {}, None)
    assert isinstance(got, Fixed) and got.dims == tuple(torch.zeros(1, 5, 7).type_as(torch.zeros(2, 3, dtype=torch.half)).shape)
    assert whole.method(_Rec(), Fixed((1, 5, 7)), "type_as", [3], {}, None) is whole.UNKNOWN
