"""What the interpreter computes: plain Python constants, UNKNOWN, and these."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ..shapes import Args, LayerSpec, Shape
from ..shapes.registry import UNKNOWN  # noqa: F401  (re-exported)


@dataclass(eq=False)
class Tensor:
    shape: Shape
    # how this tensor came from one other: (parent, step, layer) where
    # step(shape) redoes the op; None where it came from several or none
    origin: Optional[tuple] = field(default=None, repr=False)
    root: bool = False  # the model's input, when its size is unknown


class SizeInt(int):
    """A size read off a tensor (`x.shape`, `x.size(d)`) or computed from one.
    `x.reshape(-1, W, C)` with such sizes folds part of the sample into the
    batch on purpose (per-row RNNs, attention windows), so it is no CNS005."""


@dataclass(eq=False)
class TorchRef:
    """A torch module, class or function named in the source (`nn`, `nn.Conv2d`, `F.relu`)."""

    qual: str


@dataclass(eq=False)
class Layer:
    """A constructed torch.nn layer. `spec` is None for torch layers the engine
    does not model (LSTM, MultiheadAttention...): calling one ends the shape."""

    kind: str
    node: ast.Call = field(repr=False)
    spec: Optional[LayerSpec] = field(default=None, repr=False)
    args: Optional[Args] = field(default=None, repr=False)
    children: Optional[List[object]] = None  # Sequential / ModuleList
    items: Optional[Dict[object, object]] = None  # ModuleDict

    @property
    def display(self) -> str:
        return f"nn.{self.kind}"


@dataclass(eq=False)
class Function:
    node: ast.AST  # FunctionDef or Lambda
    scope: object  # the Scope it closes over
    bound_self: object = None  # for methods fetched from an instance
    owner: object = None  # the ClassInfo a method is defined in, for super()


@dataclass(eq=False)
class ClassInfo:
    node: ast.ClassDef
    scope: object
    is_module: bool  # derives from torch.nn.Module (directly or through the file)
    bases: List[object] = field(default_factory=list)
    # what lookup() and Interp.class_attr found, by name: neither the class
    # bodies nor the bases change during a file
    found: Dict[str, object] = field(default_factory=dict, repr=False)
    attr_defs: Dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.node.name

    def method(self, name: str) -> Optional[ast.FunctionDef]:
        found = self.lookup(name)
        return found[1] if found else None

    def bound_method(self, name: str, obj) -> Optional[Function]:
        """Method `name` (here or in a base of the file) bound to obj, or None."""
        found = self.lookup(name)
        return None if found is None else Function(found[1], found[0].scope, obj, found[0])

    def lookup(self, name: str, depth: int = 0):
        """(defining class, FunctionDef) of a method, searching the bases
        defined in the file depth first (Python's order for single bases)."""
        if depth == 0 and name in self.found:
            return self.found[name]
        got = next(((self, stmt) for stmt in self.node.body
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name), None)
        if got is None:
            got = self.lookup_in_bases(name, depth)
        if depth == 0:
            self.found[name] = got
        return got

    def lookup_in_bases(self, name: str, depth: int = 0):
        if depth < 16:
            for b in self.bases:
                if isinstance(b, ClassInfo):
                    found = b.lookup(name, depth + 1)
                    if found:
                        return found
        return None


@dataclass(eq=False)
class Instance:
    """An instance of a class defined in the file (usually an nn.Module)."""

    cls: ClassInfo
    attrs: Dict[str, object] = field(default_factory=dict)
    node: Optional[ast.Call] = None  # where it was constructed
    complete: bool = True  # False when __init__ could not be followed to the end


@dataclass(eq=False)
class Method:
    """A bound method of a plain Python value (list.append, dict.items)."""

    obj: object
    name: str
