"""When a block needs no run of its own. The models of a file run first; a
block (a class they are built of) is run alone, with an unknown input and
unknown arguments, only where their runs left something of it unchecked:
a side of an `if`, a way of building it, or any pass through it with no
fault. What holds for every size and every unknown argument holds for
theirs, so such a run would find nothing new."""
from __future__ import annotations

import ast
from collections import defaultdict
from functools import cached_property
from typing import Callable, List, Optional, Tuple

from ..interp.events import FileLog
from ..interp.machine import Interp
from ..interp.plain import same_value
from ..interp.scope import Scope
from ..interp.values import UNKNOWN, ClassInfo
from .runner import Runner


class Coverage:
    def __init__(self, tree: ast.Module, interp: Interp, index, log: FileLog):
        self.tree = tree
        self.interp = interp
        self.index = index
        self.log = log
        self._sides_of: dict = {}

    def covered(self, cls: ClassInfo, ways: Callable[[ClassInfo], list]) -> bool:
        """Would the class's run of its own, with an unknown input, find
        nothing the runs so far did not? So it is when, for each way that run
        would build it (ways(cls)), some run took the forward() of an instance
        built alike (the same value for each argument that way knows) to its
        end with no fault, and the runs went down every side of each `if` in
        its code."""
        clean = self.log.clean.get(cls.node)
        if not clean:
            return False
        taken = self.log.sides
        if not all((node, side) in taken or (node, None) in taken for node, side in self.sides(cls)):
            return False
        made = list(clean.values())
        built: List[Optional[dict]] = []  # bound as the ways need them: most match the first
        for args, kwargs in ways(cls):
            own = self._bound(cls, args, kwargs)
            if own is None:
                return False
            for i, (a, k) in enumerate(made):
                if i == len(built):
                    built.append(self._bound(cls, a, k))
                if built[i] is not None and _alike(own, built[i]):
                    break
            else:
                return False
        return True

    def _bound(self, cls: ClassInfo, args, kwargs) -> Optional[dict]:
        """__init__'s parameters bound to these arguments, defaults filled in."""
        init = cls.bound_method("__init__", None)
        if init is None:
            return {}
        scope = Scope(None)
        ok = Runner.guarded(lambda: self.interp.bind_params(init.node.args, [None] + list(args), kwargs, scope, init.scope), False)
        return scope.vars if ok else None

    def sides(self, cls: ClassInfo) -> List[Tuple[ast.AST, bool]]:
        """The sides of the `if`s in a class, its bases in the file and the
        module functions they call by name, that do more than raise."""
        got = self._sides_of.get(cls.node)
        if got is not None:
            return got
        todo, seen, sides = [cls], set(), []  # classes, and module functions' nodes
        while todo:
            item = todo.pop()
            node = item.node if isinstance(item, ClassInfo) else item
            if node in seen:
                continue
            seen.add(node)
            if isinstance(item, ClassInfo):
                todo += [b for b in item.bases if isinstance(b, ClassInfo)]
            for sub in self.index.branches.get(id(node), ()):
                if type(sub) is ast.If:
                    sides += [(sub, t) for t, block in ((True, sub.body), (False, sub.orelse)) if not _inert(block)]
                else:
                    sides += [(sub, True), (sub, False)]
            todo += [self._functions[n] for n in self._called[id(node)]]
        self._sides_of[cls.node] = sides
        return sides

    @cached_property
    def _functions(self) -> dict:
        return {s.name: s for s in self.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}

    @cached_property
    def _called(self) -> dict:
        """The module functions each module-level definition calls by name."""
        functions, called = self._functions, {}
        for node, path, _ in self.index.calls:
            if path and type(node.func) is ast.Name and node.func.id in functions:
                called.setdefault(id(path[0]), set()).add(node.func.id)
        return defaultdict(set, called)


def _alike(own, built) -> bool:
    """Was an instance built with the parameters `built` built as one with
    `own` would be? Each value `own` knows is the same there."""
    if own is UNKNOWN:
        return True
    if type(own) is dict:
        return type(built) is dict and own.keys() == built.keys() and all(_alike(v, built[k]) for k, v in own.items())
    if type(own) in (list, tuple):
        return type(built) is type(own) and len(own) == len(built) and all(_alike(a, b) for a, b in zip(own, built))
    return same_value(own, built)


def _inert(block: List[ast.stmt]) -> bool:
    """A side of an `if` that checks no shape: nothing, `pass`, a raise."""
    return all(isinstance(s, (ast.Pass, ast.Raise)) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in block)
