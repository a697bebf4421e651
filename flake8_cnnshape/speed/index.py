"""One walk over a file's tree, collecting what the later steps look up.

Finding models, input sources and instantiations, and the interpreter's
scopes, each used to walk the whole tree again; on real PyTorch code those
walks were most of the plugin's time. They now read this index instead.
FileIndex is the tuned walk; PlainIndex the plain definition of what it
must find (a recursive walk asking isinstance() of every node), used when
the `index` switch is off and by tests/test_index.py.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Set, Tuple

from ..interp.mutation import MUTATORS
from . import SWITCHES


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_BODIES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
Path = Tuple[ast.AST, ...]  # the definitions around a node, outermost first

# What the walk does at each node class: one dict lookup instead of a chain of
# isinstance() tests (the walk visits every node of every torch file).
_PLAIN, _STMT, _DEF_STMT, _GLOBAL, _CALL, _TARGETABLE, _YIELD, _LAMBDA, _NAME, _LEAF, _IF, _IFEXP = range(12)
_LEAF_TYPES = (ast.Constant, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_KINDS: Dict[type, Tuple[int, Tuple[str, ...]]] = {}
# The fields of these nodes the walk looks in: the others are names and
# numbers, or hold nothing it looks for (a parameter is not a Name, and its
# annotation, like a return annotation, holds no model; names.py reads imports).
_FIELDS: Dict[type, Tuple[str, ...]] = {
    ast.arguments: ("kw_defaults", "defaults"), ast.arg: (), ast.Import: (), ast.ImportFrom: (), ast.alias: (),
    ast.FunctionDef: ("args", "body", "decorator_list"), ast.AsyncFunctionDef: ("args", "body", "decorator_list"),
    ast.ClassDef: ("bases", "keywords", "body", "decorator_list"), ast.keyword: ("value",), ast.Attribute: ("value",),
    ast.Global: (), ast.Nonlocal: (), ast.ExceptHandler: ("type", "body"), ast.comprehension: ("target", "iter", "ifs"),
    ast.AnnAssign: ("target", "annotation", "value"),
}


def _kind(cls: type) -> Tuple[int, Tuple[str, ...]]:
    """What the walk does at a node of this class, and the fields that may
    hold nodes it looks at, last to first (pushed so, they pop in source order)."""
    got = _KINDS.get(cls)
    if got is None and not issubclass(cls, ast.AST):  # None in a list (kw_defaults), a name in a pattern
        got = _KINDS[cls] = (_LEAF, ())
    if got is None:
        if issubclass(cls, _LEAF_TYPES):
            code = _LEAF
        elif issubclass(cls, ast.stmt):
            code = _DEF_STMT if issubclass(cls, _DEFS) else _GLOBAL if cls is ast.Global else _IF if cls is ast.If else _STMT
        elif cls is ast.Name:
            code = _NAME
        elif cls is ast.Call:
            code = _CALL
        elif cls is ast.Subscript or cls is ast.Attribute:
            code = _TARGETABLE
        elif cls is ast.Yield or cls is ast.YieldFrom:
            code = _YIELD
        elif cls is ast.Lambda:
            code = _LAMBDA
        elif cls is ast.IfExp:
            code = _IFEXP
        else:
            code = _PLAIN
        keep = [f for f in _FIELDS.get(cls, cls._fields) if f not in ("ctx", "op", "ops", "type_comment", "kind")]
        got = _KINDS[cls] = (code, tuple(reversed(keep)))
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
        # the `if` statements and expressions inside each module-level definition (by its id)
        self.branches: Dict[int, List[ast.AST]] = {}
        self._info: Dict[int, StatementInfo] = {}
        self._walk(tree)

    def info(self, stmt: ast.stmt) -> StatementInfo:
        """For a statement right in the module's, a class's or a function's body."""
        got = self._info.get(id(stmt))
        return got if got is not None else StatementInfo()

    # What is around a node: the definitions (path), the statement, the infos
    # of the body-level statements that hold it (chain). A node that changes
    # them pushes, under its children, the tuple that restores them. Children
    # are pushed last first (they pop in source order), a list at a time; the
    # commonest nodes come first, a few steps each, and a name plainly read
    # (what an attribute or a callee is read from) is not pushed.
    def _walk(self, tree: ast.Module) -> None:
        calls, by_name, kinds, kind_of, Load, Store = self.calls, self.calls_by_name, _KINDS, _kind, ast.Load, ast.Store
        infos, bodies, Name, Attribute, Call, Constant = self._info, _BODIES, ast.Name, ast.Attribute, ast.Call, ast.Constant
        path, stmt, chain, stack = (), None, (), [tree]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            node = pop()
            t = type(node)
            if t is Name:
                if type(node.ctx) is Store:
                    for i in chain:
                        i.stores.add(node.id)
                continue
            if t is Call or t is Attribute:
                if t is Call:
                    calls.append((node, path, stmt))
                    if node.keywords:
                        extend([k.value for k in reversed(node.keywords)])
                    if node.args:
                        extend(reversed(node.args))
                    func = node.func
                    if type(func) is not Attribute:
                        if type(func) is Name:
                            by_name.setdefault(func.id, []).append(node)
                        else:
                            push(func)
                        continue
                    if func.attr in MUTATORS:
                        self._mutated(func.value, chain)
                    node = func
                elif type(node.ctx) is not Load:
                    self._mutated(node.value, chain)
                node = node.value  # down `a.b.c`, read, to its root
                while type(node) is Attribute:
                    node = node.value
                if type(node) is not Name:
                    push(node)
                continue
            if t is Constant:
                continue
            if t is tuple:
                path, stmt, chain = node
                continue
            code, fields = kinds.get(t) or kind_of(t)
            if code == _STMT:  # _statement() inlined for the commonest statements
                push((path, stmt, chain))
                if stmt is None or type(stmt) in bodies:
                    infos[id(node)] = entry = StatementInfo()
                    chain = chain + (entry,)
                stmt = node
                if t is ast.Assign:  # the commonest statement: its fields without the loop over them
                    push(node.value)
                    extend(reversed(node.targets))
                    continue
            elif code == _DEF_STMT or code == _GLOBAL or code == _IF:
                push((path, stmt, chain))
                path, chain = self._statement(node, code, path, stmt, chain)
                stmt = node
            elif code != _PLAIN:
                path = self._expression(node, code, path, stmt, chain, push)
            for field in fields:
                value = getattr(node, field, None)
                if value:  # None, or no decorators, keywords, `else`...: nothing to look at
                    extend(reversed(value)) if type(value) is list else push(value)

    def _expression(self, node: ast.expr, code: int, path: Path, stmt, chain: tuple, push) -> Path:
        """The rarer expressions the walk looks at; the path around their children."""
        if code == _TARGETABLE:
            if type(node.ctx) is not ast.Load:
                self._mutated(node.value, chain)
        elif code == _YIELD:
            fn = next((p for p in reversed(path) if isinstance(p, _FUNCS)), None)
            if fn is not None:
                self.generators.add(id(fn))
        elif code == _LAMBDA:
            push((path, stmt, chain))
            path = path + (node,)
        elif code == _IFEXP and path:
            self.branches.setdefault(id(path[0]), []).append(node)
        return path

    def _statement(self, node: ast.stmt, code: int, path: Path, stmt, chain: tuple):
        """What a statement changes of what is around its children: (path, chain)."""
        if code == _IF and path:
            self.branches.setdefault(id(path[0]), []).append(node)
        elif code == _DEF_STMT:
            for i in chain:
                i.stores.add(node.name)
            path = path + (node,)
        elif code == _GLOBAL:
            for i in chain:
                i.mutated.update(node.names)
        # the scopes ask only about statements right in a module, class or
        # function body; the nested ones count toward those
        if stmt is None or type(stmt) in _BODIES:
            entry = StatementInfo()
            self._info[id(node)] = entry
            chain = chain + (entry,)
        return path, chain

    @staticmethod
    def _mutated(target: ast.expr, chain) -> None:
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        if isinstance(target, ast.Name):
            for i in chain:
                i.mutated.add(target.id)


class PlainIndex:
    """What FileIndex finds, by the plain recursive walk."""

    def __init__(self, tree: ast.Module):
        self.calls: List[Tuple[ast.Call, Path, Optional[ast.stmt]]] = []
        self.calls_by_name: Dict[str, List[ast.Call]] = {}
        self.generators: Set[int] = set()
        self.branches: Dict[int, List[ast.AST]] = {}
        self._info: Dict[int, StatementInfo] = {}
        self._visit(tree, (), None, ())

    def info(self, stmt: ast.stmt) -> StatementInfo:
        got = self._info.get(id(stmt))
        return got if got is not None else StatementInfo()

    def _visit(self, node: ast.AST, path: Path, stmt, owners) -> None:
        # owners: the infos of the body-level statements around node
        if isinstance(node, ast.stmt):
            if isinstance(node, _DEFS[:3]):
                for o in owners:
                    o.stores.add(node.name)
            if isinstance(node, ast.Global):
                for o in owners:
                    o.mutated.update(node.names)
            if isinstance(node, ast.If) and path:
                self.branches.setdefault(id(path[0]), []).append(node)
            if stmt is None or isinstance(stmt, _BODIES):
                entry = self._info[id(node)] = StatementInfo()
                owners = owners + (entry,)
            stmt = node
        if isinstance(node, ast.IfExp) and path:
            self.branches.setdefault(id(path[0]), []).append(node)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            for o in owners:
                o.stores.add(node.id)
        changed = None
        if isinstance(node, ast.Call):
            self.calls.append((node, path, stmt))
            if isinstance(node.func, ast.Name):
                self.calls_by_name.setdefault(node.func.id, []).append(node)
            elif isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                changed = node.func.value
        if isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            changed = node.value
        if changed is not None:
            FileIndex._mutated(changed, owners)
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            fns = [p for p in path if isinstance(p, _FUNCS)]
            if fns:
                self.generators.add(id(fns[-1]))
        if isinstance(node, _DEFS):
            path = path + (node,)
        for child in ast.iter_child_nodes(node):
            # annotations of parameters and returns hold no model: not walked
            if isinstance(child, ast.arg) or (isinstance(node, _FUNCS[:2]) and child is node.returns):
                continue
            self._visit(child, path, stmt, owners)


def file_index(tree: ast.Module):
    """The index of a file: the tuned walk, or the plain one when its switch is off."""
    return FileIndex(tree) if SWITCHES["index"] else PlainIndex(tree)
