"""What a look at a node of the tree finds, worked out once per file: the
tree does not change while the interpreter runs over it."""
from __future__ import annotations

import ast
from typing import Dict, List

from ..shapes.signature import UNKNOWN
from .names import static_name
from .values import ClassInfo, Function


class NodeFacts:
    __slots__ = ("found",)

    def __init__(self):
        self.found: Dict[tuple, object] = {}

    def get(self, fact, node: ast.AST):
        """fact(node), once per node."""
        key = (fact, id(node))
        got = self.found.get(key)
        if got is None:
            got = self.found[key] = fact(node)
        return got


def split_return(fn: ast.AST):
    """(the body but its last statement, that statement) when it is a
    `return`, else (the body, None)."""
    body = fn.body
    if body and type(body[-1]) is ast.Return:
        return body[:-1], body[-1]
    return body, None


def params(a: ast.arguments):
    """A signature as Calls.bind_params reads it: ((name, default node or None)...)
    of the positional parameters, *args' name, the keyword-only ones, **kwargs' name."""
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    return (tuple((p.arg, d) for p, d in zip(positional, defaults)), a.vararg.arg if a.vararg is not None else None,
            tuple((p.arg, d) for p, d in zip(a.kwonlyargs, a.kw_defaults)), a.kwarg.arg if a.kwarg is not None else None)


# decorators that leave what a function computes as it is (a cache of its results, no autograd, compiled)
_TRANSPARENT = frozenset(("functools.lru_cache", "functools.cache", "torch.no_grad", "torch.inference_mode", "torch.enable_grad",
                          "torch.jit.script", "torch.jit.ignore", "torch.jit.unused", "torch.jit.export", "torch.compile"))


def transparent(fn: ast.AST, imports) -> bool:
    """Are all of fn's decorators (`@functools.lru_cache(maxsize=32)`, `@torch.no_grad()`) ones that
    leave it computing what its body says? imports: the file's ImportMap, or None (then the dotted name
    as written: `torch.` and `functools.` taken as imported under their own names)."""
    for d in fn.decorator_list:
        parts = static_name(d.func if type(d) is ast.Call else d)
        if parts is None:
            return False
        root = imports.resolve(parts[0]) if imports is not None else parts[0]
        if root is None or ".".join([root] + parts[1:]) not in _TRANSPARENT:
            return False
    return True


def imports_of(scope, default):
    """The ImportMap of the module scope holds (another file's, maybe), else default."""
    while scope is not None and getattr(scope, "imports", None) is None:
        scope = scope.parent
    return scope.imports if scope is not None else default


def defined_function(node: ast.AST, scope, imports):
    """What a `def` binds: its function, or unknown behind a decorator that may change what it computes."""
    if not node.decorator_list or transparent(node, imports_of(scope, imports)):
        return Function(node, scope)
    return UNKNOWN


def method_kind(fn: ast.AST) -> str:
    """"plain" for a method without decorators, "static" / "class" for one
    whose only decorator is staticmethod / classmethod, else "other" (not
    followed: the decorator may return anything)."""
    decorators = getattr(fn, "decorator_list", ())
    if not decorators:
        return "plain"
    if len(decorators) == 1 and type(decorators[0]) is ast.Name:
        return {"staticmethod": "static", "classmethod": "class"}.get(decorators[0].id, "other")
    return "plain" if transparent(fn, None) else "other"


def yields(loop: ast.AST) -> bool:
    """A loop that yields is not followed (a generator's body never runs)."""
    return any(isinstance(node, (ast.Yield, ast.YieldFrom)) for stmt in loop.body for node in ast.walk(stmt))


_BINDING_NODES = (ast.Name, ast.Attribute, ast.AugAssign, ast.Call, ast.Subscript)


def binding_nodes(stmt: ast.AST) -> List[ast.AST]:
    """The nodes in stmt that the executor's havoc acts on, in ast.walk's order."""
    return [n for n in ast.walk(stmt) if isinstance(n, _BINDING_NODES)]


def class_attr_def(cls, attr: str):
    """(the one statement defining attr, its class): in the class body, else
    in a base's; (None, None) when there is none or more than one."""
    for c in [cls] + [b for b in cls.bases if isinstance(b, ClassInfo)]:
        found = None
        count = 0
        for stmt in c.node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == attr:
                found, count = stmt, count + 1
            elif isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == attr for t in stmt.targets):
                found, count = stmt, count + (1 if len(stmt.targets) == 1 else 2)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == attr and stmt.value is not None:
                found, count = stmt, count + 1
        if count == 1:
            return found, c
        if count > 1:
            return None, None
    return None, None


def class_body_names(cls: ast.ClassDef) -> set:
    """Names a class body binds by name: its methods, nested classes, and
    class attributes assigned to a plain name (`width = 32`)."""
    names = set()
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            for t in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                if isinstance(t, ast.Name):
                    names.add(t.id)
    return names


# what a method may do with `self._modules` and still only read it: `.values()`, `.items()`, `.keys()`,
# `len(...)`, `[name]`, a loop over it
_READS = frozenset(("values", "items", "keys"))


def modules_only_read(cls: ast.ClassDef) -> bool:
    """Does the class body read `<x>._modules` only as torch's dict of the
    modules registered on it (no `self._modules[k] = m`, no `.update`, no
    alias that could change it)? Then the interpreter may serve it from the
    instance's modules."""
    todo: List[tuple] = [(cls, None)]
    while todo:
        node, parent = todo.pop()
        if type(node) is ast.Attribute and node.attr == "_modules" and not _read(node, parent):
            return False
        todo.extend((child, node) for child in ast.iter_child_nodes(node))
    return True


def _read(node: ast.Attribute, parent) -> bool:
    if type(parent) is ast.Attribute:
        return parent.attr in _READS  # (only ever called: a bound method of a dict reads it)
    if type(parent) is ast.Subscript:
        return type(parent.ctx) is ast.Load
    if type(parent) in (ast.For, ast.comprehension):
        return parent.iter is node
    return type(parent) is ast.Call and type(parent.func) is ast.Name and parent.func.id == "len"


def call_as(facts, call: ast.Call, key: tuple, args_of) -> ast.Call:
    """`call` with the positional arguments args_of(call) gives, as one synthetic call at its place, kept per
    (key, call) so that each use of it is the same place: what `cnnshape fix` reads a layer's arguments from."""
    full = key + (id(call),)
    got = facts.found.get(full)
    if got is None:
        got = facts.found[full] = ast.copy_location(ast.Call(func=call.func, args=args_of(call), keywords=call.keywords), call)
    return got


def _starred_first(call: ast.Call) -> list:
    return [ast.Starred(value=ast.Name(id="_", ctx=ast.Load()), ctx=ast.Load())] + list(call.args)


def held_call(facts, node, held: int):
    """A call whose function gets `held` positional arguments before the call's own (a functools.partial's):
    the same call with a starred argument in front, so that `cnnshape fix` finds no argument at a place
    the held ones take."""
    return node if not held or node is None else call_as(facts, node, ("held call", held), _starred_first)
