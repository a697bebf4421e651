"""einops patterns (shapes/rules/einops_rules.py) against einops itself, on
torch tensors: each pattern, shape and set of axis lengths of the grid is
run by einops with the batch B at 2 and at 3. A shape we give must be
einops' at both; a fault must be einops (or torch) refusing at both; a
give-up claims nothing. The grid must hold enough claims of each kind."""
from __future__ import annotations

import itertools

import pytest

from flake8_cnnshape.shapes.rules.einops_rules import apply
from flake8_cnnshape.shapes.rules.matmul import B, GivesUp
from flake8_cnnshape.shapes.spec import Ctx

torch = pytest.importorskip("torch")
einops = pytest.importorskip("einops")

PATTERNS = [
    ("rearrange", "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", {"p1": 4, "p2": 4}),
    ("rearrange", "b c h w -> b (h w) c", {}),
    ("rearrange", "b (h w) c -> b c h w", {"h": 4}),
    ("rearrange", "b (h w) c -> b c h w", {"h": 4, "w": 4}),
    ("rearrange", "b n (h d) -> b h n d", {"h": 2}),
    ("rearrange", "b h n d -> b n (h d)", {}),
    ("rearrange", "b ... c -> b c ...", {}),
    ("rearrange", "(h w) c -> 1 c h w", {"h": 4, "w": 4}),
    ("rearrange", "b c h w -> (b c) h w", {}),
    ("rearrange", "b c -> b c 1 1", {}),
    ("reduce", "b c h w -> b c", {}),
    ("reduce", "b c (h 2) (w 2) -> b c h w", {}),
    ("reduce", "b (n p) c -> b n c", {"p": 4}),
    ("repeat", "b n c -> b (n r) c", {"r": 3}),
    ("repeat", "h w -> b h w", {"b": 5}),
    ("repeat", "1 n d -> b n d", {"b": 2}),
    ("repeat", "1 n d -> b n d", {"b": B}),
    ("rearrange", "b n d -> b d n", {"b": B}),
    ("rearrange", "b (h d) ... -> b h (...) d", {"h": 4}),
    ("rearrange", "b c ... -> b (...) c", {}),
    ("rearrange", "b c ... -> b (c ...)", {}),
    ("reduce", "b c ... -> b (c ...)", {}),
    ("repeat", "b c ... -> b (...) (c r)", {"r": 2}),
]
SHAPES = [(B, 3, 16, 16), (B, 3, 15, 16), (B, 16, 8), (B, 12, 8), (B, 2, 16, 8), (B, 16), (16, 3), (12, 3), (4, 4),
          (B, 3, 4, 4), (1, 16, 8), (B, 8, 3), (None, 3), (B, None, 8)]


def _einops(kind, pattern, axes, dims, batch):
    concrete = tuple(batch if d is B else 6 if d is None else d for d in dims)
    fn = getattr(einops, kind)
    extra = ("mean",) if kind == "reduce" else ()
    lengths = {k: batch if v is B else v for k, v in axes.items()}
    try:
        return tuple(fn(torch.zeros(concrete), pattern, *extra, **lengths).shape)
    except (einops.EinopsError, RuntimeError, ValueError):
        return None


@pytest.mark.parametrize("kind,pattern,axes", PATTERNS, ids=[p[1] + " " + str(p[2]) for p in PATTERNS])
def test_patterns_agree_with_einops(kind, pattern, axes):
    claims = []
    for dims in SHAPES:
        ctx = Ctx(kind)
        try:
            out = apply(kind, pattern, dims, axes, ctx)
        except GivesUp:
            continue
        truths = [_einops(kind, pattern, axes, dims, batch) for batch in (2, 3)]
        if ctx.faults:
            assert all(t is None for t in truths), (dims, [f.text for f in ctx.faults], truths)
            claims.append("fault")
            continue
        assert out is not None
        for batch, t in zip((2, 3), truths):
            if t is None and None in dims:
                continue  # the unknown size at 6 may not fit: ours says what comes out if it runs
            want = tuple(batch if d is B else d for d in out)
            assert t is not None and len(t) == len(want) and all(w is None or w == g for w, g in zip(want, t)), (
                dims, out, t)
        claims.append("shape")
    # the batch merged with another axis: nothing to say of it (by design)
    assert claims.count("shape") >= (0 if "(b c)" in pattern or axes.get("b") is B and kind != "repeat" else 1), claims


def test_the_grid_says_something():
    kinds = []
    for (kind, pattern, axes), dims in itertools.product(PATTERNS, SHAPES):
        ctx = Ctx(kind)
        try:
            apply(kind, pattern, dims, axes, ctx)
        except GivesUp:
            kinds.append("gives up")
            continue
        kinds.append("fault" if ctx.faults else "shape")
    assert kinds.count("shape") >= 25 and kinds.count("fault") >= 40, {k: kinds.count(k) for k in set(kinds)}


@pytest.mark.parametrize("pattern", ["b (...) -> b ...", "(b ...) c -> b c"])
def test_a_composed_ellipsis_on_the_left_is_not_read(pattern):
    """einops takes `(...)` on the right only; on the left it refuses, and we claim nothing."""
    assert _einops("rearrange", pattern, {}, (B, 64, 7), 2) is None
    with pytest.raises(GivesUp):
        apply("rearrange", pattern, (B, 64, 7), {}, Ctx("rearrange"))
