"""Models a script builds from torchvision and then changes, with no class of
its own: `model = models.resnet18(weights=...)` then `model.fc = nn.Linear(...)`;
and models a script builds from a class of another file of its project with
its own arguments and then calls (`net = Net(32, 10)` ... `net(images)`, as
train.py does): a fault inside that class, found with those arguments, is
reported at the script's build (the scheduler's run_script).

Such a model is the value of a name after the statements of its block that
change it or read it: from the build on, in order, each assignment to the
name or into it (`model.fc = ...`, `model.classifier[6] = ...`, `model =
model.to(device)`), each call of a method that adds to it (`model.add_module`,
`model.classifier.append`), and each assignment of a name from it that hands
the model to no call (`num_ftrs = model.fc.in_features`, `body =
nn.Sequential(*list(model.children())[:-1])`); later statements may use the
names these bind. Everything else is passed over: compound statements (loops,
`with`, `if`), calls of the model (its forward is the run's), and code the
model is handed to (a training or visualisation loop). What cannot be
followed makes the values unknown, as anywhere else.
"""
from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from ..interp.names import ImportMap
from ..interp.project import EXTERNAL
from ..interp.scope import Scope
from .discover import Model

_SIMPLE = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)
MAX_STATEMENTS = 64  # statements of a block run to build one script model


def find_scripts(tree: ast.Module, imports: ImportMap, index) -> List[Model]:
    """Each `name = torchvision.models.<builder>(...)` outside a class, and each
    `name = Net(...)` of a name imported from a module that may be the
    project's own (`from model import Net`: a class whose arguments only the
    script gives)."""
    if not any(q.startswith("torchvision") or _project_root(q) for q in imports.names.values()):
        return []
    out: List[Model] = []
    for node, path, stmt in index.calls:
        if not (type(stmt) is ast.Assign and stmt.value is node and len(stmt.targets) == 1
                and type(stmt.targets[0]) is ast.Name):
            continue
        if any(isinstance(p, ast.ClassDef) for p in path):
            continue
        qual = imports.qualify(node.func)
        if qual is None or not _from_torchvision(qual) and not (_maybe_project(qual) and stmt.targets[0].id in index.calls_by_name):
            continue  # (a project's call is a model where the script then calls what it gave: `out = net(x)`)
        out.append(Model(stmt.targets[0].id, stmt, (stmt.lineno,), list(path)))
    return out


def _from_torchvision(qual: str) -> bool:
    return qual.startswith("torchvision.models.")


def _maybe_project(qual: str) -> bool:
    """A class's name (capitalized, as classes are named: a factory's result is
    not followed, and the file it is in need not be read to tell) in a module
    that is not a library the analysis knows is not the project's."""
    return "." in qual.lstrip(".") and qual.rsplit(".", 1)[1][:1].isupper() and _project_root(qual)


def _project_root(qual: str) -> bool:
    root = qual.lstrip(".").split(".")[0]
    return root not in EXTERNAL and root not in ("torch", "torchvision")


def from_project(model: Model, imports: ImportMap) -> bool:
    """Does the script build the model from a class of the project (not torchvision)?"""
    qual = imports.qualify(model.node.value.func)
    return qual is not None and not _from_torchvision(qual)


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


_ADDING = frozenset({"add_module", "append", "extend", "insert", "register_module", "register_buffer",
                     "register_parameter"})


def _root(node: ast.AST) -> Optional[str]:
    """The name an attribute or subscript chain starts at (`model` of `model.classifier[6]`)."""
    while type(node) in (ast.Attribute, ast.Subscript):
        node = node.value
    return node.id if type(node) is ast.Name else None


def _hands_over(node: ast.AST, names: set) -> bool:
    """Does node call one of names, or pass one of them to a call?"""
    for n in ast.walk(node):
        if type(n) is ast.Call:
            if type(n.func) is ast.Name and n.func.id in names:
                return True
            if any(type(a) is ast.Name and a.id in names for a in n.args + [k.value for k in n.keywords]):
                return True
    return False


def _touches(stmt: ast.stmt, model: str, tracked: set) -> bool:
    """Is stmt one of those the module docstring says are run?"""
    if type(stmt) is ast.Expr:
        call = stmt.value
        return (type(call) is ast.Call and type(call.func) is ast.Attribute and call.func.attr in _ADDING
                and _root(call.func.value) == model)
    targets = stmt.targets if type(stmt) is ast.Assign else [stmt.target]
    if any(_root(t) == model for t in targets):
        return not _calls_name(stmt.value, model) if stmt.value is not None else False
    if stmt.value is None or not all(type(t) is ast.Name for t in targets):
        return False
    return bool({n.id for n in ast.walk(stmt.value) if type(n) is ast.Name} & tracked) and not _hands_over(
        stmt.value, {model})


_SAME_MODEL = frozenset({"to", "cuda", "cpu", "eval", "train", "float", "half", "double", "requires_grad_"})


def _changes(stmt: ast.stmt, model: str) -> bool:
    """Does a statement _touches() lets run put a layer into the model (not only
    read it, set a plain attribute, or move it to a device)?"""
    if type(stmt) is ast.Expr:
        return True
    targets = stmt.targets if type(stmt) is ast.Assign else [stmt.target]
    v = stmt.value
    for t in targets:
        if type(t) is ast.Name and t.id == model:
            moved = (type(v) is ast.Call and type(v.func) is ast.Attribute and v.func.attr in _SAME_MODEL
                     and _root(v.func.value) == model)
            # `model = modify(model)` hands it to a function: what that does is followed when the model
            # runs, but is not taken as a new head (a library's wrappers would run every model they wrap)
            if not moved and not _hands_over(v, {model}):
                return True
        elif _root(t) == model and (type(v) is ast.Name or any(type(n) is ast.Call for n in ast.walk(v))):
            return True
    return False


def _calls_name(node: ast.AST, name: str) -> bool:
    return any(type(n) is ast.Call and type(n.func) is ast.Name and n.func.id == name for n in ast.walk(node))


def _bound(stmt: ast.stmt) -> set:
    targets = stmt.targets if type(stmt) is ast.Assign else [getattr(stmt, "target", None)]
    return {t.id for t in targets if type(t) is ast.Name}


def _statements(model: Model, tree: ast.Module) -> List[ast.stmt]:
    """The statements that build and change the model, in order (the module docstring says which)."""
    owner = model.scope_path[-1] if model.scope_path else tree
    found = block_of(owner, model.node)
    if found is None:
        return []
    body, start = found
    out, tracked = [model.node], {model.name}
    for stmt in body[start + 1:]:
        if len(out) > MAX_STATEMENTS:
            break
        if isinstance(stmt, _SIMPLE) and _touches(stmt, model.name, tracked):
            out.append(stmt)
            tracked |= _bound(stmt)
    return out


def changed(model: Model, tree: ast.Module) -> bool:
    """Does the file change the model after building it (a new head, a layer added)?"""
    return any(_changes(stmt, model.name) for stmt in _statements(model, tree)[1:])


def build(model: Model, tree: ast.Module, interp, scope: Scope):
    """The model's value after the statements that change it; UNKNOWN when not followed."""
    from ..interp.values import UNKNOWN

    statements = _statements(model, tree)
    if not statements:
        return UNKNOWN
    local = Scope(scope)
    interp.ex.exec_block(statements, local)
    return local.vars.get(model.name, UNKNOWN)
