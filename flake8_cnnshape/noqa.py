"""`# noqa` as flake8 reads it: bare, or with codes (a prefix counts), on the
line of the report or anywhere in the multi-line string it is part of; and
`# flake8: noqa` on a line of its own, which skips the whole file."""
from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, List

INLINE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)  # flake8's
FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)


def file_skipped(lines: List[str]) -> bool:
    """flake8 skips a file with `# flake8: noqa` at the start of a line
    (after code it warns, and skips nothing)."""
    return any(FILE.match(line) for line in lines if "noqa" in line.lower())


class Noqa:
    """Which reports a file's `# noqa` comments silence."""

    def __init__(self, lines: List[str]):
        self.lines = lines
        self.any = any("noqa" in line.lower() for line in lines)
        self._mapping = None

    def silences(self, line: int, code: str) -> bool:
        if not self.any:
            return False
        text = self._noqa_line(line)
        m = INLINE.search(text)
        if m is None:
            return False
        codes = m.group("codes")
        if codes is None:
            return True
        return code.startswith(tuple(c for c in re.split(r"[,\s]", codes) if c))

    def _noqa_line(self, line: int) -> str:
        if self._mapping is None:
            self._mapping = _logical_ranges(self.lines)
        if line in self._mapping:
            return self._mapping[line]
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""


def _logical_ranges(lines: List[str]) -> Dict[int, str]:
    """flake8's map from a line to the text searched for noqa: the lines
    between two newline tokens, so a string spanning lines counts as one."""
    out: Dict[int, str] = {}
    first, last = len(lines) + 2, -1
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("".join(lines)).readline))
    except (tokenize.TokenError, SyntaxError):
        return out
    for tok in tokens:
        if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        first, last = min(first, tok.start[0]), max(last, tok.end[0])
        if tok.type in (tokenize.NL, tokenize.NEWLINE):
            joined = "".join(lines[first - 1: last])
            out.update(dict.fromkeys(range(first, last + 1), joined))
            first, last = len(lines) + 2, -1
    return out
