"""Sequence layers: nn.Embedding and EmbeddingBag, the recurrent layers (nn.RNN, LSTM, GRU and
their cells), nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerDecoderLayer (tgt and memory), nn.Transformer (src and tgt).

Shapes per sample, as everywhere (the batch implied in front). A recurrent
layer or a transformer layer takes a 2-d or 3-d tensor (torch: "Expected
input to be 2D or 3D"), so a sample of rank 1 or 2, and its last dim must be
input_size / embed_dim / d_model (CNS010). Whether batch_first is set does
not change the output's shape, (L, N, *) in and (L, N, H_out) out either way;
it decides which dim of the hidden state is the batch. The layers that
return more than their output say what (`returns`): whole shapes, B the
model's batch (matmul.py), None where not known.

Shapes (torch docs): RNN/GRU output (L, N, D * H_out), h_n (D * num_layers,
N, H_out), H_out = proj_size or hidden_size (LSTM), c_n (D * num_layers, N,
hidden_size); a cell takes (N, H_in) or (H_in) and gives (N, H); the
attention output is the query's shape with embed_dim last, its weights (N,
L, S) averaged over the heads (batch_first) or (N, num_heads, L, S).
"""
from __future__ import annotations

from typing import Optional

from ..shape import Shape
from ..signature import UNKNOWN, Args, Unknowable, sig
from ..spec import OTHER, Ctx, LayerSpec
from .common import need_rank
from .matmul import B


def _width(x: Shape, ctx: Ctx, param: str, want: Optional[int]) -> bool:
    """The last dim against the layer's size (CNS010); False after a fault,
    which the rule goes on from as if the size were fixed (as for in_features)."""
    last = x.dims[-1] if x.dims else None
    if want is not None and last is not None and last != want:
        ctx.fault("CNS010", "sequence_width", {"param": param, "want": want, "got": last}, param, last)
        return False
    return True


def _positive_int(a: Args, name: str, minimum: int = 1) -> int:
    v = a.int(name)
    if v < minimum:
        raise Unknowable(name)  # torch refuses it when building: no code of ours
    return v


def _flag(a: Args, name: str) -> bool:
    v = a.known(name)
    if not isinstance(v, bool) and v not in (0, 1):
        raise Unknowable(name)
    return bool(v)


# -- nn.Embedding --------------------------------------------------------------

def embedding(a: Args, x: Shape, ctx: Ctx):
    n, d = a.int("num_embeddings"), a.int("embedding_dim")
    pad = a["padding_idx"]
    if n < 0 or d < 0 or pad is UNKNOWN or pad is not None and not (isinstance(pad, int) and -n <= pad < n):
        raise Unknowable("padding_idx")  # torch asserts it is in range
    return Shape(x.dims + (d,), x.open)


def embedding_params(a: Args, x) -> int:
    return a.int("num_embeddings") * a.int("embedding_dim")


def embedding_bag(a: Args, x: Shape, ctx: Ctx):
    """(B, L) indices without offsets: a bag per row, (B, embedding_dim) out.
    With offsets, the indices are one 1-d run of all the bags (the text
    classification tutorial's `self.embedding(text, offsets)`): a bag per
    offset, whatever the run's length, and the bags are the batch after it."""
    n, d = a.int("num_embeddings"), a.int("embedding_dim")
    pad, mode = a["padding_idx"], a.known("mode")
    if n < 0 or d < 0 or mode not in ("sum", "mean", "max") or pad is UNKNOWN \
            or pad is not None and not (isinstance(pad, int) and -n <= pad < n):
        raise Unknowable("mode")
    if a.values.get("offsets") is not None:
        if not x.open and x.rank != 0:
            raise Unknowable("offsets")  # 2-d indices with offsets: torch refuses, not followed
        return Shape((d,))
    if x.open or x.rank != 1:
        raise Unknowable("rank")  # 1-d input takes offsets; anything else torch refuses: not followed
    return Shape((d,))


# -- recurrent layers ----------------------------------------------------------

def _recurrent_sizes(a: Args, lstm: bool):
    hidden = _positive_int(a, "hidden_size")
    layers = _positive_int(a, "num_layers")
    proj = a.int("proj_size") if lstm else 0
    if proj < 0 or proj >= hidden:
        raise Unknowable("proj_size")
    dropout = a.known("dropout")
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise Unknowable("dropout")
    directions = 2 if _flag(a, "bidirectional") else 1
    return hidden, layers, proj or hidden, directions


def recurrent(lstm: bool):
    def rule(a: Args, x: Shape, ctx: Ctx):
        hidden, layers, out, directions = _recurrent_sizes(a, lstm)
        if not need_rank(x, ctx, (1, 2), "(L, H_in)"):
            return None
        _width(x, ctx, "input_size", a.opt_int("input_size"))
        return Shape(x.dims[:-1] + (directions * out,), x.open)

    return rule


def recurrent_returns(lstm: bool):
    """(output, h_n) or (output, (h_n, c_n)): "out" stands for the output."""
    def returns(a: Args, x: Shape, out: Shape):
        hidden, layers, h_out, directions = _recurrent_sizes(a, lstm)
        if x.open:
            h = c = None
        else:
            n = () if x.rank == 1 else ((B,) if _flag(a, "batch_first") else (x.dims[0],))
            h, c = (directions * layers,) + n + (h_out,), (directions * layers,) + n + (hidden,)
        return ("out", (h, c)) if lstm else ("out", h)

    return returns


def recurrent_params(gates: int, lstm: bool):
    def count(a: Args, x) -> int:
        hidden, layers, h_out, directions = _recurrent_sizes(a, lstm)
        bias = 2 * gates * hidden if _flag(a, "bias") else 0
        total = 0
        for layer in range(layers):
            width = a.int("input_size") if layer == 0 else h_out * directions
            total += directions * (gates * hidden * (width + h_out) + bias + (h_out * hidden if h_out != hidden else 0))
        return total

    return count


def cell(a: Args, x: Shape, ctx: Ctx):
    hidden = a.int("hidden_size")
    if hidden < 0:
        raise Unknowable("hidden_size")
    if not need_rank(x, ctx, (1,), "(H_in,)"):
        return None
    _width(x, ctx, "input_size", a.opt_int("input_size"))
    return Shape(x.dims[:-1] + (hidden,), x.open)


def cell_params(gates: int):
    def count(a: Args, x) -> int:
        h = a.int("hidden_size")
        return gates * h * (a.int("input_size") + h) + (2 * gates * h if _flag(a, "bias") else 0)

    return count


def _lstm_cell_returns(a: Args, x: Shape, out: Shape):
    return ("out", "out")  # (h_1, c_1): both (N, hidden_size)


# -- attention -----------------------------------------------------------------

def _heads(a: Args, ctx: Ctx, width_param: str, heads_param: str) -> Optional[int]:
    """embed_dim / d_model, after torch's check that the heads divide it (CNS007)."""
    e, h = a.opt_int(width_param), a.opt_int(heads_param)
    if e is not None and e <= 0 or h is not None and h <= 0:
        raise Unknowable(heads_param)
    if e is not None and h is not None and e % h:
        ctx.fault("CNS007", "heads", {"width": e, "param": width_param, "heads": h, "heads_param": heads_param})
        raise _Refused()
    return e


def _model_width(x: Shape, ctx: Ctx, a: Args, e: Optional[int], param: str, heads_param: str) -> Optional[int]:
    """The width the layer goes on with: its own, or after a CNS010 the incoming
    one, which is the fix only where the heads divide it (else CNS007 too, and
    no shape: no one number fixes it)."""
    last = x.dims[-1] if x.dims else None
    if _width(x, ctx, param, e) or last is None:
        return e
    h = a.opt_int(heads_param)
    if h is not None and last % h:
        ctx.fault("CNS007", "heads_incoming", {"width": last, "heads": h, "heads_param": heads_param})
        raise _Refused()
    return last


class _Refused(Unknowable):
    """torch refuses the layer when building it: the fault says why; no shape after it."""


def attention(a: Args, x: Shape, ctx: Ctx):
    try:
        e = _heads(a, ctx, "embed_dim", "num_heads")
    except _Refused:
        return None
    key, value = a.values.get("key", x), a.values.get("value", x)
    if a["kdim"] is UNKNOWN or a["vdim"] is UNKNOWN:
        raise Unknowable("kdim")
    for t in (x, key, value):
        if not need_rank(t, ctx, (1, 2), "(L, E)"):
            return None
    if x.open or key.open or value.open or not (x.rank == key.rank == value.rank):
        raise Unknowable("ranks")  # torch checks the three against each other: not followed
    try:
        width = _model_width(x, ctx, a, e, "embed_dim", "num_heads")
    except _Refused:
        return None
    for t, param in ((key, "kdim"), (value, "vdim")):
        if t is not x:  # the query itself (self-attention) was checked as the query
            if a[param] is None and t.dims[-1] != width and t.dims[-1] is not None and width is not None:
                raise Unknowable(param)  # a key of another width than embed_dim: torch refuses, no kdim to fix
            if a[param] is not None:  # (None: embed_dim, which the line above held it to)
                _width(t, ctx, param, a.opt_int(param))
    e = width
    if key.dims[:-1] != value.dims[:-1] or (x.rank == 2 and not _flag(a, "batch_first") and x.dims[0] != key.dims[0]):
        raise Unknowable("lengths")  # the key and value lengths (and, sequence first, the batch) must agree
    return Shape(x.dims[:-1] + (e,))


def _attention_returns(a: Args, x: Shape, out: Shape):
    key = a.values.get("key", x)
    if x.open or key.open or x.rank != 2 or not _flag(a, "batch_first"):
        return ("out", None)
    return ("out", (B, x.dims[0], key.dims[0]))  # need_weights, averaged over the heads (the defaults)


def attention_params(a: Args, x) -> int:
    e = a.int("embed_dim")
    kdim = e if a["kdim"] is None else a.int("kdim")
    vdim = e if a["vdim"] is None else a.int("vdim")
    bias = _flag(a, "bias")
    count = e * e + e * kdim + e * vdim + e * e + ((3 * e + e) if bias else 0)
    return count + (2 * e if _flag(a, "add_bias_kv") else 0)


def encoder_layer(a: Args, x: Shape, ctx: Ctx):
    try:
        e = _heads(a, ctx, "d_model", "nhead")
    except _Refused:
        return None
    _positive_int(a, "dim_feedforward")
    if not need_rank(x, ctx, (1, 2), "(L, E)"):
        return None
    try:
        _model_width(x, ctx, a, e, "d_model", "nhead")
    except _Refused:
        return None
    return x


def encoder_layer_params(a: Args, x) -> int:
    e, f = a.int("d_model"), a.int("dim_feedforward")
    bias = _flag(a, "bias")
    attn = 4 * e * e + (4 * e if bias else 0)
    ff = e * f + f * e + ((f + e) if bias else 0)
    norms = 2 * (2 * e if bias else e)
    return attn + ff + norms


def decoder_layer(a: Args, x: Shape, ctx: Ctx):
    """tgt and memory (`extra`; absent, tgt again): both d_model wide; the output is tgt's shape."""
    return _decoder(a, x, a.values.get("memory", x), ctx)


def transformer(a: Args, x: Shape, ctx: Ctx):
    """nn.Transformer: src (the input) and tgt (`extra`), as a decoder layer sees tgt and memory."""
    if a["custom_encoder"] is not None or a["custom_decoder"] is not None:
        raise Unknowable("custom_encoder")
    tgt = a.values.get("tgt", x)
    out = _decoder(a, tgt, x, ctx)
    return None if out is None else tgt


def transformer_params(a: Args, x) -> int:
    e = a.int("d_model")
    norm = 2 * e if _flag(a, "bias") else e
    return (a.int("num_encoder_layers") * encoder_layer_params(a, x) + norm
            + a.int("num_decoder_layers") * decoder_layer_params(a, x) + norm)


def _decoder(a: Args, x: Shape, memory: Shape, ctx: Ctx):
    try:
        e = _heads(a, ctx, "d_model", "nhead")
    except _Refused:
        return None
    _positive_int(a, "dim_feedforward")
    if not (need_rank(x, ctx, (1, 2), "(L, E)") and need_rank(memory, ctx, (1, 2), "(L, E)")):
        return None
    if x.open or memory.open or x.rank != memory.rank or x.rank == 2 and not _flag(a, "batch_first") and x.dims[0] != memory.dims[0]:
        raise Unknowable("memory")  # torch checks the two against each other: not followed
    try:
        _model_width(x, ctx, a, e, "d_model", "nhead")
    except _Refused:
        return None
    if memory is not x and memory.dims[-1] != x.dims[-1]:
        raise Unknowable("memory")  # tgt and memory of different widths: no one d_model fits both
    return x


def decoder_layer_params(a: Args, x) -> int:
    e = a.int("d_model")
    bias = _flag(a, "bias")
    return encoder_layer_params(a, x) + 4 * e * e + (4 * e if bias else 0) + (2 * e if bias else e)


_RNN_SIG = dict(num_layers=1, nonlinearity="tanh", bias=True, batch_first=False, dropout=0.0, bidirectional=False,
                device=None, dtype=None)
_GATED_SIG = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)
_LSTM_SIG = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None)

LAYERS = {
    "Embedding": LayerSpec(sig("num_embeddings", "embedding_dim", padding_idx=None, max_norm=None, norm_type=2.0,
                               scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None),
                           embedding, embedding_params, OTHER, dtype="index"),
    "EmbeddingBag": LayerSpec(sig("num_embeddings", "embedding_dim", max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                                  mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                                  device=None, dtype=None),
                              embedding_bag, embedding_params, OTHER, dtype="index", extra=("offsets", "per_sample_weights")),
    "RNN": LayerSpec(sig("input_size", "hidden_size", **_RNN_SIG), recurrent(False), recurrent_params(1, False), OTHER,
                     returns=recurrent_returns(False), extra=("hx",)),
    "GRU": LayerSpec(sig("input_size", "hidden_size", **_GATED_SIG), recurrent(False), recurrent_params(3, False), OTHER,
                     returns=recurrent_returns(False), extra=("hx",)),
    "LSTM": LayerSpec(sig("input_size", "hidden_size", **_LSTM_SIG), recurrent(True), recurrent_params(4, True),
                      OTHER, returns=recurrent_returns(True), extra=("hx",)),
    "RNNCell": LayerSpec(sig("input_size", "hidden_size", bias=True, nonlinearity="tanh", device=None, dtype=None), cell,
                         cell_params(1), OTHER, extra=("hx",)),
    "GRUCell": LayerSpec(sig("input_size", "hidden_size", bias=True, device=None, dtype=None), cell, cell_params(3), OTHER,
                         extra=("hx",)),
    "LSTMCell": LayerSpec(sig("input_size", "hidden_size", bias=True, device=None, dtype=None), cell, cell_params(4), OTHER,
                          returns=_lstm_cell_returns, extra=("hx",)),
    "MultiheadAttention": LayerSpec(
        sig("embed_dim", "num_heads", dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None,
            batch_first=False, device=None, dtype=None),
        attention, attention_params, OTHER, returns=_attention_returns, extra=("key", "value")),
    "TransformerEncoderLayer": LayerSpec(
        sig("d_model", "nhead", dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5, batch_first=False,
            norm_first=False, bias=True, device=None, dtype=None),
        encoder_layer, encoder_layer_params, OTHER, keeps_shape=True),
    "TransformerDecoderLayer": LayerSpec(
        sig("d_model", "nhead", dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5, batch_first=False,
            norm_first=False, bias=True, device=None, dtype=None),
        decoder_layer, decoder_layer_params, OTHER, keeps_shape=True, extra=("memory",)),
    "Transformer": LayerSpec(
        sig(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048, dropout=0.1,
            activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5, batch_first=False,
            norm_first=False, bias=True, device=None, dtype=None),
        transformer, transformer_params, OTHER, extra=("tgt",)),
}
