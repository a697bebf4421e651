"""What the interpreter's parts offer one another. machine.py builds the
parts and wires each to the others it needs. The parts call one another
both ways (an expression calls a function, a function runs statements,
statements evaluate expressions), so a part names the others only through
these interfaces, and only in annotations (imported under TYPE_CHECKING):
no part's module imports another part's."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Protocol

from .budget import Budget
from .scope import Scope
from .values import ClassInfo, Function, Instance, Tensor


class EvaluatorPart(Protocol):
    """Expressions (evaluator.py)."""

    budget: Budget
    ex: "ExecutorPart"

    def eval(self, node: ast.expr, scope: Scope): ...

    def truth(self, v) -> Optional[bool]: ...

    def iterate(self, v): ...

    def attribute(self, obj, attr: str): ...

    def make_class(self, node: ast.ClassDef, scope: Scope) -> ClassInfo: ...


class ExecutorPart(Protocol):
    """Statements (executor.py)."""

    returns: List[List[object]]

    def exec_block(self, stmts: List[ast.stmt], scope: Scope) -> None: ...

    def assign(self, target: ast.expr, value, scope: Scope) -> bool: ...


class CallsPart(Protocol):
    """Calls of every kind (calls.py)."""

    def call(self, func, args: List[object], kwargs: Dict[str, object], node: ast.Call): ...

    def call_function(self, fn: Function, args, kwargs): ...

    def instantiate(self, cls: ClassInfo, args, kwargs, node, keep: bool = True) -> object: ...


class LayersPart(Protocol):
    """Layers and models applied to tensors (layers.py)."""

    def call_module(self, mod, args, kwargs, node): ...

    def apply_layer(self, layer, x: Tensor, call_node) -> Tensor: ...

    def call_instance(self, inst: Instance, args, kwargs, node): ...

    def sequential_forward(self, inst: Instance, x: Tensor, node) -> Tensor: ...


class TensorsPart(Protocol):
    """torch.* and F.* ops, tensor methods and arithmetic (tensors.py)."""

    def binary(self, node, a, b): ...

    def attribute(self, t: Tensor, attr: str): ...

    def call_torch(self, qual: str, args, kwargs, node): ...

    def method(self, t: Tensor, name: str, args, kwargs, node): ...

    def builtin(self, name: str, args, node): ...

    def index(self, t: Tensor, key): ...
