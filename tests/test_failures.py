"""Clear failure: 0 clean, 1 findings, 2 usage or input errors; a file that
cannot be read is named once on stderr, one Python cannot parse is reported
(E999, at Python's place), never passed silently; a bad setting stops the
run once, in the CLI and in flake8, with the option's own syntax as hint."""
from __future__ import annotations

import json

import pytest

from commands import WRONG, cnnshape, flake8, write

CLEAN = "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 4))\n"


def test_exit_codes(tmp_path):
    write(tmp_path, {"clean.py": CLEAN, "wrong.py": WRONG})
    clean = cnnshape("check", "clean.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    wrong = cnnshape("check", "wrong.py", cwd=tmp_path)
    assert wrong.returncode == 1 and wrong.stdout.startswith("wrong.py:3:") and wrong.stderr == ""


@pytest.mark.parametrize("command", [["check"], ["fix"], ["fix", "--diff"], ["show"]])
def test_a_missing_file_is_named_once_and_exits_2(tmp_path, command):
    proc = cnnshape(*command, "missing.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["cnnshape: missing.py: no such file or directory"]


@pytest.mark.parametrize("data, why", [
    (b"import torch\x00\x01\x02", "NUL bytes"),
    (b"import torch\nx = '\xff\xfe'\n", "not UTF-8"),
    (b"# -*- coding: klingon -*-\nimport torch\n", "klingon"),
])
def test_a_file_that_is_not_text_is_named_and_the_others_still_checked(tmp_path, data, why):
    write(tmp_path, {"blob.py": data, "wrong.py": WRONG})
    proc = cnnshape("check", "blob.py", "wrong.py", cwd=tmp_path)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert line.startswith("cnnshape: blob.py: ") and why in line
    assert "wrong.py:3:" in proc.stdout and "CNS001" in proc.stdout


SYNTAX = [
    ("import torch\nprint 'hello'\n", "E999 SyntaxError: Missing parentheses in call to 'print'"),
    ("import torch\nx = (1,\n", "E999 SyntaxError: '(' was never closed"),
    ("import torch\n  x = 1\n", "E999 IndentationError: unexpected indent"),
]


def _python_says(source: str):
    try:
        compile(source, "bad.py", "exec")
    except SyntaxError as e:
        return e.lineno, e.offset
    raise AssertionError("the source parses")


@pytest.mark.parametrize("source, message", SYNTAX)
def test_a_file_python_cannot_parse_is_reported_whatever_is_selected(tmp_path, source, message):
    write(tmp_path, {"bad.py": source})
    line, col = _python_says(source)
    for args in (["check", "bad.py"], ["check", "--select", "CNS001", "bad.py"]):
        proc = cnnshape(*args, cwd=tmp_path)
        assert proc.returncode == 1
        [report] = proc.stdout.splitlines()
        assert report.startswith(f"bad.py:{line}:{col}: {message}")
    data = json.loads(cnnshape("check", "--format", "json", "bad.py", cwd=tmp_path).stdout)
    assert [(d["line"], d["col"], d["code"]) for d in data] == [(line, col, "E999")]


def test_fix_and_show_say_why_they_cannot_parse_and_leave_the_file(tmp_path):
    write(tmp_path, {"bad.py": SYNTAX[0][0]})
    for command in (["fix"], ["show"]):
        proc = cnnshape(*command, "bad.py", cwd=tmp_path)
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr.startswith("bad.py:2:1: E999 SyntaxError")
    assert (tmp_path / "bad.py").read_text() == SYNTAX[0][0]


@pytest.mark.parametrize("value, why", [
    ("banana", "'banana' is not a whole number"),
    ("(1, 28", "'(1, 28' has no closing ')'"),
    ("1,2,3,4,5", "5 sizes given"),
])
def test_a_bad_input_option_is_a_usage_error(tmp_path, value, why):
    write(tmp_path, {"clean.py": CLEAN})
    for command in ("check", "show", "fix"):
        proc = cnnshape(command, "--input", value, "clean.py", cwd=tmp_path)
        assert proc.returncode == 2 and proc.stdout == ""
        last = proc.stderr.splitlines()[-1]
        assert f"error: argument --input: {why}" in last and "3,224,224" in last and "input=(" not in last


@pytest.mark.parametrize("where", ["command line", "setup.cfg"])
def test_flake8_stops_once_on_a_bad_setting_with_the_options_syntax(tmp_path, where):
    files = {f"m{i}.py": CLEAN for i in range(5)}
    files["hello.py"] = 'print("hello")\n'
    if where == "setup.cfg":
        files["setup.cfg"] = "[flake8]\ncnnshape-input = 1, x, 28\n"
    write(tmp_path, files)
    option = ["--cnnshape-input", "1, x, 28"] if where == "command line" else []
    proc = flake8(*option, "--jobs", "2", ".", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert errors == ["flake8: error: cnnshape-input = 1, x, 28: 'x' is not a whole number "
                      "(write the per-sample sizes without the batch dim, like 3,224,224)"]


def test_an_unclosed_pragma_names_the_missing_parenthesis(tmp_path):
    write(tmp_path, {"m.py": "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 4))  # cnnshape: input=(1, 28\n"})
    want = "m.py:2:41: CNS900 cannot read the cnnshape pragma: '(1, 28' has no closing ')' (write input=(1, 28, 28))"
    assert flake8("--select", "CNS", "m.py", cwd=tmp_path).stdout.splitlines() == [want]
    assert cnnshape("check", "m.py", cwd=tmp_path).stdout.splitlines() == [want]


def test_an_output_file_that_cannot_be_written_is_a_usage_error(tmp_path):
    write(tmp_path, {"wrong.py": WRONG})
    proc = cnnshape("check", "--output-file", "no/such/folder/report.txt", "wrong.py", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["cnnshape: error: argument --output-file: no/such/folder/report.txt: "
                                        "no such file or directory"]
