"""The pragma `# cnnshape: input=(C, H, W)`, on or directly above a model's
definition line, and the cnnshape-input setting's value. A class's pragma may
also say how the model is built, where nothing in the file does
(`build=CoordConv(3, 32, with_r=True)`): that call is its first way of being
built, its arguments read in the file's module scope."""
from __future__ import annotations

import ast
import re
import tokenize
from typing import Dict, List, Optional, Tuple

from ..findings import Fault, Finding
from ..records import Record

PRAGMA = re.compile(r"#\s*cnnshape\s*:(?P<body>.*)$")  # anywhere in a comment, also after other text
_KEY = re.compile(r"([A-Za-z_]+)\s*=(?!=)")
MAX_DIM = 1 << 20
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


class Pragma(Record):
    __slots__ = _fields = ("line", "col", "own_line", "dims", "error", "build")

    def __init__(self, line: int, col: int, own_line: bool, dims: Optional[Tuple[int, ...]], error: Optional[str] = None,
                 build: Optional[ast.Call] = None):
        self.line = line
        self.col = col
        self.own_line = own_line  # the comment stands alone on its line
        self.dims = dims
        self.error = error
        self.build = build  # build=Net(...): the call, its lines the pragma's


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
        out.append(_read(body, line_no, col, own))
    return out


def _read(body: str, line: int, col: int, own: bool) -> Pragma:
    items = _items(body)
    if not items:
        return Pragma(line, col, own, None, f"expected 'input=(C, H, W)', got '{body}'")
    dims = build = None
    keys = [k for k, _ in items]
    for key, value in items:
        if keys.count(key) > 1:
            return Pragma(line, col, own, None, f"{key}= is given {keys.count(key)} times")
        if key == "input":
            dims, err = parse_value(value)
        elif key == "build":
            build, err = _build(value)
        else:
            err = f"unknown setting '{key}' (the pragma takes input=... and build=...)"
        if err is not None:
            return Pragma(line, col, own, None, err)
    if build is not None:
        ast.increment_lineno(build, line - 1)
    return Pragma(line, col, own, dims, None, build)


def _items(body: str) -> List[Tuple[str, str]]:
    """`input=(3, 64, 64) build=Net(3, k=2)` -> [("input", "(3, 64, 64)"), ("build", "Net(3, k=2)")]:
    a new item starts at `name=` outside brackets and strings. [] when the text starts otherwise."""
    starts, depth, quote = [], 0, None
    for i, ch in enumerate(body):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and (i == 0 or body[i - 1] in " \t,;"):
            key = _KEY.match(body, i)
            if key is not None:
                starts.append((i, key.group(1), key.end()))
    if not starts or starts[0][0] != 0:
        return []
    ends = [s[0] for s in starts[1:]] + [len(body)]
    return [(k, body[v:e].strip().rstrip(",;").strip()) for (_, k, v), e in zip(starts, ends)]


def _build(text: str) -> Tuple[Optional[ast.Call], Optional[str]]:
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # (a comment's text: anything may stand there)
        node = None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        shown = text if len(text) <= 60 else text[:57] + "..."
        return None, f"build= takes a call of the class, like build=Net(3, 10), got '{shown}'"
    return node, None


def attach(pragmas: List[Pragma], model_lines: Dict[int, object]) -> Tuple[Dict[object, Pragma], List[Finding]]:
    """Pair each pragma with the model whose definition line it stands on or
    directly above. Unreadable or stray pragmas become CNS900 findings."""
    attached: Dict[object, Pragma] = {}
    errors: List[Finding] = []
    for p in pragmas:
        target = p.line + 1 if p.own_line else p.line
        model = model_lines.get(target)
        if p.error is None and model is not None and p.build is not None:
            if not isinstance(model.node, ast.ClassDef):
                p.error = "build= is for a class: an nn.Sequential is built where it stands"
            elif p.build.func.id != model.name:
                p.error = f"build= must call the class it stands on ({model.name}), got {p.build.func.id}(...)"
        if p.error is not None:
            errors.append(Finding((p.line, p.col), Fault("CNS900", "pragma_unreadable", None, {"error": p.error})))
        elif model is None:
            errors.append(Finding((p.line, p.col), Fault("CNS900", "pragma_stray", None, {})))
        else:
            attached[model] = p
    return attached, errors
