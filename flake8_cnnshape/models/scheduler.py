"""Which runs check a file's models, in which order, and what they found.

A class is run once per input it may be fed (its declared or inferred sizes,
and the unknown size), in up to two of the ways the file builds it; the
nn.Sequentials its build made that forward() never reached are checked on
their own. Models come before the blocks they are built of (the file's
classes last first), so that a block the models' runs went through needs no
run of its own (coverage.py). An nn.Sequential no class built is checked
where it stands.
"""
from __future__ import annotations

import ast
from functools import cached_property
from typing import Dict, List, Optional, Tuple

from ..findings import Finding, InputSource
from ..interp.events import Run
from ..interp.facts import class_body_names
from ..interp.machine import Interp
from ..interp.project import FOREIGN_LINE, in_zoo
from ..interp.values import UNKNOWN, ClassInfo, Function, Instance, Layer
from . import fitted, scripts
from .coverage import Coverage
from .discover import Model
from .runner import Runner, shape_of
from .ways import WaySearch, complete, differ, required, unknown_parameters

# A class the file builds in several ways is run in two: each more is a whole
# model run (ResNet18..152). The second is the first call that differs from
# the first in more than numbers (ResNet50's Bottleneck after ResNet18's
# BasicBlock), else the first that differs at all; it runs only when the
# first run was small, and smaller still when it differs only in numbers
# (ResNet34 after ResNet18: the same blocks, more of them). A second run of a
# zoo's ResNet costs as much as the first (a fifth of a model zoo's analysis),
# so with these limits a big model runs in one way; a block only the second
# way uses (ResNet50's Bottleneck) then gets its own run, with an unknown input.
EXTRA_WAY_STEPS = 1_000
NUMBERS_WAY_STEPS = 500
MAX_CALLS_READ = 16  # calls of a class read for the ways it is built
MAX_FREE_BUILDS = 4  # builds of one free nn.Sequential checked
MAX_FACTORIES = 4  # module functions run for the ways they build a class


class Scheduler:
    def __init__(self, tree: ast.Module, interp: Interp, index):
        self.tree = tree
        self.interp = interp
        self.index = index
        self.runner = Runner(interp)
        self.coverage = Coverage(tree, interp, index, interp.rec.log)
        self.found: List[Tuple[Finding, Optional[InputSource], int]] = []  # (finding, input, model's place in the file)
        self.position = 0  # of the model being run, in the file's order
        self.checked_calls: set = set()  # ids of the nn.Sequential calls checked
        # places some run with a known input checked and found right: a fix
        # there would break that run (a class built two ways, two input sizes)
        self.ok_places: set = set()
        self._searchable = False  # the size search may run: no size is given for this model in any way
        self._quiet = False  # running a template class: its faults are its subclasses' to show
        self._ways: Dict[ast.AST, "WaySearch"] = {}  # the ways of each class found so far
        self.declared: Dict[int, ast.Call] = {}  # by the class node's id: its pragma's build=, its first way
        self._subclasses: Optional[Dict[str, List[ast.ClassDef]]] = None
        self._defined: dict = {}
        self._otherwise: dict = {}  # _used_otherwise, by (class, attribute)
        self._read: dict = {}  # _attributes_read, by class node

    # -- what a run found ----------------------------------------------------
    def _run(self, thunk, inp: Optional[InputSource]) -> None:
        self._keep(self.runner.run(thunk, inp), inp)

    def _keep(self, run: Optional[Run], inp: Optional[InputSource]) -> None:
        if run is None or self._quiet:
            return
        self._record(run, inp)
        self.interp.rec.log.keep(run)

    def _run_declared(self, cls: ClassInfo, args, kwargs, inp: InputSource, thunk, keep: bool) -> None:
        """A run at a pragma's input of a class built from its defaults: where
        their first layer refuses the input, the build fitted to it, if any."""
        run = self.runner.run(thunk, inp)
        if run is not None and run.rejects_input():
            got = self.fitted(cls, args, kwargs, inp, run, keep)
            if got is not None:
                run, inp = got[1:]
        self._keep(run, inp)

    def _record(self, run: Run, inp: Optional[InputSource]) -> None:
        for f in run.found.values():
            self.found.append((f, inp, self.position))
        if inp is not None:
            self.ok_places |= run.visited - {f.place for f in run.found.values()}

    # -- classes -------------------------------------------------------------
    def run_class(self, model: Model, inputs: List[Optional[InputSource]]) -> None:
        module = self.interp.module
        # the class is worked out on first use; the file's budget may be spent by then
        cls = self.runner.guarded(lambda: module.lookup(model.name), UNKNOWN) if module.defines(model.name) else UNKNOWN
        if not isinstance(cls, ClassInfo) or not cls.is_module or cls.node is not model.node:
            return
        if None in inputs and self.coverage.covered(cls, self.ways):
            inputs = [i for i in inputs if i is not None]
            if not inputs:
                return
        self.interp.start_model()
        # the size search is for models nobody gives a size for, in any way
        self._searchable = inputs == [None]
        # a pragma on it says it is a model as it stands, template or not
        self._quiet = not any(i is not None and i.kind == "pragma" for i in inputs) and self._is_template(cls)
        try:
            self.run_instances(cls, inputs)
        finally:
            self._quiet = False

    def _is_template(self, cls: ClassInfo) -> bool:
        """A base class never built in the file whose subclasses there redefine
        some of its names (`width = 32`, a method): it is not meant to run as is."""
        if self._calls(cls.name):
            return False
        if self._subclasses is None:
            self._subclasses = {}
            for node in self.tree.body:
                if isinstance(node, ast.ClassDef):
                    for b in node.bases:
                        if isinstance(b, ast.Name):
                            self._subclasses.setdefault(b.id, []).append(node)
        mine = self._defined_names(cls.node)
        return any(mine & self._defined_names(sub) for sub in self._subclasses.get(cls.name, ()))

    def _defined_names(self, cls: ast.ClassDef) -> set:
        """Names a class body binds: class attributes and methods."""
        got = self._defined.get(id(cls))
        if got is None:
            got = self._defined[id(cls)] = class_body_names(cls)
        return got

    def run_instances(self, cls: ClassInfo, inputs: List[Optional[InputSource]]) -> None:
        """The class built in its ways, each fed every input; the parts no forward() reached, on their own."""
        interp = self.interp
        begin = interp.budget.steps
        keep = cls.name in self._part_names
        ways = self.ways(cls, second=False)
        built_log = interp.rec.log.built
        for way in range(2):
            if way:
                if interp.budget.steps - begin > EXTRA_WAY_STEPS:
                    break  # a big model: one way of building it is checked
                ways = self.ways(cls)  # the factories that give the second are run only now
                if len(ways) < 2 or interp.budget.steps - begin > (EXTRA_WAY_STEPS if differ(ways[0], ways[1]) else NUMBERS_WAY_STEPS):
                    break
            args, kwargs = ways[way]
            start = len(built_log)
            inst = self.runner.guarded(lambda: interp.instantiate(cls, args, kwargs, None, keep), None)
            if not isinstance(inst, Instance):
                continue
            built = built_log[start:]
            for inp in inputs:
                shape = shape_of(inp)
                thunk = lambda: self.runner.forward(inst, shape, self._searchable)  # noqa: E731
                if not way and self._fits_declared(cls, inp):
                    self._run_declared(cls, args, kwargs, inp, thunk, keep)
                else:
                    self._run(thunk, inp)
            self._searchable = False  # its parts alone: their input is not the model's
            log = interp.rec.log
            for seq in built:
                if (seq.owner is not None and id(seq) not in log.applied and seq.children != []
                        and self._used_otherwise(*seq.owner)):
                    log.reach(seq)  # its class uses it other than by calling it: not a chain of layers
            for seq in built:
                self.checked_calls.add(id(seq.node))
                # only the parts forward() never reached: a part it reached was
                # checked with what it really receives (or after a fault that
                # ends the model, where nothing more is a fault of this model)
                if id(seq) not in log.applied and seq.children != []:  # an empty one checks nothing
                    self.check_sequential(seq, None)

    def _fits_declared(self, cls: ClassInfo, inp: Optional[InputSource]) -> bool:
        """Is cls built from its defaults (nothing in the file builds it) and
        fed a pragma's input: may a parameter be fitted to it (fitted.py)?"""
        search = self._ways.get(cls.node)
        return inp is not None and inp.kind == "pragma" and search is not None and not search.known + search.unknown

    def fitted(self, cls: ClassInfo, args, kwargs, inp: InputSource, run: Run, keep: bool = False):
        """(kwargs, run, source) of the build with one parameter given the size
        the declared input has, where its defaults' first layer refuses it and
        that build takes it (fitted.py); None where none does."""
        init = cls.method("__init__")
        for param, value in fitted.candidates(run, init, kwargs) if init is not None else ():
            given = dict(kwargs, **{param: value})
            inst = self.runner.guarded(lambda: self.interp.instantiate(cls, args, given, None, keep), None)
            if not isinstance(inst, Instance):
                continue
            again = self.runner.run(lambda: self.runner.forward(inst, shape_of(inp), False), inp)
            if again is not None and not again.rejects_input():
                return given, again, fitted.source(inp, cls.name, param, value)
        return None

    def _traced_fit(self, cls: ClassInfo, args, kwargs, inp: InputSource):
        """(kwargs, source) of the build show traces at a pragma's input: the
        one fitted to it where the defaults' first layer refuses it."""
        first = self.runner.guarded(lambda: self.interp.instantiate(cls, args, kwargs, None), None)
        got = self.runner.run(lambda: self.runner.forward(first, shape_of(inp), False), inp) if isinstance(first, Instance) else None
        fitted_way = self.fitted(cls, args, kwargs, inp, got) if got is not None and got.rejects_input() else None
        log = self.interp.rec.log
        log.trace, log.stops = [], []  # what these runs traced: the run after them is the table's
        return (kwargs, inp) if fitted_way is None else (fitted_way[0], fitted_way[2])

    def _used_otherwise(self, cls: ClassInfo, attr: str) -> bool:
        """Does a method of the class (or of its bases in the file), other than
        __init__, read `self.<attr>` other than to call it (`self.blocks._modules`,
        `for m in self.blocks`, `self.blocks[0]`)?"""
        key = (id(cls.node), attr)
        got = self._otherwise.get(key)
        if got is None:
            got = self._otherwise[key] = _reads_otherwise(cls, attr, self._attributes_read)
        return got

    def _attributes_read(self, node: ast.ClassDef) -> frozenset:
        got = self._read.get(id(node))
        if got is None:
            got = self._read[id(node)] = _attributes_read(node)
        return got

    def check_sequential(self, seq: Layer, inp: Optional[InputSource]) -> None:
        self.checked_calls.add(id(seq.node))
        shape = shape_of(inp)
        self._run(lambda: self.runner.apply(seq, shape, inp is None and self._searchable), inp)

    # -- nn.Sequentials no class built ---------------------------------------------
    def run_free_sequential(self, model: Model, inputs: List[Optional[InputSource]]) -> None:
        """An nn.Sequential no class run built: evaluated where it stands,
        with that function's parameters unknown."""
        inputs = [i for i in inputs if i is not None or id(model.node) not in self.checked_calls]
        if not inputs:
            return
        self.interp.start_model()
        seqs = self.runner.built_by_enclosing_function(model.scope_path, model.node)
        if seqs is None:
            scope = self.runner.scope_for(model.scope_path)
            seq = self.runner.guarded(lambda: self.interp.eval(model.node, scope), None)
            seqs = [seq] if isinstance(seq, Layer) else []
        if not seqs:
            return
        self._searchable = inputs == [None] and not model.in_class
        for seq in seqs[:MAX_FREE_BUILDS]:
            for inp in inputs:
                self.check_sequential(seq, inp)

    # -- models a script builds from torchvision (scripts.py) ------------------
    def run_script(self, model: Model, inputs: List[Optional[InputSource]]) -> None:
        self.interp.start_model()
        scope = self.runner.scope_for(model.scope_path)
        project = scripts.from_project(model, self.interp.ev.imports)
        call = model.node.value
        if project:  # a class of the project's (a function's result is not followed: a factory of many models)
            callee = self.runner.guarded(lambda: self.interp.eval(call.func, scope), UNKNOWN)
            if not (isinstance(callee, ClassInfo) and callee.is_module and callee.node.lineno >= FOREIGN_LINE):
                return
        elif not scripts.changed(model, self.tree):
            # a torchvision model as torchvision made it is right at some size: only a size given for it can be wrong
            inputs = [i for i in inputs if i is not None and i.explicit]
        self._searchable = inputs == [None]
        at = (call.lineno, call.col_offset)
        rec = self.interp.rec
        for inp in inputs:
            shape = shape_of(inp)

            def thunk():
                if project:  # a fault in the class's own file, found with the script's arguments: reported here
                    rec.entry, rec.entry_foreign = (at, ast.unparse(call.func)), True
                try:
                    root = scripts.build(model, self.tree, self.interp, scope)
                    if isinstance(root, Instance):
                        self._forward_script(model, root, shape, self._searchable)
                    elif isinstance(root, Layer):
                        self.runner.apply(root, shape, self._searchable)
                finally:
                    rec.entry, rec.entry_foreign = None, False
            self._run(thunk, inp)

    def _forward_script(self, model: Model, root: Instance, shape, searchable: bool) -> None:
        """A script's model run; faults inside a torchvision model, or inside a
        class of another file of the project, are reported at the script's build of it."""
        rec = self.interp.rec
        call = model.node.value
        entry = rec.entry
        if in_zoo(root.cls.node.lineno):
            rec.entry = ((call.lineno, call.col_offset), f"torchvision's {root.cls.name}")
        try:
            self.runner.forward(root, shape, searchable)
        finally:
            rec.entry = entry

    # -- `cnnshape show` -----------------------------------------------------
    def trace(self, model: Model, inp: Optional[InputSource]):
        """(the model's value, each leaf layer applied as (layer, input shape,
        output shape, its rule's faults), where the known shape ended as (line, what, why), the
        run: None when it does not count, as for an inferred size the model's
        first sized layer rejects, the input source: inp, or inp naming the build
        fitted to it) for one build and one run at inp; None when the model
        cannot be built."""
        interp = self.interp
        log = interp.rec.log
        log.trace, log.stops = [], []
        interp.ev.noting_stops = True
        shape = shape_of(inp)
        try:
            if isinstance(model.node, ast.ClassDef):
                cls = self.runner.evaluate(ast.Name(id=model.name, ctx=ast.Load()), [])
                if not isinstance(cls, ClassInfo) or not cls.is_module:
                    return None
                args, kwargs = self.ways(cls, second=False)[0]
                if self._fits_declared(cls, inp):  # as the check's run does: the build fitted to the input
                    kwargs, inp = self._traced_fit(cls, args, kwargs, inp)
                root = self.runner.guarded(lambda: interp.instantiate(cls, args, kwargs, None), None)
            elif isinstance(model.node, ast.Assign):  # a script's torchvision model
                scope = self.runner.scope_for(model.scope_path)
                root = self.runner.guarded(lambda: scripts.build(model, self.tree, interp, scope), None)
            else:
                root = self.runner.evaluate(model.node, model.scope_path)
            if isinstance(root, Instance) and isinstance(model.node, ast.Assign):
                run = self.runner.run(lambda: self._forward_script(model, root, shape, False), inp)
            elif isinstance(root, Instance):
                run = self.runner.run(lambda: self.runner.forward(root, shape, False), inp)
            elif isinstance(root, Layer) and not isinstance(model.node, ast.ClassDef):
                run = self.runner.run(lambda: self.runner.apply(root, shape, False), inp)
            else:
                return None
            return root, log.trace, log.stops, run, inp
        finally:
            log.trace = log.stops = None
            interp.ev.noting_stops = False

    # -- the ways a class is built -----------------------------------------
    @cached_property
    def _part_names(self) -> set:
        """Names called inside some class: the blocks models are built of,
        whose builds are worth keeping for the models to copy."""
        return {node.func.id for node, path, _ in self.index.calls
                if isinstance(node.func, ast.Name) and any(isinstance(p, ast.ClassDef) for p in path)}

    def _calls(self, name: str) -> List[ast.Call]:
        return self.index.calls_by_name.get(name, [])

    def ways(self, cls: ClassInfo, second: bool = True):
        """Arguments the file builds this class with, when they are all known
        (the first way, and the second as the comment on EXTRA_WAY_STEPS says);
        else the __init__ defaults (required parameters unknown). Without
        second, only the first is sure to be there: the calls and factories
        that would give the second are not read yet."""
        search = self._ways.get(cls.node)
        if search is None:
            declared = self.declared.get(id(cls.node))
            search = self._ways[cls.node] = WaySearch(([declared] if declared else []) + self._calls(cls.name)[:MAX_CALLS_READ])
        self._read_ways(cls, search, second)
        ways = search.known + search.unknown
        if ways:
            if not second and not search.done:
                return ways[:1]
            other = next((w for w in ways[1:] if differ(ways[0], w)), ways[1] if len(ways) > 1 else None)
            return ways[:1] + ([other] if other is not None else [])
        init = cls.method("__init__")
        if init is None:
            return [([], {})]
        return [([], unknown_parameters(init, self._calls(cls.name)))]

    def _read_ways(self, cls: ClassInfo, search: "WaySearch", second: bool) -> None:
        """Read the class's calls whose arguments are all known where they
        stand; when none is, run the module functions that call it (a factory:
        `def resnet18(**kwargs): return ResNet(BasicBlock, [2, 2, 2, 2],
        **kwargs)`) with their own defaults, what they leave unknown unknown.
        Each read evaluates arguments (a zoo's `VGG(make_layers(cfg['A']))`
        builds a whole model's layers): only as far as the ways asked for need."""
        module = self.interp.module
        while search.calls and not search.settled(second):
            node = search.calls.pop(0)
            way = self._way_of(node, module)
            if way is not None:
                search.add(way, complete(cls, *way))
            else:
                fn = self._factory_of(node)
                if fn is not None and fn not in search.factories:
                    search.factories.append(fn)
        if search.calls or search.known:
            return
        if search.todo is None:  # every call read, none fully known: the factories
            search.todo = search.factories[:MAX_FACTORIES]
        while search.todo and not search.settled(second):
            for way in self._factory_ways(cls, search.todo.pop(0)):
                search.add(way, complete(cls, *way))

    def _way_of(self, node: ast.Call, module):
        """(args, kwargs) of a call, evaluated in the module's scope, when all are known."""
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        args = [self.runner.guarded(lambda a=a: self.interp.eval(a, module), UNKNOWN) for a in node.args]
        kwargs = {k.arg: self.runner.guarded(lambda k=k: self.interp.eval(k.value, module), UNKNOWN) for k in node.keywords}
        if all(v is not UNKNOWN for v in list(args) + list(kwargs.values())):
            return args, kwargs
        return None

    def _factory_of(self, node: ast.Call) -> Optional[ast.FunctionDef]:
        """The module-level function a call stands in, if it stands in one (not in a class)."""
        path = self._paths.get(id(node), ())
        if len(path) == 1 and isinstance(path[0], (ast.FunctionDef, ast.AsyncFunctionDef)) and not path[0].decorator_list:
            return path[0]
        return None

    @cached_property
    def _paths(self) -> dict:
        return {id(node): path for node, path, _ in self.index.calls if type(node.func) is ast.Name}

    def _factory_ways(self, cls: ClassInfo, fn: ast.FunctionDef):
        """The builds of cls the factory fn makes, run with its parameters'
        defaults (the required ones unknown)."""
        return self.interp.watch_builds(cls, lambda: self.interp.call_function(
            Function(fn, self.interp.module), [], {p: UNKNOWN for p in required(fn)}))


def _reads_otherwise(cls: ClassInfo, attr: str, reads) -> bool:
    return any(attr in reads(c.node) for c in [cls] + [b for b in cls.bases if type(b) is ClassInfo])


def _attributes_read(cls: ast.ClassDef) -> frozenset:
    """The `self.<attr>` a class's methods other than __init__ read other than to call them."""
    got = set()
    for fn in cls.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name == "__init__":
            continue
        nodes = list(ast.walk(fn))
        called = {id(n.func) for n in nodes if type(n) is ast.Call}
        got.update(n.attr for n in nodes if type(n) is ast.Attribute and type(n.value) is ast.Name
                   and n.value.id == "self" and id(n) not in called)
    return frozenset(got)
