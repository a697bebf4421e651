"""Every file under fixtures/ is linted by flake8 as a user runs it, and the
reports must be exactly the ones written on the lines (`# error: CNS001(3136)`:
the code, and a number the message must contain). Each model that carries an
input pragma is then run by torch at that size: it must fail exactly when an
expectation sits inside it."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# fixtures/fix holds before/after pairs for `cnnshape fix` (tests/test_cli.py)
FIXTURES = sorted(p for p in (ROOT / "fixtures").rglob("*.py") if p.parent.name != "fix")
EXPECT = re.compile(r"#\s*error:\s*(CNS\d{3})(?:\((\d+)\))?")
REPORT = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>CNS\d{3}) (?P<text>.*)$")


def expectations(path: Path):
    out = {}
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        for m in EXPECT.finditer(line):
            out[(i, m.group(1))] = m.group(2)
    return out


@pytest.fixture(scope="module")
def flake8_reports():
    """One flake8 run over all fixtures (with --jobs, as CI would run it)."""
    proc = subprocess.run(
        # CNS100 is off by default; an explicit `--select CNS` would turn it on
        [sys.executable, "-m", "flake8", "--isolated", "--select", "CNS", "--extend-ignore", "CNS100", "--jobs", "2", str(ROOT / "fixtures")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    reports = {}
    for line in proc.stdout.splitlines():
        if "/fixtures/fix/" in line:
            continue
        m = REPORT.match(line)
        assert m, f"unparsable flake8 line: {line}"
        reports.setdefault(Path(m["path"]).resolve(), []).append(m)
    return reports


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(ROOT / "fixtures")) for p in FIXTURES])
def test_fixture_reports(path, flake8_reports):
    want = expectations(path)
    got = flake8_reports.get(path.resolve(), [])
    got_keys = {(int(m["line"]), m["code"]) for m in got}
    assert got_keys == set(want), "\n".join(m.group(0) for m in got)
    for m in got:
        number = want[(int(m["line"]), m["code"])]
        if number is not None:
            assert re.search(rf"\b{number}\b", m["text"]), m.group(0)
        # flake8 columns are 1-based: the report sits where a call starts
        line = path.read_text().splitlines()[int(m["line"]) - 1]
        rest = line[int(m["col"]) - 1:]
        assert re.match(r"[A-Za-z_][\w.]*(\[[^\]]*\])?\(|#", rest) or m["code"] == "CNS008", (m.group(0), rest)


def _pragma_models(path: Path):
    """(name, kind, input, first line, last line) of each model with a pragma."""
    source = path.read_text()
    tree = ast.parse(source)
    lines = source.splitlines()
    pragma = re.compile(r"#\s*cnnshape:\s*input=\(([\d,\s]+)\)")

    def pragma_for(node, stmt_line):
        for ln in (stmt_line, stmt_line - 1):
            if 1 <= ln <= len(lines):
                m = pragma.search(lines[ln - 1])
                if m and (ln == stmt_line or lines[ln - 1].strip().startswith("#")):
                    return tuple(int(v) for v in m.group(1).split(",") if v.strip())
        return None

    # a model a script builds from torchvision is changed by the statements
    # after it, up to the next definition or pragma: its faults stand there
    starts = [n.lineno for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))
              or isinstance(n, ast.Assign) and pragma_for(n, n.lineno)] + [len(lines) + 1]
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            dims = pragma_for(node, node.lineno)
            if dims:
                yield node.name, "class", dims, node.lineno, node.end_lineno
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            dims = pragma_for(node, node.lineno)
            if dims:
                last = node.end_lineno
                if "torchvision" in source and ast.unparse(node.value).split("(")[0].split(".")[-2:-1] in (
                        ["models"], ["video"]):
                    last = min(n for n in starts if n > node.lineno) - 1
                yield node.targets[0].id, "value", dims, node.lineno, last


TORCH_CASES = [(p, m) for p in FIXTURES for m in _pragma_models(p)]


@pytest.mark.parametrize("path,model", TORCH_CASES, ids=[f"{p.stem}:{m[0]}" for p, m in TORCH_CASES])
def test_fixture_truth_in_torch(path, model, monkeypatch):
    torch = pytest.importorskip("torch")
    name, kind, dims, first, last = model
    want = [k for k in expectations(path) if first <= k[0] <= last and k[1] != "CNS900"]
    if (first, "CNS900") in expectations(path) or (first - 1, "CNS900") in expectations(path):
        pytest.skip("the linter rejects this pragma")
    device = "cpu"
    if "torchvision" in path.read_text():
        # big pretrained models: built and run on the meta device (shapes only), once per file
        _offline_torchvision(monkeypatch)
        device = "meta"
    namespace, errors = _statements_run(path, device)
    failures = []
    if kind == "value":
        built = [errors[first]] if first in errors else [namespace.get(name)]
    else:
        with torch.device(device):
            built = _instances(namespace, namespace[name], path)
    for module in built:
        if isinstance(module, Exception):
            failures.append(module)  # torch refused to build it
            continue
        if not isinstance(module, torch.nn.Module):
            pytest.skip(f"{name} is not a model")
        try:
            module.eval()
            # a model with an embedding takes token ids
            ids = any(isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag)) for m in module.modules())
            module(torch.zeros((2,) + dims, device=device, dtype=torch.long if ids else torch.float))
        except (RuntimeError, ValueError, TypeError, IndexError, AssertionError) as e:  # attention asserts its shapes; a float size is a TypeError
            failures.append(e)
    assert bool(failures) == bool(want), f"torch: {failures!r}; expected reports {want}"


def _offline_torchvision(monkeypatch):
    """torchvision importable (tests/torchvision_truth.py), its weights never
    downloaded: a model built with weights= is built as without them (the
    shapes do not depend on them)."""
    import torch
    from torchvision_truth import import_torchvision

    import_torchvision()
    from torchvision.models._api import WeightsEnum

    class NoWeights(dict):
        pass

    load = torch.nn.Module.load_state_dict
    monkeypatch.setattr(WeightsEnum, "get_state_dict", lambda self, *args, **kwargs: NoWeights())
    monkeypatch.setattr(torch.nn.Module, "load_state_dict", lambda self, state, *args, **kwargs: (
        None if isinstance(state, NoWeights) else load(self, state, *args, **kwargs)))


_RUN: dict = {}


def _statements_run(path: Path, device: str):
    """_run_statements, once per file on the meta device (its models are not changed by running them)."""
    if device == "cpu":
        return _run_statements(path)
    if path not in _RUN:
        import torch

        with torch.device(device):
            _RUN[path] = _run_statements(path)
    return _RUN[path]


def _run_statements(path: Path):
    """Execute the fixture one top-level statement at a time, keeping the
    exception each raised (a model torch refuses to build raises here)."""
    module = types.ModuleType("fixture")  # in sys.modules, as @dataclass needs its class's module to be
    sys.modules["fixture"] = module
    namespace = module.__dict__
    errors = {}
    for stmt in ast.parse(path.read_text()).body:
        try:
            exec(compile(ast.Module([stmt], []), str(path), "exec"), namespace)
        except ImportError:
            pytest.skip("fixture imports a library that does not exist on purpose")
        except (RuntimeError, ValueError, TypeError, IndexError, AssertionError) as e:
            errors[stmt.lineno] = e
    return namespace, errors


def _instances(namespace, cls, path):
    """Build the class the ways the fixture file does: its pragma's build=,
    its calls that stand at module level, and the module functions that build
    it (factories) called with their defaults; else with no arguments."""
    out = []
    tree = ast.parse(path.read_text())
    declared = re.search(rf"#\s*cnnshape:.*\bbuild=({cls.__name__}\(.*?\))\s*(#|$)", path.read_text(), re.M)
    if declared:
        return [eval(declared.group(1), namespace)]

    def builds(node):
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == cls.__name__

    factories = [f for f in tree.body if isinstance(f, ast.FunctionDef) and any(builds(n) for n in ast.walk(f))]
    inside = {id(n) for f in factories for n in ast.walk(f)}
    # and the module functions that call a factory (`densenet121()` calling `_densenet(32, ...)`)
    names = {f.name for f in factories}
    factories += [g for g in tree.body if isinstance(g, ast.FunctionDef) and g not in factories and any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names for n in ast.walk(g))]
    for node in ast.walk(tree):
        if builds(node) and id(node) not in inside and (node.args or node.keywords):
            try:
                out.append(eval(compile(ast.Expression(node), str(path), "eval"), namespace))
            except (RuntimeError, ValueError, TypeError, AssertionError) as e:
                out.append(e)
    for f in factories:
        a = f.args
        if len(a.args) - len(a.defaults) == 0 and all(d is not None for d in a.kw_defaults):
            try:
                built = namespace[f.name]()
            except (RuntimeError, ValueError, TypeError, AssertionError) as e:
                built = e
            if isinstance(built, (cls, Exception)):
                out.append(built)
    if out:
        return out
    try:
        return [cls()]
    except (RuntimeError, ValueError, TypeError, AssertionError) as e:  # torch refuses to build it
        return [e]
