"""hasattr(instance, name) as the interpreter answers it (interp/typetests.py),
held against Python running the same classes with torch: every answer given
is Python's, and the answers withheld are the ones a guess could get wrong."""
from __future__ import annotations

import ast

import pytest

from flake8_cnnshape.analysis import FileAnalysis
from flake8_cnnshape.interp.typetests import MODULE_NAMES, has_attribute
from flake8_cnnshape.interp.values import Instance
from flake8_cnnshape.shapes.signature import UNKNOWN

SOURCE = '''
import torch.nn as nn


class Base(nn.Module):
    scale = 2

    def helper(self):
        return self.scale


class Block(Base):
    kind = "block"

    def __init__(self, cin, cout, stride=1, extra=()):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Conv2d(cin, cout, 1, stride)
        self.width = cout
        self.hidden = None

    def forward(self, x):
        return self.conv(x)


class Named(nn.Module):
    def __init__(self, names):
        super().__init__()
        for n in names:
            setattr(self, n, nn.ReLU())

    def forward(self, x):
        return x


class Deleting(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.ReLU()
        del self.a

    def forward(self, x):
        return x
'''
BUILDS = [("Block", (16, 16)), ("Block", (16, 32)), ("Block", (16, 16, 2)), ("Named", (("shortcut", "conv"),)),
          ("Deleting", ())]
NAMES = ["shortcut", "conv", "width", "hidden", "kind", "scale", "helper", "forward", "training", "parameters",
         "missing", "a"]


def _ours(cls_name, args, name):
    fa = FileAnalysis(SOURCE.splitlines(True), ast.parse(SOURCE))
    interp = fa.interp
    cls = interp.module.lookup(cls_name)
    inst = interp.instantiate(cls, list(args), {}, None)
    assert isinstance(inst, Instance) and inst.complete
    return has_attribute(inst, name)


@pytest.fixture(scope="module")
def torch_answers():
    pytest.importorskip("torch")
    space = {}
    exec(compile(SOURCE, "<typetests>", "exec"), space)
    return {(c, args, n): hasattr(space[c](*args), n) for c, args in BUILDS for n in NAMES}


@pytest.mark.parametrize("cls_name,args", BUILDS, ids=[f"{c}{a}" for c, a in BUILDS])
def test_every_answer_given_is_pythons(cls_name, args, torch_answers):
    for name in NAMES:
        got = _ours(cls_name, args, name)
        if got is not UNKNOWN:
            assert got == torch_answers[(cls_name, args, name)], name


def test_the_answers_that_matter_are_given():
    """The shortcut that only some builds set: present and absent are both known."""
    assert _ours("Block", (16, 32), "shortcut") is True
    assert _ours("Block", (16, 16), "shortcut") is False
    assert _ours("Block", (16, 16), "missing") is False
    assert _ours("Block", (16, 16), "helper") is True  # a base's method
    assert _ours("Block", (16, 16), "training") is True  # nn.Module's own


def test_names_set_by_names_not_spelled_or_deleted_stay_unknown():
    assert _ours("Named", (("conv",),), "shortcut") is UNKNOWN
    assert _ours("Deleting", (), "a") is UNKNOWN


def test_the_module_names_are_torchs():
    torch = pytest.importorskip("torch")
    assert MODULE_NAMES == {n for n in dir(torch.nn.Module()) if not n.startswith("_")}
