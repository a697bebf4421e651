"""Layers given more than one tensor, as models call them, linted and run by
torch: an EmbeddingBag's offsets (the text classification tutorial), an
attention's key and value that are other tensors than its query. Over a grid
of widths, right and wrong: where torch refuses the model, the analysis
reports the layer it refuses with torch's number; where torch runs it,
nothing is reported."""
from __future__ import annotations

import re
from itertools import product

import pytest

from flake8_cnnshape.analysis import analyze

torch = pytest.importorskip("torch")

BAG = '''import torch.nn as nn


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, mode="{mode}")
        self.fc = nn.Linear({fc_in}, num_class)

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


model = TextClassificationModel(1000, {embed}, 4)
'''

CROSS = '''import torch.nn as nn


class CrossAttention(nn.Module):  # cnnshape: input=(6, {width})
    def __init__(self):
        super().__init__()
        self.to_k = nn.Linear({width}, {key_width})
        self.to_v = nn.Linear({width}, {key_width})
        self.attn = nn.MultiheadAttention({embed}, 2, batch_first=True{kdims})
        self.out = nn.Linear({out_in}, 3)

    def forward(self, x):
        y, _ = self.attn(x, self.to_k(x), self.to_v(x))
        return self.out(y)
'''


def _torch_error(source: str, make_inputs):
    namespace: dict = {}
    exec(compile(source, "<model>", "exec"), namespace)
    model = namespace["model"] if "model" in namespace else namespace["CrossAttention"]()
    try:
        with torch.no_grad():
            model.eval()(*make_inputs())
    except (RuntimeError, AssertionError) as e:
        return str(e)
    return None


def _check(source: str, make_inputs, line: int, want: int) -> None:
    error = _torch_error(source, make_inputs)
    reports = analyze(source.splitlines(True), strict=True)
    if error is None:
        assert not reports, (source, [r.message for r in reports])
        return
    assert [r.place[0] for r in reports] == [line], (source, error, [r.message for r in reports])
    assert str(want) in re.findall(r"\d+", error), error  # the number we state is the one torch names
    assert reports[0].fault.value == want, reports[0].message  # and the one fix would write


@pytest.mark.parametrize("embed,fc_in,mode", list(product((16, 64), (16, 64, 96), ("mean", "sum", "max"))))
def test_embedding_bag_with_offsets(embed, fc_in, mode):
    source = BAG.format(embed=embed, fc_in=fc_in, mode=mode)
    _check(source, lambda: (torch.randint(0, 1000, (30,)), torch.tensor([0, 7, 19])), 8, embed)


@pytest.mark.parametrize("embed,out_in", [(8, 8), (8, 12), (12, 8)])
def test_attention_with_another_key(embed, out_in):
    """kdim and vdim left to embed_dim: the key and value are the projections' outputs."""
    source = CROSS.format(width=embed, key_width=embed, embed=embed, kdims="", out_in=out_in)
    _check(source, lambda: (torch.randn(2, 6, embed),), 10, embed)


def test_attention_with_kdim_and_vdim():
    source = CROSS.format(width=8, key_width=5, embed=8, kdims=", kdim=5, vdim=5", out_in=4)
    _check(source, lambda: (torch.randn(2, 6, 8),), 10, 8)
    right = CROSS.format(width=8, key_width=5, embed=8, kdims=", kdim=5, vdim=5", out_in=8)
    _check(right, lambda: (torch.randn(2, 6, 8),), 10, 8)
