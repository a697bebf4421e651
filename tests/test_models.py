"""Which runs the scheduler makes (models/scheduler.py): the ways a class is built,
and the parts checked on their own."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flake8_cnnshape.analysis import FileAnalysis
from flake8_cnnshape.interp.machine import Interp
from flake8_cnnshape.interp.values import ClassInfo
from flake8_cnnshape.models import scheduler
from flake8_cnnshape.models.scheduler import Scheduler

ROOT = Path(__file__).resolve().parent.parent
# the blocks and the model of the fixture torch runs, without its calls
BLOCKS = (ROOT / "fixtures" / "forward" / "build_ways.py").read_text().split("\ndef small")[0]


def _analysis(source: str) -> FileAnalysis:
    lines = source.splitlines(keepends=True)
    return FileAnalysis(lines, ast.parse(source))


def _ways(source: str, name: str = "Net"):
    fa = _analysis(source)
    cls = fa.interp.module.lookup(name)
    assert isinstance(cls, ClassInfo)
    return [([getattr(a, "name", a) for a in args], kwargs) for args, kwargs in fa.scheduler.ways(cls)]


def test_second_way_differs_in_more_than_numbers():
    calls = "a = Net(Basic, 2)\nb = Net(Basic, 3)\nc = Net(Basic, 2)\nd = Net(Wide, 2)\n"
    assert _ways(BLOCKS + calls) == [(["Basic", 2], {}), (["Wide", 2], {})]


def test_second_way_in_numbers_when_nothing_else_differs():
    calls = "a = Net(Basic, 2)\nb = Net(Basic, 2)\nc = Net(Basic, count=3)\nd = Net(Basic, 3)\n"
    # a keyword where the first passes it by position is more than numbers
    assert _ways(BLOCKS + calls) == [(["Basic", 2], {}), (["Basic"], {"count": 3})]
    calls = "a = Net(Basic, 2)\nb = Net(Basic, 3)\n"
    assert _ways(BLOCKS + calls) == [(["Basic", 2], {}), (["Basic", 3], {})]


@pytest.mark.parametrize("calls,limit,built", [
    # the first run takes more steps than a numbers-only second way is given
    ("a = Net(Basic, 2)\nb = Net(Basic, 3)\n", "NUMBERS_WAY_STEPS", [2]),
    ("a = Net(Basic, 2)\nb = Net(Wide, 2)\n", "NUMBERS_WAY_STEPS", [2, 2]),
    # ... and more than any second way is given
    ("a = Net(Basic, 2)\nb = Net(Wide, 2)\n", "EXTRA_WAY_STEPS", [2]),
])
def test_second_way_runs_only_after_a_small_first_run(monkeypatch, calls, limit, built):
    monkeypatch.setattr(scheduler, limit, 1)
    counts = []
    instantiate = Interp.instantiate

    def spy(self, cls, args, kwargs, node, keep=True):
        if cls.name == "Net":
            counts.append(args[1])
        return instantiate(self, cls, args, kwargs, node, keep)

    monkeypatch.setattr(Interp, "instantiate", spy)
    _analysis(BLOCKS + calls).reports()
    assert counts == built


TUPLE_FED = '''
import torch.nn as nn

class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
    def forward(self, pair):
        x, prev = pair
        return self.conv(x), x

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cells = nn.Sequential(Cell(), Cell())
        self.head = nn.Sequential(nn.Conv2d(8, 8, 1))
    def forward(self, x):
        x, prev = self.cells((x, None))
        return x
'''


def test_sequential_fed_a_tuple_is_not_checked_on_its_own(monkeypatch):
    """It takes what the model gives it; run alone it would be given one
    tensor, a guess. A part forward() never reached is checked alone."""
    checked = []
    check = Scheduler.check_sequential

    def spy(self, seq, inp):
        checked.append(seq.node.lineno)
        return check(self, seq, inp)

    monkeypatch.setattr(Scheduler, "check_sequential", spy)
    assert _analysis(TUPLE_FED).reports() == []
    cells_line = TUPLE_FED.splitlines().index("        self.cells = nn.Sequential(Cell(), Cell())") + 1
    assert cells_line not in checked
    assert cells_line + 1 in checked  # self.head, which forward() never uses


# -- a block's run of its own ------------------------------------------------
SIDES = (ROOT / "fixtures" / "forward" / "block_sides.py").read_text()
SIDES_BN = SIDES.splitlines().index("        self.bn = nn.BatchNorm2d(32)  # error: CNS003") + 1


def _runs(monkeypatch, source: str):
    """The classes run (each from its own __init__), in order, and the reports."""
    ran = []
    run = Scheduler.run_instances

    def spy(self, cls, inputs):
        ran.append(cls.name)
        return run(self, cls, inputs)

    monkeypatch.setattr(Scheduler, "run_instances", spy)
    return ran, [(r.line, r.code) for r in _analysis(source).reports()]


def test_block_runs_alone_for_a_side_no_model_takes(monkeypatch):
    # the model builds Block without its head: the head's fault is found by
    # Block's own run, its arguments unknown (models first, then blocks)
    assert _runs(monkeypatch, SIDES) == (["Net", "Block"], [(SIDES_BN, "CNS003")])


def test_block_side_fault_is_torchs():
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(SIDES, "block_sides.py", "exec"), ns)
    with torch.device("meta"):
        ns["Net"]()(torch.zeros(2, 3, 8, 8))  # as the file builds it: fine
        with pytest.raises(RuntimeError):
            ns["Block"](True)(torch.zeros(2, 16, 8, 8))


def test_block_the_models_went_through_gets_no_run_of_its_own(monkeypatch):
    both = SIDES.replace("Block(with_head), Block(with_head)", "Block(with_head), Block(not with_head)")
    right = both.replace("BatchNorm2d(32)", "BatchNorm2d(64)")
    assert _runs(monkeypatch, right) == (["Net"], [])
    # each side taken, one of them with no fault: the model's run reports it
    assert _runs(monkeypatch, both) == (["Net"], [(SIDES_BN, "CNS003")])
    # no pass through Block without a fault: it runs alone too
    head = SIDES.replace("Block(with_head), Block(with_head)", "Block(True)")
    assert _runs(monkeypatch, head) == (["Net", "Block"], [(SIDES_BN, "CNS003")])


WIDE = '''
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(16, 16, 3, padding=1)
        self.mix = nn.Conv2d(16 * width, 16, 1)

    def forward(self, x):
        return self.mix(self.conv(x))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.block = Block(1)

    def forward(self, x):
        return self.block(self.stem(x))
'''
WIDE_MIX = WIDE.splitlines().index("        self.mix = nn.Conv2d(16 * width, 16, 1)") + 1


def test_block_built_otherwise_than_the_models_build_it_runs_alone(monkeypatch):
    # the models went through Block(1) with no fault; the file also builds
    # Block(2), which no model runs: Block's own run builds it that way too
    assert _runs(monkeypatch, WIDE) == (["Net"], [])
    assert _runs(monkeypatch, WIDE + "\nwide = Block(2)\n") == (["Net", "Block"], [(WIDE_MIX, "CNS002")])
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(WIDE, "wide.py", "exec"), ns)
    with torch.device("meta"):
        ns["Net"]()(torch.zeros(2, 3, 8, 8))
        with pytest.raises(RuntimeError):
            ns["Block"](2)(torch.zeros(2, 16, 8, 8))
