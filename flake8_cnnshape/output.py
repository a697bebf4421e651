"""The CLI's output formats, each built from the reports' fields: text (as
flake8 prints), JSON, SARIF 2.1.0 (GitHub code scanning) and GitHub
workflow annotations. One severity per code for all (codes.Code.level)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, List, Optional
from urllib.parse import quote

from . import __version__
from .codes import BY_ID, CODES, SYNTAX_ERROR

HELP = "https://pypi.org/project/flake8-cnnshape/"
SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
GITHUB_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


class Report:
    """One line of a command's report: a finding of the analysis, or a file
    Python cannot parse (E999), at its place in the file as given."""

    __slots__ = ("path", "line", "col", "code", "text", "cell", "utf16_col")

    def __init__(self, path: str, line: int, col: int, code: str, text: str, cell: Optional[int] = None,
                 utf16_col: Optional[int] = None):
        self.path = path  # the file's name as given on the command line
        self.line = line  # in the cell, for a notebook
        self.col = col  # 0-based, as flake8 takes it
        self.code = code
        self.text = text  # the message after the code
        self.cell = cell  # the notebook's code cell, counted from 1 as nbqa counts them
        # col counts UTF-8 bytes (as flake8's ast plugins do); SARIF's columns count UTF-16 code units
        self.utf16_col = col if utf16_col is None else utf16_col

    @property
    def message(self) -> str:
        return f"{self.code} {self.text}"

    @property
    def level(self) -> str:
        return (BY_ID.get(self.code) or SYNTAX_ERROR).level

    @property
    def place(self) -> str:
        """`m.py:3:5`, or `nb.ipynb:cell_2:3:5` as nbqa writes it."""
        cell = "" if self.cell is None else f"cell_{self.cell}:"
        return f"{self.path}:{cell}{self.line}:{self.col + 1}"


Results = List[Report]


def text(results: Results, out: IO[str]) -> None:
    for r in results:
        out.write(f"{r.place}: {r.message}\n")


def as_json(results: Results, out: IO[str]) -> None:
    json.dump([{"path": r.path, **({"cell": r.cell} if r.cell is not None else {}), "line": r.line, "col": r.col + 1,
                "code": r.code, "severity": r.level, "message": r.text} for r in results], out, indent=2)
    out.write("\n")


def escape_data(value: str) -> str:
    """A workflow command's message: % and line breaks encoded."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property (file=, title=): also : and , encoded."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(results: Results, out: IO[str]) -> None:
    for r in results:
        where = f"file={escape_property(Path(r.path).as_posix())},line={r.line},col={r.col + 1}"
        title = r.code if r.cell is None else f"{r.code} (cell {r.cell})"
        out.write(f"::{GITHUB_COMMAND[r.level]} {where},title={escape_property(title)}::{escape_data(r.message)}\n")


def _rule(code) -> dict:
    from .code_docs import part, plain, sections

    section = sections()[code.id]
    return {
        "id": code.id,
        "name": code.id,
        "shortDescription": {"text": code.title},
        "fullDescription": {"text": plain(part(code.id, "What it does"))},
        "help": {"text": plain(section), "markdown": section},
        "helpUri": f"{HELP}#{code.id.lower()}",
        "defaultConfiguration": {"level": code.level, "enabled": code.on},
    }


def artifact(path: str, root: str) -> dict:
    """A file's SARIF location: percent-encoded, relative to %SRCROOT% where
    it is under the root, else an absolute file:// URI."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    if rel.startswith(os.pardir) or os.path.isabs(rel):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": quote(Path(rel).as_posix()), "uriBaseId": SRCROOT}


def _location(r: Report, root: str) -> dict:
    location = {"physicalLocation": {"artifactLocation": artifact(r.path, root),
                                     "region": {"startLine": r.line, "startColumn": r.utf16_col + 1}}}
    if r.cell is not None:  # the region counts the lines of the cell, which the notebook's JSON does not show
        location["message"] = {"text": f"cell {r.cell}, line {r.line}"}
        location["properties"] = {"cell": r.cell}
    return location


def sarif(results: Results, errors: List[str] = (), root: Optional[str] = None) -> dict:
    """SARIF 2.1.0, as GitHub code scanning takes it: one run, every rule
    described, each result where it is; the files that could not be read as
    the invocation's notifications."""
    root = os.path.abspath(root or os.getcwd())
    codes = list(CODES) + [SYNTAX_ERROR]
    index = {c.id: i for i, c in enumerate(codes)}
    return {
        "version": "2.1.0",
        "$schema": SCHEMA,
        "runs": [{
            "tool": {"driver": {"name": "cnnshape", "version": __version__, "informationUri": HELP,
                                "rules": [_rule(c) for c in codes]}},
            "originalUriBaseIds": {SRCROOT: {"uri": Path(root).as_uri().rstrip("/") + "/"}},
            "invocations": [{
                "executionSuccessful": not errors,
                "toolExecutionNotifications": [{"level": "error", "message": {"text": e}} for e in errors],
            }],
            "results": [{
                "ruleId": r.code,
                "ruleIndex": index[r.code],
                "level": r.level,
                "message": {"text": r.message},
                "locations": [_location(r, root)],
            } for r in results],
        }],
    }


def write(fmt: str, results: Results, out: IO[str], errors: List[str] = ()) -> None:
    if fmt == "json":
        as_json(results, out)
    elif fmt == "sarif":
        json.dump(sarif(results, errors), out, indent=2)
        out.write("\n")
    elif fmt == "github":
        github(results, out)
    else:
        text(results, out)
