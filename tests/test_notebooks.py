"""Notebooks: `cnnshape check/show/fix nb.ipynb` read the code cells in
order, IPython's lines (magics, shell, help) left out, and name places as
nbqa does (`nb.ipynb:cell_2:6:19`, code cells counted from 1); `nbqa
flake8` finds the same; a fixed notebook changes in the wrong number only,
and its code runs in torch."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from commands import BIN, cnnshape, write


def notebook(*cells, markdown=True) -> str:
    out = [{"cell_type": "markdown", "metadata": {}, "source": ["# My first CNN\n"]}] if markdown else []
    for i, source in enumerate(cells, 1):
        lines = source.splitlines(keepends=True)
        out.append({"cell_type": "code", "execution_count": i, "metadata": {}, "outputs": [], "source": lines})
    nb = {"cells": out, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


IMPORTS = "%matplotlib inline\nimport torch\nimport torch.nn as nn\n!pip list | grep torch"
MODEL = """%%time
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(100, 10)  # wrong: 8 x 26 x 26

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))"""
SHELL = "%%bash\nfor f in *; do echo $f; done\n"
CALL = "Net?\nnet = Net()\nout = net(torch.randn(4, 1, 28, 28))"
SEQ = "seq = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(16))  # cnnshape: input=(3, 32, 32)"
NB = notebook(IMPORTS, MODEL, SHELL, CALL, SEQ)


def _places(stdout: str):
    return [tuple(line.split(": ")[0].split(":")[1:]) + (line.split(": ")[1].split()[0],) for line in stdout.splitlines()]


def test_check_names_cells_and_lines_as_nbqa_flake8_does(tmp_path):
    write(tmp_path, {"nb.ipynb": NB})
    ours = cnnshape("check", "nb.ipynb", cwd=tmp_path)
    assert ours.returncode == 1 and ours.stderr == ""
    assert ours.stdout.splitlines() == [
        "nb.ipynb:cell_2:6:19: CNS001 nn.Linear expects in_features=100 but receives 5408 (8 x 26 x 26) "
        "for input (1, 28, 28) from the call at cell_4:3",
        "nb.ipynb:cell_5:1:41: CNS003 nn.BatchNorm2d expects num_features=16 but receives 8 channels for input (3, 32, 32)",
    ]
    if shutil.which("nbqa", path=str(BIN)) is None:
        pytest.skip("nbqa is not installed")
    nbqa = subprocess.run([str(BIN / "nbqa"), "flake8", "nb.ipynb", "--select", "CNS"], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": f"{BIN}:/usr/bin:/bin"})
    assert "Traceback" not in nbqa.stderr, nbqa.stderr
    assert _places(nbqa.stdout) == _places(ours.stdout) == [("cell_2", "6", "19", "CNS001"), ("cell_5", "1", "41", "CNS003")]


def test_a_syntax_error_is_placed_in_its_cell_and_ipython_lines_are_not_python(tmp_path):
    write(tmp_path, {"nb.ipynb": notebook(IMPORTS, SHELL, "x = (1,\n", markdown=False)})
    proc = cnnshape("check", "nb.ipynb", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["nb.ipynb:cell_3:1:5: E999 SyntaxError: '(' was never closed"]


def test_noqa_and_the_folder_walk(tmp_path):
    quiet = NB.replace("# wrong: 8 x 26 x 26", "# noqa: CNS001")
    write(tmp_path, {"notebooks/nb.ipynb": quiet, "notebooks/broken.ipynb": "{not json"})
    proc = cnnshape("check", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert [p[:1] + p[-1:] for p in _places(proc.stdout)] == [("cell_5", "CNS003")]
    assert proc.stderr.startswith("cnnshape: ./notebooks/broken.ipynb: not a notebook: its JSON cannot be read")


def test_show_names_cells(tmp_path):
    write(tmp_path, {"nb.ipynb": NB})
    text = cnnshape("show", "nb.ipynb", "--model", "Net", cwd=tmp_path).stdout.splitlines()
    assert text[0] == "Net  input (1, 28, 28) from the call at cell_4:3"
    assert [line.split()[0] for line in text[3:5]] == ["cell_2:5", "cell_2:6"]
    [table] = json.loads(cnnshape("show", "--format", "json", "--model", "Net", "nb.ipynb", cwd=tmp_path).stdout)
    assert [(r["cell"], r["line"], r["type"]) for r in table["layers"]] == [(2, 5, "Conv2d"), (2, 6, "Linear")]


def test_fix_changes_the_wrong_numbers_only_and_the_notebook_runs(tmp_path):
    torch = pytest.importorskip("torch")
    write(tmp_path, {"nb.ipynb": NB})
    diff = cnnshape("fix", "--diff", "nb.ipynb", cwd=tmp_path)
    assert diff.returncode == 1 and (tmp_path / "nb.ipynb").read_text() == NB
    assert "--- nb.ipynb:cell_2" in diff.stdout and "+        self.fc = nn.Linear(5408, 10)  # wrong: 8 x 26 x 26" in diff.stdout
    assert cnnshape("fix", "nb.ipynb", cwd=tmp_path).returncode == 0
    fixed = (tmp_path / "nb.ipynb").read_text()
    assert fixed == NB.replace("nn.Linear(100, 10)", "nn.Linear(5408, 10)").replace("nn.BatchNorm2d(16)", "nn.BatchNorm2d(8)")
    assert cnnshape("check", "nb.ipynb", cwd=tmp_path).returncode == 0
    cells = [c for c in json.loads(fixed)["cells"] if c["cell_type"] == "code" and not c["source"][0].startswith("%%bash")]
    code = "".join(line for c in cells for line in c["source"] + ["\n"] if not line.lstrip().startswith(("%", "!"))
                   and not line.strip().endswith("?"))
    ns = {}
    exec(compile(code, "nb", "exec"), ns)
    assert ns["out"].shape == (4, 10)
    assert ns["seq"](torch.zeros(2, 3, 32, 32)).shape == (2, 8, 30, 30)


def test_nbqa_flake8_runs_the_plugin(tmp_path):
    if shutil.which("nbqa", path=str(BIN)) is None:
        pytest.skip("nbqa is not installed")
    write(tmp_path, {"nb.ipynb": NB})
    proc = subprocess.run([sys.executable, "-m", "nbqa", "flake8", "nb.ipynb"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1 and "nb.ipynb:cell_2:6:19: CNS001" in proc.stdout, proc.stdout + proc.stderr
