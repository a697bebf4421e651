"""The habits of the ecosystem: `python -m flake8_cnnshape`, `cnnshape rule
CODE` printing the README's section for the code (one text: code_docs.py),
and CNS100 reported only under a prefix as long as its family (CNS1), by
flake8 and by `cnnshape check` alike."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from commands import ROOT, WRONG, cnnshape, flake8, write
from flake8_cnnshape import code_docs, codes

README = (ROOT / "README.md").read_text()
PARTS = ("What it does", "Why is this bad?", "Example", "Use instead")
ALL = [c.id for c in codes.CODES] + [codes.SYNTAX_ERROR.id]


def _readme_codes() -> str:
    return README.split(code_docs.BEGIN, 1)[1].split(code_docs.END, 1)[0].strip() + "\n"


def test_the_readme_holds_the_packages_text_of_the_codes():
    assert _readme_codes() == code_docs.TEXT, "run: python -m flake8_cnnshape.code_docs README.md"


@pytest.mark.parametrize("code", ALL)
def test_every_code_has_its_four_parts_and_a_row_in_the_table(code):
    assert all(code_docs.part(code, p) for p in PARTS), code
    assert f"| [{code}](#{code.lower()}) |" in code_docs.TEXT


def test_rule_prints_the_readmes_section(tmp_path):
    proc = cnnshape("rule", "CNS001", cwd=tmp_path)
    assert proc.returncode == 0
    section = re.search(r"^### CNS001\n(.*?)(?=^### )", _readme_codes(), re.S | re.M).group(1)
    assert proc.stdout == f"# CNS001: {codes.BY_ID['CNS001'].title}\n\n{section.strip()}\n"
    listing = cnnshape("rule", cwd=tmp_path).stdout.splitlines()
    assert [line.split()[0] for line in listing] == ALL
    unknown = cnnshape("rule", "CNS999", cwd=tmp_path)
    assert unknown.returncode == 2 and unknown.stdout == "" and "no code CNS999" in unknown.stderr


def test_python_dash_m(tmp_path):
    write(tmp_path, {"m.py": WRONG})
    module = subprocess.run([sys.executable, "-m", "flake8_cnnshape", "check", "m.py"], cwd=tmp_path, capture_output=True,
                            text=True)
    script = cnnshape("check", "m.py", cwd=tmp_path)
    assert (module.returncode, module.stdout) == (script.returncode, script.stdout) == (1, script.stdout)
    assert "m.py:3:" in module.stdout


UNSIZED = (ROOT / "tests" / "test_config.py").read_text().split('UNSIZED = """', 1)[1].split('"""', 1)[0]


@pytest.mark.parametrize("args, cns100", [
    ([], False),
    (["--select", "CNS"], False),
    (["--extend-select", "CNS"], False),
    (["--select", "CNS1"], True),
    (["--select", "CNS10"], True),
    (["--extend-select", "CNS100"], True),
    (["--ignore", "E501"], False),  # an explicit ignore list does not turn it on either
])
def test_cns100_needs_a_prefix_as_long_as_its_family(tmp_path, args, cns100):
    write(tmp_path, {"m.py": UNSIZED})
    for proc in (flake8(*args, "m.py", cwd=tmp_path), cnnshape("check", *args, "m.py", cwd=tmp_path)):
        assert ("CNS100" in proc.stdout) == cns100, (args, proc.args, proc.stdout)
