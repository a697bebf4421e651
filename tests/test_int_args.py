"""CNS011 (shapes/int_args.py) against torch: on the ordinary calls of
tests/test_layer_rules.py that torch builds and runs, each int argument made
a float (`4` -> `4.0`). torch refuses it (at the build or on the first call)
exactly where the table says so; and the float args of every other layer in
the catalog stay unreported."""
from __future__ import annotations

import collections

import pytest

from flake8_cnnshape.shapes.catalog import LAYERS
from flake8_cnnshape.shapes.int_args import CHECKED, as_ints, floats
from flake8_cnnshape.shapes.signature import Args, bind

pytest.importorskip("torch")

import torch_oracle as oracle  # noqa: E402  (tests/ is on sys.path)
from test_layer_rules import CASES  # noqa: E402

PER_ARGUMENT = 4  # calls tried for each (layer, argument): the grid repeats itself


def _given(case):
    params = LAYERS[case.layer].sig.params
    if len(case.args) > len(params):
        return None
    given = dict(zip(params, case.args))
    given.update(case.kwargs)
    return given


def _trials():
    seen = collections.Counter()
    for case in CASES:
        given = _given(case) if case.known else None
        if given is None:
            continue
        for param, value in given.items():
            if type(value) is int and seen[(case.layer, param)] < PER_ARGUMENT:
                seen[(case.layer, param)] += 1
                yield case, given, param


TRIALS = list(_trials())


@pytest.mark.parametrize("layer", sorted({c.layer for c, _, _ in TRIALS}))
def test_torch_refuses_a_float_where_the_table_says(layer):
    spec = LAYERS[layer]
    tried = 0
    for case, given, param in (t for t in TRIALS if t[0].layer == layer):
        if oracle.run(layer, (), given, case.dims).kind != oracle.OK:
            continue  # the call with ints is no ordinary one
        floated = dict(given, **{param: float(given[param])})
        refused = oracle.run(layer, (), floated, case.dims).kind == oracle.RAISES
        bound = bind(spec.sig, [], floated)
        ours = [p for p, _ in floats(layer, bound)]
        assert (param in ours) == refused, (layer, floated, ours, refused)
        tried += 1
    assert tried, f"{layer}: no call torch runs"


def test_the_table_is_tried():
    # every layer the table names has a call that tries it: no entry stands untested
    assert CHECKED <= {c.layer for c, _, _ in TRIALS}


def test_floats_inside_tuples_and_their_ints():
    args = Args({"in_channels": 3, "out_channels": 8.0, "kernel_size": (3.0, 3), "stride": 1, "padding": 0, "dilation": 1,
                 "groups": 1, "bias": True, "padding_mode": "zeros"})
    bad = floats("Conv2d", args)
    assert sorted(p for p, _ in bad) == ["kernel_size", "out_channels"]
    fixed = as_ints(args, bad)
    assert fixed.values["out_channels"] == 8 and fixed.values["kernel_size"] == (3, 3)
    assert as_ints(Args({"out_channels": 7.5}), [("out_channels", 7.5)]) is None  # no int it stands for
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        with torch.device("meta"):
            torch.nn.Conv2d(3, 8, (3.0, 3))(torch.zeros(1, 3, 8, 8))
