"""What Python answers about a value's kind, for builders that branch on it:
isinstance(v, kind), callable(v), inspect.isfunction(v), inspect.isclass(v)
(`if isfunction(norm): norm = norm(channels)`). UNKNOWN where the answer
depends on what the interpreter does not model (a library's object, a value
nobody knows)."""
from __future__ import annotations

from ..shapes.catalog import LAYERS
from ..shapes.signature import UNKNOWN
from .builtins import PY_TYPES, Builtin, nn_class
from .plain import plain
from .values import ClassInfo, Fixed, Function, Instance, Layer, Method, Tensor, TorchRef

_LAYER_NAMES = frozenset(LAYERS) | {"Sequential", "ModuleList", "ModuleDict"}
KIND_TESTS = ("callable", "inspect.isfunction", "inspect.isclass")


def is_instance(v, kind):
    """isinstance(v, kind) as Python decides it, or UNKNOWN: Python's own
    types on plain values, the file's classes on their instances, torch.nn's
    layer classes on layers (a Lazy layer is an instance of its plain class)."""
    if isinstance(kind, tuple):
        got = [is_instance(v, k) for k in kind]
        return True if True in got else UNKNOWN if UNKNOWN in got else False
    if v is UNKNOWN:
        return UNKNOWN
    if type(kind) is Builtin and kind.name in PY_TYPES:
        return isinstance(v, PY_TYPES[kind.name]) if plain(v) or type(v) in (list, tuple, dict) else False
    if type(kind) is ClassInfo:
        if type(v) is not Instance:
            return False if plain(v) or type(v) in (Layer, Tensor) else UNKNOWN
        todo, seen = [v.cls], set()
        while todo:
            c = todo.pop()
            if c is kind:
                return True
            if id(c) not in seen:
                seen.add(id(c))
                todo += [b for b in c.bases if type(b) is ClassInfo]
        return False if all(type(b) is ClassInfo or type(b) is TorchRef for b in v.cls.bases) else UNKNOWN
    if type(kind) is TorchRef and kind.qual.startswith("torch.nn.") and kind.qual.count(".") == 2:
        name = kind.qual[len("torch.nn."):]
        if type(v) is Layer:
            if name == "Module":
                return True
            return True if v.kind in (name, "Lazy" + name) else False if name in _LAYER_NAMES else UNKNOWN
        if plain(v):
            return False
    return UNKNOWN


def kind_test(name: str, args, kwargs):
    """callable(v) / inspect.isfunction(v) / inspect.isclass(v)."""
    if len(args) != 1 or kwargs:
        return UNKNOWN
    v = args[0]
    t = type(v)
    if plain(v) or t in (list, tuple, dict, Tensor, Fixed):
        return False
    if t is Function:  # a def or a lambda; bound_self: a bound method, which isfunction() is not
        return True if name == "callable" else name == "inspect.isfunction" and v.bound_self is None
    if t is ClassInfo:
        return name != "inspect.isfunction"
    if t is Layer or t is Method or t is Instance and v.cls.is_module:
        return name == "callable"
    if t is Builtin:  # int, str are classes; len, range are builtin functions, not Python ones
        return name == "callable" or name == "inspect.isclass" and v.name in PY_TYPES
    if t is TorchRef and (nn_class(v.qual) or ("",))[0]:  # a torch.nn layer class
        return name != "inspect.isfunction"
    return UNKNOWN
