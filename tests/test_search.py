"""The size search reads every axis off one replay where that replay runs
(shapes/search.py). That must give the verdicts that one replay per axis, the
other sides held at MAX_SIDE, gives: checked here on conv/pool chains whose
kernels, strides and paddings differ between the axes, so that the axes stop
running at different sides. No torch needed: both sides are the engine's."""
from __future__ import annotations

import random

import pytest

from flake8_cnnshape.shapes.catalog import LAYERS
from flake8_cnnshape.shapes.shape import Shape
from flake8_cnnshape.shapes.signature import bind
from flake8_cnnshape.shapes.spec import apply
from flake8_cnnshape.shapes.search import MAX_SIDE, GiveUp, _Axes, _search


class _OnePerAxis(_Axes):
    """at() as first written: one replay per axis and side."""

    def at(self, axis, s):
        p = self.parts(tuple(s if i == axis else MAX_SIDE for i in range(self.n)))
        return None if p is None else p[axis + 1]


def _chain(rng: random.Random):
    layers = []
    ch = rng.choice([1, 3])
    first = ch
    for _ in range(rng.randint(1, 4)):
        out = rng.choice([4, 8])
        kernel = (rng.choice([1, 3, 5, 7]), rng.choice([1, 3, 5]))
        stride = (rng.choice([1, 2, 3]), rng.choice([1, 2]))
        padding = (rng.choice([0, 1]), rng.choice([0, 2]))
        layers.append(("Conv2d", [ch, out, kernel], {"stride": stride, "padding": padding}))
        ch = out
        if rng.random() < 0.6:
            pool = (rng.choice([2, 3]), rng.choice([2, 4]))
            layers.append(("MaxPool2d", [pool], {"ceil_mode": rng.random() < 0.3}))
    layers.append(("Flatten", [], {}))
    return first, [(LAYERS[k], bind(LAYERS[k].sig, a, kw), k) for k, a, kw in layers]


def _replay(first, chain):
    def replay(sides):
        s = Shape((first,) + tuple(sides))
        for spec, args, name in chain:
            out = apply(spec, args, s, name)
            if out.faults or out.shape is None:
                return None
            s = out.shape
        return s

    return replay


def _verdict(axes_class, replay, want):
    try:
        return _search(axes_class(replay, 2), 2, want)
    except GiveUp:
        return "gave up"


@pytest.mark.parametrize("seed", range(40))
def test_one_replay_for_every_axis_gives_the_same_verdicts(seed):
    rng = random.Random(seed)
    first, chain = _chain(rng)
    replay = _replay(first, chain)
    wants = [rng.randint(1, 5000) for _ in range(3)]
    for sides in ((28, 28), (32, 64), (rng.randint(40, 300), rng.randint(40, 300))):
        got = replay(sides)
        if got is not None:
            wants.append(got.dims[0])
    for want in wants:
        assert _verdict(_Axes, replay, want) == _verdict(_OnePerAxis, replay, want), (seed, want)


def test_the_axes_differ_in_these_chains():
    """The cases above include chains whose axes stop running at different
    sides, where the one replay for both fails and each axis needs its own."""
    differ = 0
    for seed in range(40):
        first, chain = _chain(random.Random(seed))
        ax = _OnePerAxis(_replay(first, chain), 2)
        lows = []
        for axis in range(2):
            lo = next((s for s in range(1, 200) if ax.at(axis, s) is not None), None)
            lows.append(lo)
        differ += lows[0] != lows[1]
    assert differ >= 10
