"""What the layers that return more than their output return besides it
(LayerSpec.returns: an LSTM's h_n and c_n, attention's weights) against
torch, on the ordinary calls of tests/test_layer_rules.py: at batch 2 and 3
each whole shape we give (B the batch, None unknown) must be torch's, and
"out" must stand where torch returns the output."""
from __future__ import annotations

import warnings

import pytest

from flake8_cnnshape.shapes.catalog import LAYERS
from flake8_cnnshape.shapes.rules.matmul import B
from flake8_cnnshape.shapes.shape import Shape
from flake8_cnnshape.shapes.signature import bind
from flake8_cnnshape.shapes.spec import apply

torch = pytest.importorskip("torch")

from test_layer_rules import CASES  # noqa: E402  (tests/ is on sys.path)

RETURNING = sorted(name for name, spec in LAYERS.items() if spec.returns is not None)


def _compare(ours, theirs, batch, where, out) -> int:
    """Checks ours against torch's value (out: the output's per-sample dims); the number of shapes compared."""
    if ours == "out":
        assert isinstance(theirs, torch.Tensor) and tuple(theirs.shape) == (batch,) + out, (where, tuple(theirs.shape))
        return 1
    if ours is None:
        return 0  # not known: no claim
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs) and not all(type(d) is int for d in ours), where
        return sum(_compare(o, t, batch, where, out) for o, t in zip(ours, theirs))
    want = tuple(batch if d is B else d for d in ours)
    assert isinstance(theirs, torch.Tensor) and len(want) == theirs.dim(), (where, ours, tuple(theirs.shape))
    assert all(w is None or w == g for w, g in zip(want, theirs.shape)), (where, ours, tuple(theirs.shape))
    return 1


@pytest.mark.parametrize("layer", RETURNING)
def test_what_they_return_is_torchs(layer):
    spec = LAYERS[layer]
    compared = 0
    for case in (c for c in CASES if c.layer == layer and c.known):
        bound = bind(spec.sig, list(case.args), dict(case.kwargs))
        out = apply(spec, bound, Shape(case.dims), layer)
        if out.shape is None or out.faults:
            continue
        structure = spec.returns(bound, Shape(case.dims), out.shape)
        for batch in (2, 3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = getattr(torch.nn, layer)(*case.args, **case.kwargs)
                x = torch.zeros((batch,) + case.dims)
                got = module(x, x, x) if layer == "MultiheadAttention" else module(x)
            compared += _compare(structure, got, batch, f"{case.id} at batch {batch}", out.shape.dims)
    assert compared >= 4, f"{layer}: too few shapes compared ({compared})"


def test_transformer_encoder_is_its_layers_in_turn():
    """nn.TransformerEncoder is followed as its layer again and again, then its norm:
    torch keeps the shape, and refuses what its layer refuses."""
    for width in (16, 12):
        layer = torch.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
        encoder = torch.nn.TransformerEncoder(layer, 3, norm=torch.nn.LayerNorm(16), enable_nested_tensor=False)
        spec = LAYERS["TransformerEncoderLayer"]
        ours = apply(spec, bind(spec.sig, [16, 4], dict(dim_feedforward=32, batch_first=True)), Shape((5, width)), "l")
        try:
            theirs = tuple(encoder(torch.zeros(2, 5, width)).shape[1:])
        except AssertionError:
            theirs = None
        assert (theirs is None) == bool(ours.faults)
        if theirs is not None:
            assert ours.shape.dims == theirs
