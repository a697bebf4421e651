"""A layer's `.weight` and `.bias` read as values (interp/access.layer_parameter) against torch: on the
ordinary calls of tests/test_layer_rules.py, the shape we give is the shape of torch's parameter, None where
torch's is None; a give-up claims nothing, and each layer must have claims."""
from __future__ import annotations

import collections
import warnings

import pytest

from flake8_cnnshape.interp.access import layer_parameter
from flake8_cnnshape.interp.values import UNKNOWN, Fixed
from flake8_cnnshape.shapes.catalog import LAYERS
from flake8_cnnshape.shapes.signature import bind

torch = pytest.importorskip("torch")

from test_layer_rules import CASES  # noqa: E402  (tests/ is on sys.path)
from test_whole_made import _Node, _Rec  # noqa: E402

KINDS = (["Linear", "Bilinear", "Embedding", "EmbeddingBag", "GroupNorm", "PReLU"]
         + [f"{k}{n}d" for k in ("Conv", "ConvTranspose", "BatchNorm", "InstanceNorm") for n in (1, 2, 3)])


def _built(case):
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        try:
            return getattr(torch.nn, case.layer)(*case.args, **case.kwargs)
        except Exception:  # noqa: BLE001  (not a call torch builds)
            return None


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_are_torchs(kind):
    claims = collections.Counter()
    for case in (c for c in CASES if c.layer == kind and c.known):
        layer = _built(case)
        bound = bind(LAYERS[kind].sig, list(case.args), dict(case.kwargs))
        if layer is None or bound is None:
            continue
        for attr in ("weight", "bias"):
            ours = layer_parameter(kind, attr, bound.values)
            if ours is UNKNOWN:
                continue
            truth = getattr(layer, attr, None)
            if ours is None:
                assert truth is None, (case.id, attr)
            else:
                assert type(ours) is Fixed and truth is not None and ours.dims == tuple(truth.shape), (case.id, attr, ours, truth)
            claims[attr] += 1
    assert claims["weight"] >= 1, (kind, claims)


def test_a_tied_embedding_and_a_functional_linear_are_checked():
    from flake8_cnnshape.analysis import analyze

    source = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Tied(nn.Module):  # cnnshape: input=(12,)
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.fc = nn.Linear(12, 32)
        self.proj = nn.Linear(16, 8)

    def forward(self, x):
        h = self.fc(x)
        logits = h @ self.embed.weight.t()
        return F.linear(logits, self.proj.weight)
'''
    got = [(f.line, f.code) for f in analyze(source.splitlines(True), strict=True)]
    assert got == [(17, "CNS009")], got  # F.linear over 100 logits with a weight of 16 inputs
    ns: dict = {}
    exec(compile(source, "tied.py", "exec"), ns)
    with pytest.raises(RuntimeError, match="100 and 16x8|mat1 and mat2"):
        ns["Tied"]()(torch.zeros(2, 12))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_functional_convolutions_are_torchs(n):
    """F.conv{n}d(x, weight, ...) with a weight of known shape, on the conv grid's ordinary calls, each fed the
    channels its weight takes and one more: our shape is torch's (CPU), our fault is torch refusing."""
    from flake8_cnnshape.interp import whole
    from flake8_cnnshape.interp.values import Tensor
    from flake8_cnnshape.shapes.shape import Shape

    kind, fn = f"Conv{n}d", getattr(torch.nn.functional, f"conv{n}d")
    kinds = collections.Counter()
    cases = [c for c in CASES if c.layer == kind and c.known and c.kwargs.get("padding_mode", "zeros") == "zeros"]
    for case in cases[:80]:
        try:
            layer = getattr(torch.nn, kind)(*case.args, **case.kwargs)
        except Exception:  # noqa: BLE001
            continue
        options = {"stride": layer.stride, "padding": layer.padding, "dilation": layer.dilation, "groups": layer.groups}
        for extra in (0, 1):
            dims = (case.dims[0] + extra,) + tuple(case.dims[1:])
            rec = _Rec()
            ours = whole.call(rec, f"torch.nn.functional.conv{n}d", [Tensor(Shape(dims)), Fixed(tuple(layer.weight.shape))],
                              options, _Node())
            try:
                truth = tuple(fn(torch.zeros((2,) + dims), layer.weight, None, **options).shape[1:])
            except RuntimeError:
                truth = None
            if rec.faults:
                assert truth is None, (case.id, dims, [f.code for f in rec.faults])
                kinds["fault"] += 1
            elif ours is not UNKNOWN and not ours.shape.open and None not in ours.shape.dims:
                assert truth == ours.shape.dims, (case.id, dims, ours, truth)
                kinds["shape"] += 1
    assert kinds["fault"] >= 5 and kinds["shape"] >= 5, kinds
