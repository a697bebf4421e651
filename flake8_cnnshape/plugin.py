"""The flake8 face: flake8 hands us the lines it read (an unsaved buffer
through stdin too) and its ast; we hand back (line, col, message, type)."""
from __future__ import annotations

import ast
from typing import Iterator, List, Tuple

from . import __version__
from .core import analyze


class CnnShapeChecker:
    name = "flake8-cnnshape"
    version = __version__

    def __init__(self, tree: ast.AST, lines: List[str]):
        self.tree = tree
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        for r in analyze(self.lines, tree):
            yield r.line, r.col, r.message, type(self)
