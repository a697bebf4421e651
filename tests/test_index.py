"""speed/index.py walks every node of every torch file by hand-tuned rules
(a table of node classes, common children handled in place). Here it is
held against the plain definition, written the slow and obvious way: a
recursive walk that asks isinstance() of every node; so is the PlainIndex
the analysis uses with the index switch off."""
from __future__ import annotations

import ast
import os
import sysconfig

import pytest

from flake8_cnnshape.interp.mutation import MUTATORS
from flake8_cnnshape.speed.index import FileIndex, PlainIndex

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _base_name(target):
    while isinstance(target, (ast.Attribute, ast.Subscript)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def reference(tree: ast.Module):
    calls, stores, mutated, generators = [], {}, {}, set()

    def visit(node, path, stmt, owners):
        # owners: the body-level statements around node (what the index keeps)
        if isinstance(node, ast.stmt):
            if isinstance(node, _DEFS):
                for o in owners:
                    stores[o].add(node.name)
            if isinstance(node, ast.Global):
                for o in owners:
                    mutated[o].update(node.names)
            if stmt is None or isinstance(stmt, _DEFS):
                stores[id(node)], mutated[id(node)] = set(), set()
                owners = owners + (id(node),)
            stmt = node
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            for o in owners:
                stores[o].add(node.id)
        changed = None
        if isinstance(node, ast.Call):
            calls.append((node, path, stmt))
            if isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                changed = _base_name(node.func.value)
        if isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            changed = _base_name(node.value)
        if changed is not None:
            for o in owners:
                mutated[o].add(changed)
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            fns = [p for p in path if isinstance(p, _FUNCS)]
            if fns:
                generators.add(id(fns[-1]))
        if isinstance(node, _DEFS + (ast.Lambda,)):
            path = path + (node,)
        for child in ast.iter_child_nodes(node):
            # annotations of parameters and returns hold no model: not walked
            if isinstance(child, ast.arg) or (isinstance(node, _FUNCS[:2]) and child is node.returns):
                continue
            visit(child, path, stmt, owners)

    visit(tree, (), None, ())
    return calls, stores, mutated, generators


def check(source: str) -> None:
    tree = ast.parse(source)
    calls, stores, mutated, generators = reference(tree)
    by_name = {}
    for c, _, _ in calls:
        if isinstance(c.func, ast.Name):
            by_name.setdefault(c.func.id, []).append(id(c))
    for index in (FileIndex(tree), PlainIndex(tree)):
        assert [(id(c), tuple(map(id, p)), id(s)) for c, p, s in index.calls] == [
            (id(c), tuple(map(id, p)), id(s)) for c, p, s in calls]
        assert {k: list(map(id, v)) for k, v in index.calls_by_name.items()} == by_name
        assert index.generators == generators
        for node in ast.walk(tree):
            if id(node) in stores:
                info = index.info(node)
                assert (info.stores, info.mutated) == (stores[id(node)], mutated[id(node)]), ast.dump(node)[:200]
    # the `if`s of each module-level definition: the same in both walks
    tuned, plain = FileIndex(tree).branches, PlainIndex(tree).branches
    assert {k: sorted(map(id, v)) for k, v in tuned.items()} == {k: sorted(map(id, v)) for k, v in plain.items()}
    assert plain == {k: v for k, v in plain.items() if v} and all(
        isinstance(n, (ast.If, ast.IfExp)) for v in plain.values() for n in v)


SNIPPETS = [
    # names bound in loops and branches, nested defs, lambdas, comprehensions
    "for i in range(3):\n    if i:\n        x = [y for y in range(i)]\n    else:\n        def f(a=lambda: (yield)):\n            z = 1\n",
    # containers changed after their one assignment, in several ways
    "layers = []\nlayers.append(1)\nd = {}\nd['k'] = 2\ndel d['k']\nself_like.a.b = 3\nq[0].x += 1\n",
    # global in a function; a generator and a plain function; a class body
    "N = 1\ndef g():\n    global N\n    N = 2\n    yield N\ndef h():\n    return [lambda: (yield) for _ in ()]\n"
    "class C:\n    k = 1\n    def m(self):\n        self.w = nn.Linear(2, 3)\n",
    # calls everywhere: decorators, defaults, annotations, f-strings, keywords, starred
    "@dec(1)\ndef f(a: T(1) = g(2), *b, c=h(3), **d) -> R(4):\n    return k(*b, x=f'{m(5)}', **d)\n",
    # try / with / match hold statements without being one
    "try:\n    a = f()\nexcept E as e:\n    b = g(e)\nelse:\n    c = 1\nfinally:\n    d.pop()\n"
    "with open(p) as (u, v):\n    w = 2\n"
    "match x:\n    case [1, y]:\n        z = t(y)\n    case _:\n        pass\n",
    # a Sequential inside a Sequential, with attribute chains
    "import torch.nn as nn\nnet = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3)), nn.Flatten())\nnet.to(dev).eval()\n",
]


@pytest.mark.parametrize("source", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_index_matches_the_plain_definition(source):
    check(source)


def _python_files(root: str, limit: int):
    out = []
    for d, dirs, files in sorted(os.walk(root)):
        dirs[:] = sorted(x for x in dirs if x not in ("__pycache__", "site-packages", "test", "tests"))
        out += [os.path.join(d, f) for f in sorted(files) if f.endswith(".py")]
    return out[:limit]


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = (_python_files(os.path.join(HERE, "flake8_cnnshape"), 200) + _python_files(os.path.join(HERE, "fixtures"), 200)
         + _python_files(sysconfig.get_paths()["stdlib"], 120))


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.relpath(p, HERE) if p.startswith(HERE) else os.path.basename(p))
def test_index_matches_on_real_files(path):
    with open(path, "rb") as f:
        source = f.read()
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        pytest.skip("does not parse")
    check(source)


def test_fields_walked_keep_each_node_class_order():
    """The walk takes a few node classes' fields from a table (the rest from
    _fields): in their own order, or calls would not come in source order."""
    from flake8_cnnshape.speed.index import _FIELDS

    for cls, fields in _FIELDS.items():
        assert list(fields) == [f for f in cls._fields if f in fields], cls.__name__
