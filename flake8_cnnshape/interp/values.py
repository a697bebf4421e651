"""What the interpreter computes: plain Python constants, UNKNOWN, and these.
None of these classes has subclasses: the interpreter tests them with type()."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional

from ..records import Shown
from ..shapes.rules.matmul import B
from ..shapes.shape import Shape
from ..shapes.signature import UNKNOWN, Args  # noqa: F401  (UNKNOWN re-exported)
from ..shapes.spec import LayerSpec


class Tensor(Shown):
    __slots__ = ("shape", "origin", "root", "whole", "choices")
    _fields = ("shape", "root")

    def __init__(self, shape: Shape, origin: Optional[tuple] = None, root: bool = False, whole: Optional[tuple] = None):
        self.shape = shape
        # what a wrong view gave, when another of its sizes could be the one to change: (the view's fault,
        # its place, [(index in the view's sizes, value, the shape that gives)]); the next layer picks (layers.py)
        self.choices: Optional[tuple] = None
        # how this tensor came from one other: (parent, step, layer, axes)
        # where step(shape) redoes the op; None where it came from several or none
        self.origin = origin
        self.root = root  # the model's input, when its size is unknown
        # all its dims when a factory made it (`torch.randn(1, C, 1, H)`): its
        # first may be no batch, as when nn.Parameter() takes it (Fixed)
        self.whole = whole


class Fixed(Shown):
    """A tensor whose first dim is not the model's batch: one a module makes
    itself (a parameter: `nn.Parameter(torch.randn(1, C, 1, H))`), or an
    LSTM's h_n (layers, batch, hidden). `dims` are all of its dims: an int,
    None where not known, the batch B (shapes/rules/matmul.py) where it is
    not first. Kept apart from Tensor, whose first dim is the batch, so that
    no op that takes one for the other sees it: only whole.py's do."""

    __slots__ = ("dims", "param")
    _fields = ("dims",)

    def __init__(self, dims: tuple, param: bool = False):
        self.dims = dims
        self.param = param  # an nn.Parameter: module.parameters() counts it


class Packed(Shown):
    """A PackedSequence (torch.nn.utils.rnn): what a recurrent layer takes
    in place of a padded tensor. `batch` is its batch as a whole-shape dim
    (B the model's, an int, None), `step` the dims of one step of one
    sequence: its data is (sum of the lengths, *step). The lengths, and so
    the longest, are not known. Only interp/packed.py takes one."""

    __slots__ = _fields = ("batch", "step")

    def __init__(self, batch, step: tuple):
        self.batch = batch
        self.step = step


def value_of(dims: Optional[tuple], tensor: bool):
    """A whole shape (shapes/rules/matmul.py: B the batch) as a value: led by
    B, a model's tensor; else a Fixed. None: not known (a tensor when one of
    the operands was the model's, else UNKNOWN)."""
    if dims is None:
        return Tensor(Shape.unknown()) if tensor else UNKNOWN
    if dims and dims[0] is B:
        return Tensor(Shape(dims[1:]))
    return Fixed(dims)


def whole_of(v) -> Optional[tuple]:
    """All of a tensor's dims, the model's batch as B; None when not known."""
    if type(v) is Fixed:
        return v.dims
    if type(v) is Tensor and not v.shape.open:
        return (B,) + v.shape.dims
    return None


class SizeInt(int):
    """A size read off a tensor (`x.shape`, `x.size(d)`) or computed from one.
    `x.reshape(-1, W, C)` with such sizes folds part of the sample into the
    batch on purpose (per-row RNNs, attention windows), so it is no CNS005."""


class TorchRef(Shown):
    """A torch module, class or function named in the source (`nn`, `nn.Conv2d`, `F.relu`)."""

    __slots__ = ("qual", "members", "layer")
    _fields = ("qual",)

    def __init__(self, qual: str):
        self.qual = qual
        self.members: Dict[str, TorchRef] = {}  # `nn` -> `nn.Conv2d`: the same ref each time
        # (class name, LayerSpec) when it is a torch.nn layer the engine models,
        # worked out on its first call (calls.py): a build calls the same few many times
        self.layer: Optional[tuple] = None


class Layer(Shown):
    """A constructed torch.nn layer. `spec` is None for torch layers the engine
    does not model (LSTM, MultiheadAttention...): calling one ends the shape."""

    __slots__ = ("kind", "node", "spec", "args", "children", "items", "owner", "repeat")
    _fields = ("kind", "children", "items")

    def __init__(self, kind: str, node: ast.Call, spec: Optional[LayerSpec] = None, args: Optional[Args] = None,
                 children: Optional[List[object]] = None, items: Optional[Dict[object, object]] = None):
        self.kind = kind
        self.node = node
        self.spec = spec
        self.args = args
        self.children = children  # Sequential / ModuleList
        self.items = items  # ModuleDict
        self.owner: Optional[tuple] = None  # (the ClassInfo, the attribute) of the instance a container was assigned to
        # a container built from a list that holds a Repeated (its children
        # then None: unknown to every reader but the ones that take this)
        self.repeat: Optional[list] = None

    @property
    def display(self) -> str:
        return self.kind if self.kind in EINOPS_LAYERS else f"nn.{self.kind}"


CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
EINOPS_LAYERS = ("Rearrange", "Reduce")  # einops.layers.torch's: not torch.nn's
CHAINS = ("TransformerEncoder",)  # torch.nn layers that run their children one after another, as nn.Sequential


class Function(Shown):
    __slots__ = ("node", "scope", "bound_self", "owner")
    _fields = ("node", "scope", "bound_self", "owner")

    def __init__(self, node: ast.AST, scope: object, bound_self: object = None, owner: object = None):
        self.node = node  # FunctionDef or Lambda
        self.scope = scope  # the Scope it closes over
        self.bound_self = bound_self  # for methods fetched from an instance
        self.owner = owner  # the ClassInfo a method is defined in, for super()


class ClassInfo(Shown):
    __slots__ = ("node", "scope", "is_module", "bases", "found", "attr_defs")
    _fields = ("node", "scope", "is_module", "bases")

    def __init__(self, node: ast.ClassDef, scope: object, is_module: bool, bases: Optional[List[object]] = None):
        self.node = node
        self.scope = scope
        self.is_module = is_module  # derives from torch.nn.Module (directly or through the file)
        self.bases = bases if bases is not None else []
        # what lookup() and the evaluator's class_attr found, by name: neither
        # the class bodies nor the bases change during a file
        self.found: Dict[str, object] = {}
        self.attr_defs: Dict[str, object] = {}

    @property
    def name(self) -> str:
        return self.node.name

    def method(self, name: str) -> Optional[ast.FunctionDef]:
        found = self.lookup(name)
        return found[1] if found else None

    def bound_method(self, name: str, obj) -> Optional[Function]:
        """Method `name` (here or in a base of the file) bound to obj, or None
        (also when obj holds an attribute of that name: `model.forward = ...`)."""
        if type(obj) is Instance and name in obj.attrs:
            return None
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

    def derives(self, qual: str, depth: int = 0) -> bool:
        """Is a base of this class (through the file's classes) the torch class qual?"""
        return depth < 16 and any(type(b) is TorchRef and b.qual == qual or type(b) is ClassInfo and b.derives(qual, depth + 1)
                                  for b in self.bases)

    def lookup_in_bases(self, name: str, depth: int = 0):
        if depth < 16:
            for b in self.bases:
                if isinstance(b, ClassInfo):
                    found = b.lookup(name, depth + 1)
                    if found:
                        return found
        return None


class Instance(Shown):
    """An instance of a class defined in the file (usually an nn.Module)."""

    __slots__ = ("cls", "attrs", "node", "complete", "made", "key", "born", "parts")
    _fields = ("cls", "attrs", "node", "complete")

    def __init__(self, cls: ClassInfo, attrs: Optional[Dict[str, object]] = None, node: Optional[ast.Call] = None,
                 complete: bool = True, made: Optional[tuple] = None):
        self.cls = cls
        self.attrs = attrs if attrs is not None else {}
        self.node = node  # where it was constructed
        self.complete = complete  # False when __init__ could not be followed to the end
        self.made = made  # (args, kwargs) it was built with, when built by Calls.instantiate
        # a build kept or copied by the build cache: its key, and the clock
        # time it was made at (speed/build_cache.py); None for any other instance
        self.key: Optional[tuple] = None
        self.born = 0
        self.parts: Optional[list] = None  # of such a build: its objects, first seen first (build_cache.parts_of)


class Method(Shown):
    """A bound method of a value the interpreter models (list.append,
    dict.items, a container's add_module)."""

    __slots__ = ("obj", "name")
    _fields = ("obj", "name")

    def __init__(self, obj: object, name: str):
        self.obj = obj
        self.name = name


class ModuleRef(Shown):
    """A module of the project (`import models.blocks as mb`): its scope."""

    __slots__ = ("scope", "path")
    _fields = ("path",)

    def __init__(self, scope, path: str):
        self.scope = scope
        self.path = path


class Config(Shown):
    """A namespace of fields: what argparse's parse_args() returns, a
    namedtuple, as far as the file writes their values."""

    __slots__ = _fields = ("attrs",)

    def __init__(self, attrs: Dict[str, object]):
        self.attrs = attrs


class Partial(Shown):
    """functools.partial(func, *args, **kwargs): a call of it calls func with those first
    (`norm_layer=partial(nn.LayerNorm, eps=1e-6)`, then `norm_layer(dim)`)."""

    __slots__ = _fields = ("func", "args", "kwargs")

    def __init__(self, func: object, args: tuple, kwargs: Dict[str, object]):
        self.func = func
        self.args = args
        self.kwargs = kwargs


class NamedTupleType(Shown):
    """What collections.namedtuple(name, fields) returns: calling it makes a Config."""

    __slots__ = _fields = ("name", "fields", "defaults")

    def __init__(self, name: str, fields: tuple, defaults: tuple = ()):
        self.name = name
        self.fields = fields
        self.defaults = defaults


class Super(Shown):
    """super(): the class whose bases to search, and the instance."""

    __slots__ = ("cls", "obj")
    _fields = ("cls",)

    def __init__(self, cls, obj):
        self.cls = cls if isinstance(cls, ClassInfo) else None
        self.obj = obj


# The attribute under which an instance notes that the modules torch would
# register for it are not all known (an nn.Sequential subclass's
# super().__init__(*layers) with layers unknown): no source can spell it.
MODULES_UNKNOWN = " modules unknown"


def children(inst: "Instance"):
    """The modules registered on an instance, in the order torch registers
    them (its attributes' order, as torch's _modules keeps it); UNKNOWN when
    an attribute could be a module nobody knows."""
    if not inst.complete or MODULES_UNKNOWN in inst.attrs:
        return UNKNOWN
    out = []
    for v in inst.attrs.values():
        t = type(v)
        if t is Layer or t is Instance:
            out.append(v)
        elif v is UNKNOWN or t is Method:
            return UNKNOWN
    return out


class _Poison:
    """Stands in a list whose length we no longer know."""

    def __repr__(self) -> str:
        return "POISON"


POISON = _Poison()


class Repeated(Shown):
    """Stands in a list for zero or more copies of a few blocks: what a
    builder's loop of a count nobody knows appends when every pass appends
    blocks built the same way (interp/open_loops.py). A reader that does not
    take it reads a list of unknown length, as with POISON."""

    __slots__ = ("items",)
    _fields = ("items",)

    def __init__(self, items: tuple):
        self.items = items  # what one pass appends, in order


def unknown_length(lst: list) -> bool:
    """A list holding POISON or a Repeated: its length is not known."""
    return any(e is POISON or type(e) is Repeated for e in lst)


def known_position(lst: list, i: int) -> bool:
    """lst[i] is the item it names in a list of unknown length: before the
    first unknown stretch, or counted from the end after the last one."""
    marks = [k for k, e in enumerate(lst) if e is POISON or type(e) is Repeated]
    if not marks:
        return -len(lst) <= i < len(lst)
    return 0 <= i < marks[0] or -(len(lst) - marks[-1] - 1) <= i < 0
