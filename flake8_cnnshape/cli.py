"""The `cnnshape` command: check files without flake8, show each model's
shapes, and fix the numbers. The same analysis as the flake8 plugin.

Exit codes: 0 nothing found, 1 findings (or a file Python cannot parse),
2 a usage error or a file that cannot be read."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Iterator, Optional, Sequence

from . import __version__, config, output, sourcefiles
from .models.pragma import parse_value
from .noqa import Noqa, file_skipped
from .selection import Selection
from .sourcefiles import InputError, Source, SyntaxProblem

OK, FOUND, ERROR = 0, 1, 2
SETTINGS = ("input", "select", "ignore", "extend-select", "extend-ignore", "per-file-ignores", "exclude",
            "extend-exclude", "disable-noqa")


class UsageError(Exception):
    """An option the command cannot act on: one message, exit 2."""


def input_size(text: str):
    """--input's value: the per-sample sizes, or a usage error naming why."""
    dims, err = parse_value(text, example="3,224,224")
    if err:
        raise argparse.ArgumentTypeError(err)
    return dims


class Run:
    """What a command met on its way: the files it could not read (each said
    once on stderr) decide the exit code with what it found."""

    def __init__(self, args):
        self.errors = []
        self.stdin_name = getattr(args, "stdin_display_name", "stdin")
        paths = args.paths if hasattr(args, "paths") else [args.file]
        given = {k: getattr(args, k.replace("-", "_"), None) for k in SETTINGS}
        self.settings = config.load(config.start_folder(paths, self.stdin_name), given, getattr(args, "isolated", False))
        self.selection = Selection(self.settings)
        self.noqa = not self.settings.disable_noqa

    def error(self, message: str) -> None:
        print(f"cnnshape: {message}", file=sys.stderr)
        self.errors.append(message)

    def sources(self, paths: Sequence[str], exclude: bool = True) -> Iterator[Source]:
        for name in sourcefiles.python_files(paths, self.selection.excluded if exclude else lambda path: False):
            try:
                source = sourcefiles.read_stdin(sys.stdin, self.stdin_name) if name == "-" else sourcefiles.read(name)
            except InputError as e:
                self.error(str(e))
                continue
            if not (self.noqa and file_skipped(source.lines)):
                yield source

    def chosen(self, source: Source):
        """(line, code) -> reported: selected for this file, and no # noqa silences it."""
        chosen = self.selection.for_file(source.name)
        marks = Noqa(source.lines) if self.noqa else None
        return lambda line, code: chosen(code) and not (marks is not None and marks.silences(line, code))

    def exit_code(self, found: bool) -> int:
        return ERROR if self.errors else FOUND if found else OK


def _check(args) -> int:
    from .analysis import analyze

    run, results = Run(args), []
    for source in run.sources(args.paths):
        tree = sourcefiles.parse(source)
        if isinstance(tree, SyntaxProblem):
            results.append(source.syntax_report(tree))  # never passed silently, whatever is selected
            continue
        chosen = run.chosen(source)
        for f in analyze(source.lines, tree, default_input=run.settings.input, path=source.path):
            if chosen(f.line, f.code):
                results.append(source.report(f))
    with _output(args) as out:
        output.write(args.format, results, out, run.errors)
    return run.exit_code(bool(results))


@contextlib.contextmanager
def _output(args):
    """--output-file, or stdout."""
    if getattr(args, "output_file", None) is None:
        yield sys.stdout
        return
    try:
        out = open(args.output_file, "w", encoding="utf-8")
    except OSError as e:
        raise UsageError(f"argument --output-file: {args.output_file}: {(e.strerror or type(e).__name__).lower()}") from None
    with out:
        yield out


def _show(args) -> int:
    from .show import render, tables

    run = Run(args)
    source = next(run.sources([args.file], exclude=False), None)
    if source is None:
        return ERROR
    problem = sourcefiles.parse(source)
    if isinstance(problem, SyntaxProblem):
        output.text([source.syntax_report(problem)], sys.stderr)
        return FOUND
    found = tables(source.lines, args.model, args.input, path=source.path,
                   at=source.notebook.at if source.notebook is not None else None, default_input=run.settings.input)
    if source.notebook is not None:
        source.notebook.cell_lines_in(found, text=args.format != "json")
    with _output(args) as out:
        if args.format == "json":
            json.dump(found, out, indent=2)
            out.write("\n")
        else:
            if not found:
                out.write("no models found" + (f" named {args.model}" if args.model else "") + "\n")
            out.write("\n\n".join(render(t) for t in found) + "\n")
    return OK if found else FOUND


def _fix(args) -> int:
    """Exit 0 when nothing is left to report, 1 when a fault is left (each
    printed, with why it was left) or, with --diff, when there is a change."""
    from .fix import fix_source

    run, changed, left = Run(args), 0, 0
    for source in run.sources(args.paths):
        problem = sourcefiles.parse(source)
        if isinstance(problem, SyntaxProblem):
            output.text([source.syntax_report(problem)], sys.stderr)
            left += 1
            continue
        at = source.notebook.at if source.notebook is not None else None
        result = fix_source(source.text, lazy=args.lazy, default_input=run.settings.input, path=source.path,
                            chosen=run.chosen(source), at=at)
        for note in result.notes:
            print(f"{_place(source, note.line, note.col)}: {note.why}", file=sys.stderr)
        output.text([source.report(f) for f in result.left], sys.stderr)
        left += len(result.left)
        if source.stdin and not args.diff:  # `fix -`: the file, fixed or not, as a formatter writes it
            sys.stdout.write(result.source if source.notebook is None else source.notebook.rewritten(result.source))
            continue
        if result.source == source.text:
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(_diff(source, result.source))
            continue
        try:
            _write(source, result.source if source.notebook is None else source.notebook.rewritten(result.source))
        except OSError as e:
            run.error(f"{source.name}: cannot be written: {(e.strerror or type(e).__name__).lower()}")
            continue
        print(f"fixed {source.name}", file=sys.stderr)
    if left:
        print(f"cnnshape fix: {left} left unfixed, listed above", file=sys.stderr)
    return run.exit_code(bool(left) or bool(changed and args.diff))


def _rule(args) -> int:
    """A code's documentation, as `ruff rule` prints it; without a code, the list."""
    from .code_docs import sections
    from .codes import BY_ID, SYNTAX_ERROR

    docs = sections()
    titles = {**{c: BY_ID[c].title for c in BY_ID}, SYNTAX_ERROR.id: SYNTAX_ERROR.title}
    if not args.codes:
        for code in docs:
            print(f"{code:<6}  {titles[code]}")
        return OK
    unknown = [c for c in args.codes if c.upper() not in docs]
    if unknown:
        print(f"cnnshape: error: no code {unknown[0]} (the codes: {', '.join(docs)})", file=sys.stderr)
        return ERROR
    print("\n".join(f"# {c.upper()}: {titles[c.upper()]}\n\n{docs[c.upper()]}" for c in args.codes), end="")
    return OK


def _place(source: Source, line: int, col: int) -> str:
    if source.notebook is None:
        return f"{source.name}:{line}:{col}"
    cell, at = source.notebook.place(line)
    return f"{source.name}:cell_{cell}:{at}:{col}"


def _diff(source: Source, fixed: str):
    """A unified diff of the file; of each changed cell, for a notebook."""
    import difflib

    if source.notebook is None:
        return difflib.unified_diff(source.lines, fixed.splitlines(keepends=True), source.name, source.name)
    out = []
    nb = source.notebook
    for number in range(1, len(nb.code_cells) + 1):
        before, after = nb.cell_text(number), nb.cell_text(number, fixed)
        name = f"{source.name}:cell_{number}"
        out += difflib.unified_diff([x if x.endswith("\n") else x + "\n" for x in before], after, name, name)
    return out


def _write(source: Source, text: str) -> None:
    import io
    import tokenize

    with open(source.path, "rb") as f:
        encoding = "utf-8" if source.notebook is not None else tokenize.detect_encoding(io.BytesIO(f.read()).readline)[0]
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
    check.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    check.add_argument("--output-file", help="write the report to this file instead of stdout")
    _settings_options(check)
    check.set_defaults(run=_check)

    show = sub.add_parser("show", help="print each model's layers, output shapes and parameter counts")
    show.add_argument("file")
    show.add_argument("--model", help="only the model (class or variable) of this name")
    show.add_argument("--input", type=input_size, help="per-sample input size, e.g. 1,28,28 (overrides the file's)")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.add_argument("--output-file", help="write the tables to this file instead of stdout")
    show.set_defaults(run=_show)

    fix = sub.add_parser("fix", help="rewrite wrong numbers in place")
    fix.add_argument("paths", nargs="+", help="files or folders; - reads stdin and writes the result to stdout")
    fix.add_argument("--stdin-display-name", default="stdin")
    fix.add_argument("--diff", action="store_true", help="print a diff instead of writing")
    fix.add_argument("--lazy", action="store_true", help="turn a faulty nn.Linear(N, out) into nn.LazyLinear(out)")
    _settings_options(fix)
    fix.set_defaults(run=_fix)

    rule = sub.add_parser("rule", help="print a code's documentation (all codes listed without one)")
    rule.add_argument("codes", nargs="*", metavar="CODE")
    rule.set_defaults(run=_rule)
    return parser


def _settings_options(command) -> None:
    """The options of the configuration (config.py): each wins over the files'."""
    command.add_argument("--input", type=input_size, help="input size for models whose file gives none, e.g. 3,224,224")
    command.add_argument("--select", help="comma-separated code prefixes to report (as flake8's)")
    command.add_argument("--ignore", help="comma-separated code prefixes to leave out")
    command.add_argument("--extend-select", help="code prefixes to report beside the selected ones")
    command.add_argument("--extend-ignore", help="code prefixes to leave out beside the ignored ones")
    command.add_argument("--per-file-ignores", help="`pattern: codes` pairs, as flake8's")
    command.add_argument("--exclude", help="comma-separated patterns of files and folders to leave out")
    command.add_argument("--extend-exclude", help="patterns to leave out beside the excluded ones")
    command.add_argument("--disable-noqa", action="store_true", default=None, help="report what # noqa silences")
    command.add_argument("--isolated", action="store_true", help="read no configuration file")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except (config.ConfigError, UsageError) as e:
        print(f"cnnshape: error: {e}", file=sys.stderr)
        return ERROR
    except BrokenPipeError:  # `cnnshape show F | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit does not fail again
        return FOUND


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
