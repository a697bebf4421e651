"""A script that builds a class of another file of its project with its own
arguments and calls it (`net = Net(32, 10); net(x)`, as train.py does): the
model runs with those arguments, and a fault inside the class is reported at
the script's build, naming the layer's file and line (models/scripts.py).
torch runs each script as the expectations say."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest

from flake8_cnnshape.analysis import analyze

MODEL = """
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, width, classes):
            super().__init__()
            self.conv = nn.Conv2d(3, width, 3)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, classes)

        def forward(self, x):
            x = self.pool(self.conv(x))
            return self.fc(x.view(x.size(0), -1))
"""

FC_LINE = next(n for n, line in enumerate(textwrap.dedent(MODEL).splitlines(), 1) if "nn.Linear" in line)

SCRIPTS = {
    # the width the script gives does not fit the head: reported at the build
    "wrong.py": ("import torch\nfrom model import Net\n\nnet = Net(32, 10)\nout = net(torch.randn(8, 3, 32, 32))\n", True),
    # the width that fits
    "right.py": ("import torch\nfrom model import Net\n\nnet = Net(64, 10)\nout = net(torch.randn(8, 3, 32, 32))\n", False),
    # built in a function, with `import model`, called in a loop's body
    "in_function.py": ("import torch\nimport model\n\n\ndef main():\n    net = model.Net(16, 10)\n"
                       "    for _ in range(2):\n        out = net(torch.randn(8, 3, 32, 32))\n", True),
}


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "model.py").write_text(textwrap.dedent(MODEL))
    for name, (text, _) in SCRIPTS.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def _reports(path):
    text = path.read_text()
    return analyze(text.splitlines(True), ast.parse(text), strict=True, path=str(path))


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_script_runs_the_project_class_it_builds(project, name):
    text, faulty = SCRIPTS[name]
    reports = _reports(project / name)
    if not faulty:
        assert reports == []
        return
    [r] = reports
    build = next(n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call) and "Net" in ast.unparse(n.func))
    width = build.args[0].value
    assert (r.line, r.code) == (build.lineno, "CNS001")
    assert f"nn.Linear (in {ast.unparse(build.func)}, model.py line {FC_LINE})" in r.message
    assert f"in_features=64 but receives {width}" in r.message


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_torch_agrees(project, name):
    pytest.importorskip("torch")
    text, faulty = SCRIPTS[name]
    runner = text + ("\nmain()\n" if "def main" in text else "")
    done = subprocess.run([sys.executable, "-c", runner], cwd=project, capture_output=True, text=True)
    assert (done.returncode != 0) == faulty, done.stderr
    if faulty:
        assert "mat1 and mat2 shapes cannot be multiplied" in done.stderr


def test_a_project_call_the_script_never_calls_is_no_model(project):
    """`net = Net(32, 10)` saved, never called: not run (a script's other calls of project functions are no models)."""
    path = project / "saved.py"
    path.write_text("import torch\nfrom model import Net\n\nnet = Net(32, 10)\ntorch.save(net.state_dict(), 'n.pt')\n")
    assert _reports(path) == []


def test_through_flake8(project):
    done = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "CNS", "wrong.py", "right.py"],
                          cwd=project, capture_output=True, text=True)
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wrong.py:4:7: CNS001 nn.Linear (in Net, model.py line {FC_LINE})"), done.stdout


def test_fix_leaves_a_fault_inside_another_file_and_says_where(project):
    """The number to change is in model.py (or the argument here): fix writes
    nothing in the script and says so at the build, not at another file's line."""
    from flake8_cnnshape.fix import fix_source

    path = project / "wrong.py"
    result = fix_source(path.read_text(), path=str(path))
    assert result.source == path.read_text()
    assert result.notes == [f"4:7: left as is: CNS001 is in nn.Linear (in Net, model.py line {FC_LINE}), not a number of this file"]
    assert [(f.line, f.code) for f in result.left] == [(4, "CNS001")]
