"""Where the interpreter's values live: a function's names, and the module's
(or a class body's), whose names bound once are worked out on first use."""
from __future__ import annotations

import ast
from typing import Callable, Dict, List, Optional

from ..shapes.signature import UNKNOWN


def _unpacks(stmt: ast.stmt) -> bool:
    """An assignment of a tuple of names to a tuple of as many expressions."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return False
    target, value = stmt.targets[0], stmt.value
    return (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts) and all(isinstance(t, ast.Name) for t in target.elts)
            and not any(isinstance(v, ast.Starred) for v in value.elts))


IMPORTED = object()  # an imported name: resolved through the ImportMap
MISSING = object()  # no scope binds the name


class Scope:
    __slots__ = ("vars", "parent")

    def __init__(self, parent: Optional["Scope"] = None):
        self.vars: Dict[str, object] = {}
        self.parent = parent

    def lookup(self, name: str):
        v = self.find(name)
        if v is MISSING:
            raise KeyError(name)
        return v

    def find(self, name: str):
        """lookup() without the exception: MISSING when no scope binds name.
        (Most names no scope binds are imports, read at every layer call.)"""
        scope: Optional[Scope] = self
        while type(scope) is Scope:
            v = scope.vars.get(name, MISSING)
            if v is not MISSING:
                return v
            scope = scope.parent
        return MISSING if scope is None else scope.find(name)


class ModuleScope(Scope):
    """Module-level names (or a class body's, or a function's whose
    parameters are unknown). A name assigned exactly once (outside loops and
    branches we cannot follow) is worked out on first use, by `define`;
    cycles are UNKNOWN.

    define(node, scope) gives the value a definition binds; info(stmt) what
    a statement binds and changes (speed/index.py)."""

    __slots__ = ("define", "pending", "busy", "imports", "file")

    def __init__(self, define: Callable, info: Callable, body: List[ast.stmt], parent: Optional[Scope] = None, unknown=(),
                 imports=None, file: Optional[str] = None):
        super().__init__(parent)
        self.define = define
        # the imports its names resolve through, and its file: a nested
        # scope's are its module's (interp/project.py reads other files')
        outer = parent
        while outer is not None and not isinstance(outer, ModuleScope):
            outer = outer.parent
        self.imports = imports if imports is not None else (outer.imports if outer is not None else None)
        self.file = file if file is not None else (outer.file if outer is not None else None)
        self.pending: Dict[str, ast.AST] = {}
        self.busy: set = set()
        counts: Dict[str, int] = {name: 2 for name in unknown}
        for stmt in body:
            self._collect(stmt, info(stmt), counts)
        for name, n in counts.items():
            if n != 1 or self.vars.get(name) is IMPORTED:
                self.pending.pop(name, None)
                self.vars[name] = UNKNOWN

    def _collect(self, stmt: ast.stmt, info, counts: Dict[str, int]) -> None:
        def bump(name, node):
            counts[name] = counts.get(name, 0) + 1
            self.pending[name] = node

        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bump(stmt.name, stmt)
        elif isinstance(stmt, ast.ClassDef):
            bump(stmt.name, stmt)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            bump(stmt.targets[0].id, stmt)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            bump(stmt.target.id, stmt)
        elif _unpacks(stmt):  # `N, D_in, H, D_out = 64, 1000, 100, 10`: each name bound to its element
            for target, value in zip(stmt.targets[0].elts, stmt.value.elts):
                bump(target.id, value)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                local = alias.asname or alias.name.split(".")[0]
                if local != "*":
                    self.vars[local] = IMPORTED
        else:  # anything bound inside a loop, branch, with, try... is not bound once
            for name in info.stores:
                counts[name] = counts.get(name, 0) + 2
        # a value changed after its one assignment (`layers.append(...)`,
        # `layers[0] = ...`, `del layers[1]`, `global` in a function) is not
        # what the assignment says
        for name in info.mutated:
            counts[name] = counts.get(name, 0) + 2

    def defines(self, name: str) -> bool:
        return name in self.vars or name in self.pending

    def find(self, name: str):
        v = self.vars.get(name, MISSING)
        if v is not MISSING and v is not IMPORTED:
            return v
        if name in self.pending:
            if name in self.busy:
                return UNKNOWN  # a cycle
            node = self.pending[name]
            self.busy.add(name)
            try:
                value = self.define(node, self)
            finally:
                self.busy.discard(name)
            self.vars[name] = value
            del self.pending[name]
            return value
        return self.parent.find(name) if self.parent is not None else MISSING

    def clear(self) -> None:
        self.vars.clear()
        self.pending.clear()
        self.define = None
