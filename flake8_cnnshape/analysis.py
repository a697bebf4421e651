"""The one analysis every face shares: a file's lines (and flake8's tree) in,
findings out. See ARCHITECTURE.md for the path a file takes."""
from __future__ import annotations

import ast
import gc
import re
from typing import List, Optional, Sequence, Tuple

from .findings import Finding, InputSource
from .interp.budget import MAX_STEPS
from .interp.machine import Interp
from .interp.names import module_imports
from .interp.project import EXTERNAL, FOREIGN_LINE
from .models.discover import Model, find_models
from .models.scripts import find_scripts
from .models.scheduler import Scheduler
from .models.sources import SourceFinder
from .speed.index import file_index


def analyze(
    lines: Sequence[str],
    tree: Optional[ast.Module] = None,
    max_steps: int = MAX_STEPS,
    default_input: Optional[Tuple[int, ...]] = None,
    strict: bool = False,
    path: Optional[str] = None,
) -> List[Finding]:
    """Every finding for one file, in the file's order. Never raises unless
    strict (the tests run strict, so that a bug of ours surfaces). path: the
    file's, when it is on the disk: the project's other files it imports
    from are read too."""
    # The analysis makes many short-lived objects; each cyclic collection they
    # would set off walks flake8's whole heap (every ast it holds). The few
    # cycles left are collected after, once collection is back on.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyze(list(lines), tree, max_steps, default_input, path, strict)
    except Exception:  # noqa: BLE001 - flake8 aborts the whole run if a plugin raises
        if strict:
            raise
        # A bug of ours must not break a flake8 run: it shows as silence.
        return []
    finally:
        if collecting:
            gc.enable()


class FileAnalysis:
    """One file, parsed once: its models, where each one's input size comes
    from, and the scheduler that runs them. Every face starts here."""

    def __init__(self, lines: List[str], tree: ast.Module, max_steps: int = MAX_STEPS, default_input=None, path=None):
        self.lines = lines
        imports = module_imports(tree)
        index = file_index(tree)
        self.classes, self.seqs = find_models(tree, imports, index)
        self.scripts = find_scripts(tree, imports, index)
        by_line = {}
        for m in self.classes + self.seqs + self.scripts:
            for line in m.lines:
                by_line.setdefault(line, m)
        self.pragmas, self.pragma_findings = {}, []
        if "cnnshape" in "".join(lines):  # a pragma names it; most files have none, and need not import its reader
            from .models.pragma import attach, find_pragmas

            self.pragmas, self.pragma_findings = attach(find_pragmas(lines, tree), by_line)
        self.interp = Interp(tree, imports, index, max_steps, path)
        self.scheduler = Scheduler(tree, self.interp, index)
        self.scheduler.declared = {id(m.node): p.build for m, p in self.pragmas.items() if p.build is not None}
        finder = SourceFinder(tree, imports, index, self.scheduler.runner.evaluate, self.classes, self.seqs,
                              self.scripts)
        self.found_sources, datasets = finder.find()
        self._found: Optional[List[Finding]] = None
        self.fallback = datasets or ([InputSource("setting", tuple(default_input))] if default_input else [])

    def inputs_for(self, model: Model) -> List[Optional[InputSource]]:
        """Precedence: the pragma; else the file's dummy and summary() calls;
        else its datasets, else the project default (each only where the
        model's first layer accepts it), with the unknown size beside them."""
        p = self.pragmas.get(model)
        if p is not None:
            return [InputSource("pragma", p.dims)] if p.dims else [None]
        explicit = self.found_sources.get(id(model))
        if explicit:
            return list(explicit)
        if model.in_class:
            return [None]  # a part of a class: the file's input is the class's, not this part's
        return list(self.fallback) + [None]

    def found(self) -> List[Finding]:
        """Every fault the runs found in this file, with the input it was found
        at: runs with a known input first (their messages say more), then the
        file's order."""
        if self._found is None:
            self._run_models()
            self._found = [Finding(f.place, f.fault, inp, f.layer_node, f.call_node, f.layer)
                           for f, inp, _ in sorted(self.scheduler.found, key=lambda fi: (fi[1] is None, fi[2]))
                           if f.place[0] < FOREIGN_LINE]  # a fault in another file read for this one is that file's
        return self._found

    def findings(self) -> List[Finding]:
        """Each distinct fault once per place: a Linear given 5408 features by
        one use and 4608 by another is two findings (a fix of one number fits
        neither). A fault found with no known input says less: it is left where
        one found with a known input stands at its place."""
        seen, placed = {}, set()
        for f in self.found():
            key = (f.place, f.code, f.fault.text if f.fault.value is None else f.fault.value)
            if key in seen or (f.source is None and (f.place, f.code) in placed):
                continue
            seen[key] = f
            placed.add((f.place, f.code))
        return list(seen.values())

    def _run_models(self) -> None:
        scheduler = self.scheduler
        # Last class first: models mostly come after the blocks they are built
        # of, and a block their runs went through needs no run of its own.
        for scheduler.position, model in reversed(list(enumerate(self.classes))):
            scheduler.run_class(model, self.inputs_for(model))
        for scheduler.position, model in enumerate(self.seqs, len(self.classes)):
            scheduler.run_free_sequential(model, self.inputs_for(model))
        for scheduler.position, model in enumerate(self.scripts, len(self.classes) + len(self.seqs)):
            scheduler.run_script(model, self.inputs_for(model))

    @property
    def ok_places(self) -> set:
        """Places some run with a known input checked and found right."""
        return self.scheduler.ok_places

    def reports(self) -> List[Finding]:
        """The findings and the pragmas' own, in the file's order."""
        return sorted(self.pragma_findings + self.findings())

    def close(self) -> None:
        self.interp.close()


def parse(lines: List[str], tree: Optional[ast.Module] = None) -> Optional[ast.Module]:
    if tree is not None:
        return tree
    try:
        return ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return None


# a script may build a torchvision model (models/scripts.py): `torchvision.models...`, `from torchvision import models`
_TORCHVISION_MODELS = re.compile(r"torchvision\.models|from\s+torchvision\s+import\s[^\n]*\bmodels\b")
_IMPORTS = re.compile(r"^[ \t]*(?:from[ \t]+\.*([\w.]+)[ \t]+import|import[ \t]+([\w.]+))", re.M)


def _imports_project(text: str) -> bool:
    """Does a script import from a module that may be the project's (a class it builds: models/scripts.py)?"""
    return any((m.group(1) or m.group(2)).split(".")[0] not in _LIBRARIES for m in _IMPORTS.finditer(text))


_LIBRARIES = EXTERNAL | {"torch", "torchvision", "__future__"}


def _analyze(lines: List[str], tree: Optional[ast.Module], max_steps: int, default_input=None, path=None,
             strict: bool = False) -> List[Finding]:
    text = "".join(lines)  # one C-speed search beats a Python loop over the lines
    if "torch" not in text and "cnnshape" not in text:
        return []
    tree = parse(lines, tree)
    if tree is None:
        return []
    # a model is a module-level class or an nn.Sequential; a pragma is checked
    # even where there is none (training scripts have neither: done here)
    if (not any(isinstance(s, ast.ClassDef) for s in tree.body) and "Sequential" not in text and "cnnshape" not in text
            and not _TORCHVISION_MODELS.search(text)):
        # a script may still build a class of its project and call it: only then is there more to do
        if not _imports_project(text) or not find_scripts(tree, module_imports(tree), file_index(tree)):
            return []
    fa = FileAnalysis(lines, tree, max_steps, default_input, path)
    fa.interp.ev.strict = strict
    try:
        return fa.reports()
    finally:
        fa.close()
