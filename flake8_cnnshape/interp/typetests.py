"""What Python answers about a value's kind, for builders that branch on it:
isinstance(v, kind), callable(v), inspect.isfunction(v), inspect.isclass(v)
(`if isfunction(norm): norm = norm(channels)`), hasattr(self, name)
(`self.shortcut(out) if hasattr(self, 'shortcut') else x`). UNKNOWN where the
answer depends on what the interpreter does not model (a library's object, a
value nobody knows)."""
from __future__ import annotations

import ast

from ..shapes.catalog import LAYERS
from ..shapes.signature import UNKNOWN
from .builtins import PY_TYPES, Builtin, nn_class
from .facts import class_body_names
from .plain import plain
from .values import MODULES_UNKNOWN, ClassInfo, Fixed, Function, Instance, Layer, Method, Partial, Tensor, TorchRef

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
    if t is Layer or t is Method or t is Partial or t is Instance and v.cls.is_module:
        return name == "callable"
    if t is Builtin:  # int, str are classes; len, range are builtin functions, not Python ones
        return name == "callable" or name == "inspect.isclass" and v.name in PY_TYPES
    if t is TorchRef and (nn_class(v.qual) or ("",))[0]:  # a torch.nn layer class
        return name != "inspect.isfunction"
    return UNKNOWN


# the public names every torch.nn.Module instance has (dir(nn.Module()); tests/test_typetests.py holds it against torch)
MODULE_NAMES = frozenset(
    "T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches "
    "eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict "
    "modules mtia named_buffers named_children named_modules named_parameters parameters register_backward_hook "
    "register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook "
    "register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook "
    "register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ "
    "set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu zero_grad".split())
# what sets attributes by names the source does not spell (`self.__dict__.update(kw)`, `setattr(self, k, v)`)
_DYNAMIC = frozenset({"__dict__", "setattr", "delattr", "vars", "__setattr__", "__delattr__", "locals"})


def has_attribute(v, name):
    """hasattr(v, name) for an instance of the file's classes, or UNKNOWN:
    every base the file's own or nn.Module, none setting attributes by names
    it does not spell; then True for an attribute set to a known value, a name
    a class body binds or nn.Module has, and False for any other once __init__
    was followed to the end."""
    if type(v) is not Instance or type(name) is not str or name.startswith("_"):
        return UNKNOWN
    chain = _chain(v.cls)
    if chain is None or any(_bound_names(c)[1] for c in chain):
        return UNKNOWN
    got = v.attrs.get(name, _ABSENT)
    if got is not _ABSENT:
        # a value both sides of an `if` set stays as it was; one only one side set is unknown now
        return UNKNOWN if got is UNKNOWN or type(got) is Tensor and got.shape.rank is None else True
    if not v.complete or MODULES_UNKNOWN in v.attrs:
        return UNKNOWN
    return name in MODULE_NAMES or any(name in _bound_names(c)[0] for c in chain)


_ABSENT = object()


def _chain(cls: ClassInfo):
    """The class and its bases, when each base is the file's own or torch.nn.Module; else None."""
    out, seen, todo = [], set(), [cls]
    while todo:
        c = todo.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        out.append(c)
        for b in c.bases:
            if type(b) is ClassInfo:
                todo.append(b)
            elif not (type(b) is TorchRef and b.qual == "torch.nn.Module"):
                return None
    return out


def _bound_names(cls: ClassInfo):
    """(names the class body binds, whether any of its code sets or deletes
    attributes in ways the interpreter does not follow: by names it does not
    spell, or `del`)."""
    got = cls.attr_defs.get(_BOUND)
    if got is None:
        # a body statement that binds other than a plain name (`a, b = ...`, `n += 1`, an `if`, a `try`) is not read
        dynamic = any(not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Expr, ast.Pass))
                      and not (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and all(
                          isinstance(t, ast.Name) for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])))
                      for stmt in cls.node.body)
        dynamic = dynamic or any(isinstance(n, ast.Name) and n.id in _DYNAMIC or isinstance(n, ast.Attribute)
                                 and n.attr in _DYNAMIC or isinstance(n, ast.Delete) for n in ast.walk(cls.node))
        got = cls.attr_defs[_BOUND] = (frozenset(class_body_names(cls.node)), dynamic)
    return got


_BOUND = " bound names"  # the key of _bound_names' answer in ClassInfo.attr_defs (no attribute is named so)


IDENTITY = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)


def classes(a, b) -> bool:
    """Two classes of the files read, or one and a torch class: `==` is `is` for them."""
    return type(a) is ClassInfo and (type(b) is ClassInfo or type(b) is TorchRef) or type(b) is ClassInfo and type(a) is TorchRef
