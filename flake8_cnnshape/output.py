"""The CLI's output formats, each built from the findings' fields: text (as
flake8 prints), JSON, SARIF 2.1.0 (GitHub code scanning) and GitHub
workflow annotations."""
from __future__ import annotations

import json
from pathlib import Path
from typing import IO, List, Tuple

from . import __version__
from .codes import CODES
from .findings import Finding

HELP = "https://pypi.org/project/flake8-cnnshape/"
Results = List[Tuple[str, Finding]]  # (the file's name as given, a finding in it)


def text(results: Results, out: IO[str]) -> None:
    for name, f in results:
        out.write(f"{name}:{f.line}:{f.col + 1}: {f.message}\n")


def as_json(results: Results, out: IO[str]) -> None:
    json.dump([{"path": n, "line": f.line, "col": f.col + 1, "code": f.code, "message": f.text} for n, f in results], out, indent=2)
    out.write("\n")


def github(results: Results, out: IO[str]) -> None:
    for name, f in results:
        out.write(f"::error file={name},line={f.line},col={f.col + 1},title={f.code}::{f.message}\n")


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
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": "warning" if f.code == "CNS900" else "error",
                "message": {"text": f.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": Path(n).as_posix()},
                    "region": {"startLine": f.line, "startColumn": f.col + 1},
                }}],
            } for n, f in results],
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
