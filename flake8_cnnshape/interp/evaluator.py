"""The interpreter's expressions: names, constants, arithmetic, containers, comprehensions, attribute reads and
subscripts, and definitions. Calls are handed to the Calls part, tensor arithmetic to the TensorOps part (wired in
by machine.py). Whatever it does not understand is UNKNOWN; it never guesses."""
from __future__ import annotations

import ast
import keyword
import operator
from typing import Dict, List, Optional, Tuple, TYPE_CHECKING

from ..shapes.signature import UNKNOWN, Args
from .budget import MAX_DEPTH, MAX_SEQ, Budget, OutOfBudget
from .access import Access
from .imported import ImportedNames
from .comprehensions import comprehension
from .configs import parsed_defaults
from .builtins import EVAL, SUPER, Builtin, is_layer_class, is_module_class, nn_class
from .events import Recorder
from .facts import NodeFacts, defined_function
from .names import ImportMap
from .plain import (CMPOPS, PLAIN, REFUSED, is_int, joined, our_call_failed, plain, safe_binop, same_value, spec_too_wide,
                    unknown_like)
from .scope import IMPORTED, MISSING, ModuleScope, Scope
from .typetests import IDENTITY, classes
from .values import ClassInfo, Fixed, Function, Instance, Layer, Method, SizeInt, Super, Tensor, TorchRef

if TYPE_CHECKING:  # annotations only: machine.py wires the parts
    from .api import CallsPart, ExecutorPart, TensorsPart


class Evaluator(Access, ImportedNames):
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
        self.module_body: List[ast.stmt] = []  # the file's own statements (machine.py)
        self.project = None  # the other files of the project and the torchvision zoo (project.py)
        self.foreign_refs: Dict[int, Dict[str, object]] = {}  # what other files' imports stand for, by their ImportMap
        self.noting_stops = False  # for `cnnshape show`: note where a known shape ends (Scheduler.trace)
        self.strict = False  # a call of ours with the wrong arguments raises (analyze(strict=True))
        # the other parts, set by machine.py
        self.calls: CallsPart = None  # type: ignore[assignment]
        self.ex: ExecutorPart = None  # type: ignore[assignment]
        self.ops: TensorsPart = None  # type: ignore[assignment]

    # -- definitions -----------------------------------------------------
    def define(self, node: ast.AST, scope: Scope):
        """The value a module-level definition binds."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return defined_function(node, scope, self.imports)
        if isinstance(node, ast.ClassDef):
            return self.make_class(node, scope)
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            value = node.value
            if (scope is self.module and type(value) is ast.Call and type(value.func) is ast.Attribute
                    and value.func.attr in ("parse_args", "parse_known_args") and type(value.func.value) is ast.Name):
                return parsed_defaults(self, value, scope)
            return self.eval(value, scope)
        if isinstance(node, ast.expr):  # one name of `N, D_in, H = 64, 1000, 100`
            return self.eval(node, scope)
        return UNKNOWN

    def make_class(self, node: ast.ClassDef, scope: Scope) -> ClassInfo:
        bases: List[object] = []
        is_module = unread = False
        for b in node.bases:
            v = self.eval(b, scope)
            bases.append(v)
            if isinstance(v, TorchRef) and is_module_class(v.qual):
                is_module = True
            elif isinstance(v, ClassInfo):
                is_module = is_module or v.is_module
            elif v is UNKNOWN or type(v) is TorchRef and not v.qual.startswith("torch."):
                unread = True  # a base from a file or package we do not read
        if unread and not is_module and any(isinstance(s, ast.FunctionDef) and s.name == "forward" for s in node.body):
            is_module = True  # taken as an nn.Module whose own layers are not known
        return ClassInfo(node, scope, is_module, bases)

    # -- expressions -----------------------------------------------------
    def eval(self, node: ast.expr, scope: Scope):
        # the step and depth budgets by hand: this is the interpreter's hottest call
        budget = self.budget
        budget.steps += 1
        if budget.steps > budget.limit:
            raise OutOfBudget()
        # the commonest nodes first, without the dispatch: names (nearly half
        # of all) and constants, which nest nothing (no depth to count)
        kind = type(node)
        if kind is _NAME:
            # Scope.find inlined: a function's names are a dict walk
            name = node.id
            while type(scope) is _SCOPE:
                v = scope.vars.get(name, MISSING)
                if v is not MISSING:
                    return v
                scope = scope.parent
            return self._module_name(name, scope)
        if kind is _CONSTANT:
            v = node.value
            if type(v) in _PLAIN_TYPES:
                return v if not (type(v) is str and len(v) > MAX_SEQ) else UNKNOWN
            return v if v is Ellipsis else UNKNOWN  # `x[..., :c]`
        if budget.depth >= MAX_DEPTH:
            raise OutOfBudget()
        budget.depth += 1
        try:
            if kind is _ATTRIBUTE:
                value = node.value
                if type(value) is not _NAME:
                    return self.attribute(self.eval(value, scope), node.attr)
                # `self.conv1`, `nn.Conv2d`: the name's eval() inlined
                budget.steps += 1
                name = value.id
                while type(scope) is _SCOPE:
                    v = scope.vars.get(name, MISSING)
                    if v is not MISSING:
                        return self.attribute(v, node.attr)
                    scope = scope.parent
                return self.attribute(self._module_name(name, scope), node.attr)
            method = _EVAL.get(kind)
            return UNKNOWN if method is None else method(self, node, scope)
        except REFUSED as e:
            # Python itself refuses what the code asks (a zero slice step, an
            # int too large to index with): the value is unknown
            if self.strict and our_call_failed(e):
                raise
            return UNKNOWN
        finally:
            budget.depth -= 1

    def _module_name(self, name: str, scope):
        """A name no function scope binds: the module's (a ModuleScope works out a
        pending definition, which nests an evaluation), an import, a builtin."""
        if scope is not None:  # the commonest first: a name the module bound, or imported
            v = scope.vars.get(name, MISSING)
            if v is IMPORTED:  # what the imports of its module (this file's or another's) stood for so far
                refs = self.refs if scope is self.module else self.foreign_refs.get(id(scope.imports), _NO_REFS) \
                    if scope.parent is None else _NO_REFS
                v = refs.get(name, MISSING)
            if v is not MISSING and v is not IMPORTED:
                return v
        budget = self.budget
        if budget.depth >= MAX_DEPTH:
            raise OutOfBudget()
        budget.depth += 1
        try:
            v = scope.find(name) if scope is not None else MISSING
            return v if v is not MISSING else self.unbound(name, scope)
        except REFUSED:
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
                if type(x) not in (int, str, float) or not isinstance(spec, str) or spec_too_wide(spec):
                    return UNKNOWN
                parts.append(format(x, spec))  # `f"layer{i:02d}"`; a spec Python refuses is a ValueError: UNKNOWN
            else:
                return UNKNOWN
        s = "".join(parts)
        return s if len(s) <= MAX_SEQ else UNKNOWN

    def e_BinOp(self, node, scope):
        a = self.eval(node.left, scope)
        b = self.eval(node.right, scope)
        if type(a) in _TENSORS or type(b) in _TENSORS:
            return self.ops.binary(node, a, b)
        if not (plain(a) and plain(b)):
            return joined(node.op, a, b)
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
            if (type(left) is Builtin and type(right) is Builtin or classes(left, right)) and isinstance(op, IDENTITY):
                r = (left is right) == isinstance(op, (ast.Eq, ast.Is))  # `type(v) == int`, `if unit == InceptionBUnit:`
            elif isinstance(op, (ast.Is, ast.IsNot)):
                # against a singleton (`act is True`, `x is None`) any known value decides it
                if left is UNKNOWN or right is UNKNOWN or not (_singleton(left) or _singleton(right)):
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
            self.rec.undecided += 1
            a, b = self.eval(node.body, scope), self.eval(node.orelse, scope)
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
        f = node.func
        budget = self.budget
        if type(f) is _ATTRIBUTE and type(f.value) is _NAME:
            # `self.conv(x)`, `nn.Conv2d(...)`, `x.view(...)`: eval() of the callee inlined
            budget.steps += 2
            name = f.value.id
            s = scope
            while type(s) is _SCOPE:
                v = s.vars.get(name, MISSING)
                if v is not MISSING:
                    break
                s = s.parent
            else:
                v = self._module_name(name, s)
            func = self.attribute(v, f.attr)
        elif type(f) is _NAME and f.id == "super" and not node.args and not node.keywords:
            try:
                return scope.lookup(SUPER)
            except KeyError:
                return Super(None, None)
        else:
            func = self.eval(f, scope)
            if func is EVAL and len(node.args) == 1 and not node.keywords:
                return self._eval_name(self.eval(node.args[0], scope), scope)
        args: List[object] = []
        for a in node.args:
            t = type(a)
            if t is _NAME or t is _CONSTANT and type(a.value) in _NUMBERS:
                # eval() of a name or a number inlined: a third of all
                # evaluations are call arguments, most of them these
                budget.steps += 1
                if t is _CONSTANT:
                    args.append(a.value)
                    continue
                name, s = a.id, scope
                while type(s) is _SCOPE:
                    v = s.vars.get(name, MISSING)
                    if v is not MISSING:
                        break
                    s = s.parent
                else:
                    v = self._module_name(name, s)
                args.append(v)
            elif t is _STARRED:
                items = self.iterate(v := self.eval(a.value, scope))
                if items is UNKNOWN:  # a list holding a Repeated: only nn.Sequential takes one (Calls.container)
                    if not (type(v) is list and type(func) is TorchRef and func.qual == "torch.nn.Sequential"):
                        return self._opaque_call(func, node)
                args.extend(items if items is not UNKNOWN else v)
            else:
                args.append(self.eval(a, scope))
        kwargs, opaque = self._keywords(node.keywords, scope) if node.keywords else ({}, False)
        if budget.steps > budget.limit:
            raise OutOfBudget()
        if opaque:  # `**kwargs` nobody knows: any keyword may be in it
            return self._partial_layer(func, args, kwargs, node) or self._opaque_call(func, node)
        out = self.calls.call(func, args, kwargs, node)
        if self.noting_stops and (out is UNKNOWN or type(out) is Tensor and out.shape.open):
            from .stops import note_stop  # show's alone: not imported for a flake8 run

            note_stop(self.rec, func, args, node)
        return out

    def _keywords(self, keywords, scope) -> Tuple[Dict[str, object], bool]:
        """A call's keyword arguments, and whether a `**d` is not a known dict
        (the dict then holds the keywords that are known)."""
        kwargs: Dict[str, object] = {}
        opaque = False
        for kw in keywords:
            value = kw.value
            if kw.arg is None:
                d = self.eval(value, scope)
                if not isinstance(d, dict) or not all(isinstance(k, str) for k in d):
                    opaque = True
                    continue
                kwargs.update(d)
            elif type(value) is _CONSTANT and type(value.value) in _NUMBERS:
                self.budget.steps += 1  # eval() inlined, as for the positional arguments
                kwargs[kw.arg] = value.value
            else:
                kwargs[kw.arg] = self.eval(value, scope)
        return kwargs, opaque

    def _eval_name(self, text, scope):
        """`eval(block_type)` of a string that is a name (`"BasicBlock"`): what the name is where eval() stands."""
        if type(text) is not str or not text.isidentifier() or keyword.iskeyword(text):
            return UNKNOWN
        return self.eval(ast.Name(id=text, ctx=ast.Load()), scope)

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


_NAME = ast.Name
_TENSORS = (Tensor, Fixed)  # what arithmetic operators hand to tensors.py
_SCOPE = Scope
_ATTRIBUTE = ast.Attribute
_CONSTANT = ast.Constant
_STARRED = ast.Starred
_PLAIN_TYPES = frozenset(PLAIN)
_NO_REFS: Dict[str, object] = {}  # (only read)
_NUMBERS = frozenset((int, float, bool, type(None)))  # constants eval() gives as they are


def _singleton(v) -> bool:
    return v is None or v is True or v is False  # by identity: `1 in (True,)` holds
# node type -> the Evaluator method for it (e_Call...; eval() does names, attribute reads and constants)
_EVAL = {getattr(ast, k[2:]): f for k, f in vars(Evaluator).items() if k.startswith("e_") and hasattr(ast, k[2:])}
