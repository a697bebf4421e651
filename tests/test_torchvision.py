"""torchvision models, as the analysis knows them (flake8_cnnshape/zoo), against
torchvision itself on the meta device: for every builder the zoo lists, at
input sizes around each model's limits, the output shape and parameter count
of each top-level child in the order forward() runs them, and whether torch
refuses the input (then the file gets a report at the model, else none)."""
from __future__ import annotations

import ast
import os

import pytest

from flake8_cnnshape.analysis import analyze
from flake8_cnnshape.show import tables
from torchvision_truth import children_outputs, import_torchvision, total_params

ZOO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "flake8_cnnshape", "zoo", "models.py")


def _builders():
    tree = ast.parse(open(ZOO, encoding="utf-8").read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "BUILDERS":
            return [k.value for k in node.value.keys]
    raise AssertionError("zoo/models.py has no BUILDERS")


BUILDERS = _builders()
VIDEO = {"r3d_18", "mc3_18", "r2plus1d_18"}  # in torchvision.models.video, fed (C, T, H, W)
SIZES = [(3, s, s) for s in (1, 15, 16, 17, 31, 32, 33, 63, 64, 75, 224)] + [(3, 97, 131), (3, 300, 40)]
VIDEO_SIZES = [(3, 1, 1, 1), (3, 2, 16, 16), (3, 8, 112, 112), (3, 5, 64, 48)]


def _source(name: str, dims, extra: str = "") -> list:
    where = "torchvision.models.video" if name in VIDEO else "torchvision.models"
    return [
        "import torchvision\n",
        f"model = {where}.{name}({extra})  # cnnshape: input={tuple(dims)}\n",
    ]


def _rows(name: str, dims, extra: str = ""):
    got = tables(_source(name, dims, extra), input_dims=dims)
    assert len(got) == 1, got
    rows = got[0]["layers"]
    return [(r["type"].split(".", 1)[1], tuple(r["output_shape"]) if r["output_shape"] is not None else None,
             r["params"]) for r in rows]


def test_the_zoo_lists_torchvision_builders():
    tv = import_torchvision()
    known = set(tv.models.list_models())
    assert BUILDERS and set(BUILDERS) <= known, set(BUILDERS) - known


@pytest.mark.parametrize("name", BUILDERS)
def test_each_child_and_the_verdict_agree_with_torch(name):
    for dims in VIDEO_SIZES if name in VIDEO else SIZES:
        want = children_outputs(name, dims)
        reports = analyze(_source(name, dims), strict=True)
        if want is None:
            assert reports, f"{name} at {dims}: torch refuses it, the analysis says nothing"
            assert {r.place[0] for r in reports} == {2}, [r.message for r in reports]
            continue
        assert not reports, f"{name} at {dims}: torch runs it, but {[r.message for r in reports]}"
        assert _rows(name, dims) == want, f"{name} at {dims}"


@pytest.mark.parametrize("name", ["resnet18", "vgg11_bn", "densenet121", "mobilenet_v2", "squeezenet1_1"])
def test_num_classes_reaches_the_head(name):
    dims = (3, 224, 224)
    assert _rows(name, dims, "num_classes=7") == children_outputs(name, dims, num_classes=7)
    got = tables(_source(name, dims, "num_classes=7"), input_dims=dims)[0]
    assert got["total_params"] == total_params(name, num_classes=7)


@pytest.mark.parametrize("name,kwargs", [("swin_t", dict(mlp_ratio=2.0)), ("maxvit_t", dict(expansion_ratio=2)),
                                         ("maxvit_t", dict(mlp_ratio=2, squeeze_ratio=0.5))])
def test_builder_arguments_that_change_sizes(name, kwargs):
    dims = (3, 224, 224)
    extra = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    assert _rows(name, dims, extra) == children_outputs(name, dims, **kwargs)
    assert tables(_source(name, dims, extra), input_dims=dims)[0]["total_params"] == total_params(name, **kwargs)


@pytest.mark.parametrize("name,extra", [("swin_t", "block=None"), ("regnet_y_400mf", "norm_layer=None"),
                                        ("maxvit_t", "activation_layer=None")])
def test_builder_arguments_not_modelled_are_not_followed(name, extra):
    """A block, norm or activation of the caller's could change any size: the build is not followed."""
    assert not tables(_source(name, (3, 224, 224), extra), input_dims=(3, 224, 224))[0]["layers"]


def test_one_fault_inside_a_torchvision_model():
    """The first fault inside a refused model is reported at the call; the rest follow from it (maxvit_t at 112 x 112
    fails at its first window partition in torch, and the analysis going on as if fixed finds five more)."""
    dims = (3, 112, 112)
    assert children_outputs("maxvit_t", dims) is None
    reports = analyze(_source("maxvit_t", dims), strict=True)
    assert len(reports) == 1 and "(in torchvision's MaxVit)" in reports[0].message, [r.message for r in reports]
