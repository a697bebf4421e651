"""Models a script builds from torchvision and then changes, with no class of
its own: `model = models.resnet18(weights=...)` then `model.fc = nn.Linear(...)`.

Such a model is the value of a name after the statements of its block that
touch it: each simple statement from the build on that reads or writes the
name (or a name such a statement bound, `num_ftrs = model.fc.in_features`)
is run, in order; compound statements (loops, `with`, `if`) are passed over,
and so is every statement that calls the model itself (its forward is the
run's, not the build's). What cannot be followed makes the values unknown,
as anywhere else.
"""
from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from ..interp.names import ImportMap
from ..interp.scope import Scope
from .discover import Model

_SIMPLE = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)
MAX_STATEMENTS = 64  # statements of a block run to build one script model


def find_scripts(tree: ast.Module, imports: ImportMap, index) -> List[Model]:
    """Each `name = torchvision.models.<builder>(...)` outside a class."""
    if not any(q.startswith("torchvision") for q in imports.names.values()):
        return []
    out: List[Model] = []
    for node, path, stmt in index.calls:
        if not (type(stmt) is ast.Assign and stmt.value is node and len(stmt.targets) == 1
                and type(stmt.targets[0]) is ast.Name):
            continue
        if any(isinstance(p, ast.ClassDef) for p in path):
            continue
        qual = imports.qualify(node.func)
        if qual is None or not qual.startswith("torchvision.models."):
            continue
        out.append(Model(stmt.targets[0].id, stmt, (stmt.lineno,), list(path)))
    return out


def block_of(owner: ast.AST, stmt: ast.stmt) -> Optional[Tuple[List[ast.stmt], int]]:
    """The statement list holding stmt (inside `if __name__ == ...` too), and its index there."""
    todo = [owner.body]
    while todo:
        body = todo.pop()
        for i, s in enumerate(body):
            if s is stmt:
                return body, i
            if isinstance(s, (ast.If, ast.With, ast.Try)):
                todo.extend(getattr(s, f) for f in ("body", "orelse", "finalbody") if getattr(s, f, None))
    return None


def _names(node: ast.AST) -> set:
    return {n.id for n in ast.walk(node) if type(n) is ast.Name}


def _calls_name(node: ast.AST, name: str) -> bool:
    return any(type(n) is ast.Call and type(n.func) is ast.Name and n.func.id == name for n in ast.walk(node))


def _bound(stmt: ast.stmt) -> set:
    targets = stmt.targets if type(stmt) is ast.Assign else [getattr(stmt, "target", None)]
    return {t.id for t in targets if type(t) is ast.Name}


def build(model: Model, tree: ast.Module, interp, scope: Scope):
    """The model's value after the statements that change it; UNKNOWN when not followed."""
    from ..interp.values import UNKNOWN

    owner = model.scope_path[-1] if model.scope_path else tree
    found = block_of(owner, model.node)
    if found is None:
        return UNKNOWN
    body, start = found
    local = Scope(scope)
    tracked = {model.name}
    ran = 0
    for stmt in body[start:]:
        if ran >= MAX_STATEMENTS:
            break
        if not isinstance(stmt, _SIMPLE) or not (_names(stmt) & tracked) or _calls_name(stmt, model.name):
            continue
        interp.ex.exec_block([stmt], local)
        tracked |= _bound(stmt)
        ran += 1
    return local.vars.get(model.name, UNKNOWN)
