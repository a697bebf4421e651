"""Reading values: the truth of a value, the items of an iterable, attribute
reads and subscripts on the interpreter's values (instances, layers, torch
names, containers, configs). A mixin of the Evaluator, which gives it `eval`,
`refs`, `rec`, `ops` and `module_attribute`."""
from __future__ import annotations

import ast
from typing import Optional

from ..shapes.int_args import NORM_SIZES
from ..shapes.signature import UNKNOWN
from .budget import MAX_LOOP, MAX_SEQ
from .builtins import SELF_RETURNING, STR_METHODS
from .configs import ArgParser
from .facts import class_attr_def, method_kind, modules_only_read
from .mutation import DICT_MUTATORS, LIST_MUTATORS
from .names import normalize
from .plain import is_int, plain
from .scope import MISSING
from .torch_subclasses import BASE
from .values import (CONTAINERS, ClassInfo, Config, Fixed, Function, Instance, Layer, Method, ModuleRef, Super, Tensor,
                     TorchRef, children, known_position, unknown_length)

_LIST_METHODS = LIST_MUTATORS | {"copy"}
_PARSER_METHODS = ("add_argument", "set_defaults", "parse_args", "parse_known_args", "add_argument_group",
                   "add_mutually_exclusive_group")
# nn.Module methods on an instance of the file's classes that the interpreter follows
_MODULE_METHODS = ("add_module", "register_module", "register_buffer", "register_parameter", "children", "named_children",
                   "forward") + SELF_RETURNING
_DICT_METHODS = DICT_MUTATORS | {"items", "keys", "values", "get", "copy"}
_AUTOGRAD_FUNCTIONS = ("torch.autograd.Function", "torch.autograd.function.Function")


def _is_autograd_function(cls: ClassInfo) -> bool:
    return any(cls.derives(q) for q in _AUTOGRAD_FUNCTIONS)


class Access:
    def truth(self, v) -> Optional[bool]:
        if plain(v) or isinstance(v, dict):
            return bool(v)
        # `if self.downsample:` - a module is true unless it is an empty container
        if isinstance(v, Layer):
            if v.kind not in CONTAINERS:
                return True
            known = v.children if v.children is not None else v.items
            return None if known is None else bool(known)
        if isinstance(v, Instance) and v.cls.lookup("__len__") is None and v.cls.lookup("__bool__") is None:
            return True if v.cls.is_module else None
        return None

    def iterate(self, v):
        """The items of an iterable we can enumerate, else UNKNOWN."""
        if isinstance(v, (list, tuple, str)):
            if isinstance(v, list) and unknown_length(v):
                return UNKNOWN
            return list(v) if len(v) <= MAX_SEQ else UNKNOWN
        if isinstance(v, dict):
            return list(v.keys())
        if isinstance(v, range):
            return list(v) if len(v) <= MAX_LOOP else UNKNOWN
        if isinstance(v, Layer) and v.kind in ("Sequential", "ModuleList") and v.children is not None:
            return list(v.children)
        if isinstance(v, Layer) and v.kind == "ModuleDict" and v.items is not None:
            return list(v.items.keys())
        return UNKNOWN

    def attribute(self, obj, attr: str):
        if type(obj) is TorchRef:
            ref = obj.members.get(attr)
            if ref is None:
                ref = obj.members[attr] = self._library_attribute(f"{obj.qual}.{attr}")
            return ref
        if type(obj) is Instance:
            v = obj.attrs.get(attr, MISSING)
            if v is not MISSING:
                if type(v) is Layer and v.kind in CONTAINERS and self.rec.run is not None:
                    self.rec.log.reach(v)
                return v
            if attr == "_modules":
                return self._registered(obj)
            v = self.class_attr(obj.cls, attr)
            base = obj.attrs.get(BASE) if v is UNKNOWN else None
            if base is not None:  # a subclass of a torch layer: what torch's __init__ set (`self.weight`, `self.stride`)
                return self.layer_attr(base, attr)
            if v is UNKNOWN and attr in _MODULE_METHODS:
                return Method(obj, attr)
            if not obj.complete and type(v) is not Function:
                return UNKNOWN  # its __init__ was not followed: it may have set attr
            if isinstance(v, Function) and isinstance(v.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                kind = method_kind(v.node)
                if kind == "static":
                    return v
                return Function(v.node, v.scope, obj.cls if kind == "class" else obj, v.owner)
            if v is UNKNOWN and attr == "training":
                return UNKNOWN
            return v
        if isinstance(obj, ClassInfo):
            if attr == "apply" and _is_autograd_function(obj):
                return Method(obj, attr)  # `GradReverse.apply(x, alpha)`: its forward, on an unknown ctx
            if attr == "__name__":
                return obj.name  # `add_module("{}_{}".format(block.__name__, i), ...)`
            v = self.class_attr(obj, attr)
            if type(v) is Function and method_kind(v.node) == "class":
                return Function(v.node, v.scope, obj, v.owner)  # `cls` is the class it is read from
            return v
        if isinstance(obj, Tensor):
            return self.ops.attribute(obj, attr)
        if type(obj) is Fixed:
            from . import whole  # imported when the first such tensor is met

            return whole.attribute(obj, attr)
        if isinstance(obj, Layer):
            return self.layer_attr(obj, attr)
        if isinstance(obj, list) and attr in _LIST_METHODS or isinstance(obj, dict) and attr in _DICT_METHODS:
            return Method(obj, attr)
        if type(obj) is str and attr in STR_METHODS:
            return Method(obj, attr)
        if type(obj) is Config:
            return obj.attrs.get(attr, UNKNOWN)
        if type(obj) is ModuleRef:
            if obj.path.startswith("torchvision.models"):
                return self.project.torchvision(f"{obj.path}.{attr}", self.module_attribute)
            return self.module_attribute(obj.scope, attr, f"{obj.path}.{attr}")
        if type(obj) is ArgParser and attr in _PARSER_METHODS:
            return Method(obj, attr)
        if isinstance(obj, Super):
            found = obj.cls.lookup_in_bases(attr) if obj.cls is not None else None
            if found:  # a base defined in the file: follow it
                return Function(found[1], found[0].scope, obj.obj, found[0]) if not found[1].decorator_list else UNKNOWN
            return Method(obj, attr)
        return UNKNOWN

    def _registered(self, inst: Instance):
        """`self._modules`: the modules registered on inst by name, in the
        order torch keeps them, where its classes only read it."""
        todo, classes = [inst.cls], []
        while todo:
            c = todo.pop()
            classes.append(c)
            todo.extend(b for b in c.bases if type(b) is ClassInfo and b not in classes)
        if not all(self.facts.get(modules_only_read, c.node) for c in classes) or children(inst) is UNKNOWN:
            return UNKNOWN
        return {k: v for k, v in inst.attrs.items() if type(v) is Layer or type(v) is Instance}

    def _library_attribute(self, qual: str):
        """`torch.nn.Conv2d`, `torchvision.models.resnet18` (from our zoo): one reference per name."""
        ref = self.refs.get(qual)
        if ref is None:
            ref = self.refs[qual] = (self.project.torchvision(qual, self.module_attribute)
                                     if qual.startswith("torchvision.models") and self.project is not None
                                     else TorchRef(normalize(qual)))
        return ref

    def class_attr(self, cls: ClassInfo, attr: str):
        got = cls.attr_defs.get(attr)
        if got is None:
            got = cls.attr_defs[attr] = class_attr_def(cls, attr)
        found, c = got
        if found is None:
            return UNKNOWN
        if isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return Function(found, c.scope, None, c) if method_kind(found) != "other" else UNKNOWN
        return self.eval(found.value, c.scope)

    def layer_attr(self, layer: Layer, attr: str):
        if attr in ("weight", "bias") and layer.args is not None:  # the parameter, not the `bias=True` argument
            return layer_parameter(layer.kind, attr, layer.args.values)
        if layer.args is not None and attr in layer.args.values:
            return _as_torch_keeps(layer.kind, attr, layer.args.values[attr])
        if layer.kind in CONTAINERS:
            if layer.items is not None and attr in layer.items:
                return layer.items[attr]
            # a method of the container: the known ones are followed, any
            # other call makes its contents unknown
            return Method(layer, attr)
        if attr in SELF_RETURNING or attr == "forward":
            return Method(layer, attr)  # `self.module.forward(*args)` in a wrapper
        return UNKNOWN

    def subscript(self, obj, key):
        if type(obj) is Tensor:
            return self.ops.index(obj, key)
        if type(obj) is Fixed:
            from . import whole

            return whole.index(obj, key)
        if isinstance(obj, Layer):
            if obj.children is not None and (is_int(key) or isinstance(key, slice)):
                try:
                    part = obj.children[key]
                except IndexError:
                    return UNKNOWN
                return Layer(obj.kind, obj.node, children=part) if isinstance(key, slice) else part
            if obj.items is not None and isinstance(key, str):
                return obj.items.get(key, UNKNOWN)
            return UNKNOWN
        if isinstance(obj, (list, tuple, str)) and (is_int(key) or isinstance(key, slice)):
            if type(obj) is list and unknown_length(obj) and (isinstance(key, slice) or not known_position(obj, key)):
                return UNKNOWN
            try:
                return obj[key]
            except IndexError:
                return UNKNOWN
        if isinstance(obj, dict) and isinstance(key, (str, int)):
            return obj.get(key, UNKNOWN)
        return UNKNOWN


_CONV_TUPLES = ("kernel_size", "stride", "padding", "dilation", "output_padding")
_SIZED = dict(NORM_SIZES, PReLU="num_parameters")  # the layers whose weight is one size long


def layer_parameter(kind: str, attr: str, a: dict):
    """`layer.weight` / `layer.bias` as torch shapes them (a Fixed), None where the layer has none, else
    unknown: `F.linear(x, self.fc.weight)`, a tied embedding `h @ self.embed.weight.t()`."""
    ints = lambda *names: all(is_int(a.get(n)) and a.get(n) > 0 for n in names)  # noqa: E731
    has_bias = a.get("bias", True)
    if kind in ("Linear", "Bilinear") and ints("out_features") and type(has_bias) is bool:
        if attr == "bias":
            return Fixed((a["out_features"],)) if has_bias else None
        names = ("in_features",) if kind == "Linear" else ("in1_features", "in2_features")
        return Fixed((a["out_features"],) + tuple(a[n] for n in names)) if ints(*names) else UNKNOWN
    if kind[:-2] in ("Conv", "ConvTranspose") and kind[-2:-1] in "123" and ints("in_channels", "out_channels", "groups") \
            and type(has_bias) is bool:
        n, cin, cout, g = int(kind[-2]), a["in_channels"], a["out_channels"], a["groups"]
        if attr == "bias":
            return Fixed((cout,)) if has_bias else None
        k = _as_torch_keeps(kind, "kernel_size", a.get("kernel_size"))
        if cin % g or cout % g or not (type(k) is tuple and len(k) == n and all(is_int(v) for v in k)):
            return UNKNOWN
        return Fixed(((cout, cin // g) if kind.startswith("Conv") and not kind.startswith("ConvTranspose") else (cin, cout // g)) + k)
    if kind in ("Embedding", "EmbeddingBag") and attr == "weight" and ints("num_embeddings", "embedding_dim"):
        return Fixed((a["num_embeddings"], a["embedding_dim"]))
    size = _SIZED.get(kind)
    if size is not None and ints(size):
        if kind == "PReLU":
            return Fixed((a[size],)) if attr == "weight" else UNKNOWN
        affine = a.get("affine", kind == "GroupNorm" or kind.startswith("BatchNorm"))
        has = affine and (attr == "weight" or has_bias)  # a norm's bias=False (torch 2.13) drops only its bias
        return (Fixed((a[size],)) if has else None) if type(affine) is bool and type(has_bias) is bool else UNKNOWN
    return UNKNOWN


def _as_torch_keeps(kind: str, attr: str, value):
    """An argument as the layer holds it: a convolution makes its int sizes
    tuples (`nn.Conv2d(3, 8, 3, stride=2).stride == (2, 2)`); pools keep them."""
    if attr in _CONV_TUPLES and kind.startswith(("Conv", "LazyConv")) and kind[-2:-1].isdigit() and is_int(value):
        return (value,) * int(kind[-2])
    return value
