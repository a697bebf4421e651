"""Calls: of functions and methods of the file (their bodies run by the
Executor), of its classes (an instance built by running __init__, or a copy
from the build cache), of torch.nn layers and containers, of builtins, and
of the methods of lists, dicts and containers."""
from __future__ import annotations

import ast
from typing import Dict, List, TYPE_CHECKING

from ..shapes.signature import UNKNOWN, bind
from ..speed.build_cache import TOO_BIG, BuildCache
from .budget import MAX_DEPTH, Budget, OutOfBudget
from .builtins import ITERATING, SELF_RETURNING, SUPER, Builtin, math_call, nn_class, ordered_dict
from .control import Raised, Return
from .events import Recorder
from .facts import NodeFacts, params, split_return
from .mutation import DICT_MUTATORS, LIST_MUTATORS, Mutations
from .plain import plain, same_value, unknown_like
from .scope import Scope
from .values import CONTAINERS, ClassInfo, Function, Instance, Layer, Method, Super, Tensor, TorchRef

if TYPE_CHECKING:  # annotations only: machine.py wires the parts
    from .api import EvaluatorPart, ExecutorPart, LayersPart, TensorsPart

# container methods that read it, or change nothing the analysis tracks;
# any other is followed by Mutations or leaves the container unknown
_CONTAINER_READS = ("parameters", "children", "modules", "named_children", "named_modules", "named_parameters",
                    "train", "eval", "to", "cuda", "cpu", "float", "double", "half", "apply", "zero_grad",
                    "requires_grad_", "__len__")


class Calls:
    def __init__(self, budget: Budget, rec: Recorder, mutation: Mutations, facts: NodeFacts, cache: BuildCache,
                 generators: set):
        self.budget = budget
        self.rec = rec
        self.mutation = mutation
        self.facts = facts
        self.cache = cache
        self.generators = generators  # ids of the functions that yield (speed/index.py)
        # the other parts, set by machine.py
        self.ev: EvaluatorPart = None  # type: ignore[assignment]
        self.ex: ExecutorPart = None  # type: ignore[assignment]
        self.layers: LayersPart = None  # type: ignore[assignment]
        self.ops: TensorsPart = None  # type: ignore[assignment]

    def call(self, func, args: List[object], kwargs: Dict[str, object], node: ast.Call):
        kind = type(func)  # the value classes have no subclasses
        if kind is TorchRef:
            return self.call_torch(func.qual, args, kwargs, node)
        if kind is Function:
            return self.call_function(func, args, kwargs)
        if kind is ClassInfo:
            return self.instantiate(func, args, kwargs, node)
        if kind is Layer or kind is Instance:
            return self.layers.call_module(func, args, kwargs, node)
        if kind is Method:
            return self.call_method(func, args, kwargs, node)
        if isinstance(func, Builtin):
            return self.call_builtin(func, args, kwargs, node)
        return UNKNOWN

    def call_builtin(self, func: Builtin, args, kwargs, node):
        if func.name in ("setattr", "getattr"):
            return self.builtin_attr(func.name, args, kwargs)
        if func.name == "super":
            return func(args)
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

    def call_torch(self, qual: str, args, kwargs, node):
        if qual in ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"):
            return self.container(qual.rsplit(".", 1)[1], args, kwargs, node)
        if qual == "collections.OrderedDict":
            return ordered_dict(args, kwargs)
        found = nn_class(qual)
        if found is not None:
            name, spec = found
            if spec is not None:
                bound = bind(spec.sig, args, kwargs)
                return Layer(name, node, spec, bound) if bound is not None else Layer(name, node)
            return Layer(name, node) if name else UNKNOWN
        if qual.startswith("math."):
            return math_call(qual[5:], args, kwargs)
        return self.ops.call_torch(qual, args, kwargs, node)

    def container(self, kind: str, args, kwargs, node):
        if kwargs:
            return Layer(kind, node)
        if kind == "Sequential":
            if len(args) == 1 and isinstance(args[0], dict):
                seq = Layer(kind, node, children=list(args[0].values()), items=dict(args[0]))
            else:
                seq = Layer(kind, node, children=list(args))
            self.rec.log.built.append(seq)
            return seq
        if kind == "ModuleList":
            if not args:
                return Layer(kind, node, children=[])
            items = self.ev.iterate(args[0]) if len(args) == 1 else UNKNOWN
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
            return None  # super().__init__(...) and friends: nothing we track
        if isinstance(obj, (Layer, Instance)) and name in SELF_RETURNING:
            return obj  # `.to(device)`, `.eval()`: the same module
        if isinstance(obj, Layer):
            return self.container_method(obj, name, args, kwargs)
        if isinstance(obj, Instance):  # self.add_module("conv", layer)
            return self.builtin_attr("setattr", list(args), kwargs)
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
        return UNKNOWN

    def container_method(self, box: Layer, name: str, args, kwargs):
        """nn.Sequential / ModuleList / ModuleDict methods: reads here, the
        rest through Mutations (which leaves the contents unknown where it
        does not follow them)."""
        if name in ("items", "keys", "values") and box.items is not None and not args:
            return list(getattr(box.items, name)())
        if name in _CONTAINER_READS:
            return UNKNOWN
        return self.mutation.call(box, name, args, kwargs, self.ev.iterate)

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
        cache = self.cache
        key = cache.key(cls, args, kwargs) if self.rec.run is None else None
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
            return inst
        result = self.call_function(init, args, kwargs)
        if result is UNKNOWN:
            inst.complete = False
        if key is not None and keep:
            cache.keep(key, inst, self.mutation.clock)
        return inst
