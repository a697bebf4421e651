"""The models of a file: module-level classes (an nn.Module is run through
its forward()) and every outermost nn.Sequential call, wherever it stands."""
from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from ..interp.names import ImportMap, static_name
from ..records import Shown


class Model(Shown):
    __slots__ = _fields = ("name", "node", "lines", "scope_path")

    def __init__(self, name: str, node: ast.AST, lines: Tuple[int, ...], scope_path: Optional[List[ast.AST]] = None):
        self.name = name
        self.node = node  # ClassDef, or the nn.Sequential Call
        self.lines = lines  # lines a pragma may stand on
        self.scope_path = scope_path if scope_path is not None else []  # enclosing defs, outermost first

    @property
    def in_class(self) -> bool:
        """Built inside a class: a part of that class's model."""
        return any(isinstance(p, ast.ClassDef) for p in self.scope_path)


def find_models(tree: ast.Module, imports: ImportMap, index) -> Tuple[List[Model], List[Model]]:
    """(classes, sequentials): module-level classes and every outermost
    nn.Sequential call."""
    classes: List[Model] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            classes.append(Model(node.name, node, (node.lineno, first)))
    seqs: List[Model] = []
    # the bare names that can be nn.Sequential (`from torch.nn import Sequential as S`)
    bare = {n for n in list(imports.names) + ["Sequential"] if imports.resolve(n) == "torch.nn.Sequential"}
    for node, path, stmt in index.calls:  # in source order: outer calls first
        func = node.func
        if type(func) is ast.Attribute and func.attr != "Sequential" or type(func) is ast.Name and func.id not in bare:
            continue  # most calls: `x.view(...)`, `nn.Conv2d(...)`, `Block(...)`
        # calls come in tree order, so a Sequential inside an outer one comes
        # within that one's subtree, before any other is taken
        if imports.qualify(node.func) != "torch.nn.Sequential" or (seqs and _inside(node, seqs[-1].node)):
            continue
        stmt_line = stmt.lineno if stmt is not None else node.lineno
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.value is node else None
        parts = static_name(target) if target is not None else None  # `self.features`: what ast.unparse gives, without it
        name = (".".join(parts) if parts else ast.unparse(target) if isinstance(target, (ast.Name, ast.Attribute))
                else f"nn.Sequential at line {node.lineno}")
        seqs.append(Model(name, node, (node.lineno, stmt_line), list(path)))
    return classes, seqs


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    """Is node part of outer's source text (so, of its subtree)?"""
    return (outer.lineno, outer.col_offset) < (node.lineno, node.col_offset) and (
        (node.end_lineno, node.end_col_offset) <= (outer.end_lineno, outer.end_col_offset))
