"""torch.max / torch.min and x.max / x.min (interp/tensors.py's extreme), against
torch: over a dim, the values and the indices both of torch's shape; of another
tensor, torch's broadcast. Each call stands in a model that views what it
gives as 1009 values a sample: the CNS005 says the per-sample shape it
holds, which must be torch's."""
from __future__ import annotations

import itertools
import re

import pytest

from flake8_cnnshape.analysis import analyze

torch = pytest.importorskip("torch")

MODEL = """import torch
import torch.nn as nn


class Net(nn.Module):  # cnnshape: input={dims}
    def forward(self, x):
        y = {expr}
        return y.view(x.size(0), 1009)
"""


def _ours(dims, expr):
    found = [f for f in analyze(MODEL.format(dims=dims, expr=expr).splitlines(True), strict=True) if f.code == "CNS005"]
    if not found:
        return None
    return tuple(int(d) for d in re.search(r"holds \d+ \(([\d x]+)\)", found[0].message).group(1).split(" x "))


def _theirs(dims, expr):
    x = torch.zeros((2,) + dims)
    return tuple(eval(expr, {"torch": torch, "x": x}).shape[1:])


CASES = [f"{call}[{i}]" for call, i in itertools.product(
    [f"torch.{f}(x, dim={d}{k})" for f in ("max", "min") for d in (1, -1, 2) for k in ("", ", keepdim=True")]
    + [f"x.{f}({d}{k})" for f in ("max", "min") for d in (1, -1) for k in ("", ", True")], (0, 1))]
CASES += ["torch.max(x, x[:, :1])", "torch.min(x, x[:, :, :1])", "x.max(x[:, :1])"]


@pytest.mark.parametrize("expr", CASES)
def test_extremes_agree_with_torch(expr):
    dims = (3, 4, 5)
    assert _ours(dims, expr) == _theirs(dims, expr), expr
