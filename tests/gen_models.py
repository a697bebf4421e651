"""Random PyTorch models and their source, for tests/test_differential.py.

generate(seed) -> ModelSpec
    A chain of layers (1d/2d/3d conv stacks with pools, norms, pads, upsampling,
    a Flatten + Linear head; or an MLP), built VALID by asking torch for the
    shape after every layer it adds (a layer torch refuses is drawn again):
    torch is the oracle, none of the shape arithmetic here is ours. Then 0, 1
    or 2 faults are injected: a wrong in_features / in_channels / num_features
    / num_channels / normalized_shape / PReLU num_parameters; a too-small input
    (checked with torch to end in a window that does not fit) or another input
    size torch rejects; a Conv (or BatchNorm2d) after the Flatten; a LazyConv
    whose groups do not divide its channels. Some models have no pragma, some use Lazy
    layers, some have a custom nn.Module (defined in the file) in the middle.
    About a quarter of the models that would have a pragma get their input size
    from the file instead (draw_source): a dummy call on the model, or a
    torchvision dataset with transforms that give that size (or, for some, any
    dataset: one the model may not take, see input_taken).

render(spec) -> Rendered
    The model as a Python file: one of several import styles; a module-level
    nn.Sequential (plain, OrderedDict or *[...], with nested Sequentials), a
    class with Sequential attributes chained in forward(), or a class with one
    attribute per layer; positional or keyword arguments, int or tuple sizes,
    some values as module-level constants, __init__ locals or arithmetic. It
    records where each layer's constructor call starts (line, col) and the
    module path torch gives that layer. A model with an input source gets the
    dummy call or the dataset code at the end of the file (source_block), where
    executing the file does not run it, and Rendered.note is the end its
    messages must have.

All randomness comes from random.Random seeded by the seed: a seed is a
reproducible model. The input source is drawn from streams of their own
("source-SEED", "source-render-SEED"), so that a model without one renders
exactly as before sources existed. `python tests/gen_models.py SEED...` prints them.
"""
from __future__ import annotations

import inspect
import math
import random
import sys
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

import torch_truth

BATCH = 2
_ACTS = [
    ("ReLU", {}), ("ReLU", {}), ("ReLU", {}), ("ReLU", {"inplace": True}), ("LeakyReLU", {"negative_slope": 0.1}),
    ("LeakyReLU", {}), ("GELU", {}), ("SiLU", {}), ("Tanh", {}), ("ELU", {}), ("Hardswish", {}), ("Sigmoid", {}),
    ("ReLU6", {}), ("Mish", {}),
]
_ACT_KINDS = frozenset(k for k, _ in _ACTS) | {"PReLU"}
_WIDTHS = [10, 16, 32, 48, 64, 84, 100, 120, 128, 256]


# ---------------------------------------------------------------------------
# Custom layers: classes the rendered file defines (names the linter cannot
# look up in torch.nn). Their forward() is plain torch code.

@dataclass(frozen=True)
class Custom:
    init: Tuple[str, ...]  # __init__ parameters
    init_body: Tuple[str, ...]
    forward: str
    applies: object  # per-sample shape -> bool
    draw: object  # rng -> dict of __init__ arguments


CUSTOM: Dict[str, Custom] = {
    "Scale": Custom(("factor",), ("self.factor = factor",), "return x * self.factor",
                    lambda s: True, lambda rng: {"factor": rng.choice([0.5, 2.0, 1.5])}),
    "Gate": Custom((), (), "return x * torch.sigmoid(x.mean(dim=1, keepdim=True))", lambda s: len(s) >= 2, lambda rng: {}),
    "DoubleChannels": Custom((), (), "return torch.cat([x, x], dim=1)", lambda s: len(s) >= 2, lambda rng: {}),
    "CropLast": Custom(("margin",), ("self.margin = margin",), "return x[..., self.margin:]",
                       lambda s: s[-1] > 3, lambda rng: {"margin": rng.choice([1, 2])}),
    "SwapLast": Custom((), (), "return x.transpose(-1, -2)", lambda s: len(s) >= 3, lambda rng: {}),
    "HalveChannels": Custom((), (), "return x[:, : x.shape[1] // 2]", lambda s: len(s) >= 2 and s[0] >= 2, lambda rng: {}),
    "Opaque": Custom((), ("self.fn = getattr(torch, 'tanh')",), "return self.fn(x)", lambda s: True, lambda rng: {}),
}


def custom_source(name: str, base: str) -> List[str]:
    c = CUSTOM[name]
    params = "".join(f", {p}" for p in c.init)
    lines = [f"class {name}({base}):", f"    def __init__(self{params}):", "        super().__init__()"]
    lines += [f"        {s}" for s in c.init_body]
    lines += ["", "    def forward(self, x):", f"        {c.forward}"]
    return lines


_CUSTOM_NS: Dict[str, object] = {"torch": torch, "nn": nn}
exec("\n\n".join("\n".join(custom_source(n, "nn.Module")) for n in CUSTOM), _CUSTOM_NS)  # noqa: S102 - our own text


# ---------------------------------------------------------------------------
# The model

_SIGS: Dict[str, List[Tuple[str, bool]]] = {}


def signature(kind: str) -> List[Tuple[str, bool]]:
    """(name, may be passed positionally) for each constructor parameter."""
    if kind not in _SIGS:
        if kind in CUSTOM:
            _SIGS[kind] = [(p, True) for p in CUSTOM[kind].init]
        else:
            params = list(inspect.signature(getattr(nn, kind)).parameters.values())
            _SIGS[kind] = [(p.name, p.kind == p.POSITIONAL_OR_KEYWORD) for p in params]
    return _SIGS[kind]


@dataclass
class Injected:
    code: str
    param: Optional[str] = None
    right: object = None  # torch's value at generation, for CNS001/2/3
    wrong: object = None


@dataclass
class Layer:
    id: int
    kind: str
    params: Dict[str, object]
    block: str = ""
    custom: bool = False
    factors: Optional[Tuple[int, ...]] = None  # for in_features: the dims whose product it is
    fault: Optional[Injected] = None
    decoy: bool = False  # a wrong size torch does not check (InstanceNorm without affine)
    in_shape: Optional[Tuple[int, ...]] = None
    out_shape: Optional[Tuple[int, ...]] = None

    def build(self) -> nn.Module:
        """The layer on the CPU, parameters uninitialized (see torch_truth)."""
        if self.custom:
            return _CUSTOM_NS[self.kind](**self.params)
        if self.kind.startswith("Lazy"):
            return getattr(nn, self.kind)(**self.params)  # materialized on the CPU by its first call
        return torch_truth.on_cpu(lambda: getattr(nn, self.kind)(**self.params))

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"#{self.id} {self.kind}({args})"


@dataclass
class ModelSpec:
    seed: object  # an int, or the name of a HANDMADE case
    family: str  # conv1d / conv2d / conv3d / mlp
    dims: Tuple[int, ...]  # the input: declared by the pragma and run by torch
    layers: List[Layer]
    pragma: bool
    lazy: bool
    valid_dims: Tuple[int, ...] = ()  # the input the chain was built valid for
    # what else was injected: "small" / "resize" (another input size), "rank" (a layer after the Flatten),
    # "groups"; "handmade" for the HANDMADE cases
    ending: Optional[str] = None
    form: Optional[str] = None  # force the renderer's form ("seq", "class_seqs", "class_layers")
    # where the file gives the input size when not by the pragma (see draw_source); None: the pragma, or nothing
    source: Optional["InputSource"] = None

    @property
    def injected(self) -> List[Layer]:
        return [lyr for lyr in self.layers if lyr.fault is not None]

    @property
    def custom(self) -> bool:
        return any(lyr.custom for lyr in self.layers)

    def describe(self) -> str:
        out = [f"seed={self.seed} family={self.family} input={self.dims} built_valid_for={self.valid_dims} "
               f"pragma={self.pragma} lazy={self.lazy} ending={self.ending}"]
        if self.source is not None:
            out.append(f"  input from {self.source}")
        for lyr in self.layers:
            extra = ""
            if lyr.fault:
                extra = f"  <-- injected {lyr.fault.code} {lyr.fault.param or ''}"
                if lyr.fault.param:
                    extra += f": right {lyr.fault.right!r}, wrote {lyr.fault.wrong!r}"
            elif lyr.decoy:
                extra = "  <-- decoy (torch does not check it)"
            out.append(f"  {lyr} in={lyr.in_shape} out={lyr.out_shape}{extra}")
        return "\n".join(out)


def _ordered(kind: str, params: Dict[str, object]) -> Dict[str, object]:
    order = [name for name, _ in signature(kind)]
    unknown = [k for k in params if k not in order]
    assert not unknown, (kind, unknown)
    return {k: params[k] for k in order if k in params}


class Builder:
    """Adds layers one at a time, keeping only those torch runs."""

    def __init__(self, rng: random.Random, dims: Tuple[int, ...], lazy: bool):
        self.rng = rng
        self.lazy = lazy
        self.layers: List[Layer] = []
        self.x = torch.zeros((BATCH,) + tuple(dims))
        self.block = ""
        self.next_id = 0

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def add(self, kind: str, params: Dict[str, object], custom: bool = False, factors=None, max_numel: int = 60000) -> bool:
        layer = Layer(self.next_id, kind, params if custom else _ordered(kind, params), self.block, custom, factors)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = layer.build()
                with torch.no_grad():
                    out = module(self.x)
        except Exception:  # noqa: BLE001 - torch refuses: draw again
            return False
        if not isinstance(out, torch.Tensor):
            return False
        if out.dim() != self.x.dim() and kind not in ("Flatten", "Linear", "LazyLinear"):
            return False
        if out.shape[0] != BATCH or any(d < 1 for d in out.shape) or math.prod(out.shape[1:]) > max_numel:
            return False
        if out.dim() > 2 and any(d > 200 for d in out.shape[2:]):
            return False
        layer.in_shape, layer.out_shape = self.shape, tuple(out.shape[1:])
        if factors is not None:
            assert math.prod(factors) == layer.in_shape[-1], (factors, layer.in_shape)
        self.layers.append(layer)
        self.next_id += 1
        self.x = out
        return True


# ---------------------------------------------------------------------------
# Drawing layers

def _ntuple(rng, n, choices):
    return tuple(rng.choice(choices) for _ in range(n))


def _maybe(rng, p, params, key, value):
    if rng.random() < p:
        params[key] = value


def draw_conv(b: Builder, n: int, transpose_ok: bool = True) -> bool:
    rng = b.rng
    for _ in range(12):
        c = b.shape[0]
        transpose = transpose_ok and rng.random() < 0.12
        lazy = b.lazy and rng.random() < 0.4
        out = rng.choice([4, 6, 8, 8, 12, 16, 16, 20, 24, 32])
        if rng.random() < 0.7:
            k = rng.choice([1, 2, 3, 3, 3, 3, 5, 5, 7] if n < 3 else [1, 2, 3, 3, 3])
        else:
            k = _ntuple(rng, n, [1, 2, 3, 3, 5])
        p: Dict[str, object] = {} if lazy else {"in_channels": c}
        p.update(out_channels=out, kernel_size=k)
        r = rng.random()
        stride = 1 if r < 0.55 else 2 if r < 0.85 else 3 if r < 0.9 else _ntuple(rng, n, [1, 2])
        if transpose:
            stride = rng.choice([1, 2, 2])
        if stride != 1 or rng.random() < 0.1:
            p["stride"] = stride
        if transpose:
            if rng.random() < 0.5:
                p["padding"] = rng.choice([0, 1])
            if stride == 2 and rng.random() < 0.3:
                p["output_padding"] = 1
        else:
            r = rng.random()
            if r < 0.35:
                pad = 0 if rng.random() < 0.2 else None
            elif r < 0.55:
                pad = 1
            elif r < 0.7 and isinstance(k, int):
                pad = k // 2
            elif r < 0.75:
                pad = 2
            elif r < 0.85:
                pad = "same" if stride == 1 else 1
            elif r < 0.9:
                pad = "valid"
            else:
                pad = _ntuple(rng, n, [0, 1, 2])
            if pad is not None:
                p["padding"] = pad
            r = rng.random()
            if r < 0.08:
                p["dilation"] = 2
            elif r < 0.11:
                p["dilation"] = _ntuple(rng, n, [1, 2])
        if c > 1 and rng.random() < 0.12:
            gs = [g for g in range(2, c + 1) if c % g == 0 and out % g == 0]
            if gs:
                p["groups"] = rng.choice(gs)
        _maybe(rng, 0.12, p, "bias", False)
        if not transpose and rng.random() < 0.06:
            p["padding_mode"] = rng.choice(["reflect", "replicate", "circular"])
        kind = f"{'Lazy' if lazy else ''}{'ConvTranspose' if transpose else 'Conv'}{n}d"
        if b.add(kind, p):
            return True
    return False


def draw_norm(b: Builder, n: int) -> bool:
    rng = b.rng
    c = b.shape[0]
    for _ in range(4):
        r = rng.random()
        p: Dict[str, object]
        if b.lazy and r < 0.15:
            kind, p = f"LazyBatchNorm{n}d", {}
            _maybe(rng, 0.2, p, "eps", 1e-3)
        elif r < 0.55:
            kind, p = f"BatchNorm{n}d", {"num_features": c}
            _maybe(rng, 0.1, p, "eps", 1e-3)
            _maybe(rng, 0.1, p, "momentum", 0.01)
            _maybe(rng, 0.08, p, "affine", False)
            _maybe(rng, 0.08, p, "track_running_stats", False)
        elif r < 0.72:
            groups = [g for g in range(1, c + 1) if c % g == 0]
            kind, p = "GroupNorm", {"num_groups": rng.choice(groups), "num_channels": c}
            _maybe(rng, 0.1, p, "eps", 1e-6)
        elif r < 0.87:
            kind, p = f"InstanceNorm{n}d", {"num_features": c}
            _maybe(rng, 0.5, p, "affine", True)
            _maybe(rng, 0.25, p, "track_running_stats", True)
        else:
            k = rng.randint(1, min(n + 1, 3))
            tail = b.shape[-k:]
            value: object = tail[0] if k == 1 and rng.random() < 0.6 else (list(tail) if rng.random() < 0.3 else tuple(tail))
            kind, p = "LayerNorm", {"normalized_shape": value}
            _maybe(rng, 0.1, p, "elementwise_affine", False)
        if b.add(kind, p):
            return True
    return False


def draw_act(b: Builder, channels: bool = True) -> bool:
    rng = b.rng
    if channels and rng.random() < 0.06:
        p = {"num_parameters": b.shape[0]} if len(b.shape) >= 2 and rng.random() < 0.7 else {}
        if b.add("PReLU", p):
            return True
    kind, p = rng.choice(_ACTS)
    return b.add(kind, dict(p))


def draw_pool(b: Builder, n: int) -> bool:
    rng = b.rng
    earlier = [lyr for lyr in b.layers if lyr.kind in (f"MaxPool{n}d", f"AvgPool{n}d")]
    if earlier and rng.random() < 0.5 and b.add(earlier[-1].kind, dict(earlier[-1].params)):
        return True  # the same pool again (LeNet's self.pool, used twice)
    for _ in range(8):
        r = rng.random()
        sizes = b.shape[1:]
        if r < 0.15:
            kind = f"Adaptive{rng.choice(['Avg', 'Max'])}Pool{n}d"
            outs = [max(1, L // rng.choice([1, 2, 2, 3, 4])) + rng.choice([0, 0, 0, 0, 1]) for L in sizes]
            if n > 1 and rng.random() < 0.6:
                value: object = tuple(outs)
                if rng.random() < 0.15:
                    value = tuple(None if i == 0 else v for i, v in enumerate(outs))
            else:
                value = outs[0]
            if b.add(kind, {"output_size": value}):
                return True
            continue
        kind = f"{'Max' if r < 0.6 else 'Avg'}Pool{n}d"
        k = rng.choice([2, 2, 2, 3, 3, 4]) if rng.random() < 0.8 else _ntuple(rng, n, [1, 2, 3])
        p: Dict[str, object] = {"kernel_size": k}
        r = rng.random()
        if r < 0.2:
            p["stride"] = rng.choice([1, 2, 3])
        elif r < 0.27:
            p["stride"] = _ntuple(rng, n, [1, 2])
        elif r < 0.3:
            p["stride"] = None
        if rng.random() < 0.2:
            p["padding"] = 1
        if kind.startswith("Max") and rng.random() < 0.1:
            p["dilation"] = 2
        _maybe(rng, 0.2, p, "ceil_mode", True)
        if kind.startswith("Avg"):
            _maybe(rng, 0.1, p, "count_include_pad", False)
        if b.add(kind, p):
            return True
    return False


def draw_dropout(b: Builder, n: int) -> bool:
    rng = b.rng
    p: Dict[str, object] = {}
    if rng.random() < 0.6:
        p["p"] = rng.choice([0.1, 0.25, 0.5])
    kind = "Dropout" if n == 0 or rng.random() < 0.6 else f"Dropout{n}d"
    return b.add(kind, p)


def draw_pad(b: Builder, n: int) -> bool:
    rng = b.rng
    kind = rng.choice([f"ZeroPad{n}d", f"ConstantPad{n}d", f"ReflectionPad{n}d", f"ReplicationPad{n}d", f"CircularPad{n}d"])
    if not hasattr(nn, kind):
        return False
    value: object = rng.choice([1, 1, 2]) if rng.random() < 0.6 else _ntuple(rng, 2 * n, [0, 1, 2])
    p: Dict[str, object] = {"padding": value}
    if kind.startswith("Constant"):
        p["value"] = rng.choice([0.0, 1.0])
    return b.add(kind, p)


def draw_upsample(b: Builder, n: int) -> bool:
    rng = b.rng
    modes = {1: ["nearest", "linear"], 2: ["nearest", "bilinear", "bicubic"], 3: ["nearest", "trilinear"]}[n]
    mode = rng.choice(modes)
    p: Dict[str, object] = {}
    if rng.random() < 0.75:
        p["scale_factor"] = rng.choice([2, 2, 2.0, 3, 1.5, 0.5])
    else:
        sizes = [L * 2 for L in b.shape[1:]]
        p["size"] = tuple(sizes) if n > 1 or rng.random() < 0.5 else sizes[0]
    if mode != "nearest" or rng.random() < 0.3:
        p["mode"] = mode
    if mode != "nearest" and rng.random() < 0.5:
        p["align_corners"] = False
    if n == 2 and rng.random() < 0.15:
        return b.add("UpsamplingNearest2d", {k: v for k, v in p.items() if k in ("size", "scale_factor")})
    return b.add("Upsample", p)


def draw_custom(b: Builder) -> bool:
    rng = b.rng
    names = [name for name, c in CUSTOM.items() if c.applies(b.shape)]
    rng.shuffle(names)
    for name in names[:3]:
        old = b.block
        b.block = "custom"
        ok = b.add(name, CUSTOM[name].draw(rng), custom=True)
        b.block = old
        if ok:
            return True
    return False


def draw_linear(b: Builder, out: int, factors=None) -> bool:
    rng = b.rng
    if b.lazy and rng.random() < 0.3:
        return b.add("LazyLinear", {"out_features": out})
    p: Dict[str, object] = {"in_features": b.shape[-1], "out_features": out}
    _maybe(rng, 0.1, p, "bias", False)
    return b.add("Linear", p, factors=factors, max_numel=10**6)


def linear_chain(b: Builder, count: int, factors=None) -> None:
    rng = b.rng
    for j in range(count):
        last = j == count - 1
        out = rng.choice([10, 10, 2, 5]) if last else rng.choice(_WIDTHS)
        draw_linear(b, out, factors if j == 0 else None)
        factors = None
        if last:
            if rng.random() < 0.08:
                b.add(rng.choice(["Softmax", "LogSoftmax"]), {"dim": rng.choice([1, -1])})
            break
        r = rng.random()
        if r < 0.12:
            b.add("BatchNorm1d", {"num_features": b.shape[0]})
        elif r < 0.22:
            b.add("LayerNorm", {"normalized_shape": b.shape[-1]})
        if rng.random() < 0.85:
            draw_act(b, channels=False)
        if rng.random() < 0.3:
            draw_dropout(b, 0)


def gen_conv(b: Builder, n: int, custom: bool) -> None:
    rng = b.rng
    nblocks = rng.choice([1, 2, 2, 3, 3, 4]) if n < 3 else rng.choice([1, 2, 2, 3])
    custom_at = rng.randint(1, nblocks) if custom else None
    for i in range(nblocks):
        if custom_at == i:
            draw_custom(b)
        b.block = f"b{i}"
        if i > 0 and rng.random() < 0.08:
            draw_pad(b, n)
        draw_conv(b, n)
        if rng.random() < 0.45:
            draw_norm(b, n)
        if rng.random() < 0.85:
            draw_act(b)
        if rng.random() < 0.5:
            draw_pool(b, n)
        if rng.random() < 0.12:
            draw_dropout(b, n)
        if rng.random() < 0.06:
            draw_upsample(b, n)
    if custom_at == nblocks:
        draw_custom(b)
    b.block = "head"
    if rng.random() < 0.08:
        if rng.random() < 0.5:
            draw_conv(b, n, transpose_ok=False)
        return
    if math.prod(b.shape) > 4096 or rng.random() < 0.3:
        kind = f"Adaptive{rng.choice(['Avg', 'Avg', 'Max'])}Pool{n}d"
        size = rng.choice([1, 1, 2, 3])
        value: object = size if rng.random() < 0.6 or n == 1 else (size,) * n
        b.add(kind, {"output_size": value})
    if n >= 2 and rng.random() < 0.06:
        b.add("Flatten", {"start_dim": 2})  # (C, H*W): the Linear below acts on H*W
    if len(b.shape) >= 2 and b.shape[-1] > 1 and rng.random() < 0.1:
        draw_linear(b, rng.choice([4, 8, 16]))  # acts on the last dim
        draw_act(b, channels=False)
    if math.prod(b.shape) > 20000:
        b.add(f"AdaptiveAvgPool{n}d", {"output_size": 2})
    factors = b.shape
    r = rng.random()
    fp: Dict[str, object] = {} if r < 0.6 else {"start_dim": 1} if r < 0.85 else {"start_dim": 1, "end_dim": -1}
    b.add("Flatten", fp)
    if rng.random() < 0.15:
        draw_dropout(b, 0)
        factors = None if rng.random() < 0.5 else factors
    linear_chain(b, rng.choice([1, 1, 2, 2, 3]), factors)


def gen_mlp(b: Builder, custom: bool) -> None:
    rng = b.rng
    count = rng.randint(2, 5)
    if rng.random() < 0.15:
        b.add("LayerNorm", {"normalized_shape": b.shape[-1]})
    if custom:
        first = rng.randint(1, count - 1)
        linear_chain(b, first)
        draw_custom(b)
        linear_chain(b, count - first)
    else:
        linear_chain(b, count)


# ---------------------------------------------------------------------------
# Faults

def fault_param(layer: Layer) -> Optional[Tuple[str, str]]:
    k = layer.kind
    if layer.custom or k.startswith("Lazy"):
        return None
    if k == "Linear":
        return "CNS001", "in_features"
    if k.startswith("Conv"):
        return "CNS002", "in_channels"
    if k.startswith("BatchNorm"):
        return "CNS003", "num_features"
    if k.startswith("InstanceNorm"):
        if layer.params.get("affine") or layer.params.get("track_running_stats"):
            return "CNS003", "num_features"
        return None
    if k == "GroupNorm":
        return "CNS003", "num_channels"
    if k == "LayerNorm":
        return "CNS003", "normalized_shape"
    if k == "PReLU" and layer.params.get("num_parameters", 1) > 1:
        return "CNS003", "num_parameters"
    return None


def _wrong_int(rng, right: int, step: int = 1, avoid=()) -> int:
    """A plausible wrong size that is a multiple of `step`."""
    for _ in range(50):
        r = rng.random()
        if r < 0.25:
            v = right * 2
        elif r < 0.4:
            v = right // 2
        elif r < 0.7:
            v = right + step * rng.randint(1, 4)
        elif r < 0.85:
            v = right - step * rng.randint(1, 3)
        else:
            v = step * rng.choice([1, 3, 16, 32, 64])
        if v >= 1 and v % step == 0 and v != right and v not in avoid:
            return v
    raise AssertionError("no wrong value")


def inject(rng, layer: Layer, valid_dims) -> None:
    code, param = fault_param(layer)  # type: ignore[misc]
    right = layer.params[param]
    if param == "in_features":
        factors = None
        if layer.factors and len(layer.factors) >= 2 and rng.random() < 0.5:
            f = list(layer.factors)
            i = rng.randrange(1, len(f))
            if rng.random() < 0.5 and len(valid_dims) == len(f) and valid_dims[i] != f[i]:
                f[i] = valid_dims[i]  # the input size, forgetting what the convs and pools did
            else:
                f[i] = max(1, f[i] + rng.choice([-2, -1, 1, 2]))
            wrong = math.prod(f)
            factors = tuple(f) if wrong != right else None
            if wrong == right:
                wrong = _wrong_int(rng, right)
        else:
            wrong = _wrong_int(rng, right)
        layer.factors = factors
    elif param == "in_channels":
        wrong = _wrong_int(rng, right, layer.params.get("groups", 1))
    elif param == "num_channels":
        wrong = _wrong_int(rng, right, layer.params["num_groups"])
    elif param == "num_parameters":
        wrong = _wrong_int(rng, right, avoid=(1,))
    elif param == "normalized_shape" and not isinstance(right, int):
        w = list(right)
        i = rng.randrange(len(w))
        w[i] = _wrong_int(rng, w[i])
        wrong = type(right)(w)
    else:
        wrong = _wrong_int(rng, right)
    layer.params[param] = wrong
    layer.fault = Injected(code, param, right, wrong)


def inject_groups(rng, layers: List[Layer]) -> bool:
    """A LazyConv whose groups do not divide the channels it receives (CNS007)."""
    lazy = [lyr for lyr in layers if lyr.kind.startswith("LazyConv")]
    rng.shuffle(lazy)
    for lyr in lazy:
        c, out = lyr.in_shape[0], lyr.params["out_channels"]
        gs = [g for g in range(2, out + 1) if out % g == 0 and c % g]
        if gs:
            lyr.params["groups"] = rng.choice(gs)
            lyr.params = _ordered(lyr.kind, lyr.params)
            lyr.fault = Injected("CNS007")
            return True
    return False


def _shrink(rng, dims):
    out = list(dims)
    idx = list(range(1, len(dims)))
    changed = [i for i in idx if rng.random() < 0.6] or [rng.choice(idx)]
    for i in changed:
        out[i] = rng.randint(1, max(1, dims[i] // 3))
    return tuple(out)


def _resize(rng, dims):
    out = list(dims)
    idx = list(range(1, len(dims))) or [0]
    changed = [i for i in idx if rng.random() < 0.6] or [rng.choice(idx)]
    for i in changed:
        out[i] = max(1, round(dims[i] * rng.uniform(0.3, 1.7)))
    return tuple(out)


def inject_input(rng, layers: List[Layer], dims, kind: str) -> Optional[Tuple[int, ...]]:
    """Another input size for the same layers: "small" ends in a window that does
    not fit (CNS004); "resize" is any size torch does not run cleanly."""
    for _ in range(8):
        new = _shrink(rng, dims) if kind == "small" else _resize(rng, dims)
        if new == tuple(dims):
            continue
        truth = torch_truth.run_sequence([lyr.build() for lyr in layers], new)
        if kind == "small" and truth.ending is not None and truth.ending.code == "CNS004":
            return new
        if kind == "resize" and truth.faults and all(f.code is not None for f in truth.faults):
            return new
    return None


def inject_rank(rng, b: Builder, family_n: int) -> bool:
    """A Conv (or BatchNorm2d) placed after the Flatten."""
    flat = [i for i, lyr in enumerate(b.layers) if lyr.kind == "Flatten"]
    if not flat:
        return False
    at = flat[0] + 1
    if rng.random() < 0.3 and at < len(b.layers) and b.layers[at].kind == "Linear":
        at += 1
    before = b.layers[flat[0]].in_shape
    r = rng.random()
    if r < 0.25:
        kind = f"BatchNorm{max(2, family_n)}d"
        params: Dict[str, object] = {"num_features": before[0]}
    else:
        m = family_n if family_n >= 2 or r < 0.5 else 2
        c = before[0]
        if m == 1 and c in (2, 3):
            c = 4  # torch would take the batch as the channels: another fault
        kind = f"Conv{m}d"
        params = {"in_channels": c, "out_channels": rng.choice([8, 16, 32]), "kernel_size": rng.choice([1, 3])}
    layer = Layer(b.next_id, kind, _ordered(kind, params), "head", fault=Injected("CNS006"))
    b.next_id += 1
    b.layers.insert(at, layer)
    return True


# ---------------------------------------------------------------------------

def _input(rng, family: str) -> Tuple[int, ...]:
    if family == "mlp":
        f = rng.randint(4, 300)
        return (rng.randint(2, 12), f) if rng.random() < 0.2 else (f,)
    c = rng.choice([1, 1, 2, 3, 3, 3, 4, 8])
    if family == "conv1d":
        return (c, rng.randint(12, 100))
    if family == "conv2d":
        h = rng.randint(10, 40)
        return (c, h, h if rng.random() < 0.6 else rng.randint(10, 40))
    return (c,) + tuple(rng.randint(5, 14) for _ in range(3))


def generate(seed: int) -> ModelSpec:
    rng = random.Random(seed)
    family = rng.choices(["conv1d", "conv2d", "conv3d", "mlp"], weights=[18, 47, 15, 20])[0]
    pragma = rng.random() < 0.85
    lazy = rng.random() < 0.1
    custom = rng.random() < 0.12
    dims = _input(rng, family)
    b = Builder(rng, dims, lazy)
    if family == "mlp":
        gen_mlp(b, custom)
    else:
        gen_conv(b, int(family[4]), custom)
    spec = ModelSpec(seed, family, dims, b.layers, pragma, lazy, valid_dims=dims)

    n_faults = rng.choices([0, 1, 2], weights=[33, 42, 25])[0]
    if n_faults and lazy and rng.random() < 0.3 and inject_groups(rng, spec.layers):
        spec.ending = "groups"
        n_faults -= 1
    elif n_faults and rng.random() < 0.4:
        r = rng.random()
        if pragma and (r < 0.6 or family == "mlp"):
            kind = "small" if r < 0.3 and family != "mlp" else "resize"
            new = inject_input(rng, spec.layers, dims, kind)
            if new is not None:
                spec.dims, spec.ending = new, kind
                n_faults -= 1
        elif family != "mlp" and inject_rank(rng, b, int(family[4])):
            spec.layers = b.layers
            spec.ending = "rank"
            n_faults -= 1
    candidates = [lyr for lyr in spec.layers if lyr.fault is None and fault_param(lyr) is not None]
    rng.shuffle(candidates)
    for layer in candidates[:n_faults]:
        inject(rng, layer, dims)
    for layer in spec.layers:
        if layer.kind.startswith("InstanceNorm") and layer.fault is None and fault_param(layer) is None and rng.random() < 0.4:
            layer.params["num_features"] = _wrong_int(rng, layer.params["num_features"])
            layer.decoy = True
    # drawn from a stream of its own, so that every other seed renders as it did before sources existed
    spec.source = draw_source(random.Random(f"source-{seed}"), spec)
    if spec.source is not None:
        spec.pragma = False
        if spec.source.mismatch:
            spec.dims, spec.ending = spec.source.dims, "mismatch"
    return spec


# ---------------------------------------------------------------------------
# Input sources other than the pragma. A share of the models that would have had
# a pragma get their input size from the file instead, as the linter's README
# lists them: a dummy call on the model (torch.rand/randn/zeros/ones/empty with a
# literal shape, batch dim included), which the linter always uses, or a
# torchvision dataset with its transforms, which it uses only where the model's
# first layer built for a channel/feature count accepts that size (input_taken).
# Rendered by Renderer.source_block, always where torch_truth does not execute
# it (an `if __name__ == "__main__":` block or an uncalled function).

SOURCE_SHARE = 0.25  # of the models that would have had a pragma
# the per-sample size of torchvision's datasets (what their __getitem__ gives after ToTensor)
TV_DATASETS = {
    "MNIST": (1, 28, 28), "FashionMNIST": (1, 28, 28), "KMNIST": (1, 28, 28),
    "CIFAR10": (3, 32, 32), "CIFAR100": (3, 32, 32), "SVHN": (3, 32, 32), "STL10": (3, 96, 96),
}
_FACTORIES = ["randn", "randn", "rand", "zeros", "ones", "empty"]
# a constructor parameter that makes a layer "sized": built for one channel / feature count
_SIZE_PARAMS = ("in_channels", "in_features", "num_features", "num_channels", "normalized_shape")


@dataclass
class InputSource:
    kind: str  # "call" (a dummy call on the model) or "dataset"
    dims: Tuple[int, ...]  # the per-sample size the source implies: what torch runs the model at
    factory: str = ""  # call: torch.<factory>(...)
    batch: int = 0  # call: the batch dim written in front of dims
    shape_style: str = ""  # call: "args" torch.randn(8, 3, 32, 32), "tuple" ((8, ...)), "list" ([8, ...])
    dataset: str = ""  # dataset: its class in torchvision.datasets
    # dataset: the transforms that change the size, in order: ("Resize", 20 or (h, w)), ("CenterCrop", ...),
    # ("RandomCrop", (size, padding)), ("Pad", p), ("Grayscale", channels)
    steps: Tuple[Tuple[str, object], ...] = ()
    mismatch: bool = False  # dataset: drawn without regard to the size the model was built for

    def __str__(self) -> str:
        if self.kind == "call":
            return f"a dummy call torch.{self.factory}({self.batch}, ...) ({self.shape_style}): {self.dims}"
        steps = " ".join(f"{k}({v!r})" for k, v in self.steps) or "no size-changing transform"
        return f"datasets.{self.dataset} {TV_DATASETS[self.dataset]} -> {steps} -> {self.dims}" + (
            " (drawn regardless of the model's size)" if self.mismatch else "")


def first_sized(layers: List[Layer]) -> Optional[int]:
    """Index of the first layer built for a channel or feature count (Conv2d,
    Linear, BatchNorm, GroupNorm, LayerNorm, InstanceNorm: not the Lazy ones)."""
    for i, lyr in enumerate(layers):
        if not lyr.custom and any(name in _SIZE_PARAMS for name, _ in signature(lyr.kind)):
            return i
    return None


def apply_steps(dims: Tuple[int, int, int], steps) -> Tuple[int, int, int]:
    """What torchvision's transforms do to a (C, H, W) image (square or not)."""
    c, h, w = dims
    for name, arg in steps:
        if name == "Resize":
            if isinstance(arg, int):  # the smaller edge becomes arg, the aspect ratio is kept
                h, w = (arg, arg * w // h) if h <= w else (arg * h // w, arg)
            else:
                h, w = arg
        elif name == "CenterCrop" or name == "RandomCrop":
            size = arg[0] if name == "RandomCrop" else arg
            h, w = (size, size) if isinstance(size, int) else size
        elif name == "Pad":
            h, w = h + 2 * arg, w + 2 * arg
        elif name == "Grayscale":
            c = arg
        else:
            raise AssertionError(name)
    return (c, h, w)


def _size_steps(rng, base: Tuple[int, int], want: Tuple[int, int]) -> List[Tuple[str, object]]:
    """Transforms taking a square base image to want = (h, w)."""
    (bh, bw), (h, w) = base, want
    if (h, w) == (bh, bw):
        return [("RandomCrop", (bh, rng.choice([2, 4])))] if rng.random() < 0.25 else []
    options = ["resize_pair"]
    if h == w:
        options += ["resize_int"] * 3
    if h <= bh and w <= bw:
        options += ["center", "random"]
    if h == w and h > bh and (h - bh) % 2 == 0 and (h - bh) // 2 <= 4:
        options += ["pad"] * 3
    options.append("resize_crop")
    kind = rng.choice(options)
    square = h if h == w and rng.random() < 0.6 else (h, w)
    if kind == "resize_pair":
        return [("Resize", (h, w))]
    if kind == "resize_int":
        return [("Resize", h)]
    if kind == "center":
        return [("CenterCrop", square)]
    if kind == "random":
        return [("RandomCrop", (square, 0))]
    if kind == "pad":
        return [("Pad", (h - bh) // 2)]
    return [("Resize", max(h, w) + rng.choice([0, 2, 4, 8])), ("CenterCrop", square)]


def draw_dataset(rng, dims: Tuple[int, int, int], mismatch: bool = False) -> InputSource:
    """A dataset and transforms that give `dims` (mismatch: any dataset, any size)."""
    if mismatch:
        name = rng.choice(list(TV_DATASETS))
        c, bh, _ = TV_DATASETS[name]
        side = bh if rng.random() < 0.5 else rng.randint(16, 40)
        dims = (rng.choice([1, 3]) if rng.random() < 0.3 else c, side, side)
    c, h, w = dims
    exact = [n for n, d in TV_DATASETS.items() if d == dims]
    if exact and rng.random() < 0.6:
        name = rng.choice(exact)
    else:
        name = rng.choice(list(TV_DATASETS))
    bc, bh, bw = TV_DATASETS[name]
    steps = _size_steps(rng, (bh, bw), (h, w))
    if bc != c:
        gray = ("Grayscale", c)
        steps = [gray] + steps if rng.random() < 0.5 else steps + [gray]
    src = InputSource("dataset", dims, dataset=name, steps=tuple(steps), mismatch=mismatch)
    assert apply_steps(TV_DATASETS[name], steps) == dims, (name, steps, dims)
    return src


def draw_source(rng, spec: ModelSpec) -> Optional[InputSource]:
    if not spec.pragma or rng.random() >= SOURCE_SHARE:
        return None
    dims = spec.dims
    fs = first_sized(spec.layers)
    customs = [i for i, lyr in enumerate(spec.layers) if lyr.custom]
    # the dataset is the model's input only if its first sized layer decides it, before a custom layer
    # (whose output the linter may not know) could hide that layer's input
    dataset_ok = spec.family == "conv2d" and (fs is not None or not customs) and (not customs or min(customs) > fs)
    if dataset_ok and dims[0] in (1, 3) and rng.random() < 0.8:
        return draw_dataset(rng, dims)
    if dataset_ok and dims[0] not in (1, 3) and spec.ending is None and rng.random() < 0.5:
        src = draw_dataset(rng, dims, mismatch=True)
        try:  # a truth the harness can judge at the dataset's size
            torch_truth.run_sequence([lyr.build() for lyr in spec.layers], src.dims)
            return src
        except torch_truth.HarnessError:
            pass
    shape_style = rng.choices(["args", "tuple", "list"], weights=[60, 30, 10])[0]
    return InputSource("call", dims, factory=rng.choice(_FACTORIES), batch=rng.choice([1, 2, 4, 8, 8, 16, 32]),
                       shape_style=shape_style)


def input_taken(spec: ModelSpec, rendered: "Rendered", truth: "torch_truth.Truth") -> bool:
    """Whether the linter is to check the model at spec.dims: a pragma or a dummy
    call always; a dataset only where torch, at that size, fails nowhere up to and
    including the first sized layer (the linter's rule: run.py rejects_input)."""
    src = spec.source
    if src is None:
        return spec.pragma
    if src.kind == "call":
        return True
    order = {lyr.id: i for i, lyr in enumerate(spec.layers)}
    fs = first_sized(spec.layers)
    limit = len(spec.layers) if fs is None else fs
    for f in truth.faults:
        lid = rendered.paths.get(f.where)
        if lid is not None and f.code != torch_truth.UNCODED and order[lid] <= limit:
            return False
    if truth.empty is not None:
        lid = rendered.paths.get(truth.empty)
        if lid is not None and order[lid] <= limit:
            return False
    return True


# ---------------------------------------------------------------------------
# Hand-made cases: minimal reproductions of disagreements the random seeds found,
# run through the same renderer, torch harness and comparison.
# name: (family, input, pragma, form, [(layer, arguments)])

HANDMADE = {
    # (A ConvTranspose whose output has a 0-size dim is left out: torch on the
    # CPU raises "Output size is too small" for some such calls and returns an
    # empty tensor for others, so the engine follows no empty output; it misses
    # the later failure rather than guess which one torch will do.)
    # After a CNS006 in an attribute Sequential, nothing after it is a fault.
    "after_rank_fault": ("conv3d", (1, 8, 8, 8), True, "class_seqs", [
        ("Conv3d", {"in_channels": 1, "out_channels": 32, "kernel_size": 3}),
        ("AdaptiveMaxPool3d", {"output_size": 1}),
        ("Flatten", {}),
        ("Conv3d", {"in_channels": 32, "out_channels": 16, "kernel_size": 3}),
        ("Linear", {"in_features": 32, "out_features": 32}),
        ("BatchNorm1d", {"num_features": 32}),
    ]),
    # No pragma: a (1, 40, 39) input fits nn.Linear(296); no report may say none does.
    "undeclared_tall_kernel": ("conv2d", (1, 40, 39), False, "seq", [
        ("Conv2d", {"in_channels": 1, "out_channels": 8, "kernel_size": (40, 3)}),
        ("ReLU", {}),
        ("Flatten", {}),
        ("Linear", {"in_features": 296, "out_features": 10}),
    ]),
    # No pragma, a custom layer that swaps H and W: a (1, 7, 5) input fits nn.Linear(60).
    "undeclared_transpose": ("conv2d", (1, 7, 5), False, "seq", [
        ("Conv2d", {"in_channels": 1, "out_channels": 4, "kernel_size": 3}),
        ("SwapLast", {}),
        ("Flatten", {}),
        ("Linear", {"in_features": 60, "out_features": 10}),
    ]),
    "undeclared_wide_kernel": ("conv2d", (1, 5, 1), False, "seq", [
        ("Conv2d", {"in_channels": 1, "out_channels": 8, "kernel_size": (5, 1)}),
        ("Flatten", {}),
        ("Linear", {"in_features": 8, "out_features": 10}),
    ]),
}


def handmade(name: str) -> ModelSpec:
    family, dims, pragma, form, chain = HANDMADE[name]
    layers = []
    x: Optional[torch.Tensor] = torch.zeros((BATCH,) + dims)
    for i, (kind, params) in enumerate(chain):
        custom = kind in CUSTOM
        layer = Layer(i, kind, dict(params) if custom else _ordered(kind, dict(params)), block=f"b{i}", custom=custom)
        if x is not None:
            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = layer.build()(x)
                layer.in_shape, layer.out_shape = tuple(x.shape[1:]), tuple(out.shape[1:])
                x = out
            except Exception:  # noqa: BLE001 - the shape ends where torch refuses
                x = None
        layers.append(layer)
    return ModelSpec(name, family, dims, layers, pragma, False, valid_dims=dims, ending="handmade", form=form)


# ---------------------------------------------------------------------------
# Rendering

STYLES = ["from_torch_import_nn", "import_torch_nn_as_nn", "torch_dot", "from_nn_import", "tnn_alias"]
_CONST_BASE = {
    "in_channels": "CH", "out_channels": "CH", "num_features": "CH", "num_channels": "CH", "num_parameters": "CH",
    "in_features": "FEAT", "out_features": "HIDDEN", "kernel_size": "KERNEL", "stride": "STRIDE", "padding": "PAD",
    "num_groups": "GROUPS", "normalized_shape": "NORM_SHAPE", "output_size": "POOL_OUT", "dilation": "DILATION",
}
_LITERAL_ONLY = ("p", "value", "dim", "start_dim", "end_dim", "factor", "margin")
_ATTR = [
    ("ConvTranspose", "deconv"), ("LazyConv", "conv"), ("Conv", "conv"), ("LazyLinear", "fc"), ("Linear", "fc"),
    ("LazyBatchNorm", "bn"), ("BatchNorm", "bn"), ("GroupNorm", "gn"), ("InstanceNorm", "inorm"), ("LayerNorm", "ln"),
    ("AdaptiveAvgPool", "gap"), ("AdaptiveMaxPool", "gmp"), ("MaxPool", "pool"), ("AvgPool", "avgpool"),
    ("Dropout", "drop"), ("Flatten", "flatten"), ("Upsampl", "up"), ("ZeroPad", "pad"), ("ConstantPad", "pad"),
    ("ReflectionPad", "pad"), ("ReplicationPad", "pad"), ("CircularPad", "pad"), ("Softmax", "out"), ("LogSoftmax", "out"),
]


@dataclass
class Rendered:
    source: str
    entry: str  # the class to instantiate when the file binds no `model`
    positions: Dict[int, Tuple[int, int]]  # layer id -> (line, col) of its constructor call
    paths: Dict[str, int]  # module path in the built model -> layer id
    form: str
    style: str
    notes: List[str] = field(default_factory=list)
    # the end of every message when the linter takes the model's input from the file
    # (spec.source): " for input (1, 28, 28) from datasets.MNIST at line 41"
    note: Optional[str] = None

    def numbered(self) -> str:
        return "\n".join(f"{i:4d}  {line}" for i, line in enumerate(self.source.splitlines(), start=1))


class Writer:
    def __init__(self):
        self.lines: List[str] = []
        self.pos: Dict[int, Tuple[int, int]] = {}

    def add(self, text: str, marks: Sequence[Tuple[int, int]] = ()) -> None:
        self.lines.append(text)
        for lid, col in marks:
            self.pos[lid] = (len(self.lines), col)

    def extend(self, other: "Writer") -> None:
        base = len(self.lines)
        self.lines.extend(other.lines)
        for lid, (line, col) in other.pos.items():
            self.pos[lid] = (line + base, col)


class Names:
    """How the file names torch.nn things, per import style."""

    def __init__(self, style: str, rng: random.Random):
        self.style = style
        self.rng = rng
        self.imported: Dict[str, str] = {}  # from torch.nn import X [as Y]
        self.uses_torch = False
        self.uses_f = False
        self.od = "OrderedDict" if rng.random() < 0.8 else "collections.OrderedDict"
        self.uses_od = False
        self.f_import = rng.choice(["import torch.nn.functional as F", "from torch.nn import functional as F"])

    def nn(self, kind: str) -> str:
        if self.style in ("from_torch_import_nn", "import_torch_nn_as_nn"):
            return f"nn.{kind}"
        if self.style == "tnn_alias":
            return f"tnn.{kind}"
        if self.style == "torch_dot":
            self.uses_torch = True
            return f"torch.nn.{kind}"
        if kind not in self.imported:
            alias = kind
            if kind != "Module" and self.rng.random() < 0.3:
                short = "T" + "".join(ch for ch in kind if ch.isupper() or ch.isdigit())
                if short not in self.imported.values() and short not in CUSTOM:
                    alias = short
            self.imported[kind] = alias
        return self.imported[kind]

    def ordered_dict(self) -> str:
        self.uses_od = True
        return self.od

    def header(self) -> List[str]:
        out = []
        if self.uses_od:
            out.append("from collections import OrderedDict" if self.od == "OrderedDict" else "import collections")
            out.append("")
        if self.uses_torch or self.style == "torch_dot" or self.rng.random() < 0.7:
            out.append("import torch")
        if self.style == "from_torch_import_nn":
            out.append("from torch import nn")
        elif self.style == "import_torch_nn_as_nn":
            out.append("import torch.nn as nn")
        elif self.style == "tnn_alias":
            out.append("import torch.nn as tnn")
        elif self.style == "from_nn_import":
            parts = [k if a == k else f"{k} as {a}" for k, a in self.imported.items()]
            if len(parts) > 4 and self.rng.random() < 0.5:
                out.append("from torch.nn import (")
                out += [f"    {p}," for p in parts]
                out.append(")")
            else:
                out.append(f"from torch.nn import {', '.join(parts)}")
        if self.uses_f:
            out.append(self.f_import)
        return out


class Values:
    """Writes argument values: literals, constants, arithmetic."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.module_consts: List[Tuple[str, str]] = []
        self.local_consts: List[Tuple[str, str]] = []
        self.env: Dict[str, object] = {}
        self.local_names: set = set()
        self.counter: Dict[str, int] = {}
        self.allow_locals = False
        self.reserved: set = set()  # names the file uses otherwise (__init__ parameters)

    def _new_name(self, base: str, local: bool) -> str:
        self.counter[base] = self.counter.get(base, 0) + 1
        name = f"{base}{self.counter[base]}" if self.counter[base] > 1 or self.rng.random() < 0.5 else base
        taken = {n.lower() for n in self.env} | self.reserved
        k = self.counter[base]
        while name.lower() in taken:
            k += 1
            name = f"{base}_{k}"
        return name.lower() if local else name

    def _consts_with(self, value, local_ok: bool) -> List[str]:
        return sorted(n for n, v in self.env.items()
                      if v == value and type(v) is type(value) and (local_ok or n not in self.local_names))

    def atom(self, v: int, local_ok: bool) -> str:
        names = self._consts_with(v, local_ok)
        if names and self.rng.random() < 0.4:
            return self.rng.choice(names)
        return str(v)

    def arith(self, v: int, local_ok: bool, factors=None) -> str:
        rng = self.rng
        if factors and len(factors) > 1 and rng.random() < 0.8:
            text = " * ".join(self.atom(f, local_ok) for f in factors)
        else:
            opts = []
            divs = [d for d in range(2, 17) if v % d == 0 and v // d > 1]
            if divs:
                d = rng.choice(divs)
                opts.append(f"{self.atom(v // d, local_ok)} * {d}")
            if v > 2:
                b = rng.randint(1, min(v - 1, 16))
                opts.append(f"{self.atom(v - b, local_ok)} + {b}")
            b = rng.randint(1, 8)
            opts.append(f"{self.atom(v + b, local_ok)} - {b}")
            b = rng.randint(2, 4)
            opts.append(f"{v * b + rng.randrange(b)} // {b}")
            if v >= 4 and v & (v - 1) == 0:
                opts.append(f"2 ** {v.bit_length() - 1}")
            b = v + rng.randint(1, 9)
            opts.append(f"{b * rng.randint(1, 3) + v} % {b}")
            text = rng.choice(opts)
        assert eval(text, {}, dict(self.env)) == v, (text, v)  # noqa: S307 - our own arithmetic
        return text

    def const(self, value, param: str, factors=None) -> str:
        rng = self.rng
        local = self.allow_locals and rng.random() < 0.35
        existing = self._consts_with(value, local_ok=self.allow_locals)
        if existing and rng.random() < 0.5:
            return rng.choice(existing)
        name = self._new_name(_CONST_BASE.get(param, "SIZE"), local)
        if isinstance(value, int) and value >= 2 and (factors or rng.random() < 0.3):
            text = self.arith(value, local_ok=local, factors=factors)
        else:
            text = self.literal(value)
        (self.local_consts if local else self.module_consts).append((name, text))
        if local:
            self.local_names.add(name)
        self.env[name] = value
        return name

    def literal(self, value) -> str:
        if isinstance(value, (tuple, list)):
            inner = ", ".join(self.literal(v) for v in value)
            if isinstance(value, list):
                return f"[{inner}]"
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, str):
            return repr(value) if self.rng.random() < 0.5 else f'"{value}"'
        return repr(value)

    def expr(self, value, param: str, factors=None) -> str:
        rng = self.rng
        if isinstance(value, bool) or value is None or isinstance(value, (float, str)):
            return self.literal(value)
        if isinstance(value, int):
            if value < 1 or param in _LITERAL_ONLY:
                return str(value)
            if factors and len(factors) > 1:
                r = rng.random()
                if r < 0.45:
                    return self.arith(value, self.allow_locals, factors)
                if r < 0.6:
                    return self.const(value, param, factors)
            r = rng.random()
            if r < 0.68:
                return str(value)
            if r < 0.88:
                return self.const(value, param)
            return self.arith(value, self.allow_locals) if value >= 2 else str(value)
        if isinstance(value, (tuple, list)):
            r = rng.random()
            if r < 0.15 and all(v is not None for v in value):
                return self.const(value, param)
            if r < 0.3 and all(isinstance(v, int) for v in value):
                inner = ", ".join(self.expr(v, param) for v in value)
                return f"[{inner}]" if isinstance(value, list) else f"({inner},)" if len(value) == 1 else f"({inner})"
            return self.literal(value)
        raise AssertionError(value)


class Renderer:
    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.rng = random.Random(f"render-{spec.seed}")
        self.style = self.rng.choice(STYLES)
        self.names = Names(self.style, self.rng)
        self.values = Values(self.rng)
        self.notes: List[str] = []
        self.paths: Dict[str, int] = {}
        self.overrides: Dict[int, Dict[str, str]] = {}
        self.module_ref: Optional[str] = None  # a module-level name bound to the model (not the `model = net` alias)
        self.module_plain = False  # that name is bound by `model = Net()`, no arguments

    # -- one constructor call ------------------------------------------------
    def ctor(self, layer: Layer) -> str:
        rng = self.rng
        ref = layer.kind if layer.custom else self.names.nn(layer.kind)
        given = list(layer.params)
        prefix = 0
        for name, positional in signature(layer.kind):
            if prefix < len(given) and given[prefix] == name and positional:
                prefix += 1
            else:
                break
        r = rng.random()
        npos = prefix if r < 0.45 else rng.randint(0, prefix) if r < 0.85 else 0
        override = self.overrides.get(layer.id, {})
        parts: list = []
        for i, name in enumerate(given):
            text = override.get(name) or self.values.expr(layer.params[name], name, layer.factors if name == "in_features" else None)
            parts.append(text if i < npos else (name, text))
        kw = [p for p in parts if isinstance(p, tuple)]
        pos = [p for p in parts if not isinstance(p, tuple)]
        if len(kw) > 1 and rng.random() < 0.25:
            rng.shuffle(kw)
        args = pos + [f"{k}={v}" for k, v in kw]
        return f"{ref}({', '.join(args)})"

    # -- nn.Sequential --------------------------------------------------------
    def group(self, layers: List[Layer], depth: int) -> list:
        """Items of a Sequential: layers, or lists (nested Sequentials)."""
        rng = self.rng
        if depth >= 2 or len(layers) < 3 or rng.random() < 0.6:
            return list(layers)
        items: list = []
        blocks: List[List[Layer]] = []
        for lyr in layers:
            if blocks and blocks[-1][-1].block == lyr.block:
                blocks[-1].append(lyr)
            else:
                blocks.append([lyr])
        for blk in blocks:
            if len(blk) >= 2 and rng.random() < 0.5:
                items.append(self.group(blk, depth + 1) if rng.random() < 0.3 else list(blk))
                self.notes.append("nested")
            else:
                items.extend(blk)
        return items

    def sequential(self, w: Writer, items: list, indent: str, head: str, tail: str, path: str, pragma: str = "") -> None:
        rng = self.rng
        style = rng.choices(["plain", "ordered", "star"], weights=[70, 15, 15])[0]
        seq = self.names.nn("Sequential")
        if style == "ordered":
            opener, closer = f"{seq}({self.names.ordered_dict()}([", "]))"
        elif style == "star":
            opener, closer = f"{seq}(*[", "])"
        else:
            opener, closer = f"{seq}(", ")"
        self.notes.append(f"seq-{style}")
        w.add(f"{indent}{head}{opener}{pragma}")
        inner = indent + "    "
        keys: Dict[str, int] = {}
        i = 0
        while i < len(items):
            item = items[i]
            idx = str(i)
            if style == "ordered":
                base = "block" if isinstance(item, list) else self.attr_base(item)
                keys[base] = keys.get(base, 0) + 1
                idx = f"{base}{keys[base]}"
            sub = f"{path}.{idx}" if path else idx
            key_prefix = f"('{idx}', " if style == "ordered" else ""
            key_suffix = ")" if style == "ordered" else ""
            if isinstance(item, list):
                self.sequential(w, item, inner, key_prefix, f"{key_suffix},", sub)
                i += 1
                continue
            col = len(inner) + len(key_prefix)
            line = f"{inner}{key_prefix}{self.ctor(item)}{key_suffix},"
            self.paths[sub] = item.id
            marks = [(item.id, col)]
            nxt = items[i + 1] if i + 1 < len(items) else None
            if style != "ordered" and isinstance(nxt, Layer) and nxt.kind in _ACT_KINDS and rng.random() < 0.2:
                marks.append((nxt.id, len(line) + 1))
                line = f"{line} {self.ctor(nxt)},"
                self.paths[f"{path}.{i + 1}" if path else str(i + 1)] = nxt.id
                self.notes.append("two-per-line")
                i += 1
            w.add(line, marks)
            i += 1
        w.add(f"{indent}{closer}{tail}")

    @staticmethod
    def attr_base(layer: Layer) -> str:
        if layer.custom:
            return layer.kind.lower()
        if layer.kind in _ACT_KINDS:
            return "act"
        for prefix, base in _ATTR:
            if layer.kind.startswith(prefix):
                return base
        return "layer"

    # -- the file -------------------------------------------------------------
    def pragma_text(self) -> str:
        dims, rng = self.spec.dims, self.rng
        if len(dims) == 1:
            body = rng.choice([f"({dims[0]},)", f"({dims[0]})", f"[{dims[0]}]"])
        else:
            sep = rng.choice([", ", ", ", ","])
            body = f"({sep.join(map(str, dims))})" if rng.random() < 0.85 else f"[{sep.join(map(str, dims))}]"
        return rng.choice(["# cnnshape: input=", "# cnnshape: input=", "#cnnshape: input = ", "# cnnshape:input="]) + body

    def render(self) -> Rendered:
        spec, rng = self.spec, self.rng
        form = spec.form or rng.choices(["seq", "class_seqs", "class_layers"], weights=[40, 30, 30])[0]
        inline = rng.random() < 0.6
        pragma = self.pragma_text() if spec.pragma or spec.source is not None else ""
        if spec.source is not None:
            pragma = ""  # drawn all the same, so that the model renders as it would with the pragma
        self.notes.append("pragma-inline" if inline else "pragma-above")
        body = Writer()
        if form == "seq":
            var = rng.choice(["model", "model", "net"])
            if pragma and not inline:
                body.add(pragma)
            self.sequential(body, self.group(spec.layers, 0), "", f"{var} = ", "", "", f"  {pragma}" if pragma and inline else "")
            self.module_ref = var
            if var != "model":
                body.add("")
                body.add(f"model = {var}")
            entry = "model"
        else:
            entry = rng.choice(["Net", "Model", "SmallCNN", "Classifier"])
            self.class_model(body, entry, form, pragma, inline)
        base = self.names.nn("Module") if spec.custom else ""
        if spec.custom:
            self.names.uses_torch = True  # their forward() calls torch.*
        out = Writer()
        header = self.names.header()
        top: List[str] = []
        tail: List[str] = []
        if spec.source is not None:
            top, tail, note_at = self.source_block(entry, header)
        for line in header + top:
            out.add(line)
        if self.values.module_consts:
            out.add("")
            for name, text in self.values.module_consts:
                out.add(f"{name} = {text}")
        for name in dict.fromkeys(lyr.kind for lyr in spec.layers if lyr.custom):
            out.add("")
            out.add("")
            for line in custom_source(name, base):
                out.add(line)
            self.notes.append(f"custom:{name}")
        out.add("")
        out.add("")
        out.extend(body)
        note = None
        if spec.source is not None:
            where = "the call" if spec.source.kind == "call" else f"datasets.{spec.source.dataset}"
            note = f" for input {describe_dims(spec.source.dims)} from {where} at line {len(out.lines) + note_at + 1}"
            for line in tail:
                out.add(line)
        source = "\n".join(out.lines) + "\n"
        return Rendered(source, entry, out.pos, dict(self.paths), form, self.style, sorted(set(self.notes)), note)

    # -- the input size from the file (spec.source) ----------------------------
    def source_block(self, entry: str, header: List[str]) -> Tuple[List[str], List[str], int]:
        """(lines to add to the imports, lines to add at the end of the file, the
        index in the latter of the line the linter names as the size's source).
        Nothing here runs when torch_truth executes the file: the dummy call and the
        dataset stand in an `if __name__ == "__main__":` block or an uncalled
        function. Drawn from a stream of its own."""
        rng = random.Random(f"source-render-{self.spec.seed}")
        has_torch = "import torch" in header
        if self.spec.source.kind == "call":
            return self._call_block(rng, entry, has_torch)
        return self._dataset_block(rng, entry, has_torch)

    def _call_block(self, rng, entry: str, has_torch: bool):
        src = self.spec.source
        top = [] if has_torch else ["import torch"]
        values = ", ".join(str(v) for v in (src.batch,) + tuple(src.dims))
        tensor = f"torch.{src.factory}(" + {"args": values, "tuple": f"({values})", "list": f"[{values}]"}[src.shape_style] + ")"
        ref = self.module_ref
        if ref is not None and self.module_plain and rng.random() < 0.4:
            ref = None  # `model = Net()` at module level; the call builds one more the same way
        r = rng.random()
        if ref is not None and r < 0.06:
            place = "func-global"  # a function calling the module-level model
        elif ref is None and r < 0.3:
            place = "func"
        else:
            place = "guard"
        body: List[str] = []
        if ref is None:
            if rng.random() < 0.5:
                ref, how = f"{entry}()", "inline"
            else:  # not `model` when the module binds that name already: two bindings say nothing
                var = "net" if self.module_ref else rng.choice(["model", "model", "net"])
                body.append(f"{var} = {entry}()" + (".eval()" if rng.random() < 0.2 else ""))
                ref, how = var, "local"
        else:
            how = "module"
            if rng.random() < 0.2:
                body.append(f"{ref}.eval()")
        module_lines: List[str] = []
        arg, where = tensor, "inline"
        if rng.random() < 0.5:
            arg = rng.choice(["x", "x", "dummy", "sample", "inp"])
            if place == "guard" and rng.random() < 0.85:
                module_lines, where = [f"{arg} = {tensor}"], "module"
            else:
                body.insert(0 if rng.random() < 0.5 else len(body), f"{arg} = {tensor}")
                where = "local"
        call = f"{ref}({arg})"
        style = rng.choice(["assign", "assign_print", "print", "bare", "no_grad", "assert"])
        if style == "assign":
            stmts = [f"out = {call}"]
        elif style == "assign_print":
            stmts = [f"out = {call}", "print(out.shape)"]
        elif style == "print":
            stmts = [f"print({call}.shape)"]
        elif style == "bare":
            stmts = [call]
        elif style == "no_grad":
            stmts = ["with torch.no_grad():", f"    y = {call}"]
        else:
            stmts = [f"y = {call}", f"assert y.shape[0] == {src.batch}"]
        at = len(body) + (1 if style == "no_grad" else 0)
        body += stmts
        tail = ["", ""]
        if module_lines:
            tail += module_lines + [""]
        if place == "guard":
            tail.append(rng.choice(['if __name__ == "__main__":', "if __name__ == '__main__':"]))
        else:
            name = rng.choice(["main", "sanity_check", "check_shapes", "smoke_test"])
            tail.append(f"def {name}():")
        at += len(tail)
        tail += ["    " + line for line in body]
        if place != "guard" and rng.random() < 0.6:
            tail += ["", "", 'if __name__ == "__main__":', f"    {name}()"]
        self.notes += ["src-call", f"src-call-{place}", f"src-call-model-{how}", f"src-call-tensor-{where}",
                       f"src-call-{src.factory}", f"src-call-shape-{src.shape_style}", f"src-call-stmt-{style}"]
        return top, tail, at

    def _dataset_block(self, rng, entry: str, has_torch: bool):
        src = self.spec.source
        name = src.dataset
        place = "guard" if rng.random() < 0.65 else "func"
        imports_top = place == "func" or rng.random() < 0.5
        style = rng.choice(["from", "from", "module", "alias", "class", "v2"])
        if style == "from":
            imports, D, T = ["from torchvision import datasets, transforms"], "datasets.", "transforms."
        elif style == "module":
            imports, D, T = ["import torchvision"], "torchvision.datasets.", "torchvision.transforms."
        elif style == "alias":
            imports, D, T = ["import torchvision.transforms as T", "from torchvision import datasets"], "datasets.", "T."
        elif style == "class":
            imports, D, T = [f"from torchvision.datasets import {name}", "from torchvision import transforms"], "", "transforms."
        else:
            imports, D, T = ["from torchvision import datasets", "from torchvision.transforms import v2"], "datasets.", "v2."
        c = src.dims[0]

        def size_text(v):
            return str(v) if isinstance(v, int) else f"({v[0]}, {v[1]})"

        # (text in the training set's transform, text in the test set's or None)
        steps: List[Tuple[str, Optional[str]]] = []
        for kind, arg in src.steps:
            if kind == "Grayscale":
                forms = ["Grayscale()", "Grayscale(1)", "Grayscale(num_output_channels=1)"] if arg == 1 else \
                    ["Grayscale(3)", "Grayscale(num_output_channels=3)"]
                text = T + rng.choice(forms)
                steps.append((text, text))
            elif kind == "RandomCrop":
                size, pad = arg
                text = f"{T}RandomCrop({size_text(size)}" + (f", padding={pad})" if pad else ")")
                steps.append((text, f"{T}CenterCrop({size_text(size)})"))
            else:
                text = f"{T}{kind}({size_text(arg)})"
                steps.append((text, text))
        if rng.random() < 0.3:
            steps.append((f"{T}RandomHorizontalFlip()", None))
        if rng.random() < 0.12:
            steps.append((f"{T}RandomRotation(10)", None))
        if style == "v2":
            steps += [(f"{T}ToImage()",) * 2, (f"{T}ToDtype(torch.float32, scale=True)",) * 2]
            if not has_torch:
                imports = ["import torch"] + imports
        else:
            steps.append((f"{T}ToTensor()",) * 2)
        if rng.random() < 0.6:
            mean, std = ("(0.1307,)", "(0.3081,)") if c == 1 else ("(0.485, 0.456, 0.406)", "(0.229, 0.224, 0.225)")
            steps.append((f"{T}Normalize({mean}, {std})",) * 2)

        def compose(items: List[str], one_line: bool) -> List[str]:
            if len(items) == 1 and style != "v2" and rng.random() < 0.5:
                return [items[0]]
            if one_line or len(items) <= 2 or rng.random() < 0.4:
                return [f"{T}Compose([{', '.join(items)}])"]
            return [f"{T}Compose(["] + [f"    {i}," for i in items] + ["])"]

        body: List[str] = []
        train_items = [a for a, _ in steps]
        test_items = [b for _, b in steps if b is not None]
        two = train_items != test_items and rng.random() < 0.5
        if two:
            for var, items in (("train_transform", train_items), ("test_transform", test_items)):
                lines = compose(items, False)
                body += [f"{var} = {lines[0]}"] + lines[1:]
            tf_train, tf_test = "train_transform", "test_transform"
            how = "two"
        elif rng.random() < 0.25:
            tf_train = tf_test = compose(train_items, True)[0]
            how = "inline"
        else:
            lines = compose(train_items, False)
            body += [f"transform = {lines[0]}"] + lines[1:]
            tf_train = tf_test = "transform"
            how = "var"
        root = rng.choice(['root="data"', 'root="./data"', "'./data'"]) if place == "guard" else "root=root"
        if name in ("SVHN", "STL10"):
            split_train, split_test = 'split="train"', 'split="test"'
        else:
            split_train, split_test = "train=True", "train=False"
        at = len(body)
        multi = rng.random() < 0.25
        for var, split, tf, last in (("train_set", split_train, tf_train, False), ("test_set", split_test, tf_test, True)):
            if last and rng.random() < 0.4:
                break
            args = f"{root}, {split}, download=True, transform={tf}"
            if multi:
                body += [f"{var} = {D}{name}(", f"    {args},", ")"]
            else:
                body.append(f"{var} = {D}{name}({args})")
        loader = rng.random() < 0.6
        if loader:
            body.append("train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)")
            if not has_torch and "import torch" not in imports:
                imports = ["import torch"] + imports
        tail = ["", ""]
        head = 'if __name__ == "__main__":'
        if place == "guard":
            tail.append(head)
            if not imports_top:
                tail += ["    " + i for i in imports] + [""]
            at += len(tail)
            tail += ["    " + line for line in body]
            after = tail
        else:
            fname = rng.choice(["get_loaders", "load_data", "get_data"])
            tail.append(f"def {fname}(root=\"data\"):")
            at += len(tail)
            tail += ["    " + line for line in body]
            tail.append("    return " + ("train_loader" if loader else "train_set"))
            tail += ["", "", head, f"    data = {fname}()"]
            after = tail
        if loader and rng.random() < 0.6:
            ref = self.module_ref
            if ref is None:
                ref = "model"
                after.append(f"    model = {entry}()")
            batches = "train_loader" if place == "guard" else "data"
            after += [f"    for images, labels in {batches}:", f"        outputs = {ref}(images)",
                      "        print(outputs.shape)", "        break"]
            self.notes.append("src-ds-loop")
        self.notes += ["src-ds", f"src-ds-{place}", f"src-ds-import-{style}", "src-ds-import-" + ("top" if imports_top else "guard"),
                       f"src-ds-{name}", f"src-ds-size-transforms-{len(src.steps)}", f"src-ds-transform-{how}"]
        self.notes += [f"src-ds-tf-{kind}" for kind, _ in src.steps]
        if src.mismatch:
            self.notes.append("src-ds-mismatch")
        return (imports if imports_top else []), tail, at

    def class_model(self, w: Writer, cls: str, form: str, pragma: str, inline: bool) -> None:
        spec, rng = self.spec, self.rng
        self.values.allow_locals = True
        layers = list(spec.layers)
        last = layers[-1]
        init_args: List[Tuple[str, int, int]] = []  # __init__ parameters: (name, value used, default)
        if last.kind in ("Linear", "LazyLinear") and rng.random() < 0.35:
            name = rng.choice(["num_classes", "n_out"])
            init_args.append((name, last.params["out_features"], last.params["out_features"]))
            self.values.reserved.add(name)
            self.overrides[last.id] = {"out_features": name}
        sizes = [(lyr.id, k, v) for lyr in layers if not lyr.custom for k, v in lyr.params.items()
                 if k in ("in_channels", "out_channels", "in_features", "out_features", "num_features", "num_channels")
                 and isinstance(v, int) and v >= 2 and k not in self.overrides.get(lyr.id, {})]
        if sizes and rng.random() < 0.3:
            value = rng.choice(sizes)[2]
            name = rng.choice(["width", "hidden", "channels", "base"])
            for lid, k, v in sizes:
                if v == value:
                    self.overrides.setdefault(lid, {})[k] = name
            init_args.insert(0, (name, value, value))
            self.values.reserved.add(name)
        # sometimes the default differs from the value the file builds the model with
        init_args = [(n, v, d if rng.random() < 0.7 else d * 2) for n, v, d in init_args]
        init = Writer()
        # ("call", text with a {} for the input, id of the layer whose place is this call or None) or ("stmt", text, None)
        steps: List[Tuple[str, str, Optional[int]]] = []
        flatten_forms = ["torch.flatten({}, 1)", "{}.flatten(1)", "stmt:x = x.view(x.size(0), -1)",
                         "stmt:x = x.reshape(x.shape[0], -1)", "torch.flatten({}, start_dim=1)"]
        if spec.custom:
            flatten_forms = [f for f in flatten_forms if "view" not in f]  # a transpose leaves x non-contiguous
        if form == "class_seqs":
            chunks = self.chunks(layers)
            names = {1: ["layers"], 2: ["features", "classifier"], 3: ["stem", "features", "classifier"]}[len(chunks)]
            for name, chunk in zip(names, chunks):
                if chunk[0].kind == "Flatten" and not chunk[0].params and rng.random() < 0.4:
                    self.functional(steps, rng.choice(flatten_forms))
                    chunk = chunk[1:]
                if not chunk:
                    continue
                if len(chunk) == 1 and rng.random() < 0.5:
                    prefix = f"        self.{name} = "
                    init.add(prefix + self.ctor(chunk[0]), [(chunk[0].id, len(prefix))])
                    self.paths[name] = chunk[0].id
                else:
                    self.sequential(init, self.group(chunk, 0), "        ", f"self.{name} = ", "", name)
                steps.append(("call", f"self.{name}({{}})", None))
        else:
            counters: Dict[str, int] = {}
            pools = [self.pool_key(lyr) for lyr in layers if self.pool_key(lyr)]
            shared_pools = {k for k in pools if pools.count(k) >= 2} if rng.random() < 0.6 else set()
            pool_attr: Dict[tuple, str] = {}
            uses: Dict[str, int] = {}
            plain_relus = sum(1 for lyr in layers if lyr.kind == "ReLU" and not lyr.params)
            shared_relu = rng.random() < 0.4 and plain_relus >= 2
            functional_acts = not shared_relu and rng.random() < 0.3
            shared_defined = False
            for lyr in layers:
                if lyr.kind == "ReLU" and not lyr.params and (shared_relu or functional_acts):
                    if functional_acts:
                        if rng.random() < 0.5:
                            self.names.uses_f = True
                            self.functional(steps, "F.relu({})")
                        else:
                            self.functional(steps, "torch.relu({})")
                        continue
                    if not shared_defined:
                        init.add(f"        self.relu = {self.names.nn('ReLU')}()")
                        shared_defined = True
                    steps.append(("call", "self.relu({})", None))
                    self.notes.append("shared-relu")
                    continue
                if lyr.kind == "Flatten" and not lyr.params and rng.random() < 0.4:
                    self.functional(steps, rng.choice(flatten_forms))
                    continue
                key = self.pool_key(lyr)
                if key in shared_pools and key in pool_attr:
                    # the module defined for an earlier, identical pool, called again: a report
                    # on this use sits at the call in forward(), not at the constructor
                    name = pool_attr[key]
                    uses[name] += 1
                    self.paths[f"{name}#{uses[name]}"] = lyr.id
                    steps.append(("call", f"self.{name}({{}})", lyr.id))
                    self.notes.append("shared-pool")
                    continue
                base = self.attr_base(lyr)
                counters[base] = counters.get(base, 0) + 1
                name = f"{base}{counters[base]}"
                if key in shared_pools and base not in self.paths and rng.random() < 0.7:
                    name = base  # LeNet's self.pool
                if key in shared_pools:
                    pool_attr[key] = name
                    uses[name] = 1
                prefix = f"        self.{name} = "
                init.add(prefix + self.ctor(lyr), [(lyr.id, len(prefix))])
                self.paths[name] = lyr.id
                steps.append(("call", f"self.{name}({{}})", None))
        self.values.allow_locals = False
        base = self.names.nn("Module")
        if pragma and not inline:
            w.add(pragma)
        w.add(f"class {cls}({base}):" + (f"  {pragma}" if pragma and inline else ""))
        args = "".join(f", {n}={d}" for n, _, d in init_args)
        w.add(f"    def __init__(self{args}):")
        w.add(rng.choice(["        super().__init__()", f"        super({cls}, self).__init__()"]))
        for name, text in self.values.local_consts:
            w.add(f"        {name} = {text}")
        w.extend(init)
        w.add("")
        w.add("    def forward(self, x):")
        self.forward(w, steps)
        must = any(v != d for _, v, d in init_args)
        if must or rng.random() < 0.5:
            w.add("")
            w.add("")
            if must or (init_args and rng.random() < 0.6):
                if rng.random() < 0.5:
                    call = ", ".join(f"{n}={v}" for n, v, _ in init_args)
                else:
                    call = ", ".join(str(v) for _, v, _ in init_args)
                w.add(f"model = {cls}({call})")
                self.module_ref = "model"
                self.notes.append("init-args")
            else:
                w.add(f"model = {cls}()")
                self.module_ref = "model"
                self.module_plain = True

    @staticmethod
    def pool_key(layer: Layer) -> Optional[tuple]:
        if "Pool" not in layer.kind or layer.kind.startswith("Adaptive"):
            return None
        return (layer.kind, repr(sorted(layer.params.items())))

    def functional(self, steps, form: str) -> None:
        if form.startswith("stmt:"):
            steps.append(("stmt", form[5:], None))
        else:
            if "torch." in form:
                self.names.uses_torch = True
            steps.append(("call", form, None))
        self.notes.append("functional")

    @staticmethod
    def _wrap(template: str, inner: str, marks: List[Tuple[int, int]], lid: Optional[int]):
        """template.format(inner), with the offsets of the marked calls inside."""
        k = template.index("{}")
        marks = [(m, off + k) for m, off in marks]
        if lid is not None:
            marks.append((lid, 0))  # the template starts with that call: self.name(
        return template.format(inner), marks

    def forward(self, w: Writer, steps: List[Tuple[str, str, Optional[int]]]) -> None:
        rng = self.rng
        i = 0
        stmts: List[Tuple[str, str, List[Tuple[int, int]]]] = []  # (head, expression, marks)
        while i < len(steps):
            kind, text, lid = steps[i]
            if kind == "stmt":
                stmts.append(("", text, []))
                i += 1
                continue
            expr, marks = self._wrap(text, "x", [], lid)
            j = i + 1
            while j < len(steps) and steps[j][0] == "call" and j - i < 3 and rng.random() < 0.35:
                expr, marks = self._wrap(steps[j][1], expr, marks, steps[j][2])
                j += 1
            stmts.append(("x = ", expr, marks))
            i = j
        if stmts and stmts[-1][0] == "x = " and rng.random() < 0.5:
            stmts[-1] = ("return ",) + stmts[-1][1:]
        else:
            stmts.append(("return ", "x", []))
        for head, expr, marks in stmts:
            indent = "        " + head
            w.add(indent + expr, [(lid, len(indent) + off) for lid, off in marks])

    def chunks(self, layers: List[Layer]) -> List[List[Layer]]:
        rng = self.rng
        cut = next((i for i, lyr in enumerate(layers) if lyr.kind == "Flatten"), None)
        if cut is None or cut == 0:
            cut = rng.randint(1, len(layers))
        elif rng.random() < 0.2 and layers[cut - 1].kind.startswith("Adaptive"):
            cut -= 1
        first, second = layers[:cut], layers[cut:]
        out = [first]
        if len(first) > 4 and rng.random() < 0.3:
            starts = [i for i in range(1, len(first)) if first[i].block != first[i - 1].block]
            if starts:
                k = rng.choice(starts)
                out = [first[:k], first[k:]]
        if second:
            out.append(second)
        return [c for c in out if c]


def describe_dims(dims) -> str:
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def render(spec: ModelSpec) -> Rendered:
    return Renderer(spec).render()


if __name__ == "__main__":  # pragma: no cover - a debugging aid
    for arg in sys.argv[1:]:
        s = generate(int(arg)) if arg.isdigit() else handmade(arg)
        r = render(s)
        print(s.describe())
        print(r.numbered())
