"""What torch itself does with one layer call: the ground truth the shape
engine's rules are tested against (tests/test_layer_rules.py).

A layer is built as `getattr(torch.nn, name)(*args, **kwargs)` under
`torch.device("meta")` (parameters on meta, no init cost) and run on
`torch.empty((batch,) + dims, device="meta")` -- or on a tiny CPU tensor for the
layers in CPU_LAYERS, where meta's verdict differs. The engine never sees the batch
dim and assumes nothing about its size, so every call runs at two batch sizes
(2 and 3): a verdict that changes with the batch size comes from torch reading
the batch dim as something else (channels, or the dim it normalizes) and is
reported as BATCH_DEPENDENT rather than as a success or a failure.
"""
from __future__ import annotations

import inspect
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch.nn.modules.lazy import LazyModuleMixin

BATCHES = (2, 3)

OK = "ok"  # runs at both batch sizes, keeps the batch dim, same per-sample shape
RAISES = "raises"  # fails at both batch sizes (or at construction)
BATCH_DEPENDENT = "batch-dependent"  # fails at one batch size, runs at the other
UNTRACKED = "untracked"  # runs, but the result is not one tensor with the batch dim in front

# Layers whose meta kernels give a different verdict from CPU (torch 2.13.0,
# found by running every grid case on both devices); they run on a tiny CPU
# tensor instead. test_meta_agrees_with_cpu keeps checking the others.
CPU_LAYERS = frozenset(
    # meta conv skips checks CPU makes: kernel/stride tuples of the wrong length,
    # kernel_size=0; for lazy convs, out_channels not divisible by groups.
    [f"{lazy}Conv{n}d" for lazy in ("", "Lazy") for n in (1, 2, 3)]
    # meta conv_transpose checks neither the input channels nor output_padding <
    # stride or dilation, and refuses a 0-sized output that CPU returns.
    + [f"{lazy}ConvTranspose{n}d" for lazy in ("", "Lazy") for n in (1, 2, 3)]
    # meta softmax/softmin accept an out-of-range dim (log_softmax does not).
    + ["Softmax", "Softmin"]
    # meta bilinear/bicubic upsampling returns a 0-sized output CPU refuses.
    + ["Upsample", "UpsamplingBilinear2d"]
    # meta celu does not refuse alpha=0.
    + ["CELU"]
    # meta im2col takes a negative padding CPU refuses.
    + ["Unfold"]
)


@dataclass(frozen=True)
class Verdict:
    kind: str
    shape: Optional[Tuple[int, ...]] = None  # per-sample output dims when kind is OK
    error: str = ""  # the exception torch raised (the first one), for messages
    construct_error: Optional[type] = None  # exception type raised by the constructor

    def __str__(self) -> str:
        if self.kind == OK:
            return f"torch gives {self.shape}"
        return f"torch {self.kind}: {self.error}"


def device_for(name: str) -> str:
    return "cpu" if name in CPU_LAYERS else "meta"


def build(name: str, args: Sequence[object], kwargs: Dict[str, object], device: str):
    with torch.device(device):
        return getattr(torch.nn, name)(*args, **kwargs)


# Layers that return a tuple whose first item is their output (the others:
# tests/test_sequence.py); attention takes the input three times (self-attention).
# Max pools built with return_indices=True return (output, indices).
TUPLE_LAYERS = (torch.nn.RNNBase, torch.nn.LSTMCell, torch.nn.MultiheadAttention, torch.nn.modules.pooling._MaxPoolNd,
                torch.nn.modules.pooling._AdaptiveMaxPoolNd)
# fed, after the input, indices of its shape (zeros: in range for any output size)
UNPOOL_LAYERS = (torch.nn.modules.pooling._MaxUnpoolNd,)
INDEX_LAYERS = frozenset({"Embedding", "EmbeddingBag"})  # fed integer indices (zeros: in range)
# layers that take two tensors (three for attention): fed the same one again
TWO_INPUTS = (torch.nn.Bilinear, torch.nn.CosineSimilarity, torch.nn.PairwiseDistance, torch.nn.TransformerDecoderLayer,
              torch.nn.Transformer)


def inputs(module) -> int:
    return 3 if isinstance(module, torch.nn.MultiheadAttention) else 2 if isinstance(module, TWO_INPUTS) else 1


def sample(name: str, shape, device):
    if name in INDEX_LAYERS:
        return torch.zeros(shape, dtype=torch.long, device=device)
    return torch.empty(shape, device=device)


def _forward(module, dims, batch, device):
    """('raise', exc) | ('ok', shape) | ('untracked', what came out)."""
    try:
        x = sample(type(module).__name__, (batch,) + tuple(dims), device)
        if isinstance(module, UNPOOL_LAYERS):
            out = module(x, torch.zeros(x.shape, dtype=torch.long, device=device))
        else:
            out = module(*(x,) * inputs(module))
        if isinstance(module, TUPLE_LAYERS) and isinstance(out, tuple):
            out = out[0]
    except Exception as exc:  # noqa: BLE001 - any failure is torch failing
        return "raise", exc
    if not isinstance(out, torch.Tensor):
        return "untracked", type(out).__name__
    return "ok", tuple(out.shape)


@contextmanager
def _one_thread(device: str):
    """CPU kernels on tiny tensors: extra threads only add overhead (and spin on
    a busy machine)."""
    before = torch.get_num_threads()
    if device != "cpu" or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(name: str, args: Sequence[object], kwargs: Dict[str, object], dims: Tuple[int, ...], device: Optional[str] = None) -> Verdict:
    device = device or device_for(name)
    with warnings.catch_warnings(), _one_thread(device):
        warnings.simplefilter("ignore")
        try:
            module = build(name, args, kwargs, device)
        except Exception as exc:  # noqa: BLE001 - any constructor failure is torch failing
            return Verdict(RAISES, error=f"{type(exc).__name__}: {exc}", construct_error=type(exc))
        results = [_forward(module, dims, BATCHES[0], device)]
        # A lazy module keeps the size of the first input it saw: build it afresh.
        if isinstance(module, LazyModuleMixin):
            module = build(name, args, kwargs, device)
        results.append(_forward(module, dims, BATCHES[1], device))
    (k1, r1), (k2, r2) = results
    failed = [k == "raise" for k, _ in results]
    if all(failed):
        return Verdict(RAISES, error=f"{type(r1).__name__}: {r1}")
    if any(failed):
        bad = r1 if failed[0] else r2
        return Verdict(BATCH_DEPENDENT, error=f"{type(bad).__name__}: {bad}")
    if k1 == "untracked" or k2 == "untracked":
        return Verdict(UNTRACKED, error=f"returns {r1 if k1 == 'untracked' else r2}")
    if not r1 or not r2 or r1[0] != BATCHES[0] or r2[0] != BATCHES[1] or r1[1:] != r2[1:]:
        return Verdict(UNTRACKED, error=f"batch dim not kept: {r1} / {r2}")
    return Verdict(OK, shape=r1[1:])


def _signature(name: str) -> inspect.Signature:
    """The constructor's signature; the recurrent layers take *args, **kwargs
    and hand them to RNNBase (RNN puts nonlinearity fourth)."""
    cls = getattr(torch.nn, name)
    if not issubclass(cls, torch.nn.RNNBase):
        return inspect.signature(cls)
    base = list(inspect.signature(torch.nn.RNNBase.__init__).parameters.values())[2:]  # not self, mode
    if name == "RNN":
        base.insert(3, inspect.Parameter("nonlinearity", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="tanh"))
    elif name != "LSTM":
        base = [p for p in base if p.name != "proj_size"]
    return inspect.Signature(base)


def takes_varargs(name: str) -> bool:
    return any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(getattr(torch.nn, name)).parameters.values())


def constructor_params(name: str) -> Tuple[str, ...]:
    return tuple(_signature(name).parameters)


def replace_param(name: str, args: Sequence[object], kwargs: Dict[str, object], param: str, value: object):
    """The same constructor call with one argument (given or defaulted) set to `value`."""
    bound = _signature(name).bind(*args, **kwargs)
    bound.arguments[param] = value
    return tuple(bound.args), dict(bound.kwargs)


def blocks(output_size, kernel_size, dilation, padding, stride) -> Optional[int]:
    """The number of sliding blocks nn.Fold takes for output_size, as torch's
    unfold counts them on a tensor of that size; None where it has none."""
    size = (output_size,) * 2 if isinstance(output_size, int) else tuple(output_size)
    x = torch.empty((1, 1) + size)
    try:
        return torch.nn.functional.unfold(x, kernel_size, dilation, padding, stride).shape[-1]
    except RuntimeError:
        return None
