"""Models with no input size anywhere: the linter says a Linear's in_features
is wrong only if no input size fits it, and (CNS100, opt-in) which sizes do.
torch checks both claims: the claimed sizes give the width; and for the
'never fits' reports, no input side from 1 to 160 (every H x W pair) gives it."""
from __future__ import annotations

import random
import re
from functools import partial

import pytest

from flake8_cnnshape import analysis

analyze = partial(analysis.analyze, strict=True)  # no safety net: a bug of ours raises

torch = pytest.importorskip("torch")


PADS = [("ZeroPad2d", 1), ("ConstantPad2d", (1, 0.5)), ("ReflectionPad2d", 1), ("ReplicationPad2d", (1, 2, 0, 1))]


def random_stack(rng: random.Random, pads: bool = False):
    """A conv/pool stack; with pads, a padding layer may follow each conv
    (its sides grow with the input's too: the size search goes through it)."""
    layers, src = [], []
    ch = rng.choice([1, 3])
    first_in = ch
    for _ in range(rng.randint(1, 4)):
        out = rng.choice([4, 8, 16])
        k, s, p = rng.choice([1, 3, 5]), rng.choice([1, 1, 2]), rng.choice([0, 0, 1])
        layers.append(torch.nn.Conv2d(ch, out, k, stride=s, padding=p))
        src.append(f"nn.Conv2d({ch}, {out}, {k}, stride={s}, padding={p})")
        ch = out
        if pads and rng.random() < 0.5:
            name, arg = rng.choice(PADS)
            args = arg if isinstance(arg, tuple) and name == "ConstantPad2d" else (arg,)
            layers.append(getattr(torch.nn, name)(*args))
            src.append(f"nn.{name}({', '.join(map(repr, args))})")
        if rng.random() < 0.6:
            pk = rng.choice([2, 3])
            ceil = rng.random() < 0.3
            layers.append(torch.nn.MaxPool2d(pk, ceil_mode=ceil))
            src.append(f"nn.MaxPool2d({pk}, ceil_mode={ceil})")
    return first_in, ch, layers, src


def widths(layers, first_in, sides):
    """torch's flattened width for each (H, W), None where torch refuses."""
    net = torch.nn.Sequential(*layers, torch.nn.Flatten()).to("meta")
    out = {}
    for h, w in sides:
        try:
            out[(h, w)] = net(torch.empty(1, first_in, h, w, device="meta")).shape[1]
        except RuntimeError:
            out[(h, w)] = None
    return out


CASES = list(range(40)) + list(range(1000, 1040))  # 1000...: with padding layers
KINDS = set()


@pytest.mark.parametrize("seed", CASES)
def test_undeclared_linear_claims_hold_in_torch(seed):
    rng = random.Random(seed)
    first_in, ch, layers, src = random_stack(rng, pads=seed >= 1000)
    sides = [(h, h) for h in range(1, 161)]
    square = widths(layers, first_in, sides)
    reachable = sorted({v for v in square.values() if v})
    # half the time a width some square input gives, else an arbitrary one
    want = rng.choice(reachable) if reachable and rng.random() < 0.5 else rng.choice([ch * 7 + 1, ch * 50, 100, 1000, ch * 3 * 3, ch * 4099])
    code = "import torch.nn as nn\nm = nn.Sequential(\n" + "".join(f"    {s},\n" for s in src) + f"    nn.Flatten(),\n    nn.Linear({want}, 10),\n)\n"
    reports = [r for r in analyze(code.splitlines(True)) if r.line == len(src) + 4]
    assert len(reports) <= 1, reports
    if not reports:
        return
    r = reports[0]
    KINDS.add("fits" if r.code == "CNS100" else "multiple" if "a multiple of" in r.text else "never")
    if r.code == "CNS100":
        m = re.search(r"assumes inputs of (\d+)(?:\.\.(\d+))? x (\d+)(?:\.\.(\d+))?", r.text)
        h0, h1, w0, w1 = m.group(1), m.group(2) or m.group(1), m.group(3), m.group(4) or m.group(3)
        got = widths(layers, first_in, [(int(h0), int(w0)), (int(h1), int(w1))])
        assert set(got.values()) == {want}, (code, r.text, got)
    else:
        assert r.code == "CNS001", r
        grid = widths(layers, first_in, [(h, w) for h in range(1, 161, 3) for w in range(1, 161, 7)])
        assert want not in set(square.values()) | set(grid.values()), (code, r.text)
        # the example widths the message gives are torch's for those inputs
        for width, c, h, w in re.findall(r"(\d+)(?: = [\d x]+)? for input \((\d+), (\d+), (\d+)\)", r.text):
            KINDS.add("example")
            assert int(c) == first_in and widths(layers, first_in, [(int(h), int(w))])[(int(h), int(w))] == int(width), r.text


def test_every_kind_of_claim_was_checked():
    # runs after the parametrized cases (pytest keeps file order)
    assert KINDS == {"fits", "multiple", "never", "example"}


def test_canonical_model_without_a_size():
    code = """import torch.nn as nn
net = nn.Sequential(
    nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d((2, 2), stride=2),
    nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d((2, 2), stride=3),
    nn.Conv2d(128, 64, 3), nn.ReLU(), nn.MaxPool2d((2, 2), stride=2),
    nn.Flatten(), nn.Linear(3136, 20), nn.Linear(20, 10))
bad = nn.Sequential(nn.Conv2d(3, 64, 3), nn.Flatten(), nn.Linear(100, 10))
"""
    reports = analyze(code.splitlines(True))
    assert [(r.line, r.code) for r in reports] == [(6, "CNS100"), (7, "CNS001")]
    assert "in_features=3136 (64 x 7 x 7) assumes inputs of 100..111 x 100..111" in reports[0].text
    assert "a multiple of 64, for every input size" in reports[1].text
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 64, 3), torch.nn.MaxPool2d((2, 2), stride=2), torch.nn.Conv2d(64, 128, 3),
        torch.nn.MaxPool2d((2, 2), stride=3), torch.nn.Conv2d(128, 64, 3), torch.nn.MaxPool2d((2, 2), stride=2), torch.nn.Flatten())
    for side, fits in ((99, False), (100, True), (111, True), (112, False)):
        assert (net(torch.zeros(1, 1, side, side)).shape[1] == 3136) == fits
