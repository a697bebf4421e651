"""The `cnnshape` command: check files without flake8, show each model's
shapes, and fix the numbers. The same analysis as the flake8 plugin.

Exit codes: 0 nothing found, 1 findings (or a file Python cannot parse),
2 a usage error or a file that cannot be read."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Iterator, List, Optional, Sequence

from . import __version__, output, sourcefiles
from .codes import OFF_BY_DEFAULT
from .models.pragma import parse_value
from .output import Report
from .sourcefiles import InputError, Source, SyntaxProblem

OK, FOUND, ERROR = 0, 1, 2


def _selected(code: str, select: List[str], ignore: List[str]) -> bool:
    if select and not any(code.startswith(s) for s in select):
        return False
    if code in OFF_BY_DEFAULT and code not in select:
        return False
    return not any(code.startswith(i) for i in ignore)


def input_size(text: str):
    """--input's value: the per-sample sizes, or a usage error naming why."""
    dims, err = parse_value(text, example="3,224,224")
    if err:
        raise argparse.ArgumentTypeError(err)
    return dims


class Run:
    """What a command met on its way: the files it could not read (each said
    once on stderr) decide the exit code with what it found."""

    def __init__(self):
        self.failed = False

    def error(self, message: str) -> None:
        print(f"cnnshape: {message}", file=sys.stderr)
        self.failed = True

    def sources(self, paths: Sequence[str], stdin_name: str = "stdin") -> Iterator[Source]:
        for name in sourcefiles.python_files(paths):
            try:
                yield sourcefiles.read_stdin(sys.stdin, stdin_name) if name == "-" else sourcefiles.read(name)
            except InputError as e:
                self.error(str(e))

    def exit_code(self, found: bool) -> int:
        return ERROR if self.failed else FOUND if found else OK


def _syntax_report(source: Source, problem: SyntaxProblem) -> Report:
    return Report(source.name, problem.line, problem.col - 1, "E999", problem.text)


def _check(args) -> int:
    from .analysis import analyze

    select = [s for s in (args.select or "").split(",") if s]
    ignore = [s for s in (args.ignore or "").split(",") if s]
    run, results = Run(), []
    for source in run.sources(args.paths, args.stdin_display_name):
        tree = sourcefiles.parse(source)
        if isinstance(tree, SyntaxProblem):
            results.append(_syntax_report(source, tree))  # never passed silently, whatever is selected
            continue
        for f in analyze(source.lines, tree, default_input=args.input, path=source.path):
            if _selected(f.code, select, ignore):
                results.append(Report.of(source.name, f))
    output.write(args.format, results, sys.stdout)
    return run.exit_code(bool(results))


def _show(args) -> int:
    from .show import render, tables

    run = Run()
    source = next(run.sources([args.file]), None)
    if source is None:
        return ERROR
    problem = sourcefiles.parse(source)
    if isinstance(problem, SyntaxProblem):
        output.text([_syntax_report(source, problem)], sys.stderr)
        return FOUND
    found = tables(source.lines, args.model, args.input, path=source.path)
    if args.format == "json":
        json.dump(found, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        if not found:
            print("no models found" + (f" named {args.model}" if args.model else ""))
        print("\n\n".join(render(t) for t in found))
    return OK if found else FOUND


def _fix(args) -> int:
    from .fix import fix_source

    run, changed, broken = Run(), 0, False
    for source in run.sources(args.paths):
        problem = sourcefiles.parse(source)
        if isinstance(problem, SyntaxProblem):
            output.text([_syntax_report(source, problem)], sys.stderr)
            broken = True
            continue
        result = fix_source(source.text, lazy=args.lazy, default_input=args.input, path=source.path)
        for note in result.notes:
            print(f"{source.name}:{note}", file=sys.stderr)
        if result.source == source.text:
            continue
        changed += 1
        if args.diff:
            import difflib

            sys.stdout.writelines(difflib.unified_diff(source.lines, result.source.splitlines(keepends=True),
                                                       source.name, source.name))
        else:
            _write(source, result.source)
            print(f"fixed {source.name}", file=sys.stderr)
    return run.exit_code(broken or bool(changed and args.diff))


def _write(source: Source, text: str) -> None:
    import io
    import tokenize

    with open(source.path, "rb") as f:
        encoding = tokenize.detect_encoding(io.BytesIO(f.read()).readline)[0]
    with open(source.path, "w", encoding=encoding, newline="") as out:
        out.write(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnshape", description="PyTorch layer sizes, checked without running the model.",
                                     epilog="exit codes: 0 nothing found, 1 findings, 2 usage or input errors")
    parser.add_argument("--version", action="version", version=f"cnnshape {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="report size mismatches (the flake8 plugin's findings)")
    check.add_argument("paths", nargs="+", help="files or folders; - reads stdin")
    check.add_argument("--stdin-display-name", default="stdin")
    check.add_argument("--select", help="comma-separated code prefixes to report")
    check.add_argument("--ignore", help="comma-separated code prefixes to leave out")
    check.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    check.add_argument("--input", type=input_size, help="input size for models whose file gives none, e.g. 3,224,224")
    check.set_defaults(run=_check)

    show = sub.add_parser("show", help="print each model's layers, output shapes and parameter counts")
    show.add_argument("file")
    show.add_argument("--model", help="only the model (class or variable) of this name")
    show.add_argument("--input", type=input_size, help="per-sample input size, e.g. 1,28,28 (overrides the file's)")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.set_defaults(run=_show)

    fix = sub.add_parser("fix", help="rewrite wrong numbers in place")
    fix.add_argument("paths", nargs="+")
    fix.add_argument("--diff", action="store_true", help="print a diff instead of writing")
    fix.add_argument("--lazy", action="store_true", help="turn a faulty nn.Linear(N, out) into nn.LazyLinear(out)")
    fix.add_argument("--input", type=input_size, help="input size for models whose file gives none")
    fix.set_defaults(run=_fix)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
