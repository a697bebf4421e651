"""Classes of the file that derive a torch class: what `super()` reaches there.

An nn.Sequential subclass's `super().__init__(*layers)` gives its first
modules, and its `super().forward(x)` runs them in turn.

A class deriving a layer the engine models (`class MaskedConv2d(nn.Conv2d)`,
`class NCHWLayerNorm(nn.LayerNorm)`) keeps the layer torch's own __init__
builds from the arguments handed to it (`super().__init__(...)`, or the
class's arguments when it has no __init__), and that layer runs where torch's
forward would: when the class has no forward, or at `super().forward(x)`. A
class that sets what that layer reads (its weight or bias, or one of the
layer's arguments) keeps none: its layer is not the one the arguments say."""
from __future__ import annotations

import ast
from typing import Optional

from ..shapes.signature import UNKNOWN, bind_alike
from .builtins import nn_class
from .facts import call_as
from .values import MODULES_UNKNOWN, ClassInfo, Instance, Layer, Super, Tensor, TorchRef

BASE = " layer"  # the instance attribute that holds it: no source can spell it
_SETTERS = frozenset(("setattr", "register_parameter", "__dict__", "__setattr__", "reset_parameters"))


def derives_layer(cls: ClassInfo) -> bool:
    """Does cls derive a modelled torch layer? Its builds are not kept for copies: the layer is placed at
    each build (cached on the class, under a name no lookup asks for)."""
    got = cls.found.get(BASE)
    if got is None:
        got = cls.found[BASE] = torch_layer(cls) is not None
    return got


def torch_layer(cls: ClassInfo, depth: int = 0) -> Optional[tuple]:
    """(name, spec) of the modelled torch layer the class derives, through the file's classes."""
    for b in cls.bases:
        if type(b) is TorchRef:
            found = nn_class(b.qual)
            if found is not None and found[1] is not None:
                return found
        elif type(b) is ClassInfo and depth < 16:
            found = torch_layer(b, depth + 1)
            if found is not None:
                return found
    return None


def _classes_to_layer(cls: ClassInfo, depth: int = 0) -> list:
    """cls and its file bases, up to the torch layer."""
    out = [cls]
    for b in cls.bases:
        if type(b) is ClassInfo and depth < 16:
            out.extend(_classes_to_layer(b, depth + 1))
    return out


def self_sets(cls_node: ast.ClassDef):
    """The `self.<name>` the class body assigns; None when it may set attributes in a way not seen."""
    names = set()
    for node in ast.walk(cls_node):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                    names.add(t.attr)
        elif isinstance(node, ast.Attribute) and node.attr in _SETTERS or isinstance(node, ast.Name) and node.id in _SETTERS:
            return None
    return frozenset(names)


def base_layer(facts, cls: ClassInfo) -> Optional[tuple]:
    """(name, spec) of the torch layer an instance of cls runs as, or None (no such base, or the class changes it)."""
    found = torch_layer(cls)
    if found is None:
        return None
    reads = set(found[1].sig.params) | {"weight", "bias"}
    for c in _classes_to_layer(cls):
        sets = facts.get(self_sets, c.node)
        if sets is None or sets & reads:
            return None
    return found


def _passes_through(call: ast.Call, init: Optional[ast.FunctionDef]) -> bool:
    """Is `super().__init__(*args, **kwargs)` handing on just what its __init__ was given? Then the
    numbers to change are at the class's build, and the layer is placed there."""
    if init is None or not call.args and not call.keywords:
        return False
    a = init.args
    if a.posonlyargs or a.kwonlyargs:
        return False
    star = a.vararg.arg if a.vararg is not None else None
    double = a.kwarg.arg if a.kwarg is not None else None
    plain_args = all(isinstance(x, ast.Starred) and isinstance(x.value, ast.Name) and x.value.id == star for x in call.args)
    plain_kwargs = all(k.arg is None and isinstance(k.value, ast.Name) and k.value.id == double for k in call.keywords)
    return plain_args and plain_kwargs


def _own_init(cls: ClassInfo) -> Optional[ast.FunctionDef]:
    return next((s for s in cls.node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)


def build_base(calls, inst: Instance, args, kwargs, node, at_super: Optional[ClassInfo] = None) -> bool:
    """Keep on inst the torch layer its class derives, built from args (what `super().__init__` got, at_super
    the class whose __init__ called it; None: the class has no __init__, args are its build's). True if kept."""
    found = base_layer(calls.facts, inst.cls)
    init = _own_init(inst.cls)
    direct = at_super is None or at_super is inst.cls and _passes_through(node, init)
    place = _at_build(calls.facts, inst.node, init) if direct and inst.node is not None else node
    if found is None or place is None:  # (a class analysed as a model on its own has no build to place it at)
        return False
    bound = bind_alike(calls.bound, found[0], found[1].sig, args, kwargs)
    layer = Layer(found[0], place, found[1], bound) if bound is not None else Layer(found[0], place)
    calls.mutation.set_attr(inst, BASE, layer)
    return True


def _at_build(facts, build: ast.Call, init: Optional[ast.FunctionDef]):
    """The build as the torch layer's call: `MaskedConv2d(True, 3, 16, 3)` without the arguments the class's
    own parameters take (is_causal), so that the layer's arguments are where `cnnshape fix` looks for them.
    None when a starred argument hides which those are."""
    own = len(init.args.args) - 1 if init is not None else 0  # (self)
    if own <= 0:
        return build
    if any(isinstance(a, ast.Starred) for a in build.args[:own]):
        return None
    return call_as(facts, build, ("layer call", own), lambda call: call.args[own:])


def super_method(calls, obj: Super, name: str, args, kwargs, node):
    """`super().<name>(...)` where super() is a torch class (a base of the file's is followed as a function)."""
    inst = obj.obj if type(obj.obj) is Instance else None
    sequential = obj.cls is not None and obj.cls.derives("torch.nn.Sequential") and inst is not None
    if name == "__init__" and sequential:
        _sequential_init(calls, inst, args, kwargs)
    elif name == "__init__" and inst is not None:
        build_base(calls, inst, args, kwargs, node, obj.cls)
    if name != "forward":
        return None  # super().__init__(...) and friends: nothing else we track
    base = inst.attrs.get(BASE) if inst is not None else None
    if base is not None:  # torch's forward of the layer the class derives
        return calls.layers.call_module(base, args, kwargs, node)
    if sequential and len(args) == 1 and not kwargs and type(args[0]) is Tensor:
        return calls.layers.sequential_forward(inst, args[0], node)  # its modules in turn
    return UNKNOWN


def _sequential_init(calls, inst: Instance, args, kwargs) -> None:
    """nn.Sequential.__init__ of a subclass: its arguments are its first modules."""
    set_attr = calls.mutation.set_attr
    if kwargs or any(type(a) not in (Layer, Instance) for a in args) and not (len(args) == 1 and type(args[0]) is dict):
        set_attr(inst, MODULES_UNKNOWN, True)
        return
    items = args[0].items() if len(args) == 1 and type(args[0]) is dict else ((str(i), a) for i, a in enumerate(args))
    for key, module in items:
        if type(module) not in (Layer, Instance) or not isinstance(key, str):
            set_attr(inst, MODULES_UNKNOWN, True)
            return
        set_attr(inst, key, module)
