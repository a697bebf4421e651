"""The analysis both faces share: source lines in, reports out."""
from __future__ import annotations

import ast
from typing import List, Optional, Sequence

from .diagnostics import Report
from .extract.models import Checker, Input, find_models
from .extract.names import module_imports
from .inputs import attach, find_pragmas, note
from .shapes import Shape

MAX_STEPS = 200_000  # interpreter steps for one file: about a second at worst


def analyze(lines: Sequence[str], tree: Optional[ast.Module] = None, max_steps: int = MAX_STEPS) -> List[Report]:
    """Every report for one file. Never raises."""
    try:
        return _analyze(list(lines), tree, max_steps)
    except (RecursionError, MemoryError, ValueError, TypeError, AttributeError, KeyError, IndexError):
        # A bug of ours must not break a flake8 run. It shows as silence.
        return []


def _analyze(lines: List[str], tree: Optional[ast.Module], max_steps: int) -> List[Report]:
    source = "".join(lines)
    if "torch" not in source and "cnnshape" not in source:
        return []
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return []
    imports = module_imports(tree)
    classes, seqs = find_models(tree, imports)
    by_line = {}
    for m in classes + seqs:
        for line in m.lines:
            by_line.setdefault(line, m)
    pragmas, reports = attach(find_pragmas(lines), by_line)
    checker = Checker(tree, imports, max_steps)

    def inputs_for(model) -> List[Input]:
        p = pragmas.get(model)
        return [Input(Shape(p.dims), note(p.dims))] if p is not None and p.dims else []

    for model in classes:
        checker.run_class(model, inputs_for(model))
    for model in seqs:
        checker.run_free_sequential(model, inputs_for(model))

    seen = {}
    # Runs with a known input come first: their messages say more.
    for found, inp in sorted(checker.found, key=lambda fi: fi[1] is None):
        key = (found.place, found.fault.code)
        if key in seen:
            continue
        text = found.fault.message + (inp.note if inp is not None else "")
        seen[key] = Report(found.place[0], found.place[1], found.fault.code, text)
    return sorted(reports + list(seen.values()))
