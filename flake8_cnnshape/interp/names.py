"""Which torch object a name in the file stands for.

Only module-level imports are trusted, and only while nothing else in the
module binds the same name (a `def Linear`, `class nn`, `nn = ...`): a name with
two meanings means neither.
"""
from __future__ import annotations

import ast
from typing import Dict, Iterable, List, Optional

# torch.nn.modules.conv.Conv2d and torch.nn.Conv2d are the same class.
_PREFIXES = ("torch.nn.modules.",)


def normalize(qual: str) -> str:
    for p in _PREFIXES:
        if qual.startswith(p):
            rest = qual[len(p):]
            return "torch.nn." + rest.split(".", 1)[1] if "." in rest else "torch.nn"
    if qual.startswith("torch.nn.functional."):
        return qual
    if qual == "torch.functional" or qual.startswith("torch.functional."):
        return "torch" + qual[len("torch.functional"):]
    return qual


class ImportMap:
    """Local name -> qualified name of what it was imported as."""

    def __init__(self) -> None:
        self.names: Dict[str, str] = {}
        self.star_modules: list = []  # `from torch.nn import *`, `from .layers import *`
        self.shadowed: set = set()

    def add_import(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._bind(alias.asname, alias.name)
                else:
                    top = alias.name.split(".")[0]
                    self._bind(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name == "*":
                    self.star_modules.append(node.module)
                else:
                    self._bind(alias.asname or alias.name, f"{node.module}.{alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level:
            # `from .blocks import Block`: ".blocks.Block", a dot a level (project files, interp/project.py)
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    self.star_modules.append(base)  # a project file's names (Evaluator.star_imported)
                else:
                    self._bind(alias.asname or alias.name, f"{base}.{alias.name}" if node.module else f"{base}{alias.name}")

    def _bind(self, local: str, qual: str) -> None:
        qual = normalize(qual)
        old = self.names.get(local)
        if old is not None and old != qual:
            self.shadowed.add(local)
        self.names[local] = qual

    def shadow(self, names: Iterable[str]) -> None:
        self.shadowed.update(names)

    def qualify(self, node: ast.expr) -> Optional[str]:
        """The qualified name a dotted name in the source stands for
        (`nn.Conv2d` -> torch.nn.Conv2d), or None."""
        parts = static_name(node)
        if not parts:
            return None
        base = self.resolve(parts[0])
        return None if base is None else normalize(".".join([base] + parts[1:]))

    def resolve(self, name: str) -> Optional[str]:
        if name in self.shadowed:
            return None
        if name in self.names:
            return self.names[name]
        for mod in self.star_modules:
            if normalize(mod) in ("torch.nn", "torch.nn.functional", "torch"):
                return normalize(f"{mod}.{name}")
        return None


def static_name(node: ast.expr) -> Optional[List[str]]:
    """`a.b.c` -> ["a", "b", "c"]; None for anything but a dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def bound_names(stmt: ast.stmt) -> Iterable[str]:
    """Names a module-level statement binds other than by import."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
    elif isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for t in targets:
            for n in ast.walk(t):
                if isinstance(n, ast.Name):
                    yield n.id
    elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
        target = stmt.target if isinstance(stmt, (ast.For, ast.AsyncFor)) else None
        for item in getattr(stmt, "items", []):
            if item.optional_vars is not None:
                yield from (n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name))
        if target is not None:
            yield from (n.id for n in ast.walk(target) if isinstance(n, ast.Name))


def module_imports(tree: ast.Module) -> ImportMap:
    """Imports anywhere at module level (also inside if/try blocks), minus
    names that are rebound by anything other than an import."""
    imports = ImportMap()
    others = set()
    stack = list(tree.body)
    while stack:
        stmt = stack.pop(0)
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            imports.add_import(stmt)
            continue
        others.update(bound_names(stmt))
        if isinstance(stmt, (ast.If, ast.Try)) or type(stmt).__name__ == "TryStar":
            for block in ("body", "orelse", "finalbody"):
                stack[0:0] = getattr(stmt, block, [])
            for h in getattr(stmt, "handlers", []):
                stack[0:0] = h.body
    imports.shadow(n for n in others if n in imports.names or imports.star_modules)
    return imports
