"""Tensors a module makes itself (interp/whole.py) against torch: the counts of
torch.arange / torch.linspace, indexing such a tensor, and torch.cat of it with
the model's tensor. A shape we give must be torch's (the model's batch B at 2
and at 3), a fault must be torch refusing; a give-up claims nothing, and each
grid must hold enough claims that the test says something."""
from __future__ import annotations

import itertools
import random

import pytest

from flake8_cnnshape.interp import whole
from flake8_cnnshape.interp.values import Fixed, Tensor
from flake8_cnnshape.shapes.rules.matmul import B
from flake8_cnnshape.shapes.shape import Shape

torch = pytest.importorskip("torch")


class _Rec:
    def __init__(self):
        self.faults = []

    def report(self, faults, *args, **kwargs):
        self.faults += faults


class _Node:
    lineno, col_offset = 1, 0


def _bound(rng: random.Random, floats: bool):
    if floats:
        return rng.choice([round(rng.uniform(-20, 20), rng.randint(0, 3)), rng.uniform(-5, 5), 0.1 * rng.randint(-50, 50)])
    return rng.randint(-30, 30)


def _range_args(rng: random.Random):
    floats = rng.random() < 0.6
    n = rng.randint(1, 3)
    args = [_bound(rng, floats and rng.random() < 0.7) for _ in range(n)]
    if n == 3 and rng.random() < 0.5:
        args[2] = rng.choice([0.1, 0.3, 0.25, 1e-3 * rng.randint(1, 900), rng.randint(1, 4), -rng.randint(1, 4), -0.7])
    return args


def test_arange_counts_as_torch():
    rng = random.Random(7)
    claims = refused = 0
    for _ in range(3000):
        args = _range_args(rng)
        ours = whole._ranged("arange", args, {})
        try:
            truth = tuple(torch.arange(*args, device="meta").shape)
        except RuntimeError:
            truth = None
        refused += truth is None
        if ours is whole.UNKNOWN:
            continue
        claims += 1
        assert type(ours) is Fixed and ours.dims == truth, (args, ours, truth)
    assert claims >= 1200 and claims + refused == 3000, (claims, refused)  # every count torch gives, we give


@pytest.mark.parametrize("steps", [0, 1, 2, 7, 100])
def test_linspace_has_its_steps(steps):
    ours = whole._ranged("linspace", [-1.5, 3, steps], {"dtype": None})
    assert ours.dims == tuple(torch.linspace(-1.5, 3, steps, device="meta").shape)
    assert whole._ranged("linspace", [0, 1], {"steps": steps}) is whole.UNKNOWN  # (not followed: a keyword)
    assert whole._ranged("arange", [0, 4], {"other": 1}) is whole.UNKNOWN


KEYS = [0, -1, 2, slice(None), slice(1, None), slice(None, -1), slice(None, None, 2), slice(1, 3), None, Ellipsis,
        (None, slice(None)), (slice(None), None), (Ellipsis, None), (None, Ellipsis, None), (0, slice(None)),
        (slice(None), 0), (slice(None), slice(None), slice(None)), (slice(None), slice(None), slice(None), 0),
        (None, None, slice(None), None), (Ellipsis, 0), (Ellipsis, Ellipsis), (-1, Ellipsis, slice(None, 1))]
DIMS = [(4,), (3, 5), (B, 4), (B, 3, 5), (1, 6, 2), (None, 4), (3, None)]


def _concrete(dims, batch):
    return tuple(batch if d is B else 6 if d is None else d for d in dims)


@pytest.mark.parametrize("dims", DIMS, ids=str)
def test_indexing_a_made_tensor_as_torch(dims):
    claims = 0
    for key in KEYS:
        ours = whole.index(Fixed(dims), key)
        if ours is whole.UNKNOWN:
            continue
        claims += 1
        got = ours.dims if type(ours) is Fixed else (B,) + ours.shape.dims
        for batch in (2, 3):
            truth = tuple(torch.zeros(_concrete(dims, batch), device="meta")[key].shape)
            want = _concrete(got, batch)
            assert len(truth) == len(want) and all(g is None or w == t for g, w, t in zip(got, want, truth)), (
                dims, key, got, truth)
    assert claims >= 8, claims


CAT = [([(B, 3, 4), (B, 2, 4)], 1), ([(B, 3, 4), (1, 2, 4)], 1), ([(B, 2, 8, 8), (2, 2, 8, 8)], 1),
       ([(2, 8, 8), (1, 8, 8)], 0), ([(2, 8, 8), (1, 8, 7)], 0), ([(B, 2, 8, 8), (B, 1, 8, 7)], 1),
       ([(B, 2, 8, 8), (B, 1, 8, 8)], -3), ([(3, 4), (3, 5)], 1), ([(3, 4), (4, 5)], 1), ([(3, 4), (3, 4, 1)], 0),
       ([(B, 4), (B, 4)], 0), ([(B, 2, 8, 8), (B, 2, 8, 8)], 4), ([(None, 4), (3, 4)], 0), ([(None, 4), (3, 5)], 0)]


def _value(dims):
    return Tensor(Shape(dims[1:])) if dims and dims[0] is B else Fixed(dims)


@pytest.mark.parametrize("shapes,dim", CAT, ids=str)
def test_cat_with_a_made_tensor_as_torch(shapes, dim):
    rec = _Rec()
    ours = whole.cat(rec, [_value(s) for s in shapes], dim, _Node())
    got = ours.dims if type(ours) is Fixed else None if ours is whole.UNKNOWN or ours.shape.open else (B,) + ours.shape.dims
    for batch in (2, 3):
        try:
            truth = tuple(torch.cat([torch.zeros(_concrete(s, batch), device="meta") for s in shapes], dim).shape)
        except (RuntimeError, IndexError):
            truth = None
        if rec.faults:
            assert truth is None and [f.code for f in rec.faults] == ["CNS008"], (shapes, truth)
        elif got is not None:
            want = _concrete(got, batch)
            assert truth is not None and all(g is None or w == t for g, w, t in zip(got, want, truth)), (shapes, got, truth)


def test_the_cat_grid_says_something():
    kinds = []
    for shapes, dim in CAT:
        rec = _Rec()
        ours = whole.cat(rec, [_value(s) for s in shapes], dim, _Node())
        kinds.append("fault" if rec.faults else "unknown" if ours is whole.UNKNOWN or type(ours) is Tensor and ours.shape.open else "shape")
    assert kinds.count("fault") >= 3 and kinds.count("shape") >= 5, kinds


def test_the_key_grid_covers_every_kind():
    kinds = {type(k).__name__ for k in itertools.chain.from_iterable(k if type(k) is tuple else (k,) for k in KEYS)}
    assert kinds == {"int", "slice", "NoneType", "ellipsis"}
