"""The statements of the interpreter: assignment, branches joined when they
cannot be decided, loops unrolled within their caps, try/with, and `havoc`
for whatever is not followed (all it binds becomes unknown)."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional

from ..shapes import UNKNOWN
from .names import ImportMap
from .scope import (_CONTAINERS, MAX_LOOP, MAX_SEQ, OutOfBudget, Raised, Scope, _Return, _unknown_like, is_int, plain,
                    safe_binop, same_value)
from .values import Function, Instance, Layer, Tensor, TorchRef


class Statements:
    """Mixed into Interp: one s_<Node> method per statement type."""

    def exec_block(self, stmts: List[ast.stmt], scope: Scope) -> None:
        for stmt in stmts:
            self.steps += 1  # tick() inlined: a step per statement
            if self.steps > self.limit:
                raise OutOfBudget()
            method = _EXEC.get(type(stmt))
            if method is None:
                self.havoc([stmt], scope)
            else:
                method(self, stmt, scope)

    def s_Expr(self, stmt, scope):
        self.eval(stmt.value, scope)

    def s_Pass(self, stmt, scope):
        pass

    def s_Assert(self, stmt, scope):
        pass

    def s_Return(self, stmt, scope):
        raise _Return(None if stmt.value is None else self.eval(stmt.value, scope))

    def s_Raise(self, stmt, scope):
        raise Raised()

    def s_Assign(self, stmt, scope):
        value = self.eval(stmt.value, scope)
        for t in stmt.targets:
            if not self.assign(t, value, scope):
                self.havoc_target(t, scope)

    def s_AnnAssign(self, stmt, scope):
        if stmt.value is not None:
            value = self.eval(stmt.value, scope)
            if not self.assign(stmt.target, value, scope):
                self.havoc_target(stmt.target, scope)

    def s_AugAssign(self, stmt, scope):
        load = _as_load(stmt.target)
        current = self.eval(load, scope) if load is not None else UNKNOWN
        value = self.eval(stmt.value, scope)
        if isinstance(current, list) and isinstance(stmt.op, ast.Add):
            items = self.iterate(value)
            if items is UNKNOWN or len(current) + len(items) > MAX_SEQ:
                self.havoc_target(stmt.target, scope)
                return
            self.touch(current)
            current.extend(items)  # `layers += [...]` mutates in place
            return
        if isinstance(current, Tensor) or isinstance(value, Tensor):
            result = self.ops.binary(stmt, current, value)
        elif plain(current) and plain(value):
            result = safe_binop(stmt.op, current, value)
        else:
            result = UNKNOWN
        if not self.assign(stmt.target, result, scope):
            self.havoc_target(stmt.target, scope)

    def s_FunctionDef(self, stmt, scope):
        self.scopes.append(scope)  # the function holds it: Interp.close() lets go of it
        scope.vars[stmt.name] = Function(stmt, scope) if not stmt.decorator_list else UNKNOWN

    def s_ClassDef(self, stmt, scope):
        self.scopes.append(scope)
        scope.vars[stmt.name] = self.make_class(stmt, scope)

    def s_Import(self, stmt, scope):
        local = ImportMap()
        local.add_import(stmt)
        for name, qual in local.names.items():
            scope.vars[name] = TorchRef(qual) if qual.split(".")[0] in ("torch", "math", "collections") else UNKNOWN

    s_ImportFrom = s_Import

    def s_With(self, stmt, scope):
        for item in stmt.items:
            self.eval(item.context_expr, scope)
            if item.optional_vars is not None:
                self.havoc_target(item.optional_vars, scope)
        self.exec_block(stmt.body, scope)

    def s_Try(self, stmt, scope):
        # The body runs first; handlers may or may not. Names the handlers bind
        # become unknown, and so does anything the body binds that they rebind.
        try:
            self.exec_block(stmt.body, scope)
        except Raised:
            self.havoc(stmt.body, scope)
        self.havoc([h for h in stmt.handlers], scope)
        self.exec_block(stmt.orelse, scope)
        self.exec_block(stmt.finalbody, scope)

    def s_If(self, stmt, scope):
        t = self.truth(self.eval(stmt.test, scope))
        self.taken.add((stmt, t))  # None: both sides
        if t is not None:
            self.exec_block(stmt.body if t else stmt.orelse, scope)
            return
        self.branch(stmt.body, stmt.orelse, scope)

    def branch(self, body, orelse, scope: Scope) -> None:
        """Follow both sides of an undecidable `if`, then join them."""
        run = self.run
        before = dict(scope.vars)
        selves = [v for v in before.values() if isinstance(v, Instance)]
        attrs_before = [dict(i.attrs) for i in selves]
        boxes = _containers(list(before.values()) + [v for a in attrs_before for v in a.values()])
        contents = [_contents(b) for b in boxes]
        after = []
        results = []
        for block in (body, orelse):
            for v in selves + boxes:  # set back below: a build kept on the first side may hold one
                self.touch(v)
            scope.vars = dict(before)
            for inst, attrs in zip(selves, attrs_before):
                inst.attrs = dict(attrs)
            for box, c in zip(boxes, contents):
                _restore(box, c)
            side = run.fork() if run is not None else None
            self.run = side
            outcome = None
            try:
                self.exec_block(block, scope)
            except _Return as r:
                outcome = ("return", r.value)
            except Raised:
                outcome = ("raise", None)
            finally:
                self.run = run
            results.append((outcome, dict(scope.vars), [dict(i.attrs) for i in selves], side))
            after.append([_contents(b) for b in boxes])
        for box, ca, cb in zip(boxes, after[0], after[1]):
            # a list both sides leave alike keeps its items; otherwise its
            # length is no longer known
            if _same_contents(ca, cb):
                _restore(box, ca)
            else:
                _poison(box)
        for v in selves + boxes:  # as the join leaves them (and the merge below), not as a side saw them
            self.touch(v)
        (oa, va, aa, ra), (ob, vb, ab, rb) = results
        if run is not None:
            run.join(ra, rb)
        live = [(va, aa)] if oa is None else []
        live += [(vb, ab)] if ob is None else []
        returns = [o[1] for o in (oa, ob) if o is not None and o[0] == "return"]
        if not live:
            if not returns:
                raise Raised()
            v = returns[0]
            raise _Return(v if all(same_value(v, r) for r in returns) else _unknown_like(v))
        scope.vars = _merge_vars([v for v, _ in live])
        for k, inst in enumerate(selves):
            inst.attrs = _merge_vars([a[k] for _, a in live])
        if returns and self.returns:
            # One side returned: what follows runs on the other side only, and
            # the function's result must agree with this early one to be known.
            self.returns[-1].extend(returns)

    def s_For(self, stmt, scope):
        items = self.iterate(self.eval(stmt.iter, scope))
        if items is UNKNOWN or len(items) > MAX_LOOP or stmt.orelse or self._static(_has_jump, stmt):
            self.havoc([stmt], scope)
            return
        for item in items:
            self.tick()
            if not self.assign(stmt.target, item, scope):
                self.havoc([stmt], scope)
                return
            self.exec_block(stmt.body, scope)

    def s_Delete(self, stmt, scope):
        for t in stmt.targets:
            if isinstance(t, ast.Subscript):
                obj = self.eval(t.value, scope)
                key = self.eval(t.slice, scope)
                seq = obj.children if isinstance(obj, Layer) else obj if isinstance(obj, list) else None
                if seq is not None and is_int(key) and -len(seq) <= key < len(seq):
                    self.touch(obj)
                    del seq[key]
                elif isinstance(obj, (Layer, list, dict)):
                    self.poison(obj)
            elif isinstance(t, ast.Name):
                scope.vars[t.id] = UNKNOWN
            else:
                self.havoc_target(t, scope)

    def s_While(self, stmt, scope):
        self.havoc([stmt], scope)

    def havoc(self, stmts, scope: Scope) -> None:
        """Everything these statements might bind becomes unknown."""
        for stmt in stmts:
            for node in self._static(_binding_nodes, stmt):
                if isinstance(node, (ast.Name,)) and isinstance(node.ctx, ast.Store):
                    scope.vars[node.id] = _unknown_like(_get(scope, node.id))
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    self.havoc_target(node, scope)
                elif isinstance(node, (ast.AugAssign,)):
                    self.havoc_target(node.target, scope)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _simple(node.func.value):
                    # `layers.append(...)`, `self.features.add_module(...)` in a
                    # loop we do not follow: their contents are unknown now
                    target = self.eval(node.func.value, scope)
                    if isinstance(target, (list, dict)) or (isinstance(target, Layer) and target.kind in _CONTAINERS):
                        self.poison(target)
                elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)) and _simple(node.value):
                    target = self.eval(node.value, scope)
                    if isinstance(target, (list, dict)) or (isinstance(target, Layer) and target.kind in _CONTAINERS):
                        self.poison(target)

    def poison(self, box) -> None:
        self.touch(box)
        _poison(box)

    def _static(self, fact, node: ast.AST):
        """fact(node), found once per file: the tree does not change."""
        key = (fact, id(node))
        got = self.static_facts.get(key)
        if got is None:
            got = self.static_facts[key] = fact(node)
        return got

    def havoc_target(self, target: ast.expr, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.vars[target.id] = _unknown_like(_get(scope, target.id))
        elif isinstance(target, ast.Attribute):
            try:
                obj = self.eval(target.value, scope)
            except OutOfBudget:
                raise
            if isinstance(obj, Instance):
                self.touch(obj)
                obj.attrs[target.attr] = _unknown_like(obj.attrs.get(target.attr))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                self.havoc_target(e.value if isinstance(e, ast.Starred) else e, scope)
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value, scope)
            if isinstance(obj, dict):
                self.poison(obj)

    def assign(self, target: ast.expr, value, scope: Scope) -> bool:
        kind = type(target)  # ast node classes have no subclasses
        if kind is ast.Name:
            scope.vars[target.id] = value
            return True
        if kind is ast.Attribute:
            obj = self.eval(target.value, scope)
            if type(obj) is Instance:
                self.touch(obj)
                obj.attrs[target.attr] = value
                return True
            if isinstance(obj, Layer) and obj.kind in _CONTAINERS:
                # setattr on a container registers a module: Sequential runs it
                if isinstance(value, (Layer, Instance)):
                    return self.container_method(obj, "add_module", [target.attr, value], {}) is None
                if value is UNKNOWN:
                    self.poison(obj)
                return True
            return isinstance(obj, (Tensor, Layer)) or obj is UNKNOWN
        if isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                return False
            items = self.iterate(value) if not isinstance(value, dict) else UNKNOWN
            if items is UNKNOWN or len(items) != len(target.elts):
                for e in target.elts:
                    self.assign(e, UNKNOWN, scope)
                return True
            return all(self.assign(e, v, scope) for e, v in zip(target.elts, items))
        if isinstance(target, ast.Subscript):
            obj = self.eval(target.value, scope)
            key = self.eval(target.slice, scope)
            if isinstance(obj, dict) and isinstance(key, (str, int)):
                self.touch(obj)
                obj[key] = value
                return True
            if isinstance(obj, list) and is_int(key) and -len(obj) <= key < len(obj):
                self.touch(obj)
                obj[key] = value
                return True
            if isinstance(obj, Layer) and obj.kind in _CONTAINERS:
                self.touch(obj)
                if obj.children is not None and is_int(key) and -len(obj.children) <= key < len(obj.children):
                    obj.children[key] = value
                elif obj.kind == "ModuleDict" and obj.items is not None and isinstance(key, str):
                    obj.items[key] = value
                else:
                    _poison(obj)
                return True
            return False
        return False


class _Poison:
    """Stands in a list whose length we no longer know."""


POISON = _Poison()


def _containers(values) -> list:
    """Lists, dicts and layer containers reachable from these values (two levels)."""
    seen, out = set(), []
    todo = [(v, 0) for v in values]
    while todo:
        v, level = todo.pop()
        if id(v) in seen:
            continue
        if isinstance(v, (list, dict)) or (isinstance(v, Layer) and (v.children is not None or v.items is not None)):
            seen.add(id(v))
            out.append(v)
            if level < 2:
                inner = v.values() if isinstance(v, dict) else (v if isinstance(v, list) else (v.children or []))
                todo.extend((e, level + 1) for e in list(inner))
    return out


def _contents(box):
    if isinstance(box, Layer):
        return (list(box.children) if box.children is not None else None, dict(box.items) if box.items is not None else None)
    return list(box) if isinstance(box, list) else dict(box)


def _restore(box, c) -> None:
    if isinstance(box, Layer):
        box.children = None if c[0] is None else list(c[0])
        box.items = None if c[1] is None else dict(c[1])
    elif isinstance(box, list):
        box[:] = c
    else:
        box.clear()
        box.update(c)


def _same_contents(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_same_contents(x, y) if x is not None and y is not None else x is y for x, y in zip(a, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(x is y or same_value(x, y) for x, y in zip(a, b))
    return a.keys() == b.keys() and all(a[k] is b[k] or same_value(a[k], b[k]) for k in a)


def _poison(box) -> None:
    if isinstance(box, Layer):
        box.children = None
        box.items = None
    elif isinstance(box, list):
        box[:] = [POISON]
    else:
        box.clear()
        box["__unknown__"] = UNKNOWN


def _simple(node: ast.expr) -> bool:
    """`name` or `name.attr.attr`: safe to evaluate again."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _get(scope: Scope, name: str):
    return scope.vars.get(name)


def _merge_vars(sides: List[Dict[str, object]]) -> Dict[str, object]:
    if len(sides) == 1:
        return sides[0]
    a, b = sides
    out = {}
    for k in set(a) | set(b):
        va, vb = a.get(k, UNKNOWN), b.get(k, UNKNOWN)
        out[k] = va if same_value(va, vb) else _unknown_like(va if k in a else vb)
    return out


def _as_load(target: ast.expr) -> Optional[ast.expr]:
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Attribute):
        return ast.Attribute(value=target.value, attr=target.attr, ctx=ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
    return None


def _has_jump(loop: ast.AST) -> bool:
    for stmt in loop.body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Break, ast.Continue, ast.Return, ast.Raise, ast.Yield)):
                return True
    return False


def _binding_nodes(stmt: ast.AST) -> List[ast.AST]:
    """The nodes in stmt that havoc acts on, in ast.walk's order."""
    return [n for n in ast.walk(stmt) if isinstance(n, _BINDING_NODES)]


_BINDING_NODES = (ast.Name, ast.Attribute, ast.AugAssign, ast.Call, ast.Subscript)

# statement type -> its method (s_Assign...)
_EXEC = {getattr(ast, k[2:]): f for k, f in vars(Statements).items() if k.startswith("s_") and hasattr(ast, k[2:])}
