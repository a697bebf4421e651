"""The analysis both faces share: source lines in, reports out."""
from __future__ import annotations

import ast
from typing import List, Optional, Sequence, Tuple

from .diagnostics import Report
from .extract.models import Checker, find_models
from .extract.sources import Source, SourceFinder, default_source, pragma_source
from .extract.names import module_imports
from .inputs import attach, find_pragmas

MAX_STEPS = 200_000  # interpreter steps for one file: about a second at worst


def analyze(
    lines: Sequence[str],
    tree: Optional[ast.Module] = None,
    max_steps: int = MAX_STEPS,
    default_input: Optional[Tuple[int, ...]] = None,
) -> List[Report]:
    """Every report for one file. Never raises."""
    try:
        return _analyze(list(lines), tree, max_steps, default_input)
    except (RecursionError, MemoryError, ValueError, TypeError, AttributeError, KeyError, IndexError):
        # A bug of ours must not break a flake8 run. It shows as silence.
        return []


def _analyze(lines: List[str], tree: Optional[ast.Module], max_steps: int, default_input=None) -> List[Report]:
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
    found_sources, datasets = SourceFinder(tree, imports, checker, classes, seqs).find()
    fallback = datasets or ([default_source(tuple(default_input))] if default_input else [])

    def inputs_for(model) -> List[Optional[Source]]:
        """Precedence: the pragma; else the file's dummy and summary() calls;
        else its datasets, else the project default (each only where the
        model's first layer accepts it), with the unknown size beside them."""
        p = pragmas.get(model)
        if p is not None:
            return [pragma_source(p.dims)] if p.dims else [None]
        explicit = found_sources.get(id(model))
        if explicit:
            return list(explicit)
        return list(fallback) + [None]

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
