"""The analysis both faces share: source lines in, reports out."""
from __future__ import annotations

import ast
import gc
from typing import List, Optional, Sequence, Tuple

from .diagnostics import Report
from .extract.index import FileIndex
from .extract.models import Checker, find_models
from .extract.sources import Source, SourceFinder, default_source, pragma_source
from .extract.names import module_imports

MAX_STEPS = 200_000  # interpreter steps for one file: about a second at worst


def analyze(
    lines: Sequence[str],
    tree: Optional[ast.Module] = None,
    max_steps: int = MAX_STEPS,
    default_input: Optional[Tuple[int, ...]] = None,
) -> List[Report]:
    """Every report for one file. Never raises."""
    # The analysis makes many short-lived objects; each cyclic collection they
    # would set off walks flake8's whole heap (every ast it holds). The few
    # cycles left are collected after, once collection is back on.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyze(list(lines), tree, max_steps, default_input)
    except Exception:  # noqa: BLE001 - flake8 aborts the whole run if a plugin raises
        # A bug of ours must not break a flake8 run. It shows as silence; the
        # tests call _analyze, which has no such net, so that bugs surface.
        return []
    finally:
        if collecting:
            gc.enable()


class FileAnalysis:
    """One file, parsed once: its models, where each one's input size comes
    from, and the checker that runs them. Both faces start here."""

    def __init__(self, lines: List[str], tree: ast.Module, max_steps: int, default_input=None):
        self.lines = lines
        imports = module_imports(tree)
        index = FileIndex(tree)
        self.classes, self.seqs = find_models(tree, imports, index)
        by_line = {}
        for m in self.classes + self.seqs:
            for line in m.lines:
                by_line.setdefault(line, m)
        self.pragmas, self.pragma_reports = {}, []
        if "cnnshape" in "".join(lines):  # a pragma names it; most files have none, and need not import inputs
            from .inputs import attach, find_pragmas

            self.pragmas, self.pragma_reports = attach(find_pragmas(lines), by_line)
        self.checker = Checker(tree, imports, max_steps, index)
        self.found_sources, datasets = SourceFinder(tree, imports, self.checker, self.classes, self.seqs).find()
        self.fallback = datasets or ([default_source(tuple(default_input))] if default_input else [])

    def inputs_for(self, model) -> List[Optional[Source]]:
        """Precedence: the pragma; else the file's dummy and summary() calls;
        else its datasets, else the project default (each only where the
        model's first layer accepts it), with the unknown size beside them."""
        p = self.pragmas.get(model)
        if p is not None:
            return [pragma_source(p.dims)] if p.dims else [None]
        explicit = self.found_sources.get(id(model))
        if explicit:
            return list(explicit)
        if any(isinstance(p, ast.ClassDef) for p in getattr(model, "scope_path", ())):
            return [None]  # a part of a class: the file's input is the class's, not this part's
        return list(self.fallback) + [None]

    def findings(self):
        """(Found, Source) of each fault, once per place and code."""
        checker = self.checker
        # Last class first: models mostly come after the blocks they are built
        # of, and a block their runs went through needs no run of its own.
        for checker.position, model in reversed(list(enumerate(self.classes))):
            checker.run_class(model, self.inputs_for(model))
        for checker.position, model in enumerate(self.seqs, len(self.classes)):
            checker.run_free_sequential(model, self.inputs_for(model))
        seen = {}
        # Runs with a known input come first: their messages say more; then
        # the file's order.
        for found, inp, _ in sorted(checker.found, key=lambda fi: (fi[1] is None, fi[2])):
            seen.setdefault((found.place, found.fault.code), (found, inp))
        return list(seen.values())

    def reports(self) -> List[Report]:
        out = [
            Report(f.place[0], f.place[1], f.fault.code, f.fault.message + (inp.note if inp is not None else ""))
            for f, inp in self.findings()
        ]
        return sorted(self.pragma_reports + out)


def parse(lines: List[str], tree: Optional[ast.Module] = None) -> Optional[ast.Module]:
    if tree is not None:
        return tree
    try:
        return ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return None


def _analyze(lines: List[str], tree: Optional[ast.Module], max_steps: int, default_input=None) -> List[Report]:
    text = "".join(lines)  # one C-speed search beats a Python loop over the lines
    if "torch" not in text and "cnnshape" not in text:
        return []
    tree = parse(lines, tree)
    if tree is None:
        return []
    # a model is a module-level class or an nn.Sequential; a pragma is checked
    # even where there is none (training scripts have neither: done here)
    if not any(isinstance(s, ast.ClassDef) for s in tree.body) and "Sequential" not in text and "cnnshape" not in text:
        return []
    fa = FileAnalysis(lines, tree, max_steps, default_input)
    try:
        return fa.reports()
    finally:
        fa.checker.interp.close()
