"""`cnnshape show`: each model's layers with their output shapes and parameter
counts, worked out statically like the checks (no torch, no forward pass)."""
from __future__ import annotations

import ast
import os
from math import prod
from typing import Dict, List, Optional, Tuple

from .analysis import FileAnalysis, parse
from .findings import InputSource
from .interp.budget import MAX_STEPS
from .interp.project import foreign_place, in_zoo
from .interp.values import CONTAINERS, Fixed, Instance, Layer
from .messages import dims as describe_input
from .shapes.shape import Shape
from .shapes.spec import count_params

MAX_STOPS_SHOWN = 5


def _dims(shape: Optional[Shape]):
    if shape is None or shape.open:
        return None
    return list(shape.dims)


def _reachable(value, seen: set) -> list:
    """Every leaf layer a model holds, and every nn.Parameter its modules hold
    themselves, each once (as module.parameters() counts them)."""
    out: List[Layer] = []
    todo = [value]
    while todo:
        v = todo.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, Instance):
            # a parameter each module holds counts once per module (the build
            # cache shares equal values between the modules it copies)
            out.extend(a for a in v.attrs.values() if type(a) is Fixed and a.param)
            todo.extend(reversed([a for a in v.attrs.values() if type(a) is not Fixed]))
        elif isinstance(v, Layer):
            if v.children is not None or v.items is not None:
                todo.extend(reversed(list(v.children or []) + list((v.items or {}).values())))
            elif v.kind not in CONTAINERS:
                out.append(v)
            else:
                out.append(v)  # a container we could not follow: its parameters are unknown
        elif isinstance(v, (list, tuple)):
            todo.extend(reversed(list(v)))
    return out


def _zoo_parts(root) -> Dict[int, Tuple[str, object]]:
    """id of each torchvision layer under a torchvision model's top-level
    child -> (`ResNet.layer1`, that child); a top-level child that applies no
    layer of its own (a Permute) is there too."""
    out: Dict[int, Tuple[str, object]] = {}
    todo, seen = [(root, False)], set()
    while todo:
        v, inside = todo.pop()  # inside: under a torchvision model
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, Instance) and in_zoo(v.cls.node.lineno):
            for name, child in v.attrs.items():
                if isinstance(child, (Layer, Instance)):
                    if not inside and in_zoo((child.cls.node if isinstance(child, Instance) else child.node).lineno):
                        # the child itself, and the members of a ModuleList (never called itself: its last member's
                        # output is what it gives)
                        members = (child.children or []) if type(child) is Layer and child.kind == "ModuleList" else []
                        for part in [child] + list(members):
                            out.setdefault(id(part), (f"{v.cls.name}.{name}", child))
                    for leaf in _reachable(child, set()):
                        if type(leaf) is Layer and in_zoo(leaf.node.lineno):
                            out.setdefault(id(leaf), (f"{v.cls.name}.{name}", child))
                    todo.append((child, True))  # a layer the file put there (`model.fc = ...`) is the file's
        elif isinstance(v, Instance):
            todo.extend((a, inside) for a in v.attrs.values())
        elif isinstance(v, Layer):
            todo.extend((c, inside) for c in list(v.children or []) + list((v.items or {}).values()))
        elif isinstance(v, (list, tuple)):
            todo.extend((e, inside) for e in v)
    return out


def _total(layers: List[Layer], inputs: Dict[int, Shape]) -> Optional[int]:
    total = 0
    for layer in layers:
        if type(layer) is Fixed:  # a module's own nn.Parameter
            if not all(type(d) is int for d in layer.dims):
                return None
            total += prod(layer.dims)
            continue
        if layer.kind in CONTAINERS or layer.spec is None:
            return None
        n = count_params(layer.spec, layer.args, inputs.get(id(layer)))
        if n is None:
            return None
        total += n
    return total


def tables(lines: List[str], model: Optional[str] = None, input_dims: Optional[Tuple[int, ...]] = None,
           max_steps: int = MAX_STEPS, path: Optional[str] = None, at=None, default_input=None) -> List[dict]:
    """at: how a line of the file is named (a notebook's cell and line), where not `line N`.
    default_input: the configuration's input size, taken as check takes it."""
    tree = parse(lines)
    if tree is None:
        return []
    fa = FileAnalysis(lines, tree, max_steps, default_input, path)
    out = []
    try:
        # Sequentials built inside a class are shown as part of it
        for m in fa.classes + [s for s in fa.seqs if not s.in_class] + fa.scripts:
            if model is not None and m.name != model:
                continue
            if input_dims is not None:
                src: Optional[InputSource] = InputSource("option", tuple(input_dims))
            else:
                src = next((s for s in fa.inputs_for(m) if s is not None), None)
            table = _table(fa, m, src, at)
            if table is not None:
                out.append(table)
    finally:
        fa.close()
    return out


def _table(fa: FileAnalysis, m, src: Optional[InputSource], at=None) -> Optional[dict]:
    got = fa.scheduler.trace(m, src)
    not_taken = None
    if got is not None and src is not None and got[3] is None and not src.explicit:
        # a size the model's first sized layer rejects is not its input (as in check): shown without one
        not_taken, src = src, None
        got = fa.scheduler.trace(m, None)
    if got is None:
        return None
    root, trace, stops, run, src = got
    faults: Dict[int, list] = {}  # id of the layer's constructor call -> what the run found at that layer
    for f in (run.found.values() if run is not None else ()):
        faults.setdefault(id(f.layer_node), []).append(f)
    inputs: Dict[int, Shape] = {}
    for layer, x, y, _ in trace:
        if x is not None:
            inputs.setdefault(id(layer), x)
    rows = _rows(trace, _zoo_parts(root), faults, inputs)
    total = _total(_reachable(root, set()), inputs)
    table = {
        "model": m.name,
        "input": list(src.dims) if src is not None else None,
        "input_source": (src.where_at(at) if at else src.where) if src is not None else None,
        "layers": rows,
        "total_params": total,
        # faults at no layer of the table (a view, a functional op), by line
        "faults": sorted((dict(_fault(f), line=f.line) for fs in faults.values() for f in fs),
                         key=lambda f: f["line"]),
        # where a known shape went in and none came out: what is after it is not checked
        "stops": [_stop(line, what, why) for line, what, why in stops],
    }
    if not_taken is not None:
        table["not_taken"] = {"input": list(not_taken.dims), "input_source": not_taken.where}
    pragma = fa.pragmas.get(m)
    if pragma is not None and pragma.build is not None:
        table["build"] = ast.unparse(pragma.build)  # the way the pragma gives, the model's first
    elif src is not None and src.built is not None:
        table["build"] = src.built  # its defaults do not take the pragma's input: the build fitted to it
        table["build_fitted"] = True
    return table


def _rows(trace, parts, faults: Dict[int, list], inputs: Dict[int, Shape]) -> List[dict]:
    """One row per leaf layer applied (one per top-level child of a torchvision
    model), with the fault the run kept there; faults: what is left unplaced."""
    rows: List[dict] = []
    counted = set()
    for layer, x, y, rule_faults in trace:
        part = parts.get(id(layer))
        if x is None:  # a module or nn.Sequential returning: what a torchvision part gives as a whole
            if part is not None and rows and rows[-1].get("part") is part[1]:
                rows[-1]["output_shape"] = _dims(y)
            elif part is not None and part[1] is layer:  # a part that applied no layer (a Permute): a row of its own
                rows.append(_part_row(part, y, counted, inputs))
            continue
        # this use's fault, as the run kept it (a fault one side of an `if` only found is not kept)
        found = [f for f in faults.get(id(layer.node), ()) if any(f.code == r.code for r in rule_faults)]
        for f in found:
            faults[id(layer.node)].remove(f)
        if part is not None and rows and rows[-1].get("part") is part[1]:
            rows[-1]["output_shape"] = _dims(y)
        elif part is not None:  # a torchvision model: one row per top-level child
            rows.append(_part_row(part, y, counted, inputs))
        else:
            first = id(layer) not in counted
            counted.add(id(layer))
            params = count_params(layer.spec, layer.args, x) if layer.spec is not None else None
            rows.append(_in_its_file({"line": layer.node.lineno, "type": layer.kind, "output_shape": _dims(y),
                                      "params": params if first else 0}))
        if found and "fault" not in rows[-1]:
            rows[-1]["fault"] = _fault(found[0])
    for r in rows:
        r.pop("part", None)
    return rows


def _part_row(part, y, counted: set, inputs: Dict[int, Shape]) -> dict:
    """The row of a torchvision model's top-level child (its parameters on its first row only)."""
    name, child = part
    first = id(child) not in counted
    counted.add(id(child))
    params = _total([v for v in _reachable(child, set()) if type(v) is Fixed or in_zoo(v.node.lineno)], inputs)
    return {"line": None, "type": name, "output_shape": _dims(y), "params": params if first else 0, "part": child}


def _fault(f) -> dict:
    """A finding as show gives it: the code, the message, the right value where one number fixes it."""
    value = f.fault.value
    return {"code": f.fault.code, "message": f.fault.text, "value": list(value) if isinstance(value, tuple) else value}


def _stop(line: Optional[int], what: str, why: str) -> dict:
    return _in_its_file({"line": line, "what": what, "why": why})


def _in_its_file(row: dict) -> dict:
    """A row or stop with the line of the other file of the project it is in (and that file) when not this one's."""
    there = foreign_place(row["line"]) if row["line"] is not None else None
    if there is not None:
        row["line"] = there[1]
        row["file"] = there[0]
    return row


def render(table: dict) -> str:
    def shape(v):
        if v is None:
            return "unknown"
        return "(" + ", ".join("?" if d is None else str(d) for d in v) + ("," if len(v) == 1 else "") + ")"

    head = f"{table['model']}"
    if table["input"] is not None:
        head += f"  input {describe_input(tuple(table['input']))} from {table['input_source']}"
    elif table.get("not_taken"):
        skipped = table["not_taken"]
        head += (f"  input {describe_input(tuple(skipped['input']))} from {skipped['input_source']} not taken: the"
                 " model's first sized layer rejects it; shown for any input size")
    else:
        head += "  input size unknown (give one with --input or a '# cnnshape: input=(...)' pragma)"
    if table.get("build"):
        head += f", built as {table['build']}" + (" (its defaults do not take this input)" if table.get("build_fitted") else " (pragma)")
    rows = [("line", "layer", "output shape", "params")]
    for r in table["layers"]:
        line = "" if r["line"] is None else f"{os.path.basename(r['file'])}:{r['line']}" if r.get("file") else str(r["line"])
        rows.append((line, r["type"], shape(r["output_shape"]), "?" if r["params"] is None else f"{r['params']:,}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [head, "  ".join(h.ljust(w) for h, w in zip(rows[0], widths)), "  ".join("-" * w for w in widths)]
    for row, r in zip(rows[1:], table["layers"]):
        lines.append("  ".join([row[0].rjust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]), row[3].rjust(widths[3])]))
        if r.get("fault"):  # the row's shape is what the layer gives once fixed, as check goes on
            lines[-1] += f"  <- {r['fault']['code']} {r['fault']['message']}"
    for f in table.get("faults") or []:
        lines.append(f"line {f['line']}: {f['code']} {f['message']}")
    total = table["total_params"]
    lines.append(f"total params: {'unknown' if total is None else format(total, ',')}")
    stops = table.get("stops") or []
    for s in stops[:MAX_STOPS_SHOWN]:
        where = f"line {s['line']}: {s['what']}: " if s["line"] is not None else ""
        if s.get("file"):
            where = f"{os.path.basename(s['file'])} {where}"
        lines.append(f"known shape ends at {where}{s['why']} (nothing after it is checked)")
    if len(stops) > MAX_STOPS_SHOWN:
        lines.append(f"... and {len(stops) - MAX_STOPS_SHOWN} more places (--format json lists them all)")
    return "\n".join(lines)
