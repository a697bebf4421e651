"""The interpreter's expressions: names, constants, arithmetic, containers,
comprehensions, attribute reads and subscripts, and definitions. Calls are
handed to the Calls part, tensor arithmetic to the TensorOps part (wired in
by machine.py). Whatever it does not understand is UNKNOWN; it never guesses."""
from __future__ import annotations

import ast
import operator
from typing import Dict, List, Optional, TYPE_CHECKING

from ..shapes.signature import UNKNOWN, Args
from .budget import MAX_DEPTH, MAX_LOOP, MAX_SEQ, Budget, OutOfBudget
from .comprehensions import comprehension
from .builtins import BUILTINS, SELF_RETURNING, STR_METHODS, SUPER, Builtin, is_layer_class, nn_class
from .events import Recorder
from .facts import NodeFacts, class_attr_def
from .mutation import DICT_MUTATORS, LIST_MUTATORS
from .names import ImportMap, normalize
from .plain import CMPOPS, PLAIN, is_int, plain, safe_binop, same_value, unknown_like
from .scope import MISSING, ModuleScope, Scope
from .values import CONTAINERS, POISON, ClassInfo, Function, Instance, Layer, Method, SizeInt, Super, Tensor, TorchRef

if TYPE_CHECKING:  # annotations only: machine.py wires the parts
    from .api import CallsPart, ExecutorPart, TensorsPart

_LIST_METHODS = LIST_MUTATORS | {"copy"}
# nn.Module methods on an instance of the file's classes that the interpreter follows
_MODULE_METHODS = ("add_module", "register_module", "children", "named_children", "forward") + SELF_RETURNING
_DICT_METHODS = DICT_MUTATORS | {"items", "keys", "values", "get", "copy"}


class Evaluator:
    def __init__(self, budget: Budget, rec: Recorder, imports: ImportMap, facts: NodeFacts, scopes: List[Scope]):
        self.budget = budget
        self.rec = rec
        self.imports = imports
        self.facts = facts
        # scopes that may hold what holds them (a class, a def or a lambda
        # made there): Interp.close() empties them
        self.scopes = scopes
        self.module: Optional[ModuleScope] = None
        # `nn` and `torch.nn.Conv2d` (a name has no dot, a qualified name does):
        # the imports do not change during a file
        self.refs: Dict[str, TorchRef] = {}
        # the other parts, set by machine.py
        self.calls: CallsPart = None  # type: ignore[assignment]
        self.ex: ExecutorPart = None  # type: ignore[assignment]
        self.ops: TensorsPart = None  # type: ignore[assignment]

    # -- definitions -----------------------------------------------------
    def define(self, node: ast.AST, scope: Scope):
        """The value a module-level definition binds."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return Function(node, scope) if not node.decorator_list else UNKNOWN
        if isinstance(node, ast.ClassDef):
            return self.make_class(node, scope)
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            return self.eval(node.value, scope)
        if isinstance(node, ast.expr):  # one name of `N, D_in, H = 64, 1000, 100`
            return self.eval(node, scope)
        return UNKNOWN

    def make_class(self, node: ast.ClassDef, scope: Scope) -> ClassInfo:
        bases: List[object] = []
        is_module = False
        for b in node.bases:
            v = self.eval(b, scope)
            bases.append(v)
            if isinstance(v, TorchRef) and (v.qual == "torch.nn.Module" or is_layer_class(v.qual)):
                is_module = True  # nn.Module, or a torch.nn layer or container class
            elif isinstance(v, ClassInfo):
                is_module = is_module or v.is_module
        return ClassInfo(node, scope, is_module, bases)

    # -- names -----------------------------------------------------------
    def unbound(self, name: str):
        """A name no scope binds (eval() reads the scopes): an import, a
        builtin, or nothing we know."""
        ref = self.refs.get(name)
        if ref is not None:
            return ref
        qual = self.imports.resolve(name)
        if qual is not None:
            ref = self.refs[name] = TorchRef(qual)
            return ref
        if name in BUILTINS and not self.module.defines(name):
            return BUILTINS[name]
        return UNKNOWN

    # -- expressions -----------------------------------------------------
    def eval(self, node: ast.expr, scope: Scope):
        # the step and depth budgets by hand: this is the interpreter's hottest call
        budget = self.budget
        budget.steps += 1
        if budget.steps > budget.limit or budget.depth >= MAX_DEPTH:
            raise OutOfBudget()
        budget.depth += 1
        try:
            # the commonest nodes without the dispatch: names (nearly half of
            # all), attribute reads, constants
            kind = type(node)
            if kind is _NAME:
                # Scope.find inlined: a function's names are a dict walk (a
                # ModuleScope works out a pending definition, and never gives IMPORTED)
                name = node.id
                while type(scope) is _SCOPE:
                    v = scope.vars.get(name, MISSING)
                    if v is not MISSING:
                        return v
                    scope = scope.parent
                v = scope.find(name) if scope is not None else MISSING
                return v if v is not MISSING else self.unbound(name)
            if kind is _ATTRIBUTE:
                return self.attribute(self.eval(node.value, scope), node.attr)
            if kind is _CONSTANT:
                v = node.value
                if type(v) in _PLAIN_TYPES:
                    return v if not (type(v) is str and len(v) > MAX_SEQ) else UNKNOWN
                return v if v is Ellipsis else UNKNOWN  # `x[..., :c]`
            method = _EVAL.get(kind)
            return UNKNOWN if method is None else method(self, node, scope)
        except (TypeError, ValueError, ArithmeticError, IndexError, KeyError, AttributeError):
            # Python itself refuses what the code asks (a zero slice step, an
            # int too large to index with): the value is unknown
            return UNKNOWN
        finally:
            budget.depth -= 1

    def e_Tuple(self, node, scope):
        items = self._elements(node.elts, scope)
        return UNKNOWN if items is UNKNOWN else tuple(items)

    def e_List(self, node, scope):
        items = self._elements(node.elts, scope)
        return UNKNOWN if items is UNKNOWN else items

    def _elements(self, elts, scope):
        out = []
        for e in elts:
            if isinstance(e, ast.Starred):
                v = self.eval(e.value, scope)
                v = self.iterate(v)
                if v is UNKNOWN:
                    return UNKNOWN
                out.extend(v)
            else:
                out.append(self.eval(e, scope))
            if len(out) > MAX_SEQ:
                return UNKNOWN
        return out

    def e_Dict(self, node, scope):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                return UNKNOWN
            key = self.eval(k, scope)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                return UNKNOWN
            out[key] = self.eval(v, scope)
        return out

    def e_JoinedStr(self, node, scope):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue) and v.conversion == -1:
                x = self.eval(v.value, scope)
                spec = "" if v.format_spec is None else self.eval(v.format_spec, scope)
                if type(x) not in (int, str, float) or not isinstance(spec, str) or len(spec) > 16:
                    return UNKNOWN
                parts.append(format(x, spec))  # `f"layer{i:02d}"`; a spec Python refuses is a ValueError: UNKNOWN
            else:
                return UNKNOWN
        s = "".join(parts)
        return s if len(s) <= MAX_SEQ else UNKNOWN

    def e_BinOp(self, node, scope):
        a = self.eval(node.left, scope)
        b = self.eval(node.right, scope)
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            return self.ops.binary(node, a, b)
        if not (plain(a) and plain(b)):
            return UNKNOWN
        out = safe_binop(node.op, a, b)
        if is_int(out) and (isinstance(a, SizeInt) or isinstance(b, SizeInt)):
            return SizeInt(out)
        return out

    def e_UnaryOp(self, node, scope):
        v = self.eval(node.operand, scope)
        if isinstance(v, Tensor):
            return v if isinstance(node.op, (ast.USub, ast.UAdd)) else UNKNOWN
        if isinstance(node.op, ast.Not):
            t = self.truth(v)
            return UNKNOWN if t is None else (not t)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return {ast.USub: operator.neg, ast.UAdd: operator.pos}.get(type(node.op), lambda _: UNKNOWN)(v)
        return UNKNOWN

    def e_BoolOp(self, node, scope):
        result = UNKNOWN
        for e in node.values:
            v = self.eval(e, scope)
            t = self.truth(v)
            if t is None:
                return UNKNOWN
            result = v
            if isinstance(node.op, ast.And) and not t:
                return v
            if isinstance(node.op, ast.Or) and t:
                return v
        return result

    def e_Compare(self, node, scope):
        left = self.eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node, scope)
            if type(left) is Builtin and type(right) is Builtin and isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
                r = (left is right) == isinstance(op, (ast.Eq, ast.Is))  # `type(v) == int`
            elif isinstance(op, (ast.Is, ast.IsNot)):
                if left is UNKNOWN or right is UNKNOWN or not (left is None or right is None):
                    return UNKNOWN
                r = (left is right) == isinstance(op, ast.Is)
            elif isinstance(op, (ast.In, ast.NotIn)):
                if not (plain(left) and (plain(right) or isinstance(right, dict))):
                    return UNKNOWN
                try:
                    r = (left in right) == isinstance(op, ast.In)
                except TypeError:
                    return UNKNOWN
            else:
                if not (plain(left) and plain(right)):
                    return UNKNOWN
                try:
                    r = CMPOPS[type(op)](left, right)
                except TypeError:
                    return UNKNOWN
            if not r:
                return False
            left = right
        return True

    def e_IfExp(self, node, scope):
        t = self.truth(self.eval(node.test, scope))
        self.rec.sides.add((node, t))
        if t is None:
            a = self.eval(node.body, scope)
            b = self.eval(node.orelse, scope)
            return a if same_value(a, b) else unknown_like(a)
        return self.eval(node.body if t else node.orelse, scope)

    def e_Subscript(self, node, scope):
        obj = self.eval(node.value, scope)
        key = self.eval(node.slice, scope)
        return self.subscript(obj, key)

    def e_Slice(self, node, scope):
        parts = [None if p is None else self.eval(p, scope) for p in (node.lower, node.upper, node.step)]
        if not all(p is None or is_int(p) for p in parts):
            return UNKNOWN
        return slice(*parts)

    def e_Starred(self, node, scope):
        return UNKNOWN

    def e_Lambda(self, node, scope):
        self.scopes.append(scope)
        return Function(node, scope)

    def e_ListComp(self, node, scope):
        return comprehension(self, node, scope)

    def e_GeneratorExp(self, node, scope):
        return comprehension(self, node, scope)

    def e_SetComp(self, node, scope):
        return UNKNOWN

    def e_DictComp(self, node, scope):
        items = comprehension(self, node, scope, pair=True)
        if items is UNKNOWN:
            return UNKNOWN
        out = {}
        for k, v in items:
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                return UNKNOWN
            out[k] = v
        return out

    def e_Call(self, node, scope):
        # type() is, not isinstance(): ast node classes have no subclasses,
        # and calls are a fifth of all nodes
        if type(node.func) is _NAME and node.func.id == "super" and not node.args and not node.keywords:
            try:
                return scope.lookup(SUPER)
            except KeyError:
                return Super(None, None)
        func = self.eval(node.func, scope)
        args: List[object] = []
        for a in node.args:
            if type(a) is _STARRED:
                items = self.iterate(self.eval(a.value, scope))
                if items is UNKNOWN:
                    return self._opaque_call(func, node)
                args.extend(items)
            else:
                args.append(self.eval(a, scope))
        kwargs: Dict[str, object] = {}
        opaque = False
        for kw in node.keywords:
            if kw.arg is None:
                d = self.eval(kw.value, scope)
                if not isinstance(d, dict) or not all(isinstance(k, str) for k in d):
                    opaque = True  # `**kwargs` nobody knows: any keyword may be in it
                    continue
                kwargs.update(d)
            else:
                kwargs[kw.arg] = self.eval(kw.value, scope)
        if opaque:
            return self._partial_layer(func, args, kwargs, node) or self._opaque_call(func, node)
        return self.calls.call(func, args, kwargs, node)

    def _partial_layer(self, func, args, kwargs, node) -> Optional[Layer]:
        """`nn.Conv2d(cin, cout, **kw)` with kw unknown: what is given positionally
        or by name is known, every other parameter may be in kw and is unknown."""
        found = nn_class(func.qual) if type(func) is TorchRef else None
        if found is None or found[1] is None:
            return None
        name, spec = found
        positional = spec.sig.positional
        if len(args) > len(positional) or any(k not in spec.sig.params or k in positional[:len(args)] for k in kwargs):
            return None
        values = {p: UNKNOWN for p in spec.sig.params}
        values.update(zip(positional, args))
        values.update(kwargs)
        return Layer(name, node, spec, Args(values))

    def _opaque_call(self, func, node):
        """A call whose arguments are not all known (`f(*unknown)`)."""
        if isinstance(func, TorchRef) and is_layer_class(func.qual):
            return Layer(func.qual.rsplit(".", 1)[1], node)
        if type(func) is Method and type(func.obj) is Super and func.name == "__init__" and type(func.obj.obj) is Instance:
            # an nn.Sequential subclass given modules nobody knows: so are its modules
            self.calls.call_method(func, [UNKNOWN], {}, node)
        return UNKNOWN

    # -- values ----------------------------------------------------------
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
            if isinstance(v, list) and any(e is POISON for e in v):
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
                qual = f"{obj.qual}.{attr}"
                ref = self.refs.get(qual)
                if ref is None:
                    ref = self.refs[qual] = TorchRef(normalize(qual))
                obj.members[attr] = ref
            return ref
        if type(obj) is Instance:
            v = obj.attrs.get(attr, MISSING)
            if v is not MISSING:
                if type(v) is Layer and v.kind in CONTAINERS and self.rec.run is not None:
                    self.rec.log.reach(v)
                return v
            v = self.class_attr(obj.cls, attr)
            if v is UNKNOWN and attr in _MODULE_METHODS:
                return Method(obj, attr)
            if isinstance(v, Function) and isinstance(v.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return Function(v.node, v.scope, obj, v.owner)
            if v is UNKNOWN and attr == "training":
                return UNKNOWN
            return v
        if isinstance(obj, ClassInfo):
            return self.class_attr(obj, attr)
        if isinstance(obj, Tensor):
            return self.ops.attribute(obj, attr)
        if isinstance(obj, Layer):
            return self.layer_attr(obj, attr)
        if isinstance(obj, list) and attr in _LIST_METHODS or isinstance(obj, dict) and attr in _DICT_METHODS:
            return Method(obj, attr)
        if type(obj) is str and attr in STR_METHODS:
            return Method(obj, attr)
        if isinstance(obj, Super):
            found = obj.cls.lookup_in_bases(attr) if obj.cls is not None else None
            if found:  # a base defined in the file: follow it
                return Function(found[1], found[0].scope, obj.obj, found[0]) if not found[1].decorator_list else UNKNOWN
            return Method(obj, attr)
        return UNKNOWN

    def class_attr(self, cls: ClassInfo, attr: str):
        got = cls.attr_defs.get(attr)
        if got is None:
            got = cls.attr_defs[attr] = class_attr_def(cls, attr)
        found, c = got
        if found is None:
            return UNKNOWN
        if isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return Function(found, c.scope, None, c) if not found.decorator_list else UNKNOWN
        return self.eval(found.value, c.scope)

    def layer_attr(self, layer: Layer, attr: str):
        if layer.args is not None and attr in layer.args.values:
            return layer.args.values[attr]
        if layer.kind in CONTAINERS:
            if layer.items is not None and attr in layer.items:
                return layer.items[attr]
            # a method of the container: the known ones are followed, any
            # other call makes its contents unknown
            return Method(layer, attr)
        if attr in SELF_RETURNING:
            return Method(layer, attr)
        return UNKNOWN

    def subscript(self, obj, key):
        if type(obj) is Tensor:
            return self.ops.index(obj, key)
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
            try:
                return obj[key]
            except IndexError:
                return UNKNOWN
        if isinstance(obj, dict) and isinstance(key, (str, int)):
            return obj.get(key, UNKNOWN)
        return UNKNOWN


_NAME = ast.Name
_SCOPE = Scope
_ATTRIBUTE = ast.Attribute
_CONSTANT = ast.Constant
_STARRED = ast.Starred
_PLAIN_TYPES = frozenset(PLAIN)
# node type -> the Evaluator method for it (e_Call...; eval() itself does names,
# attribute reads and constants)
_EVAL = {getattr(ast, k[2:]): f for k, f in vars(Evaluator).items() if k.startswith("e_") and hasattr(ast, k[2:])}
