"""One file's interpreter: its parts built and wired together.

It evaluates constants, helper functions, class __init__ bodies and forward()
over abstract values (values.py): plain Python constants, UNKNOWN, torch
layers and tensors whose shapes the engine tracks. Whatever it does not
understand becomes UNKNOWN; it never guesses. All work is bounded by one
Budget, and every loop by an iteration cap.

    Evaluator (expressions) --> Calls (functions, classes, layers, methods)
        ^                         |         |
        |                         v         v
    Executor (statements) <-- bodies    Layers (layers, models) / TensorOps (ops)

What it notes goes to one Recorder (events.py); what it changes in place
goes through Mutations (mutation.py).
"""
from __future__ import annotations

import ast
from typing import List, Optional

from ..speed.build_cache import BuildCache
from ..speed.replay import Replays
from .budget import MAX_STEPS, Budget, OutOfBudget
from .calls import Calls
from .control import Raised
from .evaluator import Evaluator
from .events import Recorder, Run
from .executor import Executor
from .facts import NodeFacts
from .layers import Layers
from .mutation import Mutations
from .names import ImportMap
from .project import Project
from .scope import ModuleScope, Scope
from .tensors import TensorOps
from .values import ClassInfo


class Interp:
    def __init__(self, tree: ast.Module, imports: ImportMap, index, max_steps: int = MAX_STEPS, path: Optional[str] = None):
        self.tree = tree
        self.imports = imports
        self.index = index
        self.budget = Budget(max_steps)
        self.rec = Recorder()
        self.mutation = Mutations()
        self.facts = NodeFacts()
        self.cache = BuildCache(self.mutation.changed)
        self.scopes: List[Scope] = []  # closed over by what was made in them: close() empties them
        ev = self.ev = Evaluator(self.budget, self.rec, imports, self.facts, self.scopes)
        ex = self.ex = Executor(self.budget, self.rec, self.mutation, self.facts, self.scopes)
        ex.yielding = bool(index.generators)
        calls = self.calls = Calls(self.budget, self.rec, self.mutation, self.facts, self.cache, index.generators)
        layers = self.layers = Layers(self.budget, self.rec, self.mutation, Replays(self.cache, self.budget, self.rec, self.mutation))
        ops = self.ops = TensorOps(self.rec)
        ev.calls, ev.ex, ev.ops = calls, ex, ops
        ex.ev, ex.ops = ev, ops
        calls.ev, calls.ex, calls.layers, calls.ops = ev, ex, layers, ops
        layers.calls = calls
        ops.ev = ev
        self.module = ModuleScope(ev.define, index.info, tree.body, None, imports=imports, file=path)
        self.scopes.append(self.module)
        ev.module = self.module
        ev.project = Project(path, self._foreign_scope)  # without a path (stdin): only the zoo
        ev.module_body = tree.body

    def _foreign_scope(self, path: str, tree: ast.Module, index, imports: ImportMap) -> ModuleScope:
        """Another file of the project, read (project.py): its module scope here."""
        scope = ModuleScope(self.ev.define, index.info, tree.body, None, imports=imports, file=path)
        self.scopes.append(scope)
        self.calls.generators = self.calls.generators | index.generators
        self.ex.yielding = bool(self.calls.generators)
        return scope

    def module_scope(self, body: List[ast.stmt], parent: Scope = None, unknown=()) -> ModuleScope:
        """A scope whose names bound once are worked out on first use: the
        module's, a class body's, or a function's with unknown parameters."""
        scope = ModuleScope(self.ev.define, self.index.info, body, parent, unknown)
        self.scopes.append(scope)
        return scope

    # -- what the models' runs use ---------------------------------------
    def eval(self, node: ast.expr, scope: Scope):
        return self.ev.eval(node, scope)

    def instantiate(self, cls: ClassInfo, args, kwargs, node, keep: bool = True):
        return self.calls.instantiate(cls, args, kwargs, node, keep)

    def call_function(self, fn, args, kwargs):
        return self.calls.call_function(fn, args, kwargs)

    def bind_params(self, a: ast.arguments, args, kwargs, scope: Scope, defining: Scope) -> bool:
        return self.calls.bind_params(a, args, kwargs, scope, defining)

    def apply_layer(self, layer, x, call_node=None):
        return self.layers.apply_layer(layer, x, call_node)

    def watch_builds(self, cls: ClassInfo, thunk) -> list:
        """The (args, kwargs) of each build of cls thunk asks for, the builds
        themselves not made (the file's budget spent on it; a failure ends it,
        what was asked for until then counts)."""
        watched = self.calls.watch = (cls.node, [])
        try:
            thunk()
        except (OutOfBudget, Raised, RecursionError):
            pass
        finally:
            self.calls.watch = None
        return watched[1]

    def start_model(self) -> None:
        """A model's runs begin: their steps are counted from here."""
        self.budget.start_model()

    def begin_run(self, run: Run) -> None:
        """What the interpreter finds goes to run until end_run()."""
        self.rec.begin(run)

    def end_run(self) -> None:
        self.rec.end()

    def close(self) -> None:
        """Let go of the file's values. The module scope holds its classes,
        which hold it back (and their method caches hold them): left as they
        are, every file's values would be freed only by a cyclic collection
        later in flake8's run, which then also walks all of flake8's objects."""
        for scope in self.scopes:
            for v in scope.vars.values():
                if isinstance(v, ClassInfo):
                    v.found.clear()
                    v.attr_defs.clear()
            if isinstance(scope, ModuleScope):
                scope.clear()
            else:
                scope.vars.clear()
        self.scopes.clear()
        for part in (self.ev, self.ex, self.calls, self.layers, self.ops):
            part.__dict__.clear()
        self.cache.clear()
        self.rec.log.clear()
        self.facts.found.clear()
