"""One run of the interpreter over a model: a class's forward(), or an
nn.Sequential applied, with a known input size or one nobody knows (then
only what holds for every input size can be found). A run cut short by the
budget reports nothing; so does one at an inferred size the model's first
sized layer rejects (it is not the model's input)."""
from __future__ import annotations

import ast
from typing import Callable, List, Optional

from ..findings import InputSource
from ..interp.budget import OutOfBudget
from ..interp.control import Raised
from ..interp.events import Run
from ..interp.machine import Interp
from ..interp.scope import Scope
from ..interp.values import UNKNOWN, Function, Instance, Layer, Tensor
from ..shapes.shape import Shape


def shape_of(inp: Optional[InputSource]) -> Shape:
    return Shape(tuple(inp.dims)) if inp is not None else Shape.unknown()


class Runner:
    def __init__(self, interp: Interp):
        self.interp = interp

    def run(self, thunk: Callable[[], object], inp: Optional[InputSource]) -> Optional[Run]:
        """What thunk found, as one run; None when the run does not count."""
        run = Run()
        interp = self.interp
        interp.begin_run(run)
        try:
            thunk()
        except (Raised, RecursionError):
            pass
        except OutOfBudget:
            interp.rec.log.stop(None, "", "the analysis' step budget ran out")
            return None  # cut short: its branches were not joined
        finally:
            interp.end_run()
        if inp is not None and not inp.explicit and run.rejects_input():
            return None  # the inferred size does not fit the model's first layer: not its input
        return run

    def forward(self, inst: Instance, shape: Shape, searchable: bool) -> None:
        """inst's forward() on one tensor of that shape (root: the one whose
        size the size search may look for), its other parameters unknown."""
        forward = inst.cls.bound_method("forward", inst)
        if forward is None:  # a subclass of a torch layer or of nn.Sequential runs torch's forward
            self.interp.layers.call_instance(inst, [Tensor(shape, root=searchable)], {}, None)
            return
        a = forward.node.args
        extra = len(a.posonlyargs + a.args) - 2
        rest = [UNKNOWN] * max(0, extra - len(a.defaults))
        self.interp.call_function(forward, [Tensor(shape, root=searchable)] + rest, {})

    def apply(self, seq: Layer, shape: Shape, searchable: bool) -> None:
        self.interp.apply_layer(seq, Tensor(shape, root=searchable), None)

    def built_by_enclosing_function(self, path: List[ast.AST], node: ast.Call) -> Optional[List[Layer]]:
        """Run the function an nn.Sequential is built in, its parameters
        unknown, so that what the function does to its layers before building
        (append, item assignment...) is seen: the nn.Sequentials it built at
        node. None when there is no such function."""
        if not path or not isinstance(path[-1], (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        fn = path[-1]
        if fn.decorator_list or any(isinstance(p, ast.ClassDef) for p in path):
            return None
        a = fn.args
        params = [p.arg for p in a.posonlyargs + a.args] + [p.arg for p in a.kwonlyargs]
        built = self.interp.rec.log.built
        start = len(built)
        outer = self.scope_for(path[:-1])
        self.guarded(lambda: self.interp.call_function(Function(fn, outer), [], {p: UNKNOWN for p in params}), None)
        return [s for s in built[start:] if s.node is node]

    def scope_for(self, path: List[ast.AST]) -> Scope:
        """The scope of a place in the file, outside any run: the enclosing
        functions' parameters unknown."""
        scope: Scope = self.interp.module
        for node in path:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                a = node.args
                params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
                params += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
                body = node.body if isinstance(node.body, list) else []
                scope = self.interp.module_scope(body, scope, unknown=params)
            elif isinstance(node, ast.ClassDef):
                scope = self.interp.module_scope(node.body, scope)
        return scope

    def evaluate(self, expr: ast.expr, path: List[ast.AST]):
        """A value where it stands in the file, outside any model run."""
        scope = self.scope_for(path)
        return self.guarded(lambda: self.interp.eval(expr, scope), UNKNOWN)

    @staticmethod
    def guarded(thunk, default):
        try:
            return thunk()
        except (Raised, RecursionError, OutOfBudget):
            return default
