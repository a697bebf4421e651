"""One layer = one spec (shapes/spec.py): every LayerSpec in the catalog says
everything the analysis needs of its layer, and what it says is torch's.

* each spec has a parameter count, an axis behaviour the size search knows,
  an input dtype, and a functional twin the catalog has (with the same axes);
* no name is listed by two rule modules;
* the parameter count is torch's, sum(p.numel() for p in layer.parameters()),
  on the ordinary calls of tests/test_layer_rules.py that torch builds (the
  lazy layers sized by one forward pass); a layer with no such call fails;
* a layer said to keep its input's shape (the analysis goes on with it after
  a fault) does, on every ordinary call torch runs.
"""
from __future__ import annotations

import warnings
from typing import List

import pytest

from flake8_cnnshape.shapes import catalog
from flake8_cnnshape.shapes.catalog import FUNCTIONS, LAYERS, METHODS
from flake8_cnnshape.shapes.shape import Shape
from flake8_cnnshape.shapes.signature import bind
from flake8_cnnshape.shapes.spec import AXIS, FLATTEN, OTHER, SAME, LayerSpec, OpSpec, count_params

torch = pytest.importorskip("torch")

import torch_oracle as oracle  # noqa: E402  (tests/ is on sys.path)
from test_layer_rules import CASES  # noqa: E402

AXES = {SAME, AXIS, FLATTEN, OTHER}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_spec_is_complete(name):
    spec = LAYERS[name]
    assert type(spec) is LayerSpec
    assert callable(spec.params), f"{name}: no parameter count"
    assert spec.axes in AXES, f"{name}: axes {spec.axes!r}"
    assert spec.dtype in ("float", "index")
    if spec.functional is not None:
        twin = FUNCTIONS.get(spec.functional)
        assert twin is not None, f"{name}: its functional twin {spec.functional} is not in the catalog"
        assert twin.axes == spec.axes, f"{name} and {spec.functional} treat the axes differently"


@pytest.mark.parametrize("name", sorted(FUNCTIONS) + [f"x.{m}" for m in sorted(METHODS)])
def test_op_spec_is_complete(name):
    spec = METHODS[name[2:]] if name.startswith("x.") else FUNCTIONS[name]
    assert type(spec) is OpSpec and callable(spec.rule) and spec.axes in AXES


def test_no_name_is_listed_twice():
    for table in ("LAYERS", "FUNCTIONS", "METHODS"):
        seen = {}
        for mod in catalog.MODULES:
            for key in getattr(mod, table, {}):
                assert key not in seen, f"{table}[{key!r}] in {seen.get(key)} and {mod.__name__}"
                seen[key] = mod.__name__


def _torch_count(layer: str, args, kwargs, dims):
    """torch's parameter count for the call, a lazy layer sized by a forward
    pass on meta; None where torch cannot build or run it."""
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        try:
            module = getattr(torch.nn, layer)(*args, **kwargs)
            if layer.startswith("Lazy"):
                module(torch.empty((2,) + tuple(dims)))
        except Exception:  # noqa: BLE001 - the grids hold calls torch refuses
            return None
    return sum(p.numel() for p in module.parameters())


def _ordinary(layer: str) -> List:
    return [c for c in CASES if c.layer == layer and c.known]


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_parameter_count_is_torchs(layer):
    spec = LAYERS[layer]
    checked = 0
    for case in _ordinary(layer):
        want = _torch_count(layer, case.args, case.kwargs, case.dims)
        if want is None:
            continue
        args = bind(spec.sig, list(case.args), dict(case.kwargs))
        got = count_params(spec, args, Shape(tuple(case.dims)))
        assert got == want, f"{case.id}: we count {got} parameters, torch {want}"
        checked += 1
        if checked == 12:
            break
    assert checked, f"no ordinary call of {layer} that torch builds: add one to tests/test_layer_rules.py"


def test_the_count_check_can_fail(monkeypatch):
    monkeypatch.setattr(LAYERS["Linear"], "params", lambda a, x: 0)
    with pytest.raises(AssertionError):
        test_parameter_count_is_torchs("Linear")


def _torch_output(layer: str, args, kwargs, dims):
    """The per-sample shape torch gives for the call on meta, None where
    torch cannot build or run it."""
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        try:
            module = getattr(torch.nn, layer)(*args, **kwargs)
            return tuple(module(*(torch.empty((2,) + tuple(dims)),) * oracle.inputs(module)).shape[1:])
        except Exception:  # noqa: BLE001 - the grids hold calls torch refuses
            return None


@pytest.mark.parametrize("layer", sorted(n for n, s in LAYERS.items() if s.keeps_shape))
def test_shape_keeping_layers_keep_it(layer):
    ran = 0
    for case in _ordinary(layer)[:12]:
        got = _torch_output(layer, case.args, case.kwargs, case.dims)
        if got is None:
            continue
        assert got == tuple(case.dims), f"{case.id}: torch gives {got} for {tuple(case.dims)}"
        ran += 1
    assert ran, f"no ordinary call of {layer} that torch runs: add one to tests/test_layer_rules.py"


def test_the_shape_keeping_check_can_fail(monkeypatch):
    monkeypatch.setattr(LAYERS["Conv2d"], "keeps_shape", True)
    with pytest.raises(AssertionError):
        test_shape_keeping_layers_keep_it("Conv2d")


def test_layers_built_alike_share_their_bound_arguments():
    from flake8_cnnshape.shapes.signature import UNKNOWN, bind_alike

    sig = LAYERS["Conv2d"].sig
    memo: dict = {}
    a = bind_alike(memo, "Conv2d", sig, [3, 8, 3], {"padding": 1})
    assert a is bind_alike(memo, "Conv2d", sig, [3, 8, 3], {"padding": 1})
    assert dict(a.values) == dict(bind(sig, [3, 8, 3], {"padding": 1}).values)
    assert bind_alike(memo, "Conv2d", sig, [3, 8, 3], {"padding": 2}) is not a
    assert bind_alike(memo, "Conv2d", sig, [3, 8, UNKNOWN], {"padding": 1}) is not a
    # equal but not alike: True == 1, and a tuple may hold either, so neither is shared
    assert bind_alike(memo, "Conv2d", sig, [3, 8, 3], {"padding": 1, "bias": True}) is not \
        bind_alike(memo, "Conv2d", sig, [3, 8, 3], {"padding": 1, "bias": 1})
    assert bind_alike(memo, "Conv2d", sig, [3, 8, (3, 3)], {}) is not bind_alike(memo, "Conv2d", sig, [3, 8, (3, 3)], {})
    assert bind_alike(memo, "Conv2d", sig, [3], {}) is None  # torch refuses it: a missing argument
