"""One configuration, read by both faces: the [flake8] section of setup.cfg /
tox.ini / .flake8 and [tool.cnnshape] in pyproject.toml, found upward from
the files; the command line wins, then [flake8], then [tool.cnnshape].
select / ignore / extend-* / per-file-ignores / exclude and # noqa give in
`cnnshape check` exactly what flake8 prints, CNS100 only under a prefix at
least as long as its family, and `fix` leaves what # noqa silences."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from commands import BIN, ROOT, cnnshape, flake8, write

# CNS002 at 8, CNS003 at 9, CNS001 at 13 and 16
SEVERAL = (ROOT / "fixtures" / "sequential" / "module_level.py").read_text()
# CNS100 at 6 (off by default), CNS001 at 7
UNSIZED = """import torch.nn as nn
net = nn.Sequential(
    nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d((2, 2), stride=2),
    nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d((2, 2), stride=3),
    nn.Conv2d(128, 64, 3), nn.ReLU(), nn.MaxPool2d((2, 2), stride=2),
    nn.Flatten(), nn.Linear(3136, 20), nn.Linear(20, 10))
bad = nn.Sequential(nn.Conv2d(3, 64, 3), nn.Flatten(), nn.Linear(100, 10))
"""
# no size in the file: the project's default gives one
SIZELESS = "import torch.nn as nn\nmodel = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(100, 10))\n"


def _ours(stdout: str):
    """(file, line, code) of the CNS reports, from either command."""
    out = set()
    for line in stdout.splitlines():
        path, row, _, message = line.split(":", 3)
        if message.split()[0].startswith("CNS"):
            out.add((path.lstrip("./"), int(row), message.split()[0]))
    return out


def both(tmp_path, *args, cwd=None, paths=(".",)):
    """What flake8 and cnnshape report in the folder, each its own way."""
    cwd = cwd or tmp_path
    f8 = flake8(*args, *paths, cwd=cwd)
    ours = cnnshape("check", *args, *paths, cwd=cwd)
    assert "Traceback" not in f8.stderr + ours.stderr, f8.stderr + ours.stderr
    return _ours(f8.stdout), _ours(ours.stdout)


@pytest.mark.parametrize("name", ["setup.cfg", "tox.ini", ".flake8"])
def test_the_flake8_section_gives_both_faces_the_input_size(tmp_path, name):
    write(tmp_path, {name: "[flake8]\ncnnshape-input = 3,32,32\n", "pkg/m.py": SIZELESS})
    f8, ours = both(tmp_path)
    assert f8 == ours == {("pkg/m.py", 2, "CNS001")}
    out = cnnshape("check", "pkg/m.py", cwd=tmp_path).stdout
    assert "receives 7200 (8 x 30 x 30) for input (3, 32, 32) from the cnnshape-input setting" in out


def test_pyproject_gives_both_faces_the_input_size_and_the_flake8_section_wins(tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.cnnshape]\ninput = "3,64,64"\n', "m.py": SIZELESS})
    assert cnnshape("check", "m.py", cwd=tmp_path).stdout == flake8("--select", "CNS", "m.py", cwd=tmp_path).stdout
    assert "for input (3, 64, 64)" in cnnshape("check", "m.py", cwd=tmp_path).stdout
    write(tmp_path, {"setup.cfg": "[flake8]\ncnnshape-input = 3,32,32\n"})
    assert cnnshape("check", "m.py", cwd=tmp_path).stdout == flake8("--select", "CNS", "m.py", cwd=tmp_path).stdout
    assert "for input (3, 32, 32)" in cnnshape("check", "m.py", cwd=tmp_path).stdout


def test_the_command_line_wins(tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.cnnshape]\ninput = [3, 64, 64]\nignore = ["CNS001"]\n', "m.py": SIZELESS})
    assert cnnshape("check", "m.py", cwd=tmp_path).returncode == 0
    out = cnnshape("check", "--ignore", "CNS9", "--input", "3,32,32", "m.py", cwd=tmp_path).stdout
    assert "for input (3, 32, 32)" in out
    assert flake8("--ignore", "CNS9", "--cnnshape-input", "3,32,32", "m.py", cwd=tmp_path).stdout == out
    isolated = cnnshape("check", "--isolated", "m.py", cwd=tmp_path).stdout  # no setting read: no size, nothing ignored
    assert "CNS001" in isolated and "for every input size" in isolated and "setting" not in isolated


def test_the_configuration_is_found_upward_from_the_files(tmp_path):
    write(tmp_path, {"proj/pyproject.toml": '[tool.cnnshape]\ninput = "3,32,32"\n', "proj/a/b/m.py": SIZELESS})
    from_inside = cnnshape("check", "m.py", cwd=tmp_path / "proj" / "a" / "b")
    from_outside = cnnshape("check", "proj/a/b/m.py", cwd=tmp_path)
    assert "for input (3, 32, 32)" in from_inside.stdout and "for input (3, 32, 32)" in from_outside.stdout
    assert flake8("--select", "CNS", "m.py", cwd=tmp_path / "proj" / "a" / "b").stdout == from_inside.stdout


SELECTIONS = [
    [],
    ["--select", "CNS"],
    ["--select", "CNS", "--extend-ignore", "CNS100"],
    ["--extend-select", "CNS1"],
    ["--extend-select", "CNS100"],
    ["--select", "CNS10"],
    ["--ignore", "CNS001"],
    ["--select", "CNS00", "--ignore", "CNS0"],
    ["--select", "CNS0", "--ignore", "CNS00"],
    ["--select", "E,W"],
    ["--extend-ignore", "CNS", "--extend-select", "CNS003"],
    ["--per-file-ignores", "sub/*.py: CNS002 CNS1"],
    ["--per-file-ignores", "several.py:CNS0 sub/*:CNS001", "--extend-select", "CNS1"],
    ["--exclude", "sub"],
    ["--extend-exclude", "unsized.py,*/deep.py"],
]


@pytest.mark.parametrize("args", SELECTIONS, ids=[" ".join(a) or "defaults" for a in SELECTIONS])
def test_selection_is_flake8s(tmp_path, args):
    write(tmp_path, {"several.py": SEVERAL, "unsized.py": UNSIZED, "sub/several.py": SEVERAL, "sub/x/deep.py": UNSIZED})
    f8, ours = both(tmp_path, *args)
    assert f8 == ours
    assert ours or args in (["--select", "E,W"], ["--select", "CNS0", "--ignore", "CNS00"])


@pytest.mark.parametrize("cfg", [
    "[flake8]\nselect = CNS\nper-file-ignores =\n    sub/*.py: CNS002\n    unsized.py: CNS001\nextend-exclude = deep.py\n",
    "[flake8]\nextend-select = CNS1\nextend_ignore = CNS003\n",
])
def test_selection_from_the_flake8_section_is_flake8s(tmp_path, cfg):
    write(tmp_path, {"tox.ini": cfg, "several.py": SEVERAL, "unsized.py": UNSIZED, "sub/several.py": SEVERAL,
                     "sub/x/deep.py": UNSIZED})
    f8, ours = both(tmp_path)
    assert f8 == ours and ours


def test_selection_from_pyproject_reaches_both_faces(tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.cnnshape]\nextend-select = ["CNS100"]\nextend-exclude = ["sub"]\n'
                                       '[tool.cnnshape.per-file-ignores]\n"several.py" = ["CNS002", "CNS003"]\n',
                     "several.py": SEVERAL, "unsized.py": UNSIZED, "sub/several.py": SEVERAL})
    f8, ours = both(tmp_path)
    assert f8 == ours == {("several.py", 13, "CNS001"), ("several.py", 16, "CNS001"),
                          ("unsized.py", 6, "CNS100"), ("unsized.py", 7, "CNS001")}


NOQA = """import torch.nn as nn

# cnnshape: input=(3, 32, 32)
model = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=5),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(32, 32, 5),  # noqa
    nn.BatchNorm2d(16),  # NOQA:CNS0
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(32 * 4 * 4, 10),  # noqa: E501
)

mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(128, 10))  # noqa: CNS001,E501
"""


def test_noqa_as_flake8_reads_it(tmp_path):
    write(tmp_path, {"m.py": NOQA, "all.py": "# flake8: noqa\n" + SEVERAL, "code.py": SEVERAL + "x = 1  # flake8: noqa\n"})
    f8, ours = both(tmp_path)
    assert f8 == ours == {("m.py", 13, "CNS001")} | {("code.py", line, code) for line, code in
                                                     [(8, "CNS002"), (9, "CNS003"), (13, "CNS001"), (16, "CNS001")]}
    f8, ours = both(tmp_path, "--disable-noqa", paths=["m.py"])
    assert f8 == ours and len(ours) == 4


def test_fix_leaves_what_noqa_silences(tmp_path):
    write(tmp_path, {"m.py": NOQA})
    proc = cnnshape("fix", "m.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fixed = (tmp_path / "m.py").read_text().splitlines()
    before = NOQA.splitlines()
    changed = [i + 1 for i, (a, b) in enumerate(zip(before, fixed)) if a != b]
    assert changed == [13] and fixed[12] == "    nn.Linear(32 * 5 * 5, 10),  # noqa: E501"
    write(tmp_path, {"all.py": "# flake8: noqa\n" + SEVERAL})
    assert cnnshape("fix", "all.py", cwd=tmp_path).returncode == 0
    assert (tmp_path / "all.py").read_text() == "# flake8: noqa\n" + SEVERAL


@pytest.mark.parametrize("files, why", [
    ({"pyproject.toml": "[tool.cnnshape]\ninputs = '3,32,32'\n"}, "unknown key 'inputs' in [tool.cnnshape]"),
    ({"pyproject.toml": "[tool.cnnshape]\ninput = 'three'\n"}, "input = three in [tool.cnnshape]"),
    ({"pyproject.toml": "[tool.cnnshape]\nselect = ['cns']\n"}, "'cns' is not a code or a prefix of one"),
    ({"pyproject.toml": "[tool.cnnshape\n"}, "pyproject.toml: cannot be read"),
    ({"setup.cfg": "[flake8]\ncnnshape-input = 3, x\n"}, "cnnshape-input = 3, x in [flake8] of"),
])
def test_a_bad_setting_in_a_file_is_a_usage_error_in_both_faces(tmp_path, files, why):
    write(tmp_path, {"m.py": SIZELESS, "n.py": SIZELESS, **files})
    ours = cnnshape("check", ".", cwd=tmp_path)
    assert ours.returncode == 2 and ours.stdout == "" and ours.stderr.count("\n") == 1 and why in ours.stderr
    if "setup.cfg" in files:
        return  # flake8 reads its own section: test_failures.py holds its message
    f8 = flake8(".", cwd=tmp_path)
    assert f8.returncode == 2 and f8.stdout == "" and "Traceback" not in f8.stderr and why in f8.stderr


def test_pre_commit_hooks_of_both_faces_agree_on_noqa(tmp_path):
    """A real `pre-commit run` in a fresh repository, with the hooks as the
    README gives them for an install from source (repo: local)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "user"
    write(repo, {"model.py": NOQA.replace("  # noqa: E501", "  # noqa: CNS001"), ".pre-commit-config.yaml": LOCAL_HOOKS})
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("add", ".")
    env = {"PRE_COMMIT_HOME": str(tmp_path / "cache"), "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)}
    run = lambda: subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo,  # noqa: E731
                                 capture_output=True, text=True, env=env, timeout=600)
    clean = run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.count("Passed") == 2
    (repo / "model.py").write_text(SEVERAL)
    dirty = run()
    assert dirty.returncode == 1 and dirty.stdout.count("Failed") == 2, dirty.stdout
    assert dirty.stdout.count("model.py:13:5: CNS001") == 2  # the same report from each face


LOCAL_HOOKS = """\
repos:
  - repo: local
    hooks:
      - id: cnnshape
        name: cnnshape check
        entry: cnnshape check
        language: system
        types: [python]
      - id: flake8-cnnshape
        name: flake8 (CNS codes)
        entry: flake8 --select CNS
        language: system
        types: [python]
"""
