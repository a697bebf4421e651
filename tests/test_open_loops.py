"""Loops of a count nobody knows (interp/open_loops.py), against torch.

Generated models whose blocks are built by a loop over a constructor argument
nobody gives (`def __init__(self, depth)`), in the ways real code writes it: a
list appended to and given to nn.Sequential(*layers), a first block then
`range(1, depth)`, an nn.ModuleList filled in the loop and run by a loop in
forward(), `layers += [...]` with a layer appended after. Blocks that give
back the shape they take, and blocks that do not (a stride, a width that
changes each pass). One size may be wrong: in the block or after the loop.

torch builds and runs each at depth 1, 2 and 3 (seeded: a failing case
reproduces by its id). The contract:
  * a report -> torch refuses the model at every one of those depths, and a
    report's number is the one torch needs;
  * torch runs it at every depth -> no report;
  * a fault in a block that keeps the shape, or after a loop of such blocks,
    is reported (the loops this analysis exists to follow).
"""
from __future__ import annotations

import ast
import random
from typing import List, Optional, Tuple

import pytest

torch = pytest.importorskip("torch")

from flake8_cnnshape.analysis import analyze  # noqa: E402

SEEDS = range(160)
DEPTHS = (1, 2, 3)

BLOCKS = {
    # name: (source of the class Block(c), keeps the shape)
    "same": ("""
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d({bn})

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x))) + x
""", True),
    "plain": ("""
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d({bn}), nn.ReLU())

    def forward(self, x):
        return self.body(x)
""", True),
    "stride": ("""
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d({bn})

    def forward(self, x):
        return self.bn(self.conv(x))
""", False),
}
FORMS = ("append", "first_then_range", "modulelist", "augassign_tail", "comprehension")


class Model:
    def __init__(self, rng: random.Random):
        self.c = rng.choice((4, 6, 8))
        self.size = rng.choice((8, 12, 16))
        self.block = rng.choice(sorted(BLOCKS))
        self.form = rng.choice(FORMS)
        self.head = rng.choice(("bn", "linear", "conv"))
        self.fault = rng.choice((None, None, "block", "head"))
        self.widen = 2 if self.form == "augassign_tail" else 1  # the layer after the loop widens the channels
        keeps = BLOCKS[self.block][1]
        self.findable = self.fault == "block" and self.form != "comprehension" or (
            self.fault == "head" and keeps and self.form != "comprehension")

    def right_head(self) -> int:
        c = self.c * self.widen
        return c * self.size * self.size if self.head == "linear" else c

    def head_number(self) -> int:
        return self.right_head() + 1 if self.fault == "head" else self.right_head()

    def source(self) -> str:
        bn = "c + 1" if self.fault == "block" else "c"
        lines = ["import torch", "import torch.nn as nn", "", BLOCKS[self.block][0].format(bn=bn), ""]
        lines += [f"class Net(nn.Module):  # cnnshape: input=(3, {self.size}, {self.size})",
                  "    def __init__(self, depth):",
                  "        super().__init__()",
                  f"        c = {self.c}",
                  "        self.stem = nn.Conv2d(3, c, 3, padding=1)"]
        lines += ["        " + s for s in self._loop()]
        n = self.head_number()
        lines.append("        self.head = " + {"bn": f"nn.BatchNorm2d({n})", "conv": f"nn.Conv2d({n}, 2, 1)",
                                               "linear": f"nn.Linear({n}, 2)"}[self.head])
        lines += ["", "    def forward(self, x):", "        x = self.stem(x)"]
        if self.form == "modulelist":
            lines += ["        for blk in self.blocks:", "            x = blk(x)"]
        else:
            lines.append("        x = self.body(x)")
        lines.append("        return self.head(x.flatten(1))" if self.head == "linear" else "        return self.head(x)")
        return "\n".join(lines) + "\n"

    def _loop(self) -> List[str]:
        if self.form == "append":
            return ["layers = []", "for _ in range(depth):", "    layers.append(Block(c))", "self.body = nn.Sequential(*layers)"]
        if self.form == "first_then_range":
            return ["layers = [Block(c)]", "for i in range(1, depth):", "    layers.append(Block(c))",
                    "self.body = nn.Sequential(*layers)"]
        if self.form == "modulelist":
            return ["self.blocks = nn.ModuleList()", "for _ in range(depth):", "    self.blocks.append(Block(c))"]
        if self.form == "augassign_tail":
            return ["layers = []", "for _ in range(depth):", "    layers += [Block(c)]",
                    f"layers.append(nn.Conv2d(c, {self.widen} * c, 1))", "self.body = nn.Sequential(*layers)"]
        return ["self.body = nn.Sequential(*[Block(c) for _ in range(depth)])"]


def _reports(source: str) -> List[Tuple[str, Optional[int]]]:
    found = analyze(source.splitlines(True), ast.parse(source), strict=True)
    return [(f.code, f.fault.value) for f in found if f.code != "CNS100"]


def _torch_refuses(source: str, m: Model) -> List[bool]:
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    out = []
    for depth in DEPTHS:
        try:
            namespace["Net"](depth).eval()(torch.zeros(2, 3, m.size, m.size))
            out.append(False)
        except RuntimeError:
            out.append(True)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_open_loop_models(seed: int) -> None:
    m = Model(random.Random(seed))
    source = m.source()
    reports = _reports(source)
    refuses = _torch_refuses(source, m)
    where = f"seed {seed} ({m.block}, {m.form}, fault {m.fault}):\n{source}\nreports {reports}, torch refuses {refuses}"
    if reports:
        assert all(refuses), f"a report on a model torch runs at some depth: {where}"
    if not any(refuses):
        assert not reports, where
    if m.findable:
        assert all(refuses), f"the generator planted a fault torch does not see: {where}"
        assert reports, f"a fault in or after a loop of shape-keeping blocks, not reported: {where}"
        if m.fault == "head":
            assert (reports[0][1] == m.right_head()), f"the number torch needs is {m.right_head()}: {where}"


def test_the_grid_has_every_kind() -> None:
    """Every block, form and fault occurs, and some faults are not findable (the check of silence bites)."""
    models = [Model(random.Random(s)) for s in SEEDS]
    assert {m.block for m in models} == set(BLOCKS) and {m.form for m in models} == set(FORMS)
    assert sum(m.findable for m in models) >= 40
    assert sum(m.fault is not None and not m.findable for m in models) >= 10


def test_a_join_keeps_the_order_of_the_names() -> None:
    """Two paths joined (a branch's sides, a loop of unknown length) keep the
    names in the first one's order, then the second's own: an instance's
    attributes are its modules in the order torch runs an nn.Sequential's.
    (A join in a set's order ran a DenseNet block's layers shuffled, by the
    hash seed.)"""
    from flake8_cnnshape.interp.plain import join_vars

    names = [f"denselayer{i}" for i in range(1, 25)]
    a = {n: i for i, n in enumerate(names)}
    b = dict(reversed(list(a.items())), extra=0)
    assert list(join_vars(a, b)) == names + ["extra"]
    assert list(join_vars(b, a)) == list(b)
