"""The one table of in-place methods (interp/mutation.py): a method that
changes its list, dict or container is followed, or leaves it unknown, and
every change is noted for the build cache. fixtures/forward/list_methods.py
holds models torch runs; here, the same models with the table ignored (a
method call changing nothing, as before the table) get false reports, so
the fixture tests what it means to."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flake8_cnnshape.analysis import FileAnalysis
from flake8_cnnshape.interp import mutation
from flake8_cnnshape.interp.mutation import MUTATORS, Mutations
from flake8_cnnshape.shapes.signature import UNKNOWN

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (ROOT / "fixtures" / "forward" / "list_methods.py").read_text()


def _reports():
    return [(r.line, r.code) for r in FileAnalysis(SOURCE.splitlines(True), ast.parse(SOURCE)).reports()]


def _line(text: str) -> int:
    return next(i for i, line in enumerate(SOURCE.splitlines(), 1) if text in line)


def test_the_fixture_reports_only_its_real_fault():
    assert _reports() == [(_line("layers = [nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(32, 8, 1)]"), "CNS002")]


def test_without_the_table_the_fixture_gets_false_reports(monkeypatch):
    monkeypatch.setattr(Mutations, "call", lambda self, obj, name, args, kwargs, iterate: UNKNOWN)
    got = {line for line, _ in _reports()}
    # every model torch runs but one whose method's result alone is unknown
    for text in ("self.head = nn.Conv2d(32, 10, 1)", "layers = [nn.Conv2d(3, 8, 1), nn.Conv2d(8, 8, 3)]",
                 "layers = [nn.Conv2d(3, 16, 3), wide, nn.Conv2d(16, 8, 1)]", "layers = [nn.Conv2d(1, 16, 3)]",
                 "self.mix = nn.Conv2d(16, 8, 1)", "self.head = nn.Conv2d(32, 4, 1)"):
        assert _line(text) in got, text
    # and the real fault, found only by following pop(1), is missed
    assert _line("layers = [nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(32, 8, 1)]") not in got


def test_the_table_holds_every_method_that_changes_its_object():
    assert MUTATORS == mutation.LIST_MUTATORS | mutation.DICT_MUTATORS | frozenset(mutation._CONTAINER) | {"__setitem__", "__delitem__"}
    for name in ("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"):
        assert name in mutation.LIST_MUTATORS and hasattr(list, name)
    for name in ("update", "pop", "popitem", "clear", "setdefault"):
        assert name in mutation.DICT_MUTATORS and hasattr(dict, name)


def _call(obj, name, *args, **kwargs):
    m = Mutations()
    got = m.call(obj, name, list(args), kwargs, lambda v: list(v) if isinstance(v, (list, tuple)) else UNKNOWN)
    assert m.changed.get(id(obj)) == m.clock == 1  # noted, once
    return got


@pytest.mark.parametrize("obj,name,args", [
    ([1, 2, 3], "pop", ()),
    ([1, 2, 3], "pop", (0,)),
    ([1, 2, 3], "pop", (-2,)),
    ([1, 2, 3], "remove", (2,)),
    ([3, 1, 2], "sort", ()),
    ([1, 2], "reverse", ()),
    ([1, 2], "clear", ()),
    ([1], "insert", (0, 5)),
    ([1], "extend", ((2, 3),)),
    ([1], "append", (4,)),
    ({"a": 1}, "pop", ("a",)),
    ({"a": 1}, "pop", ("b", 7)),
    ({"a": 1}, "setdefault", ("b", 2)),
    ({"a": 1}, "setdefault", ("a", 2)),
    ({"a": 1, "b": 2}, "popitem", ()),
    ({"a": 1}, "clear", ()),
    ({"a": 1}, "update", ({"b": 2},)),
])
def test_followed_as_python_does(obj, name, args):
    python = type(obj)(obj)
    want = getattr(python, name)(*args)  # Python itself is the oracle
    assert _call(obj, name, *args) == want and obj == python


@pytest.mark.parametrize("obj,name,args", [
    ([1, 2], "remove", (9,)),  # Python raises ValueError
    ([1, UNKNOWN], "remove", (2,)),  # equality unknown before a match
    ([], "pop", ()),
    ([1], "extend", (UNKNOWN,)),
    ({"a": 1}, "pop", ("b",)),  # KeyError
    ({"a": 1}, "update", (UNKNOWN,)),
])
def test_not_followed_leaves_it_unknown(obj, name, args):
    assert _call(obj, name, *args) is UNKNOWN
    assert obj in ([mutation.POISON], {"__unknown__": UNKNOWN})


def test_update_with_keywords():
    d = {"a": 1}
    assert _call(d, "update", {"b": 2}, c=3) is None and d == {"a": 1, "b": 2, "c": 3}
