"""The speed mechanisms (flake8_cnnshape/speed/) change how fast the analysis
is, never what it finds: with each switched off, the fixtures and generated
models get the same findings, record for record. And each switch does turn
its mechanism off (it is used with the switch on, not with it off)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flake8_cnnshape import speed
from flake8_cnnshape.analysis import analyze
from flake8_cnnshape.speed import build_cache, index, replay

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted(p for p in (ROOT / "fixtures").rglob("*.py") if p.parent.name != "fix")
SEEDS = range(120)


def _sources():
    out = [(str(p.relative_to(ROOT)), p.read_text()) for p in FIXTURES]
    try:
        import gen_models  # needs torch
    except ImportError:  # pragma: no cover
        return out
    return out + [(f"seed{s}", gen_models.render(gen_models.generate(s)).source) for s in SEEDS]


SOURCES = _sources()


def _findings(source: str):
    return [(f.line, f.col, f.code, f.text) for f in analyze(source.splitlines(True), ast.parse(source), strict=True)]


@pytest.mark.parametrize("switch", sorted(speed.SWITCHES))
def test_off_finds_the_same(switch):
    for name, source in SOURCES:
        on = _findings(source)
        with speed.off(switch):
            off = _findings(source)
        assert off == on, f"{name} with {switch} off"


# a stage of blocks built alike: copied by the build cache, their calls given again
STAGES = """
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU())

    def forward(self, x):
        return self.body(x)

class Net(nn.Module):  # cnnshape: input=(8, 16, 16)
    def __init__(self):
        super().__init__()
        self.stage = nn.Sequential(Block(8), Block(8), Block(8))

    def forward(self, x):
        return self.stage(x)
"""

# what each mechanism does when it is used: counted with the switch on and off
USED = {
    "index": (index.FileIndex, "_walk"),
    "build_cache": (build_cache, "copy_build"),
    "replay": (replay.Replay, "give"),
}


@pytest.mark.parametrize("switch", sorted(speed.SWITCHES))
def test_each_switch_turns_its_mechanism_off(monkeypatch, switch):
    owner, attr = USED[switch]
    calls = []
    real = getattr(owner, attr)
    monkeypatch.setattr(owner, attr, lambda *a, **k: calls.append(1) or real(*a, **k))
    _findings(STAGES)
    used = len(calls)
    with speed.off(switch):
        _findings(STAGES)
    assert used > 0 and len(calls) == used, f"{switch}: used {used} times on, {len(calls) - used} off"
