"""The files a `cnnshape` command is given: folders walked, each file read
as Python reads it (coding cookie, BOM, line endings kept) or, for a
notebook, as the Python of its code cells (notebooks.py); or the reason it
cannot be, and the syntax error that keeps it from being checked."""
from __future__ import annotations

import ast
import io
import os
import tokenize
from typing import Callable, Iterator, List, Optional, Sequence

from .codes import SYNTAX_ERROR
from .output import Report

SUFFIXES = (".py", ".ipynb")


class InputError(Exception):
    """A file a command cannot read: one line on stderr, and exit code 2."""


class Source:
    """One file's text, under the name it is reported by."""

    __slots__ = ("name", "path", "lines", "notebook", "stdin")

    def __init__(self, name: str, path: Optional[str], lines: List[str], notebook=None):
        self.name = name
        self.path = path  # on the disk, where the project's other files are read from; None for a stdin buffer
        self.lines = lines  # a notebook's: the Python of its code cells, one after another
        self.notebook = notebook
        self.stdin = False  # read from stdin (`fix -` writes the result to stdout)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def report(self, finding) -> Report:
        """A finding at its place in the file as the user sees it: in a
        notebook, its cell and the line in it, also in the message."""
        text = self.lines[finding.line - 1] if 0 < finding.line <= len(self.lines) else ""
        utf16_col = len(text.encode("utf-8")[:finding.col].decode("utf-8", "ignore").encode("utf-16-le")) // 2
        if self.notebook is None:
            return Report(self.name, finding.line, finding.col, finding.code, finding.text, None, utf16_col)
        cell, line = self.notebook.place(finding.line)
        return Report(self.name, line, finding.col, finding.code, finding.text_at(self.notebook.at), cell, utf16_col)

    def syntax_report(self, problem: "SyntaxProblem") -> Report:
        cell, line = self.notebook.place(problem.line) if self.notebook is not None else (None, problem.line)
        return Report(self.name, line, problem.col - 1, SYNTAX_ERROR.id, problem.text, cell)


class SyntaxProblem:
    """Why Python cannot parse a file, where it says so (1-based column)."""

    __slots__ = ("line", "col", "text")

    def __init__(self, line: int, col: int, text: str):
        self.line, self.col, self.text = line, col, text


def python_files(paths: Sequence[str], excluded: Callable[[str], bool]) -> Iterator[str]:
    """Each path named, and the .py and .ipynb files under each folder named; what
    `excluded` says (a folder, a file, a path named) is left out, as flake8
    leaves it."""
    for p in paths:
        if p != "-" and excluded(p):
            continue
        if not os.path.isdir(p):
            yield p
            continue
        for root, dirs, files in os.walk(p):
            dirs[:] = sorted(d for d in dirs if not excluded(os.path.join(root, d)))
            for f in sorted(files):
                if f.endswith(SUFFIXES) and not excluded(os.path.join(root, f)):
                    yield os.path.join(root, f)


def decode(data: bytes, name: str) -> List[str]:
    """The lines Python would read from these bytes, or InputError."""
    if b"\0" in data:
        raise InputError(f"{name}: not a Python source file (it holds NUL bytes: binary data?)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return io.TextIOWrapper(io.BytesIO(data), encoding, newline="").readlines()
    except SyntaxError as e:  # no UTF-8 and no cookie, a cookie naming no codec, a BOM beside another cookie
        raise InputError(f"{name}: cannot be read as Python source: {e.msg} (binary data, or not UTF-8 text?)") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not {e.encoding.upper()} text (byte {e.object[e.start]:#04x} at offset {e.start}): "
                         "binary data, or a coding declaration missing") from None


def read(name: str) -> Source:
    try:
        with open(name, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(f"{name}: {(e.strerror or type(e).__name__).lower()}") from None
    return _source(name, name, data)


def read_stdin(stream, display_name: str) -> Source:
    """stdin, under its display name; it has a place on the disk when that
    name is a file (an editor's buffer of it)."""
    data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8")
    source = _source(display_name, display_name if os.path.isfile(display_name) else None, data)
    source.stdin = True
    return source


def _source(name: str, path: Optional[str], data: bytes) -> Source:
    if not name.endswith(".ipynb"):
        return Source(name, path, decode(data, name))
    from .notebooks import Notebook, NotebookError

    try:
        notebook = Notebook(data.decode("utf-8-sig"), name)
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not a notebook: not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start})") from None
    except NotebookError as e:
        raise InputError(str(e)) from None
    return Source(name, path, notebook.lines, notebook)


def parse(source: Source):
    """The module's tree, or the SyntaxProblem Python reports for it."""
    try:
        return ast.parse(source.text)
    except SyntaxError as e:
        line = e.lineno or 1
        return SyntaxProblem(line, max(e.offset or 1, 1), f"{type(e).__name__}: {e.msg}")
    except (ValueError, RecursionError, MemoryError) as e:  # too deeply nested for the parser
        return SyntaxProblem(1, 1, f"{type(e).__name__}: {e}")
