"""Find the models in a file and run each through the interpreter.

A model is an nn.Module class (run through its forward()) or an nn.Sequential
built anywhere in the file. Each is run with its declared input when there is
one, and with an input nobody knows otherwise: then only what holds for every
input size can be found.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from functools import cached_property
from typing import TYPE_CHECKING, List, Optional, Tuple

from ..records import Shown
from ..shapes import UNKNOWN, Shape
from .index import FileIndex
from .interp import Interp, ModuleScope, OutOfBudget, Raised, Scope
from .names import ImportMap, normalize
from .scope import same_value

if TYPE_CHECKING:  # pragma: no cover
    from .sources import Source
from .run import Found, Run
from .values import ClassInfo, Function, Instance, Layer, Tensor


# A class the file builds in several ways is run in two: each more is a whole
# model run (ResNet18..152). The second is the first call that differs from
# the first in more than numbers (ResNet50's Bottleneck after ResNet18's
# BasicBlock), else the first that differs at all; it runs only when the
# first run was small, and smaller still when it differs only in numbers
# (ResNet34 after ResNet18: the same blocks, more of them).
EXTRA_WAY_STEPS = 4_000
NUMBERS_WAY_STEPS = 1_000


class Model(Shown):
    __slots__ = _fields = ("name", "node", "lines", "scope_path")

    def __init__(self, name: str, node: ast.AST, lines: Tuple[int, ...], scope_path: Optional[List[ast.AST]] = None):
        self.name = name
        self.node = node  # ClassDef, or the nn.Sequential Call
        self.lines = lines  # lines a pragma may stand on
        self.scope_path = scope_path if scope_path is not None else []  # enclosing defs, outermost first


def static_name(node: ast.expr) -> Optional[List[str]]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def resolves_to(node: ast.expr, imports: ImportMap, qual: str) -> bool:
    parts = static_name(node)
    if not parts:
        return False
    base = imports.resolve(parts[0])
    if base is None:
        return False
    return normalize(".".join([base] + parts[1:])) == qual


def find_models(tree: ast.Module, imports: ImportMap, index: FileIndex) -> Tuple[List[Model], List[Model]]:
    """(classes, sequentials): module-level nn.Module classes and every
    outermost nn.Sequential call."""
    classes: List[Model] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            classes.append(Model(node.name, node, (node.lineno, first)))
    seqs: List[Model] = []
    # the bare names that can be nn.Sequential (`from torch.nn import Sequential as S`)
    bare = {n for n in list(imports.names) + ["Sequential"] if imports.resolve(n) == "torch.nn.Sequential"}
    for node, path, stmt in index.calls:  # in source order: outer calls first
        func = node.func
        if type(func) is ast.Attribute and func.attr != "Sequential" or type(func) is ast.Name and func.id not in bare:
            continue  # most calls: `x.view(...)`, `nn.Conv2d(...)`, `Block(...)`
        # calls come in tree order, so a Sequential inside an outer one comes
        # within that one's subtree, before any other is taken
        if not resolves_to(node.func, imports, "torch.nn.Sequential") or (seqs and _inside(node, seqs[-1].node)):
            continue
        stmt_line = stmt.lineno if stmt is not None else node.lineno
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.value is node else None
        parts = static_name(target) if target is not None else None  # `self.features`: what ast.unparse gives, without it
        name = (".".join(parts) if parts else ast.unparse(target) if isinstance(target, (ast.Name, ast.Attribute))
                else f"nn.Sequential at line {node.lineno}")
        seqs.append(Model(name, node, (node.lineno, stmt_line), list(path)))
    return classes, seqs


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    """Is node part of outer's source text (so, of its subtree)?"""
    return (outer.lineno, outer.col_offset) < (node.lineno, node.col_offset) and (
        (node.end_lineno, node.end_col_offset) <= (outer.end_lineno, outer.end_col_offset))


class Checker:
    """Runs every model of one file; collects what the runs found."""

    def __init__(self, tree: ast.Module, imports: ImportMap, max_steps: int, index: FileIndex):
        self.tree = tree
        self.imports = imports
        self.index = index
        self.interp = Interp(tree, imports, max_steps, index)
        self.found: List[Tuple[Found, Optional[Source], int]] = []  # (fault, input, model's place in the file)
        self.position = 0  # of the model being run, in the file's order
        self.checked_calls: set = set()
        # places some run with a known input checked and found right: a fix
        # there would break that run (a class built two ways, two input sizes)
        self.ok_places: set = set()
        self._searchable = False
        self._quiet = False  # running a template class: its faults are its subclasses' to show
        self._sides_of: dict = {}
        self._ways: dict = {}  # _instantiations, by class

    def _record(self, run: Run, inp: Optional[Source]) -> None:
        if self._quiet:
            return
        for f in run.found.values():
            self.found.append((f, inp, self.position))
        if inp is not None:
            self.ok_places |= run.visited - {f.place for f in run.found.values()}

    def run_class(self, model: Model, inputs: List[Source]) -> None:
        cls = self.interp.module.lookup(model.name) if model.name in self._module_names() else UNKNOWN
        if not isinstance(cls, ClassInfo) or not cls.is_module or cls.node is not model.node:
            return
        if None in inputs and self._covered(cls):
            inputs = [i for i in inputs if i is not None]
            if not inputs:
                return
        self.interp.run_start = self.interp.steps
        # the size search is for models nobody gives a size for, in any way
        self._searchable = inputs == [None]
        self._quiet = self._is_template(cls)
        try:
            self._run_instances(cls, inputs)
        finally:
            self._quiet = False

    def _is_template(self, cls: ClassInfo) -> bool:
        """A base class never built in the file whose subclasses there redefine
        some of its names (`width = 32`, a method): it is not meant to run as is."""
        if self._calls(cls.name):
            return False
        mine = _defined_names(cls.node)
        for node in self.tree.body:
            if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == cls.name for b in node.bases):
                if mine & _defined_names(node):
                    return True
        return False

    def _run_instances(self, cls: ClassInfo, inputs: List[Source]) -> None:
        begin = self.interp.steps
        keep = cls.name in self._part_names
        ways = self._instantiations(cls)
        for way, (args, kwargs) in enumerate(ways):
            if way and self.interp.steps - begin > (EXTRA_WAY_STEPS if _differ(ways[0], ways[1]) else NUMBERS_WAY_STEPS):
                break  # a big model: one way of building it is checked
            start = len(self.interp.created)
            inst = self._guarded(lambda: self.interp.instantiate(cls, args, kwargs, None, keep), None)
            if not isinstance(inst, Instance):
                continue
            built = self.interp.created[start:]
            for inp in inputs:
                shape = Shape(tuple(inp.dims)) if inp else Shape.unknown()
                self._run(lambda: self._forward(inst, shape), inp)
            self._searchable = False  # its parts alone: their input is not the model's
            for seq in built:
                self.checked_calls.add(id(seq.node))
                # only the parts forward() never reached: a part it reached was
                # checked with what it really receives (or after a fault that
                # ends the model, where nothing more is a fault of this model)
                if id(seq) not in self.interp.applied and seq.children != []:  # an empty one checks nothing
                    self.check_sequential(seq, None)

    def _forward(self, inst: Instance, shape: Shape):
        forward = inst.cls.bound_method("forward", inst)
        if forward is None:
            return
        a = forward.node.args
        extra = len(a.posonlyargs + a.args) - 2
        rest = [UNKNOWN] * max(0, extra - len(a.defaults))
        self.interp.call_function(forward, [Tensor(shape, root=self._searchable)] + rest, {})

    def check_sequential(self, seq: Layer, inp: Optional[Source]) -> None:
        self.checked_calls.add(id(seq.node))
        shape = Shape(tuple(inp.dims)) if inp else Shape.unknown()
        self._run(lambda: self.interp.ops.apply_layer(seq, Tensor(shape, root=inp is None and self._searchable), None), inp)

    def run_free_sequential(self, model: Model, inputs: List[Source]) -> None:
        """An nn.Sequential no class run built: evaluate it where it stands,
        with that function's parameters unknown."""
        inputs = [i for i in inputs if i is not None or id(model.node) not in self.checked_calls]
        if not inputs:
            return
        self.interp.run_start = self.interp.steps
        seqs = self._built_by_enclosing_function(model)
        if seqs is None:
            scope = self._scope_for(model.scope_path)
            seq = self._guarded(lambda: self.interp.eval(model.node, scope), None)
            seqs = [seq] if isinstance(seq, Layer) else []
        if not seqs:
            return
        self._searchable = inputs == [None] and not any(isinstance(p, ast.ClassDef) for p in model.scope_path)
        for seq in seqs[:4]:
            for inp in inputs:
                self.check_sequential(seq, inp)

    def _built_by_enclosing_function(self, model: Model) -> Optional[List[Layer]]:
        """Run the function the Sequential is built in, its parameters unknown,
        so that what the function does to its layers before building (append,
        item assignment...) is seen. None when there is no such function."""
        path = model.scope_path
        if not path or not isinstance(path[-1], (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        fn = path[-1]
        if fn.decorator_list or any(isinstance(p, ast.ClassDef) for p in path):
            return None
        a = fn.args
        params = [p.arg for p in a.posonlyargs + a.args] + [p.arg for p in a.kwonlyargs]
        start = len(self.interp.created)
        outer = self._scope_for(path[:-1])
        self._guarded(lambda: self.interp.call_function(Function(fn, outer), [], {p: UNKNOWN for p in params}), None)
        return [s for s in self.interp.created[start:] if s.node is model.node]

    def _scope_for(self, path: List[ast.AST]) -> Scope:
        scope: Scope = self.interp.module
        for node in path:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                a = node.args
                params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
                params += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
                body = node.body if isinstance(node.body, list) else []
                scope = ModuleScope(self.interp, body, scope, unknown=params)
            elif isinstance(node, ast.ClassDef):
                scope = ModuleScope(self.interp, node.body, scope)
        return scope

    def _run(self, thunk, inp: Optional[Source]) -> None:
        run = Run()
        interp = self.interp
        interp.run = run
        # what this run goes through counts towards _covered only if it is kept
        taken, clean = interp.taken, interp.clean
        interp.taken, interp.clean = set(), {}
        try:
            thunk()
        except (Raised, RecursionError):
            pass
        except OutOfBudget:
            return  # a run cut short reports nothing: its branches were not joined
        finally:
            interp.run = None
            interp.taken, interp.clean, mine = taken, clean, (interp.taken, interp.clean)
        if inp is not None and not inp.explicit and run.rejects_input():
            return  # the inferred size does not fit the model's first layer: not its input
        self._record(run, inp)
        if not self._quiet:
            taken |= mine[0]
            for cls_node, made in mine[1].items():
                clean.setdefault(cls_node, {}).update(made)

    def _covered(self, cls: ClassInfo) -> bool:
        """Would the class's run of its own, with an unknown input, find
        nothing the runs so far did not? So it is when, for each way that run
        would build it, some run took the forward() of an instance built alike
        (the same value for each argument that way knows) to its end with no
        fault, and the runs went down every side of each `if` in its code: what
        holds for every size and every unknown argument holds for theirs."""
        clean = self.interp.clean.get(cls.node)
        if not clean:
            return False
        taken = self.interp.taken
        if not all((node, side) in taken or (node, None) in taken for node, side in self._sides(cls)):
            return False
        made = list(clean.values())
        built: List[Optional[dict]] = []  # bound as the ways need them: most match the first
        for args, kwargs in self._instantiations(cls):
            own = self._bound(cls, args, kwargs)
            if own is None:
                return False
            for i, (a, k) in enumerate(made):
                if i == len(built):
                    built.append(self._bound(cls, a, k))
                if built[i] is not None and _alike(own, built[i]):
                    break
            else:
                return False
        return True

    def _bound(self, cls: ClassInfo, args, kwargs) -> Optional[dict]:
        """__init__'s parameters bound to these arguments, defaults filled in."""
        init = cls.bound_method("__init__", None)
        if init is None:
            return {}
        scope = Scope(None)
        ok = self._guarded(lambda: self.interp.bind_params(init.node.args, [None] + list(args), kwargs, scope, init.scope), False)
        return scope.vars if ok else None

    def _sides(self, cls: ClassInfo) -> List[Tuple[ast.AST, bool]]:
        """The sides of the `if`s in a class, its bases in the file and the
        module functions they call by name, that do more than raise."""
        got = self._sides_of.get(cls.node)
        if got is not None:
            return got
        todo, seen, sides = [cls], set(), []  # classes, and module functions' nodes
        while todo:
            item = todo.pop()
            node = item.node if isinstance(item, ClassInfo) else item
            if node in seen:
                continue
            seen.add(node)
            if isinstance(item, ClassInfo):
                todo += [b for b in item.bases if isinstance(b, ClassInfo)]
            for sub in self.index.branches.get(id(node), ()):
                if type(sub) is ast.If:
                    sides += [(sub, t) for t, block in ((True, sub.body), (False, sub.orelse)) if not _inert(block)]
                else:
                    sides += [(sub, True), (sub, False)]
            todo += [self._functions[n] for n in self._called[id(node)]]
        self._sides_of[cls.node] = sides
        return sides

    @cached_property
    def _called(self) -> dict:
        """The module functions each module-level definition calls by name."""
        functions, called = self._functions, {}
        for node, path, _ in self.index.calls:
            if path and type(node.func) is ast.Name and node.func.id in functions:
                called.setdefault(id(path[0]), set()).add(node.func.id)
        return defaultdict(set, called)

    @cached_property
    def _functions(self) -> dict:
        return {s.name: s for s in self.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def evaluate(self, expr: ast.expr, path: List[ast.AST]):
        """A value where it stands in the file, outside any model run."""
        scope = self._scope_for(path)
        return self._guarded(lambda: self.interp.eval(expr, scope), UNKNOWN)

    def _guarded(self, thunk, default):
        try:
            return thunk()
        except (Raised, RecursionError, OutOfBudget):
            return default

    def _module_names(self):
        return set(self.interp.module.vars) | set(self.interp.module.pending)

    @cached_property
    def _part_names(self) -> set:
        """Names called inside some class: the blocks models are built of,
        whose builds are worth keeping for the models to copy."""
        return {node.func.id for node, path, _ in self.index.calls
                if isinstance(node.func, ast.Name) and any(isinstance(p, ast.ClassDef) for p in path)}

    def _calls(self, name: str) -> List[ast.Call]:
        return self.index.calls_by_name.get(name, [])

    def _instantiations(self, cls: ClassInfo):
        """Arguments the file builds this class with, when they are all known
        (the first way, and the second as the comment on EXTRA_WAY_STEPS says);
        else the __init__ defaults (required parameters unknown)."""
        got = self._ways.get(cls.node)
        if got is None:
            got = self._ways[cls.node] = self._find_ways(cls)
        return got

    def _find_ways(self, cls: ClassInfo):
        seen = []
        for node in self._calls(cls.name)[:16]:
            if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                continue
            args = [self._guarded(lambda a=a: self.interp.eval(a, self.interp.module), UNKNOWN) for a in node.args]
            kwargs = {k.arg: self._guarded(lambda k=k: self.interp.eval(k.value, self.interp.module), UNKNOWN) for k in node.keywords}
            if all(v is not UNKNOWN for v in list(args) + list(kwargs.values())):
                key = (repr(args), repr(sorted(kwargs.items())))
                if key not in [s[0] for s in seen]:
                    seen.append((key, args, kwargs))
        if seen:
            ways = [(a, k) for _, a, k in seen]
            second = next((w for w in ways[1:] if _differ(ways[0], w)), ways[1] if len(ways) > 1 else None)
            return ways[:1] + ([second] if second is not None else [])
        init = cls.method("__init__")
        if init is None:
            return [([], {})]
        a = init.args
        positional = (a.posonlyargs + a.args)[1:]
        required = len(positional) - len(a.defaults)
        kwargs = {p.arg: UNKNOWN for p in positional[:max(0, required)]}
        kwargs.update({p.arg: UNKNOWN for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None})
        return [([], kwargs)]


def _alike(own, built) -> bool:
    """Was an instance built with the parameters `built` built as one with
    `own` would be? Each value `own` knows is the same there."""
    if own is UNKNOWN:
        return True
    if type(own) is dict:
        return type(built) is dict and own.keys() == built.keys() and all(_alike(v, built[k]) for k, v in own.items())
    if type(own) in (list, tuple):
        return type(built) is type(own) and len(own) == len(built) and all(_alike(a, b) for a, b in zip(own, built))
    return same_value(own, built)


def _inert(block: List[ast.stmt]) -> bool:
    """A side of an `if` that checks no shape: nothing, `pass`, a raise."""
    return all(isinstance(s, (ast.Pass, ast.Raise)) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in block)


def _defined_names(cls: ast.ClassDef) -> set:
    """Names a class body binds: class attributes and methods."""
    names = set()
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            for t in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                if isinstance(t, ast.Name):
                    names.add(t.id)
    return names


def _differ(a, b) -> bool:
    """Do two ways of building differ in more than numbers?"""
    return repr(_blind(a)) != repr(_blind(b))


def _blind(v):
    """v with its numbers left out."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "#"
    if isinstance(v, (list, tuple)):
        return type(v)(_blind(x) for x in v)
    if isinstance(v, dict):
        return {k: _blind(x) for k, x in sorted(v.items())}
    return v
