"""`cnnshape show`: each model's layers with their output shapes and parameter
counts, worked out statically like the checks (no torch, no forward pass)."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Tuple

from .core import MAX_STEPS, FileAnalysis, parse
from .extract.interp import OutOfBudget, Raised
from .diagnostics import describe_input
from .extract.sources import Source
from .extract.values import ClassInfo, Instance, Layer, Tensor
from .shapes import Shape
from .shapes.params import count_params


def _dims(shape: Optional[Shape]):
    if shape is None or shape.open:
        return None
    return list(shape.dims)


def _reachable(value, seen: set) -> List[Layer]:
    """Every leaf layer a model holds, each once (as module.parameters() counts them)."""
    out: List[Layer] = []
    todo = [value]
    while todo:
        v = todo.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, Instance):
            todo.extend(reversed(list(v.attrs.values())))
        elif isinstance(v, Layer):
            if v.children is not None or v.items is not None:
                todo.extend(reversed(list(v.children or []) + list((v.items or {}).values())))
            elif v.kind not in ("Sequential", "ModuleList", "ModuleDict"):
                out.append(v)
            else:
                out.append(v)  # a container we could not follow: its parameters are unknown
        elif isinstance(v, (list, tuple)):
            todo.extend(reversed(list(v)))
    return out


def _total(layers: List[Layer], inputs: Dict[int, Shape]) -> Optional[int]:
    total = 0
    for layer in layers:
        if layer.kind in ("Sequential", "ModuleList", "ModuleDict") or layer.spec is None:
            return None
        n = count_params(layer.kind, layer.args, inputs.get(id(layer)))
        if n is None:
            return None
        total += n
    return total


def tables(lines: List[str], model: Optional[str] = None, input_dims: Optional[Tuple[int, ...]] = None,
           max_steps: int = MAX_STEPS) -> List[dict]:
    tree = parse(lines)
    if tree is None:
        return []
    fa = FileAnalysis(lines, tree, max_steps)
    out = []
    # Sequentials built inside a class are shown as part of it
    for m in fa.classes + [s for s in fa.seqs if not any(isinstance(p, ast.ClassDef) for p in s.scope_path)]:
        if model is not None and m.name != model:
            continue
        if input_dims is not None:
            src: Optional[Source] = Source(tuple(input_dims), " from --input", True)
        else:
            src = next((s for s in fa.inputs_for(m) if s is not None), None)
        table = _table(fa, m, src)
        if table is not None:
            out.append(table)
    return out


def _table(fa: FileAnalysis, m, src: Optional[Source]) -> Optional[dict]:
    checker = fa.checker
    interp = checker.interp
    shape = Shape(tuple(src.dims)) if src is not None else Shape.unknown()
    interp.trace = []
    try:
        if isinstance(m.node, ast.ClassDef):
            cls = checker.evaluate(ast.Name(id=m.name, ctx=ast.Load()), [])
            if not isinstance(cls, ClassInfo) or not cls.is_module:
                return None
            args, kwargs = checker._instantiations(cls)[0]
            root = interp.instantiate(cls, args, kwargs, None)
            checker._run(lambda: checker._forward(root, shape), src)
        else:
            root = checker.evaluate(m.node, m.scope_path)
            if not isinstance(root, Layer):
                return None
            checker._run(lambda: interp.ops.apply_layer(root, Tensor(shape), None), src)
        trace = interp.trace
    except (OutOfBudget, Raised, RecursionError):
        return None
    finally:
        interp.trace = None
    inputs: Dict[int, Shape] = {}
    rows = []
    for layer, x, y in trace:
        first = id(layer) not in inputs
        inputs.setdefault(id(layer), x)
        params = count_params(layer.kind, layer.args, x) if layer.spec is not None else None
        rows.append({
            "line": layer.node.lineno,
            "type": layer.kind,
            "output_shape": _dims(y),
            "params": params if first else 0,
        })
    total = _total(_reachable(root, set()), inputs)
    return {
        "model": m.name,
        "input": list(src.dims) if src is not None else None,
        "input_source": src.note.split(" from ", 1)[1] if src is not None and " from " in src.note else ("pragma" if src else None),
        "layers": rows,
        "total_params": total,
    }


def render(table: dict) -> str:
    def shape(v):
        if v is None:
            return "unknown"
        return "(" + ", ".join("?" if d is None else str(d) for d in v) + ("," if len(v) == 1 else "") + ")"

    head = f"{table['model']}"
    if table["input"] is not None:
        head += f"  input {describe_input(tuple(table['input']))} from {table['input_source']}"
    else:
        head += "  input size unknown (give one with --input or a '# cnnshape: input=(...)' pragma)"
    rows = [("line", "layer", "output shape", "params")]
    for r in table["layers"]:
        rows.append((str(r["line"]), r["type"], shape(r["output_shape"]), "?" if r["params"] is None else f"{r['params']:,}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [head, "  ".join(h.ljust(w) for h, w in zip(rows[0], widths)), "  ".join("-" * w for w in widths)]
    for row in rows[1:]:
        lines.append("  ".join([row[0].rjust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]), row[3].rjust(widths[3])]))
    total = table["total_params"]
    lines.append(f"total params: {'unknown' if total is None else format(total, ',')}")
    return "\n".join(lines)
