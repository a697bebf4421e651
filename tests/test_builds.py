"""The build cache (speed/build_cache.py): a build is kept as it is, and copied
when the same arguments build the class again, only while nothing in it has
changed in place since. Here the file changes its first Block after building
it; the second Block(8) must be what a fresh build gives, as in Python, where
the first one's changes are not the second's."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from flake8_cnnshape import speed
from flake8_cnnshape.analysis import FileAnalysis
from flake8_cnnshape.interp.machine import Interp
from flake8_cnnshape.interp.mutation import Mutations
from flake8_cnnshape.interp.names import module_imports
from flake8_cnnshape.models.scheduler import Scheduler
from flake8_cnnshape.speed import replay
from flake8_cnnshape.speed.index import file_index

BLOCK = '''
import torch
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.seq = nn.Sequential(nn.Conv2d(c, 2 * c, 1), nn.Conv2d(2 * c, c, 1))
        self.heads = nn.ModuleDict({"a": nn.Conv2d(c, c, 1)})
        self.parts = [nn.Conv2d(c, c, 1)]

    def forward(self, x):
        x = self.seq(self.conv(x))
        x = self.heads["a"](x)
        for p in self.parts:
            x = p(x)
        return x

# cnnshape: input=8,4,4
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        first = Block(8)
        {change}
        self.first = first
        self.second = Block(8)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(self.second(x).flatten(1))
'''

# each change makes the first Block one whose copy, run as the second, would
# be refused at a layer that receives 8 channels (and leaves its nn.Sequential
# right in itself: a part no forward() reaches is checked on its own)
CHANGES = {
    "attribute": "first.conv = nn.Conv2d(8, 16, 3, padding=1)",
    "setattr": "setattr(first, 'conv', nn.Conv2d(8, 16, 3, padding=1))",
    "append": "first.seq.append(nn.Conv2d(8, 16, 1))",
    "add_module": "first.seq.add_module('extra', nn.Conv2d(8, 16, 1))",
    "item": "first.seq[0] = nn.Conv2d(16, 16, 1)",
    "del": "del first.seq[0]",
    "dict item": "first.heads['a'] = nn.Conv2d(16, 16, 1)",
    "list append": "first.parts.append(nn.Conv2d(16, 16, 1))",
    "list +=": "first.parts += [nn.Conv2d(16, 16, 1)]",
    "list item": "first.parts[0] = nn.Conv2d(16, 16, 1)",
}


class _Forgetful(dict):
    """A change clock that keeps nothing: no change is ever noted."""

    def __setitem__(self, key, value):
        pass


def _forget_changes(monkeypatch):
    init = Mutations.__init__

    def forgetful(self):
        init(self)
        self.changed = _Forgetful()

    monkeypatch.setattr(Mutations, "__init__", forgetful)


def _reports(change: str):
    source = BLOCK.replace("{change}", change)
    return [(r.line, r.code) for r in FileAnalysis(source.splitlines(True), ast.parse(source)).reports()]


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_build_changed_after_it_was_kept_is_built_again(name):
    assert _reports(CHANGES[name]) == []


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_copying_the_changed_build_would_be_a_false_report(monkeypatch, name):
    # what the test above guards against: with the changes not noted, the
    # second Block is a copy of the changed first one
    _forget_changes(monkeypatch)
    assert _reports(CHANGES[name]) != []


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_torch_runs_the_second_block_as_built(name):
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(BLOCK.replace("{change}", CHANGES[name]), "net.py", "exec"), ns)
    with torch.device("meta"):
        assert ns["Net"]()(torch.zeros(2, 8, 4, 4)).shape == (2, 10)


def _second_seq(change: str):
    source = BLOCK.replace("{change}", change)
    tree = ast.parse(source)
    interp = Interp(tree, module_imports(tree), file_index(tree))
    net = interp.instantiate(interp.module.lookup("Net"), [], {}, None)
    return net.attrs["second"].attrs["seq"]


@pytest.mark.parametrize("change", [
    # a loop it does not follow: what the loop changes is unknown after it
    "for _ in range(torch.cuda.device_count()):\n            first.seq.append(nn.Conv2d(16, 16, 1))",
    # an `if` it cannot decide: both sides, then joined
    "if torch.cuda.is_available():\n            first.seq.append(nn.Conv2d(16, 16, 1))",
])
def test_a_build_whose_contents_became_unknown_is_built_again(monkeypatch, change):
    seq = _second_seq(change)
    assert seq.children is not None and len(seq.children) == 2
    _forget_changes(monkeypatch)
    assert _second_seq(change).children is None  # a copy of the first's, whose contents are unknown


# -- block calls given again -------------------------------------------------
STAGES = '''
import torch
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, stride=stride, padding=1), nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, x):
        return self.body(x)

{pragma}class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.stage1 = nn.Sequential(Block(8, 2), Block(8, 1), Block(8, 1))
        self.stage2 = nn.Sequential(Block(8, 2), Block(8, 1), Block(8, 1))
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):
        x = self.stage2(self.stage1(self.stem(x)))
        return self.fc(torch.flatten(x, 1))
'''


def _given(monkeypatch, source: str, replays: bool):
    """The reports, how many block calls were given again, and the lines of
    the nn.Sequentials checked alone (parts no forward() reached)."""
    given = []
    give = replay.Replay.give
    monkeypatch.setattr(replay.Replay, "give", lambda self, *a: given.append(1) or give(self, *a))
    check = Scheduler.check_sequential
    checked = []
    monkeypatch.setattr(Scheduler, "check_sequential", lambda self, seq, inp: checked.append(seq.node.lineno) or check(self, seq, inp))
    with speed.off(*([] if replays else ["replay"])):
        reports = [(r.line, r.code, r.message) for r in FileAnalysis(source.splitlines(True), ast.parse(source)).reports()]
    return reports, len(given), sorted(checked)


@pytest.mark.parametrize("pragma", ["# cnnshape: input=3,32,32\n", "# cnnshape: input=3,40,40\n", ""])
def test_block_calls_given_again_report_what_running_them_does(monkeypatch, pragma):
    source = STAGES.replace("{pragma}", pragma)
    with_replays = _given(monkeypatch, source, True)
    monkeypatch.undo()
    without = _given(monkeypatch, source, False)
    assert with_replays[1] > 0 and without[1] == 0
    # the same reports (the size search follows the blocks given again too),
    # and the same parts checked on their own: none, all were reached
    assert with_replays[0] == without[0] and with_replays[2] == without[2] == []
    if pragma.endswith("40\n"):
        assert [r[:2] for r in with_replays[0]] == [(source.splitlines().index("        self.fc = nn.Linear(8 * 8 * 8, 10)") + 1, "CNS001")]
        assert "800 (8 x 10 x 10)" in with_replays[0][0][2]


def test_the_stages_are_torchs():
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(STAGES.replace("{pragma}", ""), "stages.py", "exec"), ns)
    with torch.device("meta"):
        assert ns["Net"]()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
        with pytest.raises(RuntimeError, match=r"\[2, 800\] X \[512, 10\]"):
            ns["Net"]()(torch.zeros(2, 3, 40, 40))


def test_a_closure_argument_is_keyed_by_what_it_reads():
    """fixtures/forward/closures.py hands closures to blocks. LambdaLayer(lambda
    x: ...) in two blocks whose arguments differ: one node, two closures over
    different sizes. Keyed by the node alone, the second build would be a copy
    of the first, holding the first block's sizes (a false CNS008), the norm
    built over 9 features would be a copy of the one over 8 (its CNS003 lost),
    and a block keeping its closure would read the other head's `m` (a false
    CNS001). torch runs the file as the expectations say."""
    from flake8_cnnshape.interp.values import Function
    from flake8_cnnshape.speed import build_cache

    path = Path(__file__).resolve().parent.parent / "fixtures" / "forward" / "closures.py"
    source = path.read_text()
    want = [(n, "CNS003") for n, line in enumerate(source.splitlines(), 1) if "# error: CNS003" in line]
    assert len(want) == 1

    def reports():
        return [(r.line, r.code) for r in FileAnalysis(source.splitlines(True), ast.parse(source)).reports()]

    assert reports() == want
    frozen = build_cache._frozen
    with pytest.MonkeyPatch.context() as m:
        m.setattr(build_cache, "_frozen", lambda v: ("function", id(v.node)) if type(v) is Function else frozen(v))
        assert sorted(code for _, code in reports()) == ["CNS001", "CNS008"]
    with pytest.MonkeyPatch.context() as m:  # keyed by what they read, but a kept closure copied
        m.setattr(build_cache, "_holds_closure", lambda inst, parts: False)
        assert sorted(code for _, code in reports()) == ["CNS001", "CNS003"]


def test_layer_classes_and_partials_key_a_build_by_what_they_name():
    """`Block(16, nn.BatchNorm2d)` then `Block(16, partial(nn.GroupNorm, 5))`: keyed alike, the second would
    be a copy of the first and its GroupNorm's fault (16 channels in 5 groups) lost."""
    import types

    from flake8_cnnshape.interp.values import Partial, TorchRef
    from flake8_cnnshape.speed.build_cache import build_key

    cls = types.SimpleNamespace(node=ast.parse("class A: pass").body[0])
    bn, gn = TorchRef("torch.nn.BatchNorm2d"), TorchRef("torch.nn.GroupNorm")
    assert build_key(cls, [bn], {}) == build_key(cls, [TorchRef("torch.nn.BatchNorm2d")], {}) is not None
    assert build_key(cls, [bn], {}) != build_key(cls, [gn], {})
    assert build_key(cls, [Partial(gn, (5,), {})], {}) != build_key(cls, [Partial(gn, (4,), {})], {})
    assert build_key(cls, [Partial(bn, (), {"eps": 1e-3})], {}) != build_key(cls, [Partial(bn, (), {"eps": 1e-5})], {})
    source = textwrap.dedent("""
        from functools import partial
        import torch.nn as nn


        class Block(nn.Module):
            def __init__(self, c, norm):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3, padding=1)
                self.norm = norm(c)

            def forward(self, x):
                return self.norm(self.conv(x))


        class Net(nn.Module):  # cnnshape: input=(16, 8, 8)
            def __init__(self):
                super().__init__()
                self.a = Block(16, nn.BatchNorm2d)
                self.b = Block(16, partial(nn.GroupNorm, 5))

            def forward(self, x):
                return self.b(self.a(x))
    """)
    got = [(r.line, r.code) for r in FileAnalysis(source.splitlines(True), ast.parse(source)).reports()]
    assert got == [(10, "CNS007")]
    pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(source, "net.py", "exec"), ns)
    with pytest.raises(ValueError, match=r"num_channels \(16\) must be divisible by num_groups \(5\)"):
        ns["Net"]()
