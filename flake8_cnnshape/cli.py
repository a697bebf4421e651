"""The `cnnshape` command: check files without flake8, show each model's
shapes, and fix the numbers. The same analysis as the flake8 plugin."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

from . import __version__, output
from .analysis import analyze
from .codes import OFF_BY_DEFAULT
from .models.pragma import parse_value

SKIP_DIRS = {".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", ".env", "build", "dist", "node_modules",
             "__pycache__", ".mypy_cache", ".pytest_cache", "site-packages", ".eggs"}


def python_files(paths: Sequence[str]) -> Iterator[Path]:
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
                for f in sorted(files):
                    if f.endswith(".py"):
                        yield Path(root) / f
        else:
            yield path


def read_lines(path: Path) -> Optional[List[str]]:
    """Source lines decoded as Python would (coding cookie, BOM), line endings
    kept as they are; None if unreadable."""
    import io
    import tokenize

    try:
        data = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return io.TextIOWrapper(io.BytesIO(data), encoding, newline="").readlines()
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
        return None


def _selected(code: str, select: List[str], ignore: List[str]) -> bool:
    if select and not any(code.startswith(s) for s in select):
        return False
    if code in OFF_BY_DEFAULT and code not in select:
        return False
    return not any(code.startswith(i) for i in ignore)


def _dims(text: Optional[str]) -> Optional[Tuple[int, ...]]:
    if not text:
        return None
    dims, err = parse_value(text)
    if err:
        raise SystemExit(f"cnnshape: --input: {err}")
    return dims


def _check(args) -> int:
    select = [s for s in (args.select or "").split(",") if s]
    ignore = [s for s in (args.ignore or "").split(",") if s]
    default = _dims(args.input)
    results: output.Results = []
    for name, lines in _sources(args.paths, args.stdin_display_name):
        if lines is None:
            continue
        for f in analyze(lines, default_input=default, path=_place(name, args.stdin_display_name)):
            if _selected(f.code, select, ignore):
                results.append((name, f))
    output.write(args.format, results, sys.stdout)
    return 1 if results else 0


def _place(name: str, stdin_name: str) -> Optional[str]:
    """The file's path on the disk, where the project's other files are read
    from: stdin has one when its display name is a file (an editor's buffer)."""
    return name if name != stdin_name or os.path.isfile(name) else None


def _sources(paths: Sequence[str], stdin_name: str):
    for p in paths:
        if p == "-":
            yield stdin_name, sys.stdin.read().splitlines(keepends=True)
        else:
            for f in python_files([p]):
                yield str(f), read_lines(f)


def _show(args) -> int:
    from .show import render, tables

    lines = read_lines(Path(args.file)) if args.file != "-" else sys.stdin.read().splitlines(keepends=True)
    if lines is None:
        print(f"cnnshape: cannot read {args.file}", file=sys.stderr)
        return 2
    found = tables(lines, args.model, _dims(args.input), path=None if args.file == "-" else args.file)
    if args.format == "json":
        json.dump(found, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        if not found:
            print("no models found" + (f" named {args.model}" if args.model else ""))
        print("\n\n".join(render(t) for t in found))
    return 0 if found else 1


def _fix(args) -> int:
    from .fix import fix_source

    changed = 0
    for f in python_files(args.paths):
        lines = read_lines(f)
        if lines is None:
            continue
        result = fix_source("".join(lines), lazy=args.lazy, default_input=_dims(args.input), path=str(f))
        for note in result.notes:
            print(f"{f}:{note}", file=sys.stderr)
        if result.source == "".join(lines):
            continue
        changed += 1
        if args.diff:
            import difflib

            sys.stdout.writelines(difflib.unified_diff(lines, result.source.splitlines(keepends=True), str(f), str(f)))
        else:
            with open(f, "w", encoding=_encoding(f), newline="") as out:
                out.write(result.source)
            print(f"fixed {f}", file=sys.stderr)
    return 1 if changed and args.diff else 0


def _encoding(path: Path) -> str:
    import io
    import tokenize

    return tokenize.detect_encoding(io.BytesIO(path.read_bytes()).readline)[0]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="cnnshape", description="PyTorch layer sizes, checked without running the model.")
    parser.add_argument("--version", action="version", version=f"cnnshape {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="report size mismatches (the flake8 plugin's findings)")
    check.add_argument("paths", nargs="+", help="files or folders; - reads stdin")
    check.add_argument("--stdin-display-name", default="stdin")
    check.add_argument("--select", help="comma-separated code prefixes to report")
    check.add_argument("--ignore", help="comma-separated code prefixes to leave out")
    check.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    check.add_argument("--input", help="input size for models whose file gives none, e.g. 3,224,224")
    check.set_defaults(run=_check)

    show = sub.add_parser("show", help="print each model's layers, output shapes and parameter counts")
    show.add_argument("file")
    show.add_argument("--model", help="only the model (class or variable) of this name")
    show.add_argument("--input", help="per-sample input size, e.g. 1,28,28 (overrides the file's)")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.set_defaults(run=_show)

    fix = sub.add_parser("fix", help="rewrite wrong numbers in place")
    fix.add_argument("paths", nargs="+")
    fix.add_argument("--diff", action="store_true", help="print a diff instead of writing")
    fix.add_argument("--lazy", action="store_true", help="turn a faulty nn.Linear(N, out) into nn.LazyLinear(out)")
    fix.add_argument("--input", help="input size for models whose file gives none")
    fix.set_defaults(run=_fix)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
