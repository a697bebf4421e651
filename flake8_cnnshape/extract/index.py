"""One walk over a file's tree, collecting what the later steps look up.

Finding models, input sources and instantiations, and the interpreter's
scopes, each used to walk the whole tree again; on real PyTorch code those
walks were most of the plugin's time. They now read this index instead.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Set, Tuple

# methods that change the object they are called on (for a name bound once,
# such a call means the assignment no longer says what the value is)
MUTATORS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem",
    "add_module", "register_module", "__setitem__", "__delitem__", "sort", "reverse",
})

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
Path = Tuple[ast.AST, ...]  # the definitions around a node, outermost first
_LEAVES = (ast.Constant, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _fields(cls: type) -> Tuple[str, ...]:
    """The fields of a node class that may hold nodes we look at."""
    got = _FIELDS.get(cls)
    if got is None:
        keep = [f for f in cls._fields if f not in ("ctx", "op", "ops", "type_comment", "kind")]
        got = _FIELDS[cls] = tuple(reversed(keep))
    return got


class StatementInfo:
    """Names bound anywhere inside one statement (assignment targets and the
    names of nested definitions), and names whose value is changed there."""

    __slots__ = ("stores", "mutated")

    def __init__(self):
        self.stores: Set[str] = set()
        self.mutated: Set[str] = set()


class FileIndex:
    def __init__(self, tree: ast.Module):
        # every call in source order, with the definitions around it and its statement
        self.calls: List[Tuple[ast.Call, Path, Optional[ast.stmt]]] = []
        self.calls_by_name: Dict[str, List[ast.Call]] = {}  # `Net(...)`: callee name -> calls
        self.generators: Set[int] = set()  # ids of the functions that yield
        self._info: Dict[int, StatementInfo] = {}
        self._walk(tree)

    def info(self, stmt: ast.stmt) -> StatementInfo:
        got = self._info.get(id(stmt))
        return got if got is not None else StatementInfo()

    def _walk(self, tree: ast.Module) -> None:
        calls, by_name, infos = self.calls, self.by_name_list, self._info
        # (node, path, statement, infos of the statements around it)
        stack: List[tuple] = [(tree, (), None, ())]
        pop, push = stack.pop, stack.append
        while stack:
            node, path, stmt, chain = pop()
            if isinstance(node, ast.stmt):
                if isinstance(node, _DEFS):
                    for i in chain:
                        i.stores.add(node.name)
                elif isinstance(node, ast.Global):
                    for i in chain:
                        i.mutated.update(node.names)
                stmt = node
                entry = StatementInfo()
                infos[id(node)] = entry
                chain = chain + (entry,)
            elif isinstance(node, ast.Name):
                if type(node.ctx) is ast.Store:
                    for i in chain:
                        i.stores.add(node.id)
                continue
            elif isinstance(node, ast.Call):
                calls.append((node, path, stmt))
                func = node.func
                if isinstance(func, ast.Name):
                    by_name(func.id).append(node)
                elif isinstance(func, ast.Attribute) and func.attr in MUTATORS:
                    self._mutated(func.value, chain)
            elif isinstance(node, (ast.Subscript, ast.Attribute)):
                if type(node.ctx) is not ast.Load:
                    self._mutated(node.value, chain)
            elif isinstance(node, (ast.Yield, ast.YieldFrom)):
                fn = next((p for p in reversed(path) if isinstance(p, _FUNCS)), None)
                if fn is not None:
                    self.generators.add(id(fn))
            if isinstance(node, _DEFS):
                path = path + (node,)
            for field in _fields(type(node)):  # pushed last to first: popped in source order
                value = getattr(node, field, None)
                if type(value) is list:
                    for child in reversed(value):
                        if isinstance(child, ast.AST) and not isinstance(child, _LEAVES):
                            push((child, path, stmt, chain))
                elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
                    push((value, path, stmt, chain))

    def by_name_list(self, name: str) -> List[ast.Call]:
        return self.calls_by_name.setdefault(name, [])

    @staticmethod
    def _mutated(target: ast.expr, chain) -> None:
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        if isinstance(target, ast.Name):
            for i in chain:
                i.mutated.add(target.id)
