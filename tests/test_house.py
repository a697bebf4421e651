"""The package's layout keeps to ARCHITECTURE.md: modules a reader can take
in at once, functions short enough to follow, no import cycle between
modules (the interpreter's parts meet through interp/api.py and the wiring
in interp/machine.py), and no module reaching into another's underscored
names."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flake8_cnnshape"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 65
MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Set[str]:
    """The package's modules this one imports, anywhere in it."""
    name = _name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    known = {_name(p) for p in MODULES}
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for a in node.names:  # `from . import output` names a module
                full = f"{base}.{a.name}"
                out.add(full if full in known else base)
    return {m for m in out if m in known and m != name}


GRAPH: Dict[str, Set[str]] = {_name(p): _imports(p) for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=[_name(p) for p in MODULES])
def test_module_is_small(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


@pytest.mark.parametrize("path", MODULES, ids=[_name(p) for p in MODULES])
def test_functions_are_short(path):
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)" for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long


def _cycle() -> List[str]:
    """One import cycle among the modules, or []. Importing a package's
    module imports the package first: an edge from a package's __init__ back
    into its own modules would close a cycle too, so it counts."""
    state: Dict[str, int] = {}
    path: List[str] = []

    def visit(m: str) -> List[str]:
        state[m] = 1
        path.append(m)
        for n in sorted(GRAPH[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state:
                got = visit(n)
                if got:
                    return got
        path.pop()
        state[m] = 2
        return []

    for m in sorted(GRAPH):
        if m not in state:
            got = visit(m)
            if got:
                return got
    return []


def test_no_import_cycle():
    assert _cycle() == []


def test_the_cycle_check_can_fail(monkeypatch):
    monkeypatch.setitem(GRAPH, "flake8_cnnshape.interp.values", GRAPH["flake8_cnnshape.interp.values"] | {"flake8_cnnshape.interp.machine"})
    assert _cycle()


@pytest.mark.parametrize("path", MODULES, ids=[_name(p) for p in MODULES])
def test_no_reaching_into_another_modules_underscored_names(path):
    tree = ast.parse(path.read_text())
    imported = set()
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for a in node.names:
                imported.add(a.asname or a.name)
                if a.name.startswith("_") and not a.name.startswith("__"):
                    bad.append(f"from {node.module} import {a.name}")
        elif isinstance(node, ast.Import):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            bad.append(f"{node.value.id}.{node.attr} at line {node.lineno}")
    assert not bad
