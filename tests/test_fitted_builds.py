"""A class nothing in the file builds, under a pragma whose input its defaults
do not take (models/fitted.py): the parameter whose default sizes the first
layer is given the input's size, and the class is checked as so built, every
fault named with that build; torch, building it that way, agrees."""
from __future__ import annotations

import textwrap
from functools import partial

import pytest

from flake8_cnnshape import analysis
from flake8_cnnshape.show import render, tables

analyze = partial(analysis.analyze, strict=True)

# the input's channels reach a later layer by a side path (a positional encoding,
# a skip concatenation), sized there by another parameter: wrong once in_channels != 1
SIDE_PATH = """
import torch
import torch.nn as nn


class Net(nn.Module):  # cnnshape: input=(3, 16, 16)
    def __init__(self, in_channels=1, filters=8, side_channels=1):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, filters, 3, padding=1)
        self.mix = nn.Conv2d(filters + side_channels, 4, 1)

    def forward(self, x):
        h = self.stem(x)
        return self.mix(torch.cat([h, x], 1))
"""
SIDE_PATH_FIXED = SIDE_PATH.replace("filters + side_channels", "filters + in_channels")

LINEAR_FIRST = """
import torch.nn as nn


class Mlp(nn.Module):  # cnnshape: input=(100,)
    def __init__(self, in_dim=784, hidden=64):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden * 2, 10)

    def forward(self, x):
        return self.fc2(self.fc1(x))
"""


def lint(src: str):
    return [(r.line, r.code, r.text) for r in analyze(textwrap.dedent(src).splitlines(True))]


def torch_refuses(src: str, build: str, dims) -> str:
    torch = pytest.importorskip("torch")
    namespace: dict = {}
    exec(compile(textwrap.dedent(src), "<model>", "exec"), namespace)
    try:
        eval(build, namespace)(torch.zeros((2,) + tuple(dims)))
    except RuntimeError as e:
        return str(e)
    return ""


def test_the_build_fitted_to_the_input_is_checked():
    [(line, code, text)] = lint(SIDE_PATH)
    assert (line, code) == (10, "CNS002")
    assert text == "nn.Conv2d expects in_channels=9 but receives 11 channels for input (3, 16, 16) with Net(in_channels=3)"
    assert "expected input[2, 11, 16, 16] to have 9 channels" in torch_refuses(SIDE_PATH, "Net(in_channels=3)", (3, 16, 16))


def test_the_fixed_twin_is_quiet_and_torch_runs_it():
    assert lint(SIDE_PATH_FIXED) == []
    assert torch_refuses(SIDE_PATH_FIXED, "Net(in_channels=3)", (3, 16, 16)) == ""


def test_a_feature_width_is_fitted_too():
    [(line, code, text)] = lint(LINEAR_FIRST)
    assert (line, code) == (9, "CNS001")
    assert "expects in_features=128 but receives 64" in text and text.endswith("with Mlp(in_dim=100)")
    assert "2x64 and 128x10" in torch_refuses(LINEAR_FIRST, "Mlp(in_dim=100)", (100,))


DEFAULT_BUILD = [(9, "CNS002", "nn.Conv2d expects in_channels=1 but receives 3 channels for input (3, 16, 16)"),
                 (10, "CNS002", "nn.Conv2d expects in_channels=9 but receives 11 channels for input (3, 16, 16)")]


def test_no_parameter_sizes_the_first_layer():
    # a literal size: nothing to fit, the class is checked as its defaults build it
    assert lint(SIDE_PATH.replace("nn.Conv2d(in_channels, filters", "nn.Conv2d(1, filters")) == DEFAULT_BUILD


def test_a_class_the_file_builds_is_checked_as_built():
    # `Net()` in the file says how it is built: its defaults are the build, and they refuse the input
    assert lint(SIDE_PATH_FIXED + "\n\nnet = Net()\n") == DEFAULT_BUILD
    assert "expected input[2, 3, 16, 16] to have 1 channels" in torch_refuses(SIDE_PATH_FIXED, "Net()", (3, 16, 16))


def test_a_pragma_build_is_not_fitted():
    src = SIDE_PATH_FIXED.replace("input=(3, 16, 16)", "input=(3, 16, 16) build=Net(in_channels=1)")
    assert lint(src) == DEFAULT_BUILD


def test_show_names_the_fitted_build():
    [table] = tables(textwrap.dedent(SIDE_PATH).splitlines(True))
    assert table["build"] == "Net(in_channels=3)" and table["build_fitted"]
    text = render(table)
    assert "built as Net(in_channels=3) (its defaults do not take this input)" in text
    assert "CNS002" in text and "(3, 16, 16)" in text
