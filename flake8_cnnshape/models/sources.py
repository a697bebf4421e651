"""Where a model's input size can be read from the file itself: dummy calls,
summary() calls, and torchvision datasets with the transforms composed for
them. Every source is named in the messages it leads to; a source we are not
sure of is dropped, never guessed at."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Tuple

from ..findings import InputSource
from ..interp.names import ImportMap, static_name
from ..interp.values import Tensor
from .discover import Model

# per-sample (C, H, W); None where the dataset's images vary
DATASETS = {
    **{name: (1, 28, 28) for name in ("MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST")},
    **{name: (3, 32, 32) for name in ("CIFAR10", "CIFAR100", "SVHN")},
    "STL10": (3, 96, 96),
    "ImageFolder": (3, None, None),  # the default loader converts to RGB
}

# transforms that keep the image size and channel count
_SAME_SIZE = set(
    "ToTensor PILToTensor ToImage ToDtype ConvertImageDtype Normalize RandomHorizontalFlip RandomVerticalFlip "
    "ColorJitter RandomRotation RandomAffine GaussianBlur RandomErasing RandomGrayscale RandomInvert "
    "RandomPosterize RandomSolarize RandomAdjustSharpness RandomAutocontrast RandomEqualize AutoAugment "
    "RandAugment TrivialAugmentWide AugMix RandomPerspective ElasticTransform".split()
)
UNSURE = object()  # a dataset whose per-sample size we cannot tell
_METHOD_CHAIN = ("to", "cuda", "cpu", "eval", "train", "float", "double", "half")


class SourceFinder:
    """evaluate(expr, path) gives a value where it stands in the file
    (runner.Runner.evaluate)."""

    def __init__(self, tree: ast.Module, imports: ImportMap, index, evaluate, classes: List[Model], seqs: List[Model],
                 scripts: List[Model] = ()):
        self.tree = tree
        self.imports = imports
        self.index = index
        self.evaluate = evaluate
        self.classes = {m.name: m for m in classes}
        self.seqs = {id(m.node): m for m in seqs}
        self.scripts = {}  # name -> the script models of that name (scripts.py)
        for m in scripts:
            self.scripts.setdefault(m.name, []).append(m)
        self.assignments: Dict[int, Dict[str, list]] = {}  # per function (or module): name -> values
        # cheap tests first: most calls in a file are none of these
        self.has_summary = any(q.split(".")[0] in ("torchsummary", "torchinfo") for q in imports.names.values())
        self.factories = self._factories()
        self.model_names = self._model_names()

    def _factories(self) -> Dict[str, Model]:
        """Module functions whose every return builds the same model class
        (`def resnet20(**kwargs): return ResNet(BasicBlock, [3, 3, 3], **kwargs)`):
        what they return is that model."""
        out = {}
        # only module functions that return some build of a model class can be one
        candidates = {id(path[0]): path[0] for node, path, stmt in self.index.calls
                      if type(stmt) is ast.Return and stmt.value is node and type(node.func) is ast.Name
                      and node.func.id in self.classes and path and type(path[0]) is ast.FunctionDef}
        for fn in candidates.values():
            if fn.decorator_list:
                continue
            only = fn.body[0] if len(fn.body) == 1 else None  # the commonest: `return ResNet(...)`
            returns = [only.value] if type(only) is ast.Return else [n.value for n in ast.walk(fn) if isinstance(n, ast.Return)]
            names = {r.func.id if isinstance(r, ast.Call) and isinstance(r.func, ast.Name) else None for r in returns}
            if len(names) == 1 and None not in names and names <= set(self.classes):
                out[fn.name] = self.classes[names.pop()]
        return out

    def _model_names(self) -> set:
        """Names some statement assigns a model to (`net = Net().to(device)`):
        only these can stand for a model in a dummy call."""
        out = set()
        for node, _, stmt in self.index.calls:
            func = node.func
            named = isinstance(func, ast.Name) and (func.id in self.classes or func.id in self.factories)
            if not named and id(node) not in self.seqs:
                continue
            if isinstance(stmt, ast.Assign):
                out.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
            elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
                out.add(stmt.target.id)
        return out

    def find(self) -> Tuple[Dict[int, List[InputSource]], List[InputSource]]:
        """(sources by id(model), dataset sources for the whole file)."""
        by_model: Dict[int, List[InputSource]] = {}
        datasets: List[InputSource] = []
        unsure = False
        for node, path, _ in self.index.calls:
            got = (self.has_summary and self._summary(node, path)) or self._dummy_call(node, path)
            if got is not None:
                model, src = got
                lst = by_model.setdefault(id(model), [])
                if src.dims not in [s.dims for s in lst]:
                    lst.append(src)
                continue
            ds = self._dataset(node, path)
            if ds is UNSURE:
                unsure = True
            elif ds is not None and ds.dims not in [s.dims for s in datasets]:
                datasets.append(ds)
        # one dataset whose size we cannot tell, and we no longer know which
        # of them feeds the model: the datasets say nothing
        return by_model, [] if unsure else datasets

    # -- which model an expression stands for -------------------------------
    def model_of(self, expr: ast.expr, path: List[ast.AST]) -> Tuple[Optional[Model], Optional[str]]:
        attr = None
        if isinstance(expr, ast.Attribute) and expr.attr not in _METHOD_CHAIN:
            attr, expr = expr.attr, expr.value
        expr = self._strip_chain(expr)
        if isinstance(expr, ast.Name) and expr.id in self.scripts:
            # the script model of that name built in the same function (or at module level)
            own = [m for m in self.scripts[expr.id] if m.scope_path == list(path[:len(m.scope_path)])]
            return (own[-1], attr) if own else (None, None)
        if isinstance(expr, ast.Name):
            if expr.id not in self.model_names:
                return None, None
            value = self._single_assignment(expr.id, path)
            if value is None:
                return None, None
            expr = self._strip_chain(value)
        if isinstance(expr, ast.Call):
            if id(expr) in self.seqs and attr is None:
                return self.seqs[id(expr)], None
            if isinstance(expr.func, ast.Name) and expr.func.id in self.classes:
                return self.classes[expr.func.id], attr
            if isinstance(expr.func, ast.Name) and expr.func.id in self.factories:
                return self.factories[expr.func.id], attr
        return None, None

    def _strip_chain(self, expr):
        while (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in _METHOD_CHAIN
        ):
            expr = expr.func.value
        return expr

    def _single_assignment(self, name: str, path: List[ast.AST]) -> Optional[ast.expr]:
        """The value of the one assignment to `name` where the use reads it:
        the innermost function that binds it, else the module (as Python
        scoping goes); None if there are several assignments, or none, or it
        is a parameter."""
        owners = [p for p in reversed(path) if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef))] + [self.tree]
        for owner in owners:
            if owner is not self.tree:
                a = owner.args
                params = a.posonlyargs + a.args + a.kwonlyargs + [p for p in (a.vararg, a.kwarg) if p is not None]
                if any(p.arg == name for p in params):
                    return None
            table = self.assignments.get(id(owner))
            if table is None:
                table = self.assignments[id(owner)] = _assignments(owner)
            if name in table:
                found = table[name]
                return found[0] if len(found) == 1 else None
        return None

    def _tensor_dims(self, expr: ast.expr, path: List[ast.AST]) -> Optional[Tuple[int, ...]]:
        """Per-sample dims of a tensor built by torch.rand/zeros/... in the file
        (`x = torch.randn(...)` bound once, even inside `if __name__ == ...`)."""
        if isinstance(expr, ast.Name):
            expr = self._single_assignment(expr.id, path) or expr
        value = self.evaluate(expr, path)
        if isinstance(value, Tensor) and value.shape.known() and value.shape.rank >= 1:
            return tuple(value.shape.dims)
        return None

    def _accepts_attr(self, model: Model, attr: str) -> bool:
        """`Net().features(t)` sizes the model only if forward() hands its input
        to self.features before anything else."""
        cls = model.node
        fwd = next((s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "forward"), None)
        if fwd is None or len(fwd.args.args) < 2:
            return False
        param = fwd.args.args[1].arg
        calls = [n for n in ast.walk(fwd) if isinstance(n, ast.Call) and any(isinstance(a, ast.Name) and a.id == param for a in n.args)]
        if not calls:
            return False
        first = min(calls, key=lambda n: (n.lineno, n.col_offset))
        # the innermost call on the parameter runs first: `self.clf(self.net(x))`
        inner = [c for c in calls if c.lineno == first.lineno]
        first = max(inner, key=lambda n: n.col_offset)
        return static_name(first.func) == ["self", attr]

    # -- the sources ---------------------------------------------------------
    def _dummy_call(self, node: ast.Call, path):
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            return None
        model, attr = self.model_of(node.func, path)
        if model is None:
            return None
        if attr is not None and not (isinstance(model.node, ast.ClassDef) and self._accepts_attr(model, attr)):
            return None
        dims = self._tensor_dims(node.args[0], path)
        if dims is None:
            return None
        return model, InputSource("call", dims, node.lineno)

    def _summary(self, node: ast.Call, path):
        qual = self.imports.qualify(node.func)
        if qual not in ("torchsummary.summary", "torchinfo.summary") or not node.args:
            return None
        model, attr = self.model_of(node.args[0], path)
        if model is None or attr is not None:
            return None
        size_node = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "input_size"), None)
        if size_node is None:
            return None
        size = self.evaluate(size_node, path)
        if not isinstance(size, (tuple, list)) or not size or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size):
            return None
        dims = tuple(size) if qual == "torchsummary.summary" else tuple(size[1:])
        if not dims:
            return None
        return model, InputSource("summary", dims, node.lineno)

    def _dataset(self, node: ast.Call, path):
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if last not in DATASETS:
            return None
        qual = self.imports.qualify(func) or ""
        if not qual.startswith("torchvision.datasets."):
            return None
        name = last
        c, h, w = DATASETS[name]
        transform = next((k.value for k in node.keywords if k.arg == "transform"), None)
        if transform is None:
            return UNSURE  # PIL images: something else turns them into tensors
        steps = self._transform_steps(transform, path)
        if steps is None:
            return UNSURE
        for step in steps:
            got = self._apply_transform(step, (c, h, w), path)
            if got is None:
                return UNSURE
            c, h, w = got
        if h is None or w is None:
            return UNSURE
        dims = (c, h, w)
        return InputSource("dataset", dims, node.lineno, name)

    def _transform_steps(self, expr, path) -> Optional[List[ast.Call]]:
        if isinstance(expr, ast.Name):
            expr = self._single_assignment(expr.id, path)
            if expr is None:
                return None
        if not isinstance(expr, ast.Call):
            return None
        if self._transform_name(expr) == "Compose":
            if len(expr.args) != 1 or not isinstance(expr.args[0], (ast.List, ast.Tuple)):
                return None
            items = expr.args[0].elts
            if not all(isinstance(i, ast.Call) for i in items):
                return None
            return list(items)
        return [expr]

    def _transform_name(self, call: ast.Call) -> Optional[str]:
        qual = self.imports.qualify(call.func) or ""
        for prefix in ("torchvision.transforms.v2.", "torchvision.transforms."):
            if qual.startswith(prefix) and "." not in qual[len(prefix):]:
                return qual[len(prefix):]
        return None

    def _apply_transform(self, call: ast.Call, size, path):
        name = self._transform_name(call)
        c, h, w = size
        if name is None:
            return None
        if name in _SAME_SIZE:
            if name in ("RandomRotation", "RandomAffine") and any(k.arg == "expand" for k in call.keywords):
                return None
            return size
        args = [self.evaluate(a, path) for a in call.args]
        kwargs = {k.arg: self.evaluate(k.value, path) for k in call.keywords}
        first = args[0] if args else kwargs.get("size", kwargs.get("num_output_channels", kwargs.get("padding")))
        if name == "Grayscale":
            n = args[0] if args else kwargs.get("num_output_channels", 1)
            return (n, h, w) if n in (1, 3) else None
        if name in ("Resize", "CenterCrop", "RandomCrop", "RandomResizedCrop"):
            size_v = first
            if isinstance(size_v, (list, tuple)) and len(size_v) == 1:
                size_v = size_v[0]
            if isinstance(size_v, int) and not isinstance(size_v, bool) and size_v > 0:
                if name == "Resize":
                    if kwargs.get("max_size") is not None:
                        return None
                    # the smaller edge becomes size_v: square images stay square
                    return (c, size_v, size_v) if h is not None and h == w else (c, None, None)
                new = (size_v, size_v)
            elif isinstance(size_v, (list, tuple)) and len(size_v) == 2 and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size_v):
                new = tuple(size_v)
            else:
                return None
            if name == "RandomCrop":
                pad = kwargs.get("padding", args[1] if len(args) > 1 else None)
                if pad is not None and not isinstance(pad, int):
                    return None
                if h is not None and (new[0] > h + 2 * (pad or 0) or new[1] > w + 2 * (pad or 0)) and not kwargs.get("pad_if_needed"):
                    return None
            return (c, new[0], new[1])
        if name == "Pad":
            p = first
            if isinstance(p, int) and not isinstance(p, bool):
                p = (p, p, p, p)
            elif isinstance(p, (list, tuple)) and len(p) == 2:
                p = (p[0], p[1], p[0], p[1])
            if not (isinstance(p, (list, tuple)) and len(p) == 4 and all(isinstance(v, int) for v in p)):
                return None
            if h is None:
                return (c, None, None)
            return (c, h + p[1] + p[3], w + p[0] + p[2])
        return None


def _assignments(owner: ast.AST) -> Dict[str, list]:
    """Every value a body assigns to each name (None for loop/with targets),
    not looking into nested functions or classes. One walk per body."""
    table: Dict[str, list] = {}
    todo = list(owner.body)
    while todo:
        stmt = todo.pop()
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    table.setdefault(t.id, []).append(stmt.value)
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
            table.setdefault(stmt.target.id, []).append(getattr(stmt, "value", None))
        elif isinstance(stmt, (ast.For, ast.With, ast.AsyncFor, ast.AsyncWith)):
            targets = [stmt.target] if isinstance(stmt, (ast.For, ast.AsyncFor)) else [i.optional_vars for i in stmt.items]
            for t in targets:
                for n in ast.walk(t) if t is not None else ():
                    if isinstance(n, ast.Name):
                        table.setdefault(n.id, []).append(None)
        todo.extend(c for c in ast.iter_child_nodes(stmt) if isinstance(c, ast.stmt))
    return table
