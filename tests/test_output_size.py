"""The layers whose forward() takes an output_size (nn.MaxUnpool, the
transposed convolutions), against torch: the engine's side for each size
torch takes, and no shape (never a fault: no constructor argument fixes it)
for each size torch refuses. The sizes tried run from below to above the
window torch allows, in the forms with and without the leading dims."""
from __future__ import annotations

from itertools import product

import pytest

from flake8_cnnshape.shapes.catalog import LAYERS
from flake8_cnnshape.shapes.shape import Shape
from flake8_cnnshape.shapes.signature import UNKNOWN, bind
from flake8_cnnshape.shapes.spec import apply

torch = pytest.importorskip("torch")


def _torch(n, k, s, p, dims, size):
    layer = getattr(torch.nn, f"MaxUnpool{n}d")(k, s, p)
    x = torch.empty((2,) + dims, device="meta")
    try:
        return tuple(layer(x, torch.zeros(x.shape, dtype=torch.long, device="meta"), output_size=size).shape[1:])
    except (ValueError, RuntimeError):
        return None


def _applied(name, args, kwargs, given, dims):
    """Our rule's output sides for layer `name` bound to args and kwargs, with forward()'s
    tensors and sizes (given) beside them; it must find no fault."""
    spec = LAYERS[name]
    bound = bind(spec.sig, args, kwargs)
    bound.values.update(given)
    out = apply(spec, bound, Shape(dims), f"nn.{name}")
    assert not out.faults
    return None if out.shape is None else out.shape.dims


def _ours(n, k, s, p, dims, size):
    return _applied(f"MaxUnpool{n}d", [k, s, p], {}, dict(indices=Shape(dims), output_size=size), dims)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_output_size_is_torchs(n):
    compared = refused = 0
    for k, s, p, L in product((2, 3), (1, 2, 3), (0, 1), (2, 3)):
        dims = (4,) + (L,) * n
        default = (L - 1) * s - 2 * p + k
        for side in range(default - s - 1, default + s + 2):
            for size in ((side,) * n, (2, 4) + (side,) * n):
                theirs = _torch(n, k, s, p, dims, size)
                ours = _ours(n, k, s, p, dims, size)
                assert ours == (None if theirs is None else theirs), (n, k, s, p, L, size, theirs, ours)
                compared += theirs is not None
                refused += theirs is None
    assert compared > 50 and refused > 20


def test_unknown_sides_of_output_size_stay_unknown():
    """x.size() of a model's tensor: the batch and the unknown sides are UNKNOWN."""
    assert _ours(2, 2, 2, 0, (4, 3, 3), (UNKNOWN, 4, 6, UNKNOWN)) == (4, 6, None)
    assert _ours(2, 2, 2, 0, (4, 3, 3), UNKNOWN) == (4, None, None)


def test_indices_of_another_shape_end_the_shape():
    spec = LAYERS["MaxUnpool2d"]
    args = bind(spec.sig, [2], {})
    args.values["indices"] = Shape((4, 3, 2))
    assert apply(spec, args, Shape((4, 3, 3)), "nn.MaxUnpool2d").shape is None
    x = torch.empty(2, 4, 3, 3, device="meta")
    with pytest.raises(RuntimeError):
        torch.nn.MaxUnpool2d(2)(x, torch.zeros(2, 4, 3, 2, dtype=torch.long, device="meta"))


def _torch_transpose(n, k, s, p, d, dims, size):
    layer = getattr(torch.nn, f"ConvTranspose{n}d")(4, 3, k, stride=s, padding=p, dilation=d)
    try:
        return tuple(layer(torch.empty((2,) + dims, device="meta"), output_size=size).shape[1:])
    except (ValueError, RuntimeError):
        return None


def _ours_transpose(n, k, s, p, d, dims, size):
    return _applied(f"ConvTranspose{n}d", [4, 3, k], dict(stride=s, padding=p, dilation=d), dict(output_size=size), dims)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_transposed_conv_output_size_is_torchs(n):
    compared = refused = 0
    for k, s, p, d, L in product((1, 3), (1, 2, 3), (0, 1), (1, 2), (1, 3)):
        dims = (4,) + (L,) * n
        low = (L - 1) * s - 2 * p + d * (k - 1) + 1
        for side in range(low - 2, low + s + 1):
            for size in ((side,) * n, (2, 3) + (side,) * n, (3,) + (side,) * n):
                theirs = _torch_transpose(n, k, s, p, d, dims, size)
                ours = _ours_transpose(n, k, s, p, d, dims, size)
                assert ours == theirs or ours is None and theirs is not None and 0 in theirs, (n, k, s, p, d, L, size, theirs, ours)
                compared += theirs is not None
                refused += theirs is None
    assert compared > 50 and refused > 50
