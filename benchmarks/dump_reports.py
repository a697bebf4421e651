#!/usr/bin/env python
"""Every report the analysis makes on a set of files, as sorted JSON lines,
so that two versions of the analysis can be compared record for record
(`diff before.jsonl after.jsonl`). A refactor must leave the dump unchanged.

    python benchmarks/dump_reports.py files DIR... --out reports.jsonl
    python benchmarks/dump_reports.py generated [--seeds 600] --out generated.jsonl
    python benchmarks/dump_reports.py corpus [--files 170] --out corpus.jsonl

`files` lints every .py file under the folders (a real-project corpus,
benchmarks/real/corpus.py builds one; the fixtures; the standard library);
`generated` the models of tests/gen_models.py (seeds 0..N-1, needs torch);
`corpus` the benchmark's generated corpus (benchmarks/_corpus.py).
The analysis runs without its safety net: a crash is a record too (code
"CRASH"), so that a version that fails where the other reported shows.
Each record: path, line, col, code, message; CNS100 included.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, HERE)


def _strict_analyze():
    """The analysis without the net that turns a crash into silence."""
    try:
        from flake8_cnnshape.analysis import analyze

        return lambda lines, tree, path=None: analyze(lines, tree, strict=True, path=path)
    except ImportError:  # the layout before the analysis had its own module
        from flake8_cnnshape import core

        return lambda lines, tree, path=None: core._analyze(list(lines), tree, core.MAX_STEPS)


def _records(name: str, source: str, analyze, path=None) -> list:
    lines = source.splitlines(keepends=True)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    try:
        reports = analyze(lines, tree, path)
    except Exception:  # noqa: BLE001 - recorded, not raised: the dump goes on
        return [{"path": name, "line": 0, "col": 0, "code": "CRASH", "message": traceback.format_exc(limit=-3)}]
    return [{"path": name, "line": r.line, "col": r.col, "code": r.code, "message": r.message} for r in reports]


def _python_files(roots):
    for root in roots:
        if os.path.isfile(root):
            yield root, root
            continue
        for d, dirs, files in os.walk(root):
            dirs.sort()
            for f in sorted(files):
                if f.endswith(".py"):
                    path = os.path.join(d, f)
                    yield os.path.relpath(path, root), path


def dump_files(roots, analyze):
    for name, path in _python_files(roots):
        try:
            with open(path, "rb") as fh:
                source = fh.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        yield from _records(name, source, analyze, path)  # the path: the project's other files are read, as flake8 does


def dump_generated(seeds: int, analyze):
    import gen_models

    for seed in range(seeds):
        source = gen_models.render(gen_models.generate(seed)).source
        yield from _records(f"seed{seed}", source, analyze)


def dump_corpus(files: int, analyze):
    import _corpus

    with tempfile.TemporaryDirectory() as out:
        _corpus.generate(out, files, 0)
        yield from dump_files([out], analyze)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["files", "generated", "corpus"])
    p.add_argument("roots", nargs="*")
    p.add_argument("--seeds", type=int, default=600)
    p.add_argument("--files", type=int, default=170)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    analyze = _strict_analyze()
    if a.what == "files":
        records = list(dump_files(a.roots, analyze))
    elif a.what == "generated":
        records = list(dump_generated(a.seeds, analyze))
    else:
        records = list(dump_corpus(a.files, analyze))
    records.sort(key=lambda r: (r["path"], r["line"], r["col"], r["code"], r["message"]))
    with open(a.out, "w", encoding="utf-8") as out:
        for r in records:
            out.write(json.dumps(r, sort_keys=True) + "\n")
    crashes = sum(r["code"] == "CRASH" for r in records)
    print(f"{len(records)} records ({crashes} crashes) -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
