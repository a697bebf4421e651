"""What the interpreter's values live in (scopes), its limits and the
arithmetic it does on plain Python values."""
from __future__ import annotations

import ast
import math
import operator
from typing import TYPE_CHECKING, Dict, List, Optional

from ..shapes import UNKNOWN, Shape
from .values import Tensor

if TYPE_CHECKING:  # pragma: no cover
    from .interp import Interp

MAX_STEPS = 60_000
MAX_MODEL_STEPS = 40_000  # one model: the file's budget is shared by all of them
MAX_DEPTH = 40
MAX_LOOP = 512
MAX_SEQ = 4096  # longest list/str the interpreter will build
MAX_BITS = 128  # ints larger than this are not sizes anybody means


class OutOfBudget(Exception):
    pass


class Raised(Exception):
    """The interpreted code raises, or takes a path we cannot follow."""


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _LoopExit(Exception):
    pass


class Scope:
    def __init__(self, parent: Optional["Scope"] = None):
        self.vars: Dict[str, object] = {}
        self.parent = parent

    def lookup(self, name: str):
        v = self.find(name)
        if v is _MISSING:
            raise KeyError(name)
        return v

    def find(self, name: str):
        """lookup() without the exception: _MISSING when no scope binds name.
        (Most names no scope binds are imports, read at every layer call.)"""
        scope: Optional[Scope] = self
        while type(scope) is Scope:
            v = scope.vars.get(name, _MISSING)
            if v is not _MISSING:
                return v
            scope = scope.parent
        return _MISSING if scope is None else scope.find(name)


class ModuleScope(Scope):
    """Module-level names. A name assigned exactly once (outside loops and
    branches we cannot follow) is evaluated on first use; cycles are UNKNOWN."""

    def __init__(self, interp: "Interp", body: List[ast.stmt], parent: Optional[Scope] = None, unknown=()):
        super().__init__(parent)
        self.interp = interp
        interp.scopes.append(self)
        self.pending: Dict[str, ast.AST] = {}
        self.busy: set = set()
        counts: Dict[str, int] = {name: 2 for name in unknown}
        for stmt in body:
            self._collect(stmt, counts)
        for name, n in counts.items():
            if n != 1 or self.vars.get(name) is _IMPORTED:
                self.pending.pop(name, None)
                self.vars[name] = UNKNOWN

    def _collect(self, stmt: ast.stmt, counts: Dict[str, int]) -> None:
        def bump(name, node):
            counts[name] = counts.get(name, 0) + 1
            self.pending[name] = node

        info = self.interp.index.info(stmt)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bump(stmt.name, stmt)
        elif isinstance(stmt, ast.ClassDef):
            bump(stmt.name, stmt)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            bump(stmt.targets[0].id, stmt)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            bump(stmt.target.id, stmt)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                local = alias.asname or alias.name.split(".")[0]
                if local != "*":
                    self.vars[local] = _IMPORTED  # resolved through ImportMap
        else:  # anything bound inside a loop, branch, with, try... is not bound once
            for name in info.stores:
                counts[name] = counts.get(name, 0) + 2
        # a value changed after its one assignment (`layers.append(...)`,
        # `layers[0] = ...`, `del layers[1]`, `global` in a function) is not
        # what the assignment says
        for name in info.mutated:
            counts[name] = counts.get(name, 0) + 2

    def find(self, name: str):
        v = self.vars.get(name, _MISSING)
        if v is not _MISSING and v is not _IMPORTED:
            return v
        if name in self.pending:
            if name in self.busy:
                return UNKNOWN  # a cycle
            node = self.pending[name]
            self.busy.add(name)
            try:
                value = self.interp.define(node, self)
            finally:
                self.busy.discard(name)
            self.vars[name] = value
            del self.pending[name]
            return value
        return self.parent.find(name) if self.parent is not None else _MISSING


_IMPORTED = object()
_MISSING = object()  # no scope binds the name

_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.Pow: operator.pow, ast.Div: operator.truediv,
}
_CMPOPS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_PLAIN = (int, float, str, bool, type(None))


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def plain(v) -> bool:
    """A Python value we can compute with (nested tuples/lists of constants).
    Shared inner lists are looked at once, and a value with more than MAX_SEQ
    items in all is not one anybody means as a size."""
    if isinstance(v, _PLAIN):
        return True
    if not isinstance(v, (tuple, list)):
        return False
    seen, todo, count = set(), [v], 0
    while todo:
        item = todo.pop()
        if isinstance(item, _PLAIN):
            continue
        if not isinstance(item, (tuple, list)):
            return False
        if id(item) in seen:
            continue
        seen.add(id(item))
        count += len(item)
        if count > MAX_SEQ:
            return False
        todo.extend(item)
    return True


def safe_binop(op, a, b):
    """Arithmetic on constants, refusing results nobody means as a size."""
    if isinstance(op, ast.Pow):
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return UNKNOWN
        if is_int(a) and is_int(b):
            if b < 0 or (abs(a) > 1 and b * max(1, abs(a).bit_length()) > MAX_BITS):
                return UNKNOWN
        elif abs(b) > 64 or abs(a) > 2 ** 64:
            return UNKNOWN
    if isinstance(op, ast.Mult):
        if isinstance(a, (str, list, tuple)) or isinstance(b, (str, list, tuple)):
            seq, n = (a, b) if isinstance(a, (str, list, tuple)) else (b, a)
            if not is_int(n) or len(seq) * max(n, 0) > MAX_SEQ:
                return UNKNOWN
        elif is_int(a) and is_int(b) and a.bit_length() + b.bit_length() > MAX_BITS:
            return UNKNOWN
    if isinstance(op, ast.Add) and isinstance(a, (str, list, tuple)) and isinstance(b, type(a)):
        if len(a) + len(b) > MAX_SEQ:
            return UNKNOWN
    if isinstance(op, ast.Mod) and isinstance(a, str):
        return UNKNOWN  # %-formatting
    try:
        r = _BINOPS[type(op)](a, b)
    except Exception:
        return UNKNOWN
    if isinstance(r, float) and not math.isfinite(r):
        return UNKNOWN
    return r


def _unknown_like(v):
    return Tensor(Shape.unknown()) if isinstance(v, Tensor) else UNKNOWN


def same_value(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a.shape == b.shape
    if plain(a) and plain(b):
        return type(a) is type(b) and a == b
    return False


_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
