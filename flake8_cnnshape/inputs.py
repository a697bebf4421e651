"""Where a model's input size comes from. For now: the pragma
`# cnnshape: input=(C, H, W)` on or directly above the model's definition."""
from __future__ import annotations

import re
import tokenize
from typing import Dict, List, Optional, Tuple

from .diagnostics import Report
from .records import Record

PRAGMA = re.compile(r"#\s*cnnshape\s*:(?P<body>.*)$")
_ITEM = re.compile(r"^\s*(?P<key>[A-Za-z_]+)\s*=\s*(?P<value>.*?)\s*$")
MAX_DIM = 1 << 20


class Pragma(Record):
    __slots__ = _fields = ("line", "col", "own_line", "dims", "error")

    def __init__(self, line: int, col: int, own_line: bool, dims: Optional[Tuple[int, ...]], error: Optional[str] = None):
        self.line = line
        self.col = col
        self.own_line = own_line  # the comment stands alone on its line
        self.dims = dims
        self.error = error


def _comments(lines: List[str]):
    """(line, col, text) of each comment that mentions cnnshape. Tokenizing is
    only paid for when the text appears at all; a '#' inside a string (a
    docstring that documents the pragma) is not a comment."""
    if "cnnshape" not in "".join(lines):
        return
    it = iter(lines)
    try:
        for tok in tokenize.generate_tokens(lambda: next(it, "")):
            if tok.type == tokenize.COMMENT and "cnnshape" in tok.string:
                yield tok.start[0], tok.start[1], tok.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return


def parse_value(text: str) -> Tuple[Optional[Tuple[int, ...]], Optional[str]]:
    body = text.strip()
    if body[:1] in "([" and body[-1:] in ")]":
        body = body[1:-1]
    parts = [p.strip() for p in body.split(",")]
    if parts and parts[-1] == "":
        parts.pop()
    if not parts:
        return None, "input= needs sizes, like input=(1, 28, 28)"
    dims = []
    for p in parts:
        if not re.fullmatch(r"\d+", p):
            return None, f"'{p}' is not a whole number (write sizes without the batch dim, like input=(1, 28, 28))"
        v = int(p)
        if v < 1 or v > MAX_DIM:
            return None, f"size {p} is out of range (1..{MAX_DIM})"
        dims.append(v)
    if len(dims) > 4:
        return None, f"{len(dims)} sizes given: write the per-sample shape without the batch dim (at most C, D, H, W)"
    return tuple(dims), None


def find_pragmas(lines: List[str]) -> List[Pragma]:
    out = []
    for line_no, col, text in _comments(lines):
        m = PRAGMA.match(text)
        if m is None:
            continue
        own = lines[line_no - 1][:col].strip() == ""
        body = m.group("body").split("#", 1)[0].strip()  # another comment may follow
        item = _ITEM.match(body)
        if item is None:
            out.append(Pragma(line_no, col, own, None, f"expected 'input=(C, H, W)', got '{body}'"))
            continue
        if item.group("key") != "input":
            out.append(Pragma(line_no, col, own, None, f"unknown setting '{item.group('key')}' (the pragma takes input=...)"))
            continue
        dims, err = parse_value(item.group("value"))
        out.append(Pragma(line_no, col, own, dims, err))
    return out


def attach(pragmas: List[Pragma], model_lines: Dict[int, object]) -> Tuple[Dict[object, Pragma], List[Report]]:
    """Pair each pragma with the model whose definition line it stands on or
    directly above. Unreadable or stray pragmas become CNS900 reports."""
    attached: Dict[object, Pragma] = {}
    errors: List[Report] = []
    for p in pragmas:
        target = p.line + 1 if p.own_line else p.line
        model = model_lines.get(target)
        if p.error is not None:
            errors.append(Report(p.line, p.col, "CNS900", f"cannot read the cnnshape pragma: {p.error}"))
        elif model is None:
            errors.append(
                Report(p.line, p.col, "CNS900", "cnnshape pragma is not on (or directly above) a model's definition line; it has no effect")
            )
        else:
            attached[model] = p
    return attached, errors
