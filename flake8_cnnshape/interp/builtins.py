"""Python's builtins and the library functions the interpreter follows
(range, len, min, math.floor, OrderedDict...), and what a torch.nn name
stands for. A builtin that fails on the values it is given gives UNKNOWN."""
from __future__ import annotations

import math
from functools import lru_cache

from ..shapes.catalog import LAYERS
from ..shapes.signature import UNKNOWN
from .budget import MAX_LOOP, MAX_SEQ
from .plain import is_int
from .values import Super, TorchRef

# module methods that return the module itself
SELF_RETURNING = ("to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train", "eval", "requires_grad_", "apply",
                  "type", "share_memory", "zero_grad")
ITERATING = ("len", "list", "tuple", "enumerate", "zip", "reversed")  # take any iterable the interpreter can enumerate
SUPER = " super"  # the name a bare super() is bound to in a method's scope: no source can spell it


class Builtin:
    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn

    def __call__(self, args):
        try:
            r = self.fn(*args)
        except Exception:
            return UNKNOWN
        if isinstance(r, (list, tuple)) and len(r) > MAX_SEQ:
            return UNKNOWN
        return r


class _SuperBuiltin(Builtin):
    __slots__ = ()

    def __call__(self, args):
        return Super(args[0], args[1]) if len(args) == 2 else Super(None, None)


def _range(*a):
    if not all(is_int(v) for v in a):
        raise TypeError
    r = range(*a)
    if len(r) > MAX_LOOP:
        raise ValueError
    return r


def _seq(fn):
    def wrapped(*a):
        if a and isinstance(a[0], (range, list, tuple, str, dict)):
            return fn(*a)
        raise TypeError

    return wrapped


def _ints_only(fn):
    def wrapped(*a):
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) or isinstance(v, (list, tuple, range)) for v in a):
            raise TypeError
        return fn(*a)

    return wrapped


BUILTINS = {
    name: Builtin(name, fn)
    for name, fn in {
        "range": _range,
        "len": _seq(len),
        "int": _ints_only(int),
        "float": _ints_only(float),
        "min": _ints_only(min),
        "max": _ints_only(max),
        "abs": _ints_only(abs),
        "sum": _ints_only(sum),
        "round": _ints_only(round),
        "list": lambda *a: list(a[0]) if a else [],
        "tuple": lambda *a: tuple(a[0]) if a else (),
        "dict": lambda *a: dict(a[0]) if a else {},
        "enumerate": lambda it, start=0: list(enumerate(it, start)),
        "zip": lambda *its: list(zip(*its)),
        "reversed": lambda it: list(reversed(it)),
        "str": lambda v: str(v) if isinstance(v, (int, str)) else UNKNOWN,
        "bool": bool,
        "print": lambda *a: None,
    }.items()
}
BUILTINS["super"] = _SuperBuiltin("super", None)
BUILTINS["isinstance"] = Builtin("isinstance", None)  # Calls.call_builtin does these
BUILTINS["type"] = Builtin("type", None)
BUILTINS["callable"] = Builtin("callable", None)
EVAL = BUILTINS["eval"] = Builtin("eval", None)  # of a name only (Evaluator._eval_name): any other text is not followed
BUILTINS["hasattr"] = Builtin("hasattr", None)
# the builtins that name a Python type, for isinstance() and type()
PY_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": tuple, "dict": dict}

# str methods followed, on plain values (their results stay short: Calls.str_method)
STR_METHODS = frozenset("format join replace lower upper strip lstrip rstrip split startswith endswith zfill isdigit".split())
BUILTINS["setattr"] = Builtin("setattr", None)  # Calls.builtin_attr does these
BUILTINS["map"] = Builtin("map", None)  # Calls.builtin_map
BUILTINS["getattr"] = Builtin("getattr", None)
# `__import__("argparse").Namespace(...)`: the libraries whose names the interpreter follows
_IMPORTABLE = frozenset(("argparse", "types", "math", "collections", "numpy", "torch", "functools", "typing"))
BUILTINS["__import__"] = Builtin("__import__", lambda name: TorchRef(name.partition(".")[0]) if name in _IMPORTABLE else UNKNOWN)


def ordered_dict(args, kwargs):
    """dict(...) and OrderedDict(...): from a dict or a list of pairs, then the
    keywords (`dict(relu=nn.ReLU, gelu=nn.GELU)`: a table of layer classes)."""
    if len(args) > 1:
        return UNKNOWN
    out: dict = {}
    src = args[0] if args else {}
    if isinstance(src, dict):
        out.update(src)
    elif not isinstance(src, (list, tuple)):
        return UNKNOWN
    else:
        for pair in src:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], (str, int)):
                return UNKNOWN
            out[pair[0]] = pair[1]
    out.update(kwargs)
    return out


_MATH = {"floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt, "log2": math.log2, "gcd": math.gcd}
# numpy's on plain numbers: its floor and ceil give floats, where math's give ints
_NUMPY = {"floor": lambda v: float(math.floor(v)), "ceil": lambda v: float(math.ceil(v)), "sqrt": math.sqrt,
          "log2": math.log2}
_OF_SEQUENCE = {"prod": math.prod, "sum": sum}  # np.prod(img_shape), math.prod(shape): over a sequence of numbers


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= 2 ** 64


def math_call(name: str, args, kwargs):
    """`math.<name>(...)` and `numpy.<name>(...)` on plain numbers (name with its module: "numpy.prod")."""
    module, _, name = name.partition(".")
    if kwargs:
        return UNKNOWN
    if name in _OF_SEQUENCE and (module == "numpy" or name == "prod") and len(args) == 1:
        items = args[0]
        if isinstance(items, (list, tuple)) and all(_number(v) for v in items):
            if module == "numpy" and not items:
                return 1.0 if name == "prod" else 0.0  # numpy's empty product and sum are floats
            return _OF_SEQUENCE[name](items)
        return items if module == "numpy" and _number(items) else UNKNOWN
    fn = (_NUMPY if module == "numpy" else _MATH).get(name)
    if fn is None or not all(_number(a) for a in args):
        return UNKNOWN
    try:
        return fn(*args)
    except (ValueError, TypeError, OverflowError):
        return UNKNOWN


@lru_cache(maxsize=None)
def nn_class(qual: str):
    """For `torch.nn.X`: (X, its LayerSpec or None); X is "" when it is no
    layer class (nn.Parameter, nn.init...). None for other names."""
    if not qual.startswith("torch.nn.") or qual.count(".") != 2:
        return None
    name = qual.rsplit(".", 1)[1]
    spec = LAYERS.get(name)
    return (name, spec) if spec is not None or is_layer_class(qual) else ("", None)


def is_module_class(qual: str) -> bool:
    """nn.Module, a torch.nn layer or container class, or one of the private
    bases torch's layers share (`torch.nn.modules.batchnorm._BatchNorm`,
    `_ConvNd`): a class deriving from it is an nn.Module."""
    if qual == "torch.nn.Module" or is_layer_class(qual):
        return True
    parts = qual.split(".")
    return len(parts) == 3 and parts[:2] == ["torch", "nn"] and parts[2][:1] == "_" and parts[2][1:2].isupper()


def is_layer_class(qual: str) -> bool:
    """torch.nn.SomeClass: a layer the engine does not model."""
    parts = qual.split(".")
    return len(parts) == 3 and parts[:2] == ["torch", "nn"] and parts[2][:1].isupper() and parts[2] not in ("Parameter", "Module")
