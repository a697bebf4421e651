"""The layer arguments torch takes only as ints: a float there (`out_planes / 4`,
`padding=(kernel_size - 1) / 2`, Python 3's `/` where Python 2 floored) fails
when the layer is built (`empty(): argument 'size' must be tuple of ints`) or on
its first call (`conv2d() received an invalid combination of arguments`).
tests/test_int_args.py holds the table against torch, argument by argument, on
the ordinary calls of tests/test_layer_rules.py."""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Tuple

from .signature import Args

_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")
_WINDOW = ("kernel_size", "stride", "padding", "dilation")
_RNN = ("input_size", "hidden_size", "num_layers", "proj_size")
_TRANSFORMER = ("d_model", "nhead", "dim_feedforward")

_TABLE: Dict[str, Tuple[str, ...]] = {}
for _n in (1, 2, 3):
    _TABLE.update({
        f"Conv{_n}d": _CONV, f"LazyConv{_n}d": _CONV, f"ConvTranspose{_n}d": _CONV + ("output_padding",),
        f"LazyConvTranspose{_n}d": _CONV + ("output_padding",),
        f"MaxPool{_n}d": _WINDOW, f"AvgPool{_n}d": _WINDOW + ("divisor_override",), f"LPPool{_n}d": _WINDOW,
        f"MaxUnpool{_n}d": _WINDOW, f"AdaptiveAvgPool{_n}d": ("output_size",), f"AdaptiveMaxPool{_n}d": ("output_size",),
    })
    for _pad in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
        _TABLE[f"{_pad}Pad{_n}d"] = ("padding",)
_TABLE.update({
    "Linear": ("in_features", "out_features"), "LazyLinear": ("out_features",),
    "Bilinear": ("in1_features", "in2_features", "out_features"),
    "LayerNorm": ("normalized_shape",), "RMSNorm": ("normalized_shape",), "GroupNorm": ("num_groups",),
    "LocalResponseNorm": ("size",), "PReLU": ("num_parameters",),
    "Embedding": ("num_embeddings", "embedding_dim", "padding_idx"),
    "EmbeddingBag": ("num_embeddings", "embedding_dim", "padding_idx"),
    "RNN": _RNN, "LSTM": _RNN, "GRU": _RNN, "RNNCell": _RNN[:2], "LSTMCell": _RNN[:2], "GRUCell": _RNN[:2],
    "MultiheadAttention": ("embed_dim", "num_heads"), "TransformerEncoderLayer": _TRANSFORMER,
    "TransformerDecoderLayer": _TRANSFORMER, "Transformer": _TRANSFORMER + ("num_encoder_layers", "num_decoder_layers"),
    "PixelShuffle": ("upscale_factor",), "PixelUnshuffle": ("downscale_factor",), "ChannelShuffle": ("groups",),
    "Fold": ("output_size",) + _WINDOW, "Unfold": _WINDOW, "Flatten": ("start_dim", "end_dim"), "Unflatten": ("dim",),
    "Upsample": ("size",), "UpsamplingNearest2d": ("size",), "UpsamplingBilinear2d": ("size",),
    "Softmax": ("dim",), "Softmin": ("dim",), "LogSoftmax": ("dim",), "GLU": ("dim",), "CosineSimilarity": ("dim",),
})
INT_ONLY: Dict[str, FrozenSet[str]] = {k: frozenset(v) for k, v in _TABLE.items()}

# the norms' size arguments: an int only where it sizes a tensor, the weight (affine) or the running statistics
NORM_SIZES = {f"{k}{n}d": "num_features" for k in ("BatchNorm", "InstanceNorm") for n in (1, 2, 3)}
NORM_SIZES["GroupNorm"] = "num_channels"
CHECKED = frozenset(INT_ONLY) | frozenset(NORM_SIZES)  # the kinds floats() looks at


def floats(kind: str, args: Args) -> List[Tuple[str, float]]:
    """The arguments of a layer of this kind that are floats where torch takes an int (kept on args)."""
    got = args.floats
    if got is None:
        got = args.floats = _floats(kind, args)
    return got


def _floats(kind: str, args: Args) -> List[Tuple[str, float]]:
    values = args.values
    for v in values.values():  # the commonest case first: no float and no tuple among them
        t = type(v)
        if t is float or t is tuple or t is list:
            break
    else:
        return []
    names = INT_ONLY.get(kind, ())
    out = [(p, v) for p, v in values.items() if p in names and _has_float(v)]
    norm = NORM_SIZES.get(kind)
    if norm is not None and _has_float(values.get(norm)) and (values.get("affine") is True or values.get("track_running_stats") is True):
        out.append((norm, values[norm]))
    return out


def _has_float(v) -> bool:
    if type(v) is float:
        return True
    return type(v) in (tuple, list) and any(type(e) is float for e in v)


def as_ints(args: Args, bad: List[Tuple[str, float]]):
    """args with those floats as the ints they stand for (`50.0` -> 50), or None when one is no whole number."""
    values = dict(args.values)
    for p, v in bad:
        items = v if type(v) in (tuple, list) else (v,)
        if not all(type(e) is not float or e.is_integer() for e in items):
            return None
        ints = [int(e) if type(e) is float else e for e in items]
        values[p] = type(v)(ints) if type(v) in (tuple, list) else ints[0]
    return Args(values)
