"""The `cnnshape` command: check (formats, selection, stdin, folders), show
(checked against torch), fix (fixture pairs, idempotence) and pre-commit."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_cnnshape.cli import main
from flake8_cnnshape.fix import fix_source
from flake8_cnnshape.show import render, tables
from test_notebooks import NB

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures" / "fix"
PAIRS = sorted(p.name[: -len(".in.py")] for p in FIX.glob("*.in.py"))


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "flake8_cnnshape.cli", *args], capture_output=True, text=True, input=stdin, cwd=ROOT)


# -- fix ----------------------------------------------------------------------

@pytest.mark.parametrize("name", PAIRS)
def test_fix_pairs(name, tmp_path):
    src = FIX / f"{name}.in.py"
    work = tmp_path / f"{name}.py"
    shutil.copyfile(src, work)
    args = ["fix", str(work)] + (["--lazy"] if name == "lazy" else [])
    left = cli("check", str(FIX / f"{name}.out.py")).stdout
    assert main(args) == (1 if left else 0), "fix fails exactly where a fault is left"
    assert work.read_bytes() == (FIX / f"{name}.out.py").read_bytes()
    before = work.read_bytes()
    main(args)
    assert work.read_bytes() == before, "a second run must change nothing"


def test_fixed_files_lint_clean_but_for_what_fix_left():
    for name in PAIRS:
        result = fix_source((FIX / f"{name}.in.py").read_text(), lazy=name == "lazy")
        left = {int(n.split(":")[0]) for n in result.notes}
        reports = cli("check", str(FIX / f"{name}.out.py")).stdout.splitlines()
        assert {int(r.split(":")[1]) for r in reports} == left, (name, reports, result.notes)


def test_fix_diff_does_not_write(tmp_path):
    work = tmp_path / "m.py"
    shutil.copyfile(FIX / "literal.in.py", work)
    proc = cli("fix", "--diff", str(work))
    assert "-    nn.Linear(64, 20, bias=True)," in proc.stdout and "+    nn.Linear(3136, 20, bias=True)," in proc.stdout
    assert work.read_bytes() == (FIX / "literal.in.py").read_bytes()


def test_fix_leaves_what_it_cannot_change_and_says_why():
    src = (ROOT / "fixtures" / "forward" / "vgg.py").read_text()
    result = fix_source(src)
    assert result.source == src
    assert any("holds for one way the model is built" in n for n in result.notes)


def test_fix_runs_clean_in_torch(tmp_path):
    torch = pytest.importorskip("torch")
    result = fix_source((FIX / "product.in.py").read_text())
    ns = {}
    exec(compile(result.source, "fixed", "exec"), ns)
    assert ns["Net"]()(torch.zeros(2, 3, 64, 64)).shape == (2, 84)


# -- check --------------------------------------------------------------------

def test_check_exit_codes_and_text():
    bad = cli("check", str(ROOT / "fixtures" / "sequential" / "canonical_100.py"))
    assert bad.returncode == 1
    assert "canonical_100.py:22:13: CNS001 nn.Linear expects in_features=64 but receives 3136 (64 x 7 x 7)" in bad.stdout
    good = cli("check", str(ROOT / "fixtures" / "sequential" / "canonical_fixed.py"))
    assert good.returncode == 0 and good.stdout == ""


def test_check_stdin_select_ignore():
    src = (ROOT / "fixtures" / "sequential" / "module_level.py").read_text()
    out = cli("check", "-", "--stdin-display-name", "buf.py", stdin=src).stdout
    assert {line.split(": ")[1].split()[0] for line in out.splitlines()} == {"CNS001", "CNS002", "CNS003"}
    assert all(line.startswith("buf.py:") for line in out.splitlines())
    only = cli("check", "-", "--select", "CNS002", stdin=src).stdout
    assert only.count("CNS") == 1 and "CNS002" in only
    rest = cli("check", "-", "--ignore", "CNS001,CNS002", stdin=src).stdout
    assert rest.count("CNS") == 1 and "CNS003" in rest


def test_check_recurses_and_skips_virtualenvs(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / ".venv").mkdir()
    bad = (ROOT / "fixtures" / "sequential" / "canonical_100.py").read_text()
    (tmp_path / "pkg" / "model.py").write_text(bad)
    (tmp_path / ".venv" / "model.py").write_text(bad)
    out = cli("check", str(tmp_path)).stdout
    assert out.count("CNS001") == 1 and "pkg" in out


def test_check_json_sarif_github():
    path = str(ROOT / "fixtures" / "sequential" / "canonical_100.py")
    data = json.loads(cli("check", "--format", "json", path).stdout)
    assert data == [{"path": path, "line": 22, "col": 13, "code": "CNS001", "severity": "error",
                     "message": "nn.Linear expects in_features=64 but receives 3136 (64 x 7 x 7) for input (1, 100, 100)"}]
    sarif = json.loads(cli("check", "--format", "sarif", path).stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    result = run["results"][0]
    assert result["ruleId"] == "CNS001"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "CNS001"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 22, "startColumn": 13}
    gh = cli("check", "--format", "github", path).stdout
    assert gh.startswith(f"::error file={path},line=22,col=13,title=CNS001::CNS001 nn.Linear")


# -- show ---------------------------------------------------------------------

def test_show_canonical_table():
    out = cli("show", str(ROOT / "fixtures" / "sequential" / "canonical_100.py")).stdout
    lines = out.splitlines()
    assert lines[0] == "CNNclf  input (1, 100, 100) from pragma"
    flatten = next(i for i, line in enumerate(lines) if "Flatten" in line)
    assert "(64, 7, 7)" in lines[flatten - 1]
    assert lines[-1] == "total params: 149,798"


def _torch_table(torch, module, dims):
    """Leaf modules' output shapes in call order, and the parameter total."""
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(list(o.shape[1:])))
             for m in module.modules() if not list(m.children()) and not isinstance(m, torch.nn.Sequential)]
    module.to("meta")(torch.empty((2,) + tuple(dims), device="meta"))
    for h in hooks:
        h.remove()
    return shapes, sum(p.numel() for p in module.parameters())


SHOWN = [
    ("sequential/canonical_fixed.py", "CNNclf", "CNNclf()", None),
    ("forward/mnist.py", "Net", "Net()", None),
    ("forward/lenet_cifar.py", "Net", "Net()", None),
    ("forward/resnet.py", "ResNet", "ResNet(BasicBlock, [2, 2, 2])", (3, 32, 32)),
    ("forward/vgg.py", "Tiny", "Tiny()", None),
    ("sequential/forms.py", "od", "od", None),
]


@pytest.mark.parametrize("path,model,expr,dims", SHOWN)
def test_show_matches_torch(path, model, expr, dims):
    torch = pytest.importorskip("torch")
    file = ROOT / "fixtures" / path
    [table] = tables(file.read_text().splitlines(True), model, dims)
    ns = {"__name__": "fixture"}
    exec(compile(file.read_text().replace("net = VGG(", "# ").replace("wrong = VGG(", "# "), str(file), "exec"), ns)
    module = eval(expr, ns)
    if expr == "ResNet(BasicBlock, [2, 2, 2])":
        module.linear = torch.nn.Linear(256, 10)  # the fixture's head is wrong on purpose
        table["total_params"] += 256 * 10 - 512 * 10
        table["layers"][-1]["output_shape"] = [10]
    shapes, total = _torch_table(torch, module, tuple(table["input"]))
    assert [r["output_shape"] for r in table["layers"]] == shapes
    assert table["total_params"] == total


def test_show_json_shape():
    out = json.loads(cli("show", "--format", "json", str(ROOT / "fixtures" / "forward" / "mnist.py"), "--model", "Net").stdout)
    assert out[0]["model"] == "Net" and out[0]["input"] == [1, 28, 28] and out[0]["input_source"] == "pragma"
    assert out[0]["layers"][0] == {"line": 11, "type": "Conv2d", "output_shape": [32, 26, 26], "params": 320}
    assert out[0]["total_params"] == 1199882


def test_show_unknown_parts_are_unknown():
    src = "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 8, 3), nn.FractionalMaxPool2d(2, output_ratio=0.5), nn.Linear(4, 2))\n"
    [table] = tables(src.splitlines(True))
    assert table["input"] is None
    assert [r["output_shape"] for r in table["layers"]] == [[8, None, None], None, None]
    assert table["total_params"] is None  # nn.FractionalMaxPool2d is not modelled: the total is not known


_STOPS = """import torch
import torch.nn as nn
import somelib


class Net(nn.Module):  # cnnshape: input=(3, 32, 32)
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.pool = nn.FractionalMaxPool2d(2, output_ratio=0.5)
        self.head = nn.Linear(width, 10)
        self.block = somelib.Block(16)

    def forward(self, x):
        x = self.conv(x)
        {line}
        return self.head(x.flatten(1))
"""


@pytest.mark.parametrize("line, want", [
    ("x = torch.fft.fft2(x)", (16, "torch.fft.fft2", "not modelled")),
    ("x = self.block(x)", (16, "self.block", "not known: from a library the analysis does not read, or a value it could not work out")),
    ("x = self.pool(x)", (10, "nn.FractionalMaxPool2d", "layer not modelled")),
])
def test_show_says_where_the_known_shape_ends(line, want):
    [table] = tables(_STOPS.replace("{line}", line).splitlines(True))
    assert [tuple(s.values()) for s in table["stops"]][:1] == [want]
    assert f"known shape ends at line {want[0]}: {want[1]}: {want[2]}" in render(table)


def test_show_has_no_stop_where_the_shape_is_known_to_the_end():
    [table] = tables(open(ROOT / "fixtures" / "forward" / "mnist.py").read().splitlines(True), model="Net")
    assert table["stops"] == [] and "known shape ends" not in render(table)


# -- pre-commit ---------------------------------------------------------------

def test_pre_commit_hooks(tmp_path):
    if shutil.which("git") is None or subprocess.run([sys.executable, "-m", "pre_commit", "--version"], capture_output=True).returncode:
        pytest.skip("pre-commit is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("the hooks are tried from this repository's git history")
    repo = tmp_path / "user"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "t")
    shutil.copyfile(FIX / "literal.in.py", repo / "model.py")
    (repo / "nb.ipynb").write_text(NB)  # the hooks take notebooks too (types_or: [python, jupyter])
    git("add", "model.py", "nb.ipynb")
    env = {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    check = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "cnnshape", "--all-files"],
                           cwd=repo, capture_output=True, text=True, env=env)
    assert check.returncode == 1 and "model.py:11:5: CNS001" in check.stdout, check.stdout + check.stderr
    assert "nb.ipynb:cell_2:6:19: CNS001" in check.stdout
    fix = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "cnnshape-fix", "--all-files"],
                         cwd=repo, capture_output=True, text=True, env=env)
    assert fix.returncode == 1 and "files were modified by this hook" in fix.stdout, fix.stdout + fix.stderr
    assert (repo / "model.py").read_text() == (FIX / "literal.out.py").read_text()
    assert "nn.Linear(5408, 10)" in (repo / "nb.ipynb").read_text()
    again = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "cnnshape-fix", "--all-files"],
                           cwd=repo, capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stdout + again.stderr  # everything fixed: the hook passes
    # a fault no number fixes: the hook fails, though it changes nothing, and says why
    (repo / "model.py").write_text((FIX / "literal.out.py").read_text().replace("input=(1, 100, 100)", "input=(1, 8, 8)"))
    left = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "cnnshape-fix", "--all-files"],
                          cwd=repo, capture_output=True, text=True, env=env)
    assert left.returncode == 1 and "files were modified" not in left.stdout, left.stdout
    assert "left unfixed" in left.stdout, left.stdout
