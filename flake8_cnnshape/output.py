"""The CLI's output formats, each built from the findings' fields: text (as
flake8 prints), JSON, SARIF 2.1.0 (GitHub code scanning) and GitHub
workflow annotations."""
from __future__ import annotations

import json
from pathlib import Path
from typing import IO, List

from . import __version__
from .codes import CODES

HELP = "https://pypi.org/project/flake8-cnnshape/"


class Report:
    """One line of a command's report: a finding of the analysis, or a file
    Python cannot parse (E999), at its place in the file as given."""

    __slots__ = ("path", "line", "col", "code", "text")

    def __init__(self, path: str, line: int, col: int, code: str, text: str):
        self.path = path  # the file's name as given on the command line
        self.line = line
        self.col = col  # 0-based, as flake8 takes it
        self.code = code
        self.text = text  # the message after the code

    @classmethod
    def of(cls, path: str, finding) -> "Report":
        return cls(path, finding.line, finding.col, finding.code, finding.text)

    @property
    def message(self) -> str:
        return f"{self.code} {self.text}"


Results = List[Report]


def text(results: Results, out: IO[str]) -> None:
    for r in results:
        out.write(f"{r.path}:{r.line}:{r.col + 1}: {r.message}\n")


def as_json(results: Results, out: IO[str]) -> None:
    json.dump([{"path": r.path, "line": r.line, "col": r.col + 1, "code": r.code, "message": r.text} for r in results],
              out, indent=2)
    out.write("\n")


def github(results: Results, out: IO[str]) -> None:
    for r in results:
        out.write(f"::error file={r.path},line={r.line},col={r.col + 1},title={r.code}::{r.message}\n")


def sarif(results: Results) -> dict:
    """SARIF 2.1.0, as GitHub code scanning takes it."""
    rules = [{"id": c.id, "name": c.id, "shortDescription": {"text": c.title}, "helpUri": f"{HELP}#{c.anchor}"} for c in CODES]
    index = {c.id: i for i, c in enumerate(CODES)}
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "cnnshape", "version": __version__, "informationUri": HELP, "rules": rules}},
            "results": [{
                "ruleId": r.code,
                **({"ruleIndex": index[r.code]} if r.code in index else {}),
                "level": "warning" if r.code == "CNS900" else "error",
                "message": {"text": r.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": Path(r.path).as_posix()},
                    "region": {"startLine": r.line, "startColumn": r.col + 1},
                }}],
            } for r in results],
        }],
    }


def write(fmt: str, results: Results, out: IO[str]) -> None:
    if fmt == "json":
        as_json(results, out)
    elif fmt == "sarif":
        json.dump(sarif(results), out, indent=2)
        out.write("\n")
    elif fmt == "github":
        github(results, out)
    else:
        text(results, out)
