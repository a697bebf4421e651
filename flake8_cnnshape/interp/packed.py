"""torch.nn.utils.rnn's packed sequences: pack_padded_sequence and
pack_sequence make a Packed (interp/values.py), a recurrent layer takes one
(its rule sees the steps as a sample of unknown length, so input_size is
checked against their width as for a padded input: CNS010) and gives one
back with its own width, and pad_packed_sequence gives (padded, lengths).
The padded length is max(lengths), which is not known (total_length where
given: if it runs, it is that). Shapes (torch docs): pack_padded_sequence
takes (T, N, *) or, batch_first, (N, T, *); a PackedSequence's data is
(sum(lengths), *); h_n and c_n are (D * num_layers, N, H) for it too;
pad_packed_sequence gives (T, N, *) or (N, T, *) and lengths (N,)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..shapes.rules.matmul import B
from ..shapes.shape import Shape
from ..shapes.signature import UNKNOWN, bind, sig
from .plain import is_int
from .values import Fixed, Packed, Tensor, value_of, whole_of

if TYPE_CHECKING:  # annotations only: machine.py wires the parts
    from .api import LayersPart

RNN = "torch.nn.utils.rnn."
RECURRENT = ("RNN", "LSTM", "GRU")  # the layers that take a PackedSequence

_SIGS = {
    RNN + "pack_padded_sequence": sig("input", "lengths", batch_first=False, enforce_sorted=True),
    RNN + "pack_sequence": sig("sequences", enforce_sorted=True),
    RNN + "pad_packed_sequence": sig("sequence", batch_first=False, padding_value=0.0, total_length=None),
}


def call(qual: str, args, kwargs, iterate):
    a = bind(_SIGS[qual], list(args), dict(kwargs))
    if a is None:
        return UNKNOWN
    if qual.endswith("pack_padded_sequence"):
        return _pack_padded(a["input"], a["batch_first"])
    if qual.endswith("pack_sequence"):
        return _pack(iterate(a["sequences"]))
    return _pad(a["sequence"], a["batch_first"], a["total_length"])


def _packed(batch, step):
    return UNKNOWN if B in step else Packed(batch, step)  # the batch among a step's dims: not followed


def _pack_padded(x, batch_first):
    dims = whole_of(x)
    if dims is None or len(dims) < 2 or type(batch_first) is not bool:
        return UNKNOWN
    return _packed(dims[0] if batch_first else dims[1], tuple(dims[2:]))


def _pack(items):
    """A list of (L_i, *) tensors: the batch is their count; their * must agree."""
    if items is UNKNOWN or not items:
        return UNKNOWN
    wholes = [whole_of(t) for t in items]
    if any(w is None or not w for w in wholes) or len({w[1:] for w in wholes}) != 1:
        return UNKNOWN  # one not known, or steps of two shapes (torch refuses them): not followed
    return _packed(len(items), tuple(wholes[0][1:]))


def _pad(p, batch_first, total_length):
    if type(p) is not Packed or type(batch_first) is not bool:
        return UNKNOWN
    if total_length is not None and total_length is not UNKNOWN and not is_int(total_length):
        return UNKNOWN
    t = int(total_length) if is_int(total_length) else None
    dims = ((p.batch, t) if batch_first else (t, p.batch)) + p.step
    return value_of(dims, True), value_of((p.batch,), True)


def through(layers: "LayersPart", layer, p: Packed, node):
    """A recurrent layer on a Packed, its faults reported as for a padded
    input: (output, h_n) or (output, (h_n, c_n)), the output packed as its
    input, the states with its batch. UNKNOWN where the layer's result is."""
    if len(p.step) != 1:
        return UNKNOWN  # torch takes 2-d data only
    got = layers.apply_layer(layer, Tensor(Shape((None,) + p.step)), node)
    if type(got) is not tuple or type(got[0]) is not Tensor or got[0].shape.open:
        return UNKNOWN
    out = Packed(p.batch, got[0].shape.dims[1:])
    return out, _states(got[1], p.batch)


def _states(v, batch):
    """h_n (or (h_n, c_n)) with the packed sequence's batch in the middle."""
    if type(v) is tuple:
        return tuple(_states(s, batch) for s in v)
    if type(v) is Fixed and len(v.dims) == 3:
        return Fixed((v.dims[0], batch, v.dims[2]))
    return UNKNOWN
