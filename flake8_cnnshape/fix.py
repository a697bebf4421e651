"""`cnnshape fix`: rewrite the wrong numbers with libcst, keeping the author's
formatting and style. A literal becomes the right literal, a product of
literals the right product (`16 * 5 * 5` -> `16 * 13 * 13`), a module
constant used nowhere else is changed where it is defined. Anything else is
left alone with a note saying why."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .analysis import FileAnalysis, parse
from .codes import FIXABLE
from .findings import Finding
from .interp.budget import MAX_STEPS
from .interp.project import FOREIGN_LINE
from .noqa import Noqa, file_skipped
from .shapes.catalog import LAYERS
Span = Tuple[int, int, int, int]  # start line, start col, end line, end col (characters)


class Note(str):
    """Why a number was left, as text (`line:col: why`) that keeps its place
    as data too (a notebook names the cell it is in)."""

    def __new__(cls, line: int, col: int, why: str) -> "Note":
        note = super().__new__(cls, f"{line}:{col}: {why}")
        note.line, note.col, note.why = line, col, why
        return note


@dataclass
class FixResult:
    source: str
    notes: List[str] = field(default_factory=list)  # Notes: "line:col: why it was left"
    left: List[Finding] = field(default_factory=list)  # what the fixed source is still reported for


def _char_col(lines: List[str], line: int, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; libcst's count characters."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _span(lines: List[str], node: ast.AST) -> Span:
    return (node.lineno, _char_col(lines, node.lineno, node.col_offset),
            node.end_lineno, _char_col(lines, node.end_lineno, node.end_col_offset))


def _argument(call: ast.Call, param: str, kind: str) -> Optional[ast.expr]:
    """The expression the source passes for `param` of a layer constructor."""
    for kw in call.keywords:
        if kw.arg == param:
            return kw.value
    spec = LAYERS.get(kind)
    if spec is None or param not in spec.sig.params:
        return None
    i = spec.sig.params.index(param)
    if i < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: i + 1]):
        return call.args[i]
    return None


def _int_product(node: ast.expr) -> Optional[List[ast.Constant]]:
    """The int literals of `a * b * c`, or None if it is anything else."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return [node]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = _int_product(node.left), _int_product(node.right)
        if left is not None and right is not None:
            return left + right
    return None


class _Planner:
    def __init__(self, source: str, tree: ast.Module, at=None):
        self.lines = source.splitlines(keepends=True)
        self.tree = tree
        self.at = at or (lambda line: f"line {line}")
        self.edits: Dict[Span, str] = {}
        self.notes: List[str] = []

    def note(self, node: ast.AST, why: str) -> None:
        self.notes.append(Note(node.lineno, node.col_offset + 1, why))

    def fix(self, group: List[Finding], fits_elsewhere: bool, lazy: bool) -> None:
        """One place's faults of one code, from every run and use: a number is
        written only where one number fits them all. fits_elsewhere: a run with
        a known input found the place right (a fix would break that run)."""
        found, fault = group[0], group[0].fault
        values = {f.fault.value for f in group}
        if fault.code == "CNS005" and not fits_elsewhere:
            call = found.call_node
            if fault.value is None or not isinstance(call, ast.Call) or not call.args or isinstance(call.args[-1], ast.Starred):
                return
            if len(values) > 1 or len({f.fault.fields.get("at") for f in group}) > 1:
                self.note(call, f"left as is: no single width fits {self._uses(group)}")
                return
            sizes = call.args
            if len(sizes) == 1 and isinstance(sizes[0], (ast.Tuple, ast.List)) and sizes[0].elts:
                sizes = sizes[0].elts
            at = fault.fields.get("at", len(sizes) - 1)  # view_at: the size the next layer needs changed
            if at >= len(sizes) or any(isinstance(a, ast.Starred) for a in sizes):
                return
            self.value_edit(sizes[at], fault.value, fault.factors)
            return
        if fits_elsewhere:
            self.note(found.call_node or found.layer_node, f"left as is: {fault.code} holds for one way the model is built or fed, not another")
            return
        call = found.layer_node
        if call is not None and call.lineno >= FOREIGN_LINE:  # a torchvision model's, or a class of another file's
            line, col = found.place
            self.notes.append(Note(line, col + 1, f"left as is: {fault.code} is in {fault.layer}, not a number of this file"))
            return
        if call is None or (call.lineno, call.col_offset) != found.place:
            if call is not None:
                self.note(call, f"left as is: {fault.code} fits one use of this layer and not another")
            return
        if fault.code == "CNS011":
            self.division_edit(call, fault)
            return
        if fault.param is None or not all(isinstance(v, int) for v in values):
            self.note(call, f"left as is: no single number fixes this {fault.code}")
            return
        kind = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        linear = fault.code == "CNS001" and kind == "Linear"
        if len(values) > 1:
            each = _each_instance_one(group)
            if lazy and linear and each:
                self.lazy_edit(call)
                return
            if not each:
                hint = "; one instance is given them all, which no number fits" + (" (nor nn.LazyLinear)" if linear else "")
            else:
                hint = "; fix --lazy makes it nn.LazyLinear, which takes each instance's width" if linear else ""
            self.note(call, f"left as is: no single {fault.param} fits {self._uses(group)}{hint}")
            return
        if lazy and linear:
            self.lazy_edit(call)
            return
        expr = _argument(call, fault.param, fault.kind)
        if expr is None:
            self.note(call, f"left as is: cannot find the {fault.param} argument; the right value is {fault.value}")
            return
        self.value_edit(expr, fault.value, fault.factors)

    def _uses(self, group: List[Finding], most: int = 3) -> str:
        """`every use: 5408 (32 x 13 x 13) for input (1, 28, 28) from the call at line 18, 7200 (...) ...`"""
        first: Dict[object, Finding] = {}
        for f in group:
            first.setdefault(f.fault.value, f)
        parts = []
        for value, f in sorted(first.items(), key=lambda vf: (len(str(vf[0])), str(vf[0])))[:most]:  # 900 before 1000
            factors = f.fault.factors
            size = f"{value} ({' x '.join(map(str, factors))})" if factors and len(factors) > 1 else str(value)
            parts.append(size + (f.source.note_at(self.at) if f.source is not None else ""))
        more = f" and {len(first) - most} more" if len(first) > most else ""
        return "every use: " + ", ".join(parts) + more

    def value_edit(self, expr: ast.expr, value: int, factors: Optional[Tuple[int, ...]]) -> None:
        literals = _int_product(expr)
        if literals is not None and len(literals) == 1 and expr is literals[0]:
            self.edits[_span(self.lines, expr)] = str(value)
            return
        if literals is not None:
            text = ast.get_source_segment("".join(self.lines), expr) or ""
            sep = " * " if " * " in text else "*"
            if not factors:
                self.edits[_span(self.lines, expr)] = str(value)
                return
            self.edits[_span(self.lines, expr)] = sep.join(str(f) for f in factors)
            return
        if isinstance(expr, ast.Name):
            target = self._constant_definition(expr.id)
            if target is not None:
                self.value_edit(target, value, factors)
                return
            self.note(expr, f"left as is: {expr.id} is not a module constant used only here; the right value is {value}")
            return
        self.note(expr, f"left as is: the expression is computed from other values; the right value is {value}")

    def division_edit(self, call: ast.Call, fault) -> None:
        """CNS011: the `/` each float argument comes from made `//`, in the call itself or where a name the
        call reads was set, once, in the function it is in (`mid_planes = out_planes / 4`)."""
        for param in fault.fields["params"]:
            expr = _argument(call, param, fault.kind)
            if isinstance(expr, ast.Name):
                expr = self._local_definition(call, expr.id)
            if not (isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div) and expr.lineno == expr.end_lineno):
                self.note(call, f"left as is: the float for {param} does not come from one `/` in this function")
                continue
            span = _span(self.lines, expr)
            text = self.lines[span[0] - 1][span[1]:span[3]]
            at = text.find("/", _char_col(self.lines, expr.left.end_lineno, expr.left.end_col_offset) - span[1])
            if at >= 0:
                self.edits[span] = text[:at] + "//" + text[at + 1:]

    def _local_definition(self, call: ast.Call, name: str) -> Optional[ast.expr]:
        """The value a name is assigned in the innermost function holding the call, if it is bound there once."""
        holders = [f for f in ast.walk(self.tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   and f.lineno <= call.lineno <= (f.end_lineno or 0)]
        if not holders:
            return None
        fn = max(holders, key=lambda f: f.lineno)
        stores = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)]
        assigns = [s for s in ast.walk(fn) if isinstance(s, ast.Assign) and len(s.targets) == 1
                   and isinstance(s.targets[0], ast.Name) and s.targets[0].id == name]
        return assigns[0].value if len(stores) == 1 and len(assigns) == 1 else None

    def _constant_definition(self, name: str) -> Optional[ast.expr]:
        """The literal a module constant is assigned, if it is assigned once
        and read in exactly one place (the one we are fixing)."""
        assigns = [s for s in self.tree.body if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in s.targets)]
        stores = [n for n in ast.walk(self.tree) if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)]
        loads = [n for n in ast.walk(self.tree) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
        if len(assigns) != 1 or len(stores) != 1 or len(loads) != 1 or len(assigns[0].targets) != 1:
            return None
        value = assigns[0].value
        return value if _int_product(value) is not None else None

    def lazy_edit(self, call: ast.Call) -> None:
        """nn.Linear(N, out, ...) -> nn.LazyLinear(out, ...): the call is
        written anew from the source of its other arguments."""
        if not (isinstance(call.func, ast.Attribute) and call.func.attr == "Linear"):
            self.note(call, "left as is: --lazy rewrites nn.Linear / torch.nn.Linear spelled with a module prefix")
            return
        source = "".join(self.lines)
        seg = lambda n: ast.get_source_segment(source, n)  # noqa: E731
        args = [seg(a) for a in call.args[1:]]
        args += [seg(k) for k in call.keywords if k.arg != "in_features"]
        if any(a is None for a in args):
            self.note(call, "left as is: cannot read the call's arguments")
            return
        self.edits[_span(self.lines, call)] = f"{seg(call.func.value)}.LazyLinear({', '.join(args)})"


def _each_instance_one(group: List[Finding]) -> bool:
    """Each layer object is given one size: the sizes differ between
    instances (a class built two ways), not between uses of one instance."""
    sizes: Dict[int, set] = {}
    for f in group:
        if f.layer is None:
            return False
        sizes.setdefault(id(f.layer), set()).add(f.fault.value)
    return all(len(v) == 1 for v in sizes.values())


class _Apply(cst.CSTTransformer):
    """Replace source spans by text; each span is one whole CST node."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: Dict[Span, str]):
        super().__init__()
        self.edits = edits
        self.done = set()

    def on_leave(self, original, updated):
        pos = self.get_metadata(PositionProvider, original, None)
        if pos is None:
            return updated
        key = (pos.start.line, pos.start.column, pos.end.line, pos.end.column)
        if key in self.edits and key not in self.done and isinstance(original, cst.BaseExpression):
            self.done.add(key)
            return cst.parse_expression(self.edits[key])
        return updated


def fix_source(source: str, lazy: bool = False, default_input=None, max_steps: int = MAX_STEPS, path=None,
               chosen=None, at=None) -> FixResult:
    """chosen: (line, code) -> whether that report is the user's to fix;
    by default, each one no `# noqa` silences (as check reports them).
    at: how a note names a line of the file (a notebook's cell and line)."""
    lines = source.splitlines(keepends=True)
    tree = parse(lines)
    if tree is None or "torch" not in source or file_skipped(lines):
        return FixResult(source)
    if chosen is None:
        marks = Noqa(lines)
        chosen = lambda line, code: not marks.silences(line, code)  # noqa: E731
    fa = FileAnalysis(lines, tree, max_steps, default_input, path)
    plan = _Planner(source, tree, at)
    try:
        groups: Dict[tuple, List[Finding]] = {}  # each place's faults of one code, from every run
        for found in fa.found():
            if found.code in FIXABLE and chosen(found.line, found.code):
                groups.setdefault((found.place, found.code), []).append(found)
        left = [f for f in fa.reports() if chosen(f.line, f.code)]
    finally:
        fa.close()
    for (place, _), group in groups.items():
        plan.fix(group, place in fa.ok_places, lazy)
    if not plan.edits:
        return FixResult(source, plan.notes, left)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return FixResult(source, plan.notes + [Note(1, 1, "left as is: libcst cannot parse this file")], left)
    applier = _Apply(plan.edits)
    out = MetadataWrapper(module, unsafe_skip_copy=True).visit(applier).code
    for span in set(plan.edits) - applier.done:
        plan.notes.append(Note(span[0], span[1] + 1, "left as is: the edit does not fall on one expression"))
    return FixResult(out, plan.notes, _left(out, chosen, max_steps, default_input, path))


def _left(source: str, chosen, max_steps: int, default_input, path) -> List[Finding]:
    """What the fixed file still gets reported: each fix is checked, by the
    same analysis, in the file as it now is."""
    lines = source.splitlines(keepends=True)
    fa = FileAnalysis(lines, parse(lines), max_steps, default_input, path)
    try:
        return [f for f in fa.reports() if chosen(f.line, f.code)]
    finally:
        fa.close()
