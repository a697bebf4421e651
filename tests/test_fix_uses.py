"""fix writes a number only where it fits every use and every input size the
file gives; check reports each distinct wrong use; --lazy is offered where
each instance is given one width; a fault left makes fix fail, saying why;
`fix -` writes the result to stdout. Each verdict is checked against torch."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flake8_cnnshape.fix import fix_source

ROOT = Path(__file__).resolve().parent.parent

HEAD = """\
import torch
import torch.nn as nn


"""

# one instance fed two sizes: 5408 features at 28 x 28, 7200 at 32 x 32
TWO_INPUTS = HEAD + """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 32, 3)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(1000, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(torch.flatten(x, 1))


net = Net()
net(torch.randn(1, 1, 28, 28))
net(torch.randn(1, 1, 32, 32))
"""

# one instance, one layer used twice: 6272 and 4608 features
TWO_USES = HEAD + """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 32, 3)
        self.b = nn.Conv2d(1, 32, 5)
        self.fc = nn.Linear(1000, 10)

    def forward(self, x):
        y = self.fc(torch.flatten(self.a(x), 1))
        z = self.fc(torch.flatten(self.b(x), 1))
        return y + z


net = Net()
net(torch.randn(1, 1, 16, 16))
"""

# two instances, each given one width: 6272 and 4608
TWO_WAYS = HEAD + """\
class Net(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.conv = nn.Conv2d(1, 32, k)
        self.fc = nn.Linear(1000, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


a = Net(3)
b = Net(5)
a(torch.randn(1, 1, 16, 16))
b(torch.randn(1, 1, 16, 16))
"""

# one number fits both inputs: the pooling makes the width the same
ONE_NUMBER = HEAD + """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 32, 3)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(1000, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.conv(x)), 1))


net = Net()
net(torch.randn(1, 1, 28, 28))
net(torch.randn(1, 1, 32, 32))
"""

# no number to change: the kernel does not fit the 2 x 2 input
NO_NUMBER = HEAD + """\
model = nn.Sequential(nn.Conv2d(3, 8, 5), nn.Flatten(), nn.Linear(8, 2))
model(torch.randn(1, 3, 2, 2))
"""


def cnnshape(*args, cwd, stdin=None):
    return subprocess.run([sys.executable, "-m", "flake8_cnnshape", *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin)


def runs_in_torch(source: str) -> bool:
    """Whether torch runs the file's module-level code to its end."""
    torch = pytest.importorskip("torch")
    try:
        with torch.no_grad():
            exec(compile(source, "model", "exec"), {"__name__": "model"})
    except RuntimeError:
        return False
    return True


def reports(path: Path):
    proc = cnnshape("check", path.name, cwd=path.parent)
    return [line.split(": ", 1)[1] for line in proc.stdout.splitlines()]


@pytest.mark.parametrize("source, widths", [(TWO_INPUTS, ("5408", "7200")), (TWO_USES, ("6272", "4608")),
                                            (TWO_WAYS, ("6272", "4608"))], ids=["two_inputs", "two_uses", "two_ways"])
def test_check_reports_each_distinct_wrong_use(source, widths, tmp_path):
    assert not runs_in_torch(source)
    (tmp_path / "m.py").write_text(source)
    got = reports(tmp_path / "m.py")
    assert len(got) == 2 and all(r.startswith("CNS001 nn.Linear expects in_features=1000") for r in got), got
    assert {w for w in widths if any(f"receives {w} " in r for r in got)} == set(widths), got
    for w in widths:  # torch rejects the file with either number alone
        assert not runs_in_torch(source.replace("nn.Linear(1000, 10)", f"nn.Linear({w}, 10)"))


@pytest.mark.parametrize("source", [TWO_INPUTS, TWO_USES], ids=["two_inputs", "two_uses"])
def test_one_instance_given_two_widths_is_left_by_fix_and_by_lazy(source, tmp_path):
    # LazyLinear takes the first width it is given: torch rejects the second too
    assert not runs_in_torch(source.replace("nn.Linear(1000, 10)", "nn.LazyLinear(10)"))
    for lazy in (False, True):
        result = fix_source(source, lazy=lazy)
        assert result.source == source
        [note] = result.notes
        assert "no single in_features fits every use" in note and "nor nn.LazyLinear" in note, note
        assert len(result.left) == 2


def test_instances_given_one_width_each_get_lazy_linear_with_lazy(tmp_path):
    plain = fix_source(TWO_WAYS)
    assert plain.source == TWO_WAYS
    [note] = plain.notes
    assert "4608 (32 x 12 x 12)" in note and "6272 (32 x 14 x 14)" in note and "fix --lazy" in note, note
    lazy = fix_source(TWO_WAYS, lazy=True)
    assert "self.fc = nn.LazyLinear(10)" in lazy.source and lazy.left == [] and lazy.notes == []
    assert runs_in_torch(lazy.source)
    (tmp_path / "m.py").write_text(lazy.source)
    assert reports(tmp_path / "m.py") == []


def test_a_number_that_fits_every_input_is_written(tmp_path):
    result = fix_source(ONE_NUMBER)
    assert "nn.Linear(512, 10)" in result.source and result.left == [] and result.notes == []
    assert not runs_in_torch(ONE_NUMBER) and runs_in_torch(result.source)


def test_fix_fails_while_a_fault_is_left_and_says_why(tmp_path):
    for name, source in (("ways.py", TWO_WAYS), ("kernel.py", NO_NUMBER)):
        (tmp_path / name).write_text(source)
    proc = cnnshape("fix", "ways.py", "kernel.py", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "ways.py:9:19: left as is: no single in_features fits" in proc.stderr
    assert "kernel.py:5:23: CNS004" in proc.stderr and "left unfixed" in proc.stderr.splitlines()[-1]
    assert not runs_in_torch(NO_NUMBER)
    fixed = cnnshape("fix", "--lazy", "ways.py", cwd=tmp_path)
    assert fixed.returncode == 0 and "fixed ways.py" in fixed.stderr, fixed.stderr
    assert cnnshape("fix", "ways.py", cwd=tmp_path).returncode == 0  # nothing left: a second run passes


def test_fix_stdin_writes_the_result_to_stdout(tmp_path):
    proc = cnnshape("fix", "-", cwd=tmp_path, stdin=ONE_NUMBER)
    assert proc.returncode == 0 and proc.stdout == ONE_NUMBER.replace("nn.Linear(1000, 10)", "nn.Linear(512, 10)")
    left = cnnshape("fix", "-", "--stdin-display-name", "buf.py", cwd=tmp_path, stdin=TWO_INPUTS)
    assert left.returncode == 1 and left.stdout == TWO_INPUTS
    assert "buf.py:10:19: left as is" in left.stderr and left.stderr.count("buf.py:10:19: CNS001") == 2
    diff = cnnshape("fix", "-", "--diff", cwd=tmp_path, stdin=ONE_NUMBER)
    assert diff.returncode == 1 and "+        self.fc = nn.Linear(512, 10)" in diff.stdout
