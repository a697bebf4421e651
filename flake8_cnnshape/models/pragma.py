"""The input-size pragma `# cnnshape: input=(C, H, W)`, on or directly above
a model's definition line, and the cnnshape-input setting's value."""
from __future__ import annotations

import ast
import re
import tokenize
from typing import Dict, List, Optional, Tuple

from ..findings import Fault, Finding
from ..records import Record

PRAGMA = re.compile(r"#\s*cnnshape\s*:(?P<body>.*)$")  # anywhere in a comment, also after other text
_ITEM = re.compile(r"^\s*(?P<key>[A-Za-z_]+)\s*=\s*(?P<value>.*?)\s*$")
MAX_DIM = 1 << 20
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


class Pragma(Record):
    __slots__ = _fields = ("line", "col", "own_line", "dims", "error")

    def __init__(self, line: int, col: int, own_line: bool, dims: Optional[Tuple[int, ...]], error: Optional[str] = None):
        self.line = line
        self.col = col
        self.own_line = own_line  # the comment stands alone on its line
        self.dims = dims
        self.error = error


def parse_value(text: str, example: str = "input=(1, 28, 28)") -> Tuple[Optional[Tuple[int, ...]], Optional[str]]:
    """`(1, 28, 28)` or `1,28,28` -> the sizes, or why they cannot be read;
    example: how the sizes are written where this text came from (the
    pragma's `input=(1, 28, 28)`, the option's `3,224,224`)."""
    body = text.strip()
    closer = {"(": ")", "[": "]"}.get(body[:1])
    if closer is not None and body[-1:] != closer:
        return None, f"'{body}' has no closing '{closer}' (write {example})"
    if closer is None and body[-1:] in (")", "]"):
        return None, f"'{body}' has a '{body[-1]}' with nothing opening it (write {example})"
    if closer is not None:
        body = body[1:-1]
    parts = [p.strip() for p in body.split(",")]
    if parts and parts[-1] == "":
        parts.pop()
    if not parts:
        return None, f"no sizes given (write {example})"
    dims = []
    for p in parts:
        if not re.fullmatch(r"\d+", p):
            return None, f"'{p}' is not a whole number (write the per-sample sizes without the batch dim, like {example})"
        v = int(p)
        if v < 1 or v > MAX_DIM:
            return None, f"size {p} is out of range (1..{MAX_DIM})"
        dims.append(v)
    if len(dims) > 4:
        return None, f"{len(dims)} sizes given: write the per-sample shape without the batch dim (at most C, D, H, W, like {example})"
    return tuple(dims), None


def _start(stmt: ast.stmt) -> int:
    return min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", ())])


def _tokenize_from(tree: ast.Module, line: int) -> int:
    """The line to tokenize from so that `line` is read as Python reads it:
    the start of the innermost statement whose text holds it (its strings
    may span lines), or the line itself where it stands between statements,
    where nothing but comments can be."""
    body, start = tree.body, line
    while True:
        stmt = next((s for s in body if _start(s) <= line <= s.end_lineno), None)
        if stmt is None:
            return start
        children = [c for block in _BLOCKS for c in getattr(stmt, block, ()) if hasattr(c, "lineno")]
        first = min((_start(c) if isinstance(c, ast.stmt) else c.lineno for c in children), default=None)
        if first is None or line < first:
            return _start(stmt)  # a simple statement, or the header of a compound one
        inner = [b for c in children for b in ([c] if isinstance(c, ast.stmt) else getattr(c, "body", []))]
        body, start = inner, line


def _comments(lines: List[str], tree: ast.Module):
    """(line, col, text) of each comment that mentions cnnshape; a '#' inside a
    string (a docstring that documents the pragma) is not a comment. Only the
    few lines a pragma can be read from are tokenized, not the whole file."""
    for line_no, text in enumerate(lines, 1):
        if "cnnshape" not in text or "#" not in text:
            continue
        start = _tokenize_from(tree, line_no)
        it = iter(lines[start - 1: line_no])
        try:
            for tok in tokenize.generate_tokens(lambda: next(it, "")):
                if tok.type == tokenize.COMMENT and start + tok.start[0] - 1 == line_no and "cnnshape" in tok.string:
                    yield line_no, tok.start[1], tok.string
        except (tokenize.TokenError, SyntaxError, IndentationError):
            continue


def find_pragmas(lines: List[str], tree: ast.Module) -> List[Pragma]:
    out = []
    for line_no, col, text in _comments(lines, tree):
        m = PRAGMA.search(text)
        if m is None:
            continue
        own = lines[line_no - 1][:col].strip() == ""
        col += m.start()
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


def attach(pragmas: List[Pragma], model_lines: Dict[int, object]) -> Tuple[Dict[object, Pragma], List[Finding]]:
    """Pair each pragma with the model whose definition line it stands on or
    directly above. Unreadable or stray pragmas become CNS900 findings."""
    attached: Dict[object, Pragma] = {}
    errors: List[Finding] = []
    for p in pragmas:
        target = p.line + 1 if p.own_line else p.line
        model = model_lines.get(target)
        if p.error is not None:
            errors.append(Finding((p.line, p.col), Fault("CNS900", "pragma_unreadable", None, {"error": p.error})))
        elif model is None:
            errors.append(Finding((p.line, p.col), Fault("CNS900", "pragma_stray", None, {})))
        else:
            attached[model] = p
    return attached, errors
