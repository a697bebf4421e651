"""The interpreter's statements: assignment, branches followed on both sides
and joined when they cannot be decided, loops unrolled within their caps,
try/with, and `havoc` for whatever is not followed (all it binds becomes
unknown). Expressions go to the Evaluator, in-place changes to Mutations."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, TYPE_CHECKING

from ..shapes.signature import UNKNOWN
from .budget import MAX_LOOP, Budget, OutOfBudget
from .control import Break, Continue, Raised, Return, Unfollowed
from .events import Recorder
from .facts import NodeFacts, binding_nodes, defined_function, yields
from .mutation import Mutations, Snapshot, same_contents
from .names import ImportMap
from .open_loops import open_parts, run_open
from .plain import join_vars, plain, safe_binop, same_value, unknown_like
from .scope import Scope
from .values import CONTAINERS, Instance, Layer, Tensor, TorchRef

if TYPE_CHECKING:  # annotations only: machine.py wires the parts
    from .api import EvaluatorPart, TensorsPart


class Executor:
    def __init__(self, budget: Budget, rec: Recorder, mutation: Mutations, facts: NodeFacts, scopes: List[Scope]):
        self.budget = budget
        self.rec = rec
        self.mutation = mutation
        self.facts = facts
        self.scopes = scopes  # see Evaluator.scopes
        self.returns: List[List[object]] = []  # early returns of the functions being run (Calls.call_function)
        self.yielding = True  # some file read has a `yield` (machine.py): only then may a loop hold one
        self.open_loops = 0  # loops of unknown length under way (open_loops.py)
        # the other parts, set by machine.py
        self.ev: EvaluatorPart = None  # type: ignore[assignment]
        self.ops: TensorsPart = None  # type: ignore[assignment]

    def exec_block(self, stmts: List[ast.stmt], scope: Scope) -> None:
        budget = self.budget
        for stmt in stmts:
            budget.steps += 1  # tick() inlined: a step per statement
            if budget.steps > budget.limit:
                raise OutOfBudget()
            method = _EXEC.get(type(stmt))
            if method is None:
                self.havoc([stmt], scope)
            else:
                method(self, stmt, scope)

    def s_Expr(self, stmt, scope):
        self.ev.eval(stmt.value, scope)

    def s_Pass(self, stmt, scope):
        pass

    def s_Assert(self, stmt, scope):
        pass

    def s_Return(self, stmt, scope):
        raise Return(None if stmt.value is None else self.ev.eval(stmt.value, scope))

    def s_Raise(self, stmt, scope):
        raise Raised()

    def s_Assign(self, stmt, scope):
        value = self.ev.eval(stmt.value, scope)
        for t in stmt.targets:
            if not self.assign(t, value, scope):
                self.havoc_target(t, scope)

    def s_AnnAssign(self, stmt, scope):
        if stmt.value is not None:
            value = self.ev.eval(stmt.value, scope)
            if not self.assign(stmt.target, value, scope):
                self.havoc_target(stmt.target, scope)

    def s_AugAssign(self, stmt, scope):
        load = _as_load(stmt.target)
        current = self.ev.eval(load, scope) if load is not None else UNKNOWN
        value = self.ev.eval(stmt.value, scope)
        if isinstance(current, list) and isinstance(stmt.op, ast.Add):
            items = self.ev.iterate(value)
            if items is UNKNOWN or not self.mutation.extend(current, items):  # `layers += [...]` changes it in place
                self.havoc_target(stmt.target, scope)
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
        scope.vars[stmt.name] = defined_function(stmt, scope, self.ev.imports)

    def s_ClassDef(self, stmt, scope):
        self.scopes.append(scope)
        scope.vars[stmt.name] = self.ev.make_class(stmt, scope)

    def s_Import(self, stmt, scope):
        local = ImportMap()
        local.add_import(stmt)
        for name, qual in local.names.items():
            scope.vars[name] = TorchRef(qual) if qual.split(".")[0] in ("torch", "math", "collections", "numpy", "functools") else UNKNOWN

    s_ImportFrom = s_Import

    def s_With(self, stmt, scope):
        for item in stmt.items:
            self.ev.eval(item.context_expr, scope)
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
        except (Break, Continue, Return):
            self.havoc([h for h in stmt.handlers], scope)
            self.exec_block(stmt.finalbody, scope)
            raise
        self.havoc([h for h in stmt.handlers], scope)
        self.exec_block(stmt.orelse, scope)
        self.exec_block(stmt.finalbody, scope)

    def s_If(self, stmt, scope):
        t = self.ev.truth(self.ev.eval(stmt.test, scope))
        self.rec.sides.add((stmt, t))  # None: both sides
        if t is not None:
            self.exec_block(stmt.body if t else stmt.orelse, scope)
            return
        self.branch(stmt.body, stmt.orelse, scope)

    def branch(self, body, orelse, scope: Scope) -> None:
        """Follow both sides of an undecidable `if`, then join them."""
        rec, mutation = self.rec, self.mutation
        rec.undecided += 1
        run = rec.run
        before = Snapshot(scope)
        selves = before.selves
        after = []
        results = []
        for block in (body, orelse):
            before.restore(mutation, scope)  # each side starts from what was before the `if`
            side = run.fork() if run is not None else None
            rec.run = side
            outcome = None
            try:
                self.exec_block(block, scope)
            except Return as r:
                outcome = ("return", r.value)
            except Raised:
                outcome = ("raise", None)
            except (Break, Continue):
                raise Unfollowed()  # the loop's state after it would be a join of paths: not followed
            finally:
                rec.run = run
            now = before.again(scope)
            results.append((outcome, now.vars, now.attrs, side))
            after.append(now.held)
        for box, ca, cb in zip(before.boxes, after[0], after[1]):
            # a list both sides leave alike keeps its items; otherwise its
            # length is no longer known
            if same_contents(ca, cb):
                mutation.restore(box, ca)
            else:
                mutation.poison(box)
        for inst in selves:  # as the join leaves them (set below), not as a side saw them
            mutation.note(inst)
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
            raise Return(v if all(same_value(v, r) for r in returns) else unknown_like(v))
        scope.vars = _merge_vars([v for v, _ in live])
        for k, inst in enumerate(selves):
            inst.attrs = _merge_vars([a[k] for _, a in live])  # noted above
        if returns and self.returns:
            # One side returned: what follows runs on the other side only, and
            # the function's result must agree with this early one to be known.
            self.returns[-1].extend(returns)

    def s_For(self, stmt, scope):
        it = self.ev.eval(stmt.iter, scope)
        items = self.ev.iterate(it)
        if self.yielding and self.facts.get(yields, stmt) or items is not UNKNOWN and len(items) > MAX_LOOP:
            self.havoc([stmt], scope)
            return
        if items is UNKNOWN:
            self._open_loop(stmt, it, scope)
            return
        if self._items(stmt, items, scope):
            self.exec_block(stmt.orelse, scope)  # no break: the loop's `else`

    def _items(self, stmt, items, scope) -> bool:
        """The passes of a loop over these items; False when it ended before the last."""
        for item in items:
            self.budget.tick()
            if not self.assign(stmt.target, item, scope):
                self.havoc([stmt], scope)
                return False
            if not self._iteration(stmt, scope):
                return False
        return True

    def _open_loop(self, stmt, it, scope) -> None:
        """A loop over what has no known length (open_loops.py)."""
        head, blocks, tail = open_parts(it)
        if not self._items(stmt, head, scope):
            return
        # a pass over one block repeated takes it; over a few, any of them (not known which)
        if not run_open(self, stmt, scope, blocks[0] if len(blocks) == 1 else UNKNOWN):
            self.havoc([stmt], scope)
            return
        self._items(stmt, tail, scope)

    def s_While(self, stmt, scope):
        if self.yielding and self.facts.get(yields, stmt):
            self.havoc([stmt], scope)
            return
        for _ in range(MAX_LOOP + 1):
            self.budget.tick()
            t = self.ev.truth(self.ev.eval(stmt.test, scope))
            if t is None:
                self.havoc([stmt], scope)  # what the iterations so far bound is unknown from here
                return
            if not t:
                self.exec_block(stmt.orelse, scope)
                return
            if not self._iteration(stmt, scope):
                return
        self.havoc([stmt], scope)

    def _iteration(self, loop, scope) -> bool:
        """One pass through a loop's body; False when the loop ends here (a
        `break`, or a jump on one side of an undecidable `if`: then the loop
        is not followed)."""
        try:
            self.exec_block(loop.body, scope)
        except Continue:
            pass
        except Break:
            return False
        except Unfollowed:
            self.havoc([loop], scope)
            return False
        return True

    def s_Break(self, stmt, scope):
        raise Break()

    def s_Continue(self, stmt, scope):
        raise Continue()

    def s_Delete(self, stmt, scope):
        for t in stmt.targets:
            if isinstance(t, ast.Subscript):
                self.mutation.del_item(self.ev.eval(t.value, scope), self.ev.eval(t.slice, scope))
            elif isinstance(t, ast.Name):
                scope.vars[t.id] = UNKNOWN
            else:
                self.havoc_target(t, scope)

    def havoc(self, stmts, scope: Scope) -> None:
        """Everything these statements might bind becomes unknown."""
        for stmt in stmts:
            for node in self.facts.get(binding_nodes, stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    scope.vars[node.id] = unknown_like(scope.vars.get(node.id))
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    self.havoc_target(node, scope)
                elif isinstance(node, ast.AugAssign):
                    self.havoc_target(node.target, scope)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _simple(node.func.value):
                    # `layers.append(...)`, `self.features.add_module(...)` in a
                    # loop we do not follow: their contents are unknown now
                    self._poison_box(self.ev.eval(node.func.value, scope))
                elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)) and _simple(node.value):
                    self._poison_box(self.ev.eval(node.value, scope))

    def _poison_box(self, target) -> None:
        if isinstance(target, (list, dict)) or (isinstance(target, Layer) and target.kind in CONTAINERS):
            self.mutation.poison(target)

    def havoc_target(self, target: ast.expr, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.vars[target.id] = unknown_like(scope.vars.get(target.id))
        elif isinstance(target, ast.Attribute):
            obj = self.ev.eval(target.value, scope)
            if isinstance(obj, Instance):
                self.mutation.set_attr(obj, target.attr, unknown_like(obj.attrs.get(target.attr)))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                self.havoc_target(e.value if isinstance(e, ast.Starred) else e, scope)
        elif isinstance(target, ast.Subscript):
            obj = self.ev.eval(target.value, scope)
            if isinstance(obj, dict):
                self.mutation.poison(obj)

    def assign(self, target: ast.expr, value, scope: Scope) -> bool:
        kind = type(target)  # ast node classes have no subclasses
        if kind is ast.Name:
            scope.vars[target.id] = value
            return True
        if kind is ast.Attribute:
            obj = self.ev.eval(target.value, scope)
            if type(obj) is Instance:
                self.mutation.set_attr(obj, target.attr, value)
                return True
            if isinstance(obj, Layer) and obj.kind in CONTAINERS:
                # setattr on a container registers a module: Sequential runs it
                if isinstance(value, (Layer, Instance)):
                    return self.mutation.call(obj, "add_module", [target.attr, value], {}, self.ev.iterate) is None
                if value is UNKNOWN:
                    self.mutation.poison(obj)
                return True
            return isinstance(obj, (Tensor, Layer)) or obj is UNKNOWN
        if isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                return False
            items = self.ev.iterate(value) if not isinstance(value, dict) else UNKNOWN
            if items is UNKNOWN or len(items) != len(target.elts):
                for e in target.elts:
                    self.assign(e, UNKNOWN, scope)
                return True
            return all(self.assign(e, v, scope) for e, v in zip(target.elts, items))
        if isinstance(target, ast.Subscript):
            return self.mutation.set_item(self.ev.eval(target.value, scope), self.ev.eval(target.slice, scope), value)
        return False


def _simple(node: ast.expr) -> bool:
    """`name` or `name.attr.attr`: safe to evaluate again."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _merge_vars(sides: List[Dict[str, object]]) -> Dict[str, object]:
    return sides[0] if len(sides) == 1 else join_vars(*sides)


def _as_load(target: ast.expr) -> Optional[ast.expr]:
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Attribute):
        return ast.Attribute(value=target.value, attr=target.attr, ctx=ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
    return None


# statement type -> its method (s_Assign...)
_EXEC = {getattr(ast, k[2:]): f for k, f in vars(Executor).items() if k.startswith("s_") and hasattr(ast, k[2:])}
