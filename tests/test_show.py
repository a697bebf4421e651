"""`cnnshape show` tells the truth about faults (issue 18, item 3): the row of a
faulty layer carries its code, message and right value, the table goes on with
the shape the fix gives (as check goes on), a fault at no row of the table (a
view) is listed with its line, and --input is taken only where the model's
first sized layer accepts it, as check takes a size it is not told is the
model's."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
CANONICAL = ROOT / "fixtures" / "sequential" / "canonical_100.py"


def _show(*args):
    proc = subprocess.run([sys.executable, "-m", "flake8_cnnshape.cli", "show", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_the_faulty_row_says_so_and_the_table_goes_on_as_fixed():
    table = json.loads(_show(CANONICAL, "--format", "json").stdout)[0]
    faulty = [r for r in table["layers"] if "fault" in r]
    assert [(r["line"], r["fault"]["code"], r["fault"]["value"]) for r in faulty] == [(22, "CNS001", 3136)]
    after = table["layers"][table["layers"].index(faulty[0]):]
    assert [tuple(r["output_shape"]) for r in after] == [(20,), (20,), (10,)]
    # the shapes after the fault are torch's once the fault is fixed
    namespace: dict = {}
    exec(compile(CANONICAL.read_text().replace("nn.Linear(64, 20", "nn.Linear(3136, 20"), str(CANONICAL), "exec"),
         namespace)
    assert tuple(namespace["CNNclf"]()(torch.zeros(2, 1, 100, 100)).shape[1:]) == (10,)
    text = _show(CANONICAL).stdout
    assert "<- CNS001 nn.Linear expects in_features=64 but receives 3136" in text


def test_a_fault_at_no_row_is_listed_with_its_line():
    table = json.loads(_show(ROOT / "fixtures" / "forward" / "mnist.py", "--format", "json").stdout)
    listed = [(f["line"], f["code"], f["value"]) for t in table for f in t["faults"]]
    assert (49, "CNS005", 500) in listed, listed


def test_an_input_the_first_layer_rejects_is_not_taken():
    table = json.loads(_show(CANONICAL, "--input", "3,32,32", "--format", "json").stdout)[0]
    assert table["input"] is None and table["not_taken"]["input"] == [3, 32, 32]
    assert not any("fault" in r for r in table["layers"])  # at an unknown size: nothing that depends on it
    assert "not taken" in _show(CANONICAL, "--input", "3,32,32").stdout
    taken = json.loads(_show(CANONICAL, "--input", "1,28,28", "--format", "json").stdout)[0]
    assert taken["input"] == [1, 28, 28] and "not_taken" not in taken
    assert not any("fault" in r for r in taken["layers"])  # 64 is right at 28 x 28 (the README says so)


def test_the_configured_input_is_shown_as_check_takes_it(tmp_path):
    """show reads the configuration check reads: the `input` setting sizes a
    model whose file gives none, where its first sized layer accepts it."""
    (tmp_path / "m.py").write_text(
        "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 8, 3)\n        self.fc = nn.Linear(100, 10)\n\n"
        "    def forward(self, x):\n        return self.fc(self.conv(x).flatten(1))\n")
    (tmp_path / "pyproject.toml").write_text('[tool.cnnshape]\ninput = "3,32,32"\n')
    [table] = json.loads(_show(tmp_path / "m.py", "--format", "json").stdout)
    assert [(r["line"], tuple(r["output_shape"])) for r in table["layers"]] == [(7, (8, 30, 30)), (8, (10,))]
    assert table["layers"][1]["fault"]["value"] == 8 * 30 * 30 == torch.nn.Conv2d(3, 8, 3)(torch.zeros(1, 3, 32, 32))[0].numel()
    (tmp_path / "pyproject.toml").write_text('[tool.cnnshape]\ninput = "1,32,32"\n')  # the conv wants 3 channels
    [table] = json.loads(_show(tmp_path / "m.py", "--format", "json").stdout)
    assert table["layers"][0]["output_shape"] == [8, None, None] and table["not_taken"]["input"] == [1, 32, 32], table


def test_a_layer_of_another_file_has_its_own_line_and_file(tmp_path):
    """Blocks imported from another file of the project: their rows carry that
    file's line numbers and its name, never the analysis' inner numbering."""
    (tmp_path / "blocks.py").write_text(
        "import torch.nn as nn\n\n\nclass Block(nn.Module):\n    def __init__(self, c, d):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(c, d, 3, padding=1)\n\n    def forward(self, x):\n        return self.conv(x)\n")
    model = tmp_path / "model.py"
    model.write_text("import torch.nn as nn\nfrom blocks import Block\n\n\nclass Net(nn.Module):  # cnnshape: input=(3, 8, 8)\n"
                     "    def __init__(self):\n        super().__init__()\n        self.block = Block(3, 4)\n"
                     "        self.fc = nn.Linear(4 * 8 * 8, 2)\n\n    def forward(self, x):\n"
                     "        return self.fc(self.block(x).flatten(1))\n")
    table = next(t for t in json.loads(_show(model, "--format", "json").stdout) if t["model"] == "Net")
    rows = [(r["line"], r["type"], Path(r["file"]).name if "file" in r else None) for r in table["layers"]]
    assert rows == [(7, "Conv2d", "blocks.py"), (9, "Linear", None)]
    assert "blocks.py:7" in _show(model).stdout


def test_a_declared_build_is_shown():
    """show says which build it shows: the pragma's build=, in the head and in the JSON."""
    builds = ROOT / "fixtures" / "pragma" / "builds.py"
    table = next(t for t in json.loads(_show(builds, "--format", "json").stdout) if t["model"] == "CoordConv")
    assert table["build"] == "CoordConv(3, 8, with_r=True, kernel_size=3)"
    assert [r["fault"]["code"] for r in table["layers"] if "fault" in r] == ["CNS002"]
    head = next(line for line in _show(builds).stdout.splitlines() if line.startswith("CoordConv "))
    assert head.endswith("built as CoordConv(3, 8, with_r=True, kernel_size=3) (pragma)")
    assert "build" not in next(t for t in json.loads(_show(CANONICAL, "--format", "json").stdout))
