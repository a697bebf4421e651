"""Resizes and pads given an amount nobody knows: `F.interpolate(x, size=(h, w))`
with h, w read off an input of unknown size, `F.pad(x, [dx // 2, dx - dx // 2,
...])` in a U-Net, `nn.ZeroPad2d(p)` with p a constructor argument. The engine
then loses only the sizes that amount sets; the batch, the channels and the
rank go on, so the layers after are still checked.

The truth: each case of test_functional_rules' interpolate and pad grids, with
one amount (an entry of the tuple, or the whole argument) made UNKNOWN for the
engine, while torch runs the case with its value. The contract:
  * torch runs it -> no fault, and either no shape or one of torch's rank that
    agrees with torch on every size the engine states;
  * a fault -> torch refuses the call whatever the unknown amount is (tried at
    the case's value and at several others);
  * the engine computes a shape for nearly all the calls torch runs (a share:
    else the engine could give up everywhere and pass).
"""
from __future__ import annotations

import ast
import sys
from dataclasses import replace
from pathlib import Path
from typing import List, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_functional_rules import F, OK, Case, engine, interpolate_cases, pad_cases, truth  # noqa: E402

import torch  # noqa: E402

from flake8_cnnshape.shapes.catalog import LAYERS  # noqa: E402
from flake8_cnnshape.shapes.shape import Shape  # noqa: E402
from flake8_cnnshape.shapes.signature import UNKNOWN, RULE_GIVES_UP, bind  # noqa: E402
from flake8_cnnshape.shapes.spec import apply  # noqa: E402

MIN_COMPUTED = 0.9  # of the variants torch runs, the share the engine gives a shape for
OTHER_INTS = (0, 1, 2, 3, 8, -1)
OTHER_SCALES = (0.5, 1.5, 2.0, 3)


def _unknown_in(value) -> List[Tuple[object, object]]:
    """(value with one amount made UNKNOWN, where it was) for an amount argument."""
    out = [(UNKNOWN, None)]
    if isinstance(value, (tuple, list)):
        for i in range(len(value)):
            e = list(value)
            e[i] = UNKNOWN
            out.append((type(value)(e), i))
    return out


def _with_value(value, where, v):
    if where is None:
        return v
    e = list(value)
    e[where] = v
    return type(value)(e)


def _variants(case: Case) -> List[Tuple[Case, object, object]]:
    """(the case with one amount UNKNOWN, the argument's name or position, where in it)."""
    out = []
    names = [i for i, a in enumerate(case.args) if isinstance(a, (int, float, tuple, list)) and not isinstance(a, bool)][:1]
    names += [k for k in ("size", "scale_factor") if k in case.kwargs and case.kwargs[k] is not None]
    for name in names:
        value = case.args[name] if isinstance(name, int) else case.kwargs[name]
        if case.key == F + "pad" and not isinstance(value, (tuple, list)):
            continue  # F.pad's whole argument unknown: its length says which dims change
        for changed, where in _unknown_in(value):
            if case.key == F + "pad" and where is None:
                continue
            if isinstance(name, int):
                args = case.args[:name] + (changed,) + case.args[name + 1:]
                out.append((replace(case, args=args), name, where))
            else:
                out.append((replace(case, kwargs=dict(case.kwargs, **{name: changed})), name, where))
    return out


def _substituted(case: Case, variant: Case, name, where, v) -> Case:
    if isinstance(name, int):
        args = list(variant.args)
        args[name] = _with_value(case.args[name], where, v)
        return replace(case, args=tuple(args))
    return replace(case, kwargs=dict(case.kwargs, **{name: _with_value(case.kwargs[name], where, v)}))


def _agrees(engine_dims, torch_dims) -> bool:
    return len(engine_dims) == len(torch_dims) and all(e is None or e == t for e, t in zip(engine_dims, torch_dims))


def _check(case: Case, variant: Case, name, where) -> str:
    out = engine(variant)
    verdict = truth(case)
    text = f"{variant.id} (torch, with {case.id}: {verdict})"
    if out.faults:
        others = OTHER_SCALES if name == "scale_factor" else OTHER_INTS
        for v in others:
            other = _substituted(case, variant, name, where, v)
            assert truth(other).kind != OK, f"{text}: a fault, but torch runs {other.id}"
        assert verdict.kind != OK, f"{text}: a fault on a call torch runs"
        return "faulted"
    if verdict.kind != OK:
        return "runs on"  # the amount nobody knows may be the one that makes it run
    if out.shape is None:
        # the engine declines some amounts whatever it knows (a negative
        # reflect pad): only a give-up it did not make on the case itself counts
        return "gave up" if engine(case).shape is not None else "declined"
    assert _agrees(out.shape.dims, verdict.shape), f"{text}: the engine gives {out.shape.dims}"
    return "agreed"


def _family(cases: List[Case]):
    return [(c, v, n, w) for c in cases for v, n, w in _variants(c)]


FAMILIES = {"interpolate": _family([c for c in interpolate_cases()]), "pad": _family(pad_cases())}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_unknown_amounts(family: str) -> None:
    counts = {"agreed": 0, "gave up": 0, "declined": 0, "faulted": 0, "runs on": 0}
    for case, variant, name, where in FAMILIES[family]:
        counts[_check(case, variant, name, where)] += 1
    ran = counts["agreed"] + counts["gave up"]
    assert ran > 50, counts
    assert counts["agreed"] >= MIN_COMPUTED * ran, counts


# The layers: nn.Upsample with a size or scale nobody knows, the padding layers
# with an amount nobody knows; each at several values torch runs.
LAYER_CASES = [
    ("Upsample", dict(size=(UNKNOWN, 6)), (3, 4, 5), [dict(size=(v, 6)) for v in (1, 2, 9)]),
    ("Upsample", dict(size=UNKNOWN), (3, 4, 5), [dict(size=v) for v in (1, 7)] + [dict(size=(2, 3))]),
    ("Upsample", dict(scale_factor=UNKNOWN, mode="bilinear"), (2, 4, 5), [dict(scale_factor=v, mode="bilinear") for v in (0.5, 2)]),
    ("ZeroPad2d", dict(padding=(1, UNKNOWN, 0, 2)), (3, 4, 5), [dict(padding=(1, v, 0, 2)) for v in (0, 2, -1)]),
    ("ReflectionPad1d", dict(padding=(UNKNOWN, 1)), (3, 4), [dict(padding=(v, 1)) for v in (0, 1, 3)]),
    ("ConstantPad3d", dict(padding=(0, 0, UNKNOWN, 1, 2, 2), value=0.0), (2, 3, 4, 5),
     [dict(padding=(0, 0, v, 1, 2, 2), value=0.0) for v in (0, 4)]),
]


@pytest.mark.parametrize("layer, kwargs, dims, concrete", LAYER_CASES, ids=[f"{c[0]}{c[1]}" for c in LAYER_CASES])
def test_layer_unknown_amounts(layer, kwargs, dims, concrete) -> None:
    spec = LAYERS[layer]
    bound = bind(spec.sig, [], kwargs)
    try:
        out = apply(spec, bound, Shape(dims), layer)
    except RULE_GIVES_UP:
        out = None
    assert out is not None and out.shape is not None and not out.faults, f"{layer}({kwargs}) on {dims}: {out}"
    for kw in concrete:
        got = tuple(getattr(torch.nn, layer)(**kw)(torch.zeros((2,) + dims)).shape[1:])
        assert _agrees(out.shape.dims, got), f"{layer}({kw}) on {dims}: torch {got}, the engine {out.shape.dims}"
    assert None in out.shape.dims and any(d is not None for d in out.shape.dims)


# fixtures/forward/unknown_sizes(_fixed).py: models with no input size; torch
# runs each at several sizes and must refuse exactly the ones with an expectation.
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "forward"
SIZES = ((3, 32, 32), (3, 30, 46), (3, 17, 23))


def _classes(path: Path):
    tree = ast.parse(path.read_text())
    lines = path.read_text().splitlines()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            marked = any("# error:" in lines[i] for i in range(node.lineno - 1, node.end_lineno))
            yield path, node.name, marked


UNSIZED = [c for name in ("unknown_sizes.py", "unknown_sizes_fixed.py") for c in _classes(FIXTURES / name)]


@pytest.mark.parametrize("path, name, marked", UNSIZED, ids=[f"{p.stem}:{n}" for p, n, _ in UNSIZED])
def test_unsized_fixture_in_torch(path, name, marked) -> None:
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    for dims in SIZES:
        model = namespace[name]().eval()
        try:
            model(torch.zeros((2,) + dims))
            refused = False
        except RuntimeError:
            refused = True
        assert refused == marked, f"{name} at {dims}: torch {'refuses' if refused else 'runs'} it"
