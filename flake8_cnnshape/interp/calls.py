"""Calls: of functions and methods of the file (their bodies run by the
Executor), of its classes (an instance built by running __init__, or a copy
from the build cache), of torch.nn layers and containers, of builtins, and
of the methods of lists, dicts and containers."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, TYPE_CHECKING

from ..shapes.signature import UNKNOWN, bind_alike
from ..speed.build_cache import TOO_BIG, BuildCache
from .budget import MAX_DEPTH, MAX_SEQ, Budget, OutOfBudget
from .builtins import BUILTINS, ITERATING, SELF_RETURNING, SUPER, Builtin, math_call, nn_class, ordered_dict
from .configs import ArgParser, bind_fields, dataclass_fields, make_namedtuple, namedtuple_type
from .control import Raised, Return
from .events import Recorder
from .facts import NodeFacts, held_call, params, split_return
from .torch_subclasses import build_base, derives_layer, super_method
from .mutation import DICT_MUTATORS, LIST_MUTATORS, Mutations
from .plain import is_int, plain, same_value, template_too_wide, unknown_like
from .scope import Scope
from .typetests import KIND_TESTS, has_attribute, is_instance, kind_test
from .values import (CONTAINERS, POISON, Config, Fixed, Partial, ClassInfo, Function, Instance, Layer, Method, NamedTupleType,
                     Repeated, Super, Tensor, TorchRef, children, unknown_length)

if TYPE_CHECKING:  # annotations only: machine.py wires the parts
    from .api import EvaluatorPart, ExecutorPart, LayersPart, TensorsPart

# container methods that read it, or change nothing the analysis tracks;
# any other is followed by Mutations or leaves the container unknown
_CONTAINER_READS = ("parameters", "children", "modules", "named_children", "named_modules", "named_parameters",
                    "train", "eval", "to", "cuda", "cpu", "float", "double", "half", "apply", "zero_grad",
                    "requires_grad_", "__len__")


def _open_container(kind: str, node, items: list) -> Layer:
    """An nn.Sequential or nn.ModuleList of a list holding one Repeated (open_loops.py); else of unknown modules."""
    seq = Layer(kind, node)
    if POISON not in items and sum(type(e) is Repeated for e in items) == 1:
        seq.repeat = list(items)
    return seq


def _layer(name: str, spec, args, kwargs, node, memo: dict) -> Layer:
    """A torch.nn layer the engine models, its arguments bound (a call torch would refuse leaves them unknown)."""
    bound = bind_alike(memo, name, spec.sig, args, kwargs)
    return Layer(name, node, spec, bound) if bound is not None else Layer(name, node)


def _record_base(cls: ClassInfo) -> Optional[NamedTupleType]:
    """`class Bottleneck(namedtuple('Block', [...])):` with a docstring: the
    namedtuple it is, where its body adds no method."""
    if len(cls.bases) != 1 or type(cls.bases[0]) is not NamedTupleType:
        return None
    plain_body = all(isinstance(s, (ast.Pass, ast.Expr)) or isinstance(s, ast.Assign) and [t.id for t in s.targets
                     if isinstance(t, ast.Name)] == ["__slots__"] for s in cls.node.body)
    return cls.bases[0] if plain_body else None


def _static(fn: ast.FunctionDef) -> bool:
    return [type(d) for d in fn.decorator_list] == [ast.Name] and fn.decorator_list[0].id == "staticmethod"


class Calls:
    def __init__(self, budget: Budget, rec: Recorder, mutation: Mutations, facts: NodeFacts, cache: BuildCache,
                 generators: set):
        self.budget = budget
        self.rec = rec
        self.mutation = mutation
        self.facts = facts
        self.cache = cache
        self.generators = generators  # ids of the functions that yield (speed/index.py)
        self.bound: dict = {}  # layers' arguments bound, by the values (shapes/signature.py's bind_alike)
        self.watch = None  # (a class's node, [the (args, kwargs) of its builds]) while Interp.watch_builds runs
        # the other parts, set by machine.py
        self.ev: EvaluatorPart = None  # type: ignore[assignment]
        self.ex: ExecutorPart = None  # type: ignore[assignment]
        self.layers: LayersPart = None  # type: ignore[assignment]
        self.ops: TensorsPart = None  # type: ignore[assignment]

    def call(self, func, args: List[object], kwargs: Dict[str, object], node: ast.Call):
        kind = type(func)  # the value classes have no subclasses
        if kind is TorchRef:
            layer = func.layer
            if layer is not None:  # `nn.Conv2d(...)` again
                return _layer(layer[0], layer[1], args, kwargs, node, self.bound)
            return self.call_torch(func.qual, args, kwargs, node, func)
        if kind is Function:
            return self.call_function(func, args, kwargs)
        if kind is ClassInfo:
            record = _record_base(func)
            return make_namedtuple(record, args, kwargs) if record is not None else self.instantiate(func, args, kwargs, node)
        if kind is Layer or kind is Instance:
            return self.layers.call_module(func, args, kwargs, node)
        if kind is Method:
            return self.call_method(func, args, kwargs, node)
        if kind is NamedTupleType:
            return make_namedtuple(func, args, kwargs)
        if kind is Partial:
            return self.call(func.func, list(func.args) + list(args), {**func.kwargs, **kwargs}, held_call(self.facts, node, len(func.args)))
        if isinstance(func, Builtin):
            return self.call_builtin(func, args, kwargs, node)
        return UNKNOWN

    def call_builtin(self, func: Builtin, args, kwargs, node):
        if func.fn is None and func.name == "eval":
            return UNKNOWN  # of anything but a name (Evaluator._eval_name)
        if func.name in ("setattr", "getattr"):
            return self.builtin_attr(func.name, args, kwargs)
        if func.name == "map":
            return self.builtin_map(args, kwargs, node)
        if func.name == "super":
            return func(args)
        if func.name == "isinstance":
            return is_instance(args[0], args[1]) if len(args) == 2 and not kwargs else UNKNOWN
        if func.name == "callable":
            return kind_test("callable", args, kwargs)
        if func.name == "hasattr":
            return has_attribute(*args) if len(args) == 2 and not kwargs else UNKNOWN
        if func.name == "dict":
            return ordered_dict(args, kwargs)
        if func.name == "type":
            return BUILTINS.get(type(args[0]).__name__, UNKNOWN) if len(args) == 1 and plain(args[0]) else UNKNOWN
        if any(isinstance(a, Tensor) for a in args):
            return self.ops.builtin(func.name, args, node)
        if func.name in ITERATING:
            args = [a if plain(a) or isinstance(a, (range, dict)) else self.ev.iterate(a) for a in args]
            if any(a is UNKNOWN for a in args) or kwargs:
                return UNKNOWN
            return func(args)
        if not all(plain(a) or isinstance(a, (range, dict)) for a in args) or kwargs:
            return UNKNOWN
        return func(args)

    def call_torch(self, qual: str, args, kwargs, node, ref=None):
        if qual in ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"):
            return self.container(qual.rsplit(".", 1)[1], args, kwargs, node)
        if qual == "collections.OrderedDict":
            return ordered_dict(args, kwargs)
        if qual == "collections.namedtuple":
            return namedtuple_type(args, kwargs)
        if qual == "argparse.ArgumentParser":
            return ArgParser()
        if qual == "functools.partial" and args and not any(a is UNKNOWN for a in args[:1]):
            return Partial(args[0], tuple(args[1:]), dict(kwargs))
        if qual in ("argparse.Namespace", "types.SimpleNamespace") and not args:
            return Config(dict(kwargs))  # its fields, as given
        if qual == "typing.cast" and len(args) == 2 and not kwargs:
            return args[1]  # `v = cast(int, v)`: v itself
        if qual == "torch.nn.Parameter" or qual == "torch.nn.parameter.Parameter":
            return self.ops.call_torch(qual, args, kwargs, node)
        if qual == "torch.nn.TransformerEncoder":
            return _encoder(args, kwargs, node)
        found = nn_class(qual)
        if found is not None:
            name, spec = found
            if spec is not None:
                if ref is not None:
                    ref.layer = found
                return _layer(name, spec, args, kwargs, node, self.bound)
            return Layer(name, node) if name else UNKNOWN
        if qual.startswith(("math.", "numpy.")):
            return math_call(qual, args, kwargs)
        if qual in KIND_TESTS:
            return kind_test(qual, args, kwargs)
        return self.ops.call_torch(qual, args, kwargs, node)

    def container(self, kind: str, args, kwargs, node):
        if kwargs:
            return Layer(kind, node)
        if kind == "Sequential":
            if len(args) == 1 and isinstance(args[0], dict):
                seq = Layer(kind, node, children=list(args[0].values()), items=dict(args[0]))
            else:
                seq = _open_container(kind, node, args) if unknown_length(args) else Layer(kind, node, children=list(args))
            self.rec.log.built.append(seq)
            return seq
        if kind == "ModuleList":
            if not args:
                return Layer(kind, node, children=[])
            items = self.ev.iterate(args[0]) if len(args) == 1 else UNKNOWN
            if items is UNKNOWN and len(args) == 1 and type(args[0]) is list:
                return _open_container(kind, node, args[0])
            return Layer(kind, node, children=list(items)) if items is not UNKNOWN else Layer(kind, node)
        if kind == "ModuleDict":
            if not args:
                return Layer(kind, node, items={})
            if len(args) == 1 and isinstance(args[0], dict):
                return Layer(kind, node, items=dict(args[0]))
            if len(args) == 1 and isinstance(args[0], list):
                d = ordered_dict([args[0]], {})
                return Layer(kind, node, items=d) if isinstance(d, dict) else Layer(kind, node)
        return Layer(kind, node)

    # -- methods -----------------------------------------------------------
    def call_method(self, m: Method, args, kwargs, node):
        obj, name = m.obj, m.name
        if isinstance(obj, Super):
            return super_method(self, obj, name, args, kwargs, node)
        if type(obj) is ClassInfo and name == "apply":  # a torch.autograd.Function's
            found = obj.lookup("forward")
            if found is None or not _static(found[1]):
                return UNKNOWN
            return self.call_function(Function(found[1], found[0].scope, None, found[0]), [UNKNOWN] + list(args), kwargs)
        if isinstance(obj, (Layer, Instance)) and name in SELF_RETURNING:
            return obj  # `.to(device)`, `.eval()`: the same module
        if isinstance(obj, (Layer, Instance)) and name == "forward":
            return self.layers.call_module(obj, args, kwargs, node)  # `self.conv.forward(x)`
        if isinstance(obj, Layer):
            return self.container_method(obj, name, args, kwargs)
        if isinstance(obj, Instance):
            if name in ("children", "named_children"):
                kids = children(obj)
                if kids is UNKNOWN or name == "children":
                    return kids
                return [(k, v) for k, v in obj.attrs.items() if type(v) in (Layer, Instance)]
            if name in ("register_buffer", "register_parameter") and len(args) >= 2 and isinstance(args[0], str):
                # `self.register_buffer("index", torch.zeros(n, 1))`: an attribute of no batch
                from . import whole  # imported when first needed

                return self.builtin_attr("setattr", [obj, args[0], whole.as_fixed(args[1])], {})
            # self.add_module("conv", layer)
            return self.builtin_attr("setattr", [obj] + list(args), kwargs)
        if type(obj) is str:
            return str_method(obj, name, args, kwargs)
        if type(obj) is ArgParser:
            return self.parser_method(obj, name, args, kwargs)
        if isinstance(obj, list):
            if name in LIST_MUTATORS:
                return self.mutation.call(obj, name, args, kwargs, self.ev.iterate)
            return list(obj) if name == "copy" else UNKNOWN
        if isinstance(obj, dict):
            if name in DICT_MUTATORS:
                return self.mutation.call(obj, name, args, kwargs, self.ev.iterate)
            if name in ("items", "keys", "values") and not args:
                return list(getattr(obj, name)())
            if name == "get" and args and isinstance(args[0], (str, int)):
                return obj.get(args[0], args[1] if len(args) > 1 else None)
            if name == "copy":
                return dict(obj)
            return UNKNOWN
        if isinstance(obj, Tensor):
            return self.ops.method(obj, name, args, kwargs, node)
        if type(obj) is Fixed:
            from . import whole

            return whole.method(self.rec, obj, name, args, kwargs, node)
        return UNKNOWN

    def parser_method(self, parser: ArgParser, name: str, args, kwargs):
        if name in ("parse_args", "parse_known_args"):
            if list(args) + list(kwargs.values()) not in ([], [[]]):
                return UNKNOWN  # parsed from arguments the file gives: not the defaults
            config = parser.parse()
            return config if name == "parse_args" else (config, [])
        if name in ("add_argument_group", "add_mutually_exclusive_group"):
            return parser  # a group's arguments are the parser's
        self.mutation.note(parser)
        if name == "add_argument":
            parser.add_argument(args, kwargs)
        elif name == "set_defaults":
            parser.set_defaults(kwargs)
        return None

    def container_method(self, box: Layer, name: str, args, kwargs):
        """nn.Sequential / ModuleList / ModuleDict methods: reads here, the
        rest through Mutations (which leaves the contents unknown where it
        does not follow them)."""
        if name in ("items", "keys", "values") and box.items is not None and not args:
            return list(getattr(box.items, name)())
        if name in ("children", "named_children") and not args and not kwargs:
            return _container_children(box, name == "named_children")
        if name in _CONTAINER_READS:
            return UNKNOWN
        return self.mutation.call(box, name, args, kwargs, self.ev.iterate)

    def builtin_map(self, args, kwargs, node):
        """map(f, *iterables), as a list: f called on each item (`q, k, v = map(lambda t: ..., qkv)`)."""
        if kwargs or len(args) < 2:
            return UNKNOWN
        columns = [self.ev.iterate(a) for a in args[1:]]
        if any(c is UNKNOWN for c in columns) or min(len(c) for c in columns) > MAX_SEQ:
            return UNKNOWN
        return [self.call(args[0], list(items), {}, node) for items in zip(*columns)]

    def builtin_attr(self, name: str, args, kwargs):
        """getattr(obj, name[, default]) and setattr(obj, name, value)."""
        if kwargs or len(args) < 2:
            return UNKNOWN
        obj, attr = args[0], args[1]
        if name == "getattr":
            if not isinstance(attr, str):
                return UNKNOWN
            value = self.ev.attribute(obj, attr)
            return args[2] if value is UNKNOWN and len(args) == 3 else value
        if len(args) != 3:
            return UNKNOWN
        value = args[2]
        if isinstance(obj, Instance):
            if isinstance(attr, str):
                self.mutation.set_attr(obj, attr, value)
            else:  # which attribute changed is unknown: any of them may have
                self.mutation.forget_attrs(obj)
        elif isinstance(obj, Layer) and obj.kind in CONTAINERS:
            if isinstance(attr, str) and isinstance(value, (Layer, Instance)):
                self.container_method(obj, "add_module", [attr, value], {})
            else:
                self.mutation.poison(obj)
        return None

    # -- functions of the file -----------------------------------------------
    def call_function(self, fn: Function, args, kwargs):
        node = fn.node
        scope = Scope(fn.scope)
        if fn.bound_self is not None:
            args = [fn.bound_self] + list(args)
        if not self.bind_params(node.args, args, kwargs, scope, fn.scope):
            return UNKNOWN
        if fn.owner is not None and args:
            scope.vars[SUPER] = Super(fn.owner, args[0])  # what a bare super() means here
        budget = self.budget  # the step and depth budgets, as in Evaluator.eval()
        budget.steps += 5
        if budget.steps > budget.limit or budget.depth >= MAX_DEPTH:
            raise OutOfBudget()
        budget.depth += 1
        try:
            if isinstance(node, ast.Lambda):
                return self.ev.eval(node.body, scope)
            if isinstance(node, ast.AsyncFunctionDef) or id(node) in self.generators:
                return UNKNOWN
            returns = self.ex.returns
            returns.append([])
            try:
                head, last = self.facts.get(split_return, node)
                self.ex.exec_block(head, scope)
                result = None
                if last is not None:  # the body's closing `return`, without raising Return
                    budget.tick()
                    result = None if last.value is None else self.ev.eval(last.value, scope)
            except Return as r:
                result = r.value
            except Raised:
                result = UNKNOWN
            finally:
                early = returns.pop()
            if not early:
                return result
            return result if all(same_value(result, e) for e in early) else unknown_like(result)
        finally:
            budget.depth -= 1

    def bind_params(self, a: ast.arguments, args, kwargs, scope: Scope, defining: Scope) -> bool:
        """Bind the arguments to a def's parameters in scope, as Python does;
        defaults are evaluated where the def stands. False where Python would raise."""
        positional, vararg, kwonly, kwarg = self.facts.get(params, a)
        kwargs = dict(kwargs)
        out = scope.vars
        for i, (name, default) in enumerate(positional):
            if i < len(args):
                if name in kwargs:
                    return False
                out[name] = args[i]
            elif name in kwargs:
                out[name] = kwargs.pop(name)
            elif default is not None:
                out[name] = self.ev.eval(default, defining)
            else:
                return False
        extra = args[len(positional):]
        if vararg is not None:
            out[vararg] = tuple(extra)
        elif extra:
            return False
        for name, default in kwonly:
            if name in kwargs:
                out[name] = kwargs.pop(name)
            elif default is not None:
                out[name] = self.ev.eval(default, defining)
            else:
                return False
        if kwarg is not None:
            out[kwarg] = dict(kwargs)
        elif kwargs:
            return False
        return True

    def instantiate(self, cls: ClassInfo, args, kwargs, node, keep: bool = True) -> object:
        """An instance built by running __init__, or a copy of one built with
        the same arguments. keep=False: not kept for later copies (a model no
        other class builds, which nothing asks for again)."""
        watch = self.watch
        if watch is not None:
            if watch[0] is cls.node:
                watch[1].append((list(args), dict(kwargs)))
                return UNKNOWN  # its arguments are what is watched for: built later, in that way
            keep = False  # a build holding an unbuilt watched class is no build to copy
        cache = self.cache
        key = cache.key(cls, args, kwargs) if self.rec.run is None and not derives_layer(cls) else None
        if key is not None:
            got = cache.copy(key)
            if got is TOO_BIG:
                keep = False
            elif got is not None:
                inst, sequentials = got
                inst.node = node
                inst.key, inst.born = key, self.mutation.clock
                self.rec.log.built.extend(sequentials)
                return inst
            # else never built with these arguments, or changed since: built (again), and kept
        inst = Instance(cls, {}, node, made=(args, kwargs))
        init = cls.bound_method("__init__", inst)
        if init is None:
            return self._without_init(inst, args, kwargs)
        result = self.call_function(init, args, kwargs)
        if result is UNKNOWN:
            inst.complete = False
        if key is not None and keep:
            cache.keep(key, inst, self.mutation.clock)
        return inst

    def _without_init(self, inst: Instance, args, kwargs) -> Instance:
        """A class of the file with no __init__ of its own or its file bases':
        a dataclass binds its fields; other arguments go to an __init__ we do
        not see, and what it sets is not known."""
        fields = dataclass_fields(inst.cls.node)
        if fields is not None:
            defaults = {f.target.id: self.ev.eval(f.value, inst.cls.scope) for f in fields if f.value is not None}
            got = bind_fields([f.target.id for f in fields], defaults, args, kwargs)
            if got is not None:
                for k, v in got.items():
                    self.mutation.set_attr(inst, k, v)
                return inst
        if (args or kwargs) and not build_base(self, inst, args, kwargs, inst.node):
            inst.complete = False
        return inst


def _encoder(args, kwargs, node) -> Layer:
    """nn.TransformerEncoder(layer, num_layers, norm=None): copies of the layer,
    one after the other, then the norm (a chain, as an nn.Sequential runs)."""
    names = ("encoder_layer", "num_layers", "norm")
    given = dict(zip(names, args), **{k: v for k, v in kwargs.items() if k in names})
    layer, count, norm = given.get("encoder_layer"), given.get("num_layers"), given.get("norm")
    if len(args) > 3 or type(layer) is not Layer or not is_int(count) or not 0 < count <= MAX_SEQ \
            or norm is not None and type(norm) not in (Layer, Instance):
        return Layer("TransformerEncoder", node)
    return Layer("TransformerEncoder", node, children=[layer] * count + ([norm] if norm is not None else []))


def _container_children(box: Layer, named: bool):
    """`seq.children()` / `named_children()`: its modules once each, in order
    (torch skips a module met before); UNKNOWN when its contents are."""
    if box.items is not None:
        pairs = list(box.items.items())
    elif box.children is not None:
        pairs = [(str(i), c) for i, c in enumerate(box.children)]
    else:
        return UNKNOWN
    seen, out = set(), []
    for key, child in pairs:
        if type(child) not in (Layer, Instance):
            return UNKNOWN
        if id(child) not in seen:
            seen.add(id(child))
            out.append((key, child) if named else child)
    return out


def str_method(s: str, name: str, args, kwargs):
    """A str method on plain arguments (`'layer{}'.format(i)`, `'_'.join(parts)`)."""
    values = list(args) + list(kwargs.values())
    if name == "join":
        parts = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else None
        if parts is None or not all(type(p) is str for p in parts):
            return UNKNOWN
        values = []
    if not all(type(v) in (int, float, str, bool) or v is None for v in values):
        return UNKNOWN
    if name == "format" and template_too_wide(s, "{}") or name == "zfill" and any(
            type(v) is int and v > MAX_SEQ for v in values):
        return UNKNOWN
    try:
        out = getattr(s, name)(*args, **kwargs)
    except (ValueError, TypeError, IndexError, KeyError):
        return UNKNOWN
    if isinstance(out, list):
        return out if len(out) <= MAX_SEQ and all(len(p) <= MAX_SEQ for p in out) else UNKNOWN
    return out if not isinstance(out, str) or len(out) <= MAX_SEQ else UNKNOWN

