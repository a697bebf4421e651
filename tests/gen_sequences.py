"""Random sequence models and transfer-learning scripts, as source, with what
torch says of them (tests/test_differential_sequences.py).

sequence(seed): a class as text models are written: token ids (B, L) into an
nn.Embedding, optionally a Conv1d over the embeddings (permuted to (B, E, L)
and back), then a recurrent layer (RNN, LSTM or GRU: layers, directions,
batch_first, LSTM proj_size), a TransformerEncoder or an nn.MultiheadAttention,
then the last step, the mean over the steps or (recurrent) the last layer's
h_n into a Linear head. transfer(seed): a script that builds a torchvision
model and replaces its head. Either may carry one fault: a size argument off
from what arrives (the right value asked of torch, from a hook on the valid
model), or (attention) a head count that does not divide the width. A fault
is kept only if torch then refuses the model.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Optional, Tuple

import torch

BATCH = 2


@dataclass
class Case:
    source: str
    dims: Tuple[int, ...]  # per-sample input
    index_input: bool  # token ids, not floats
    fault_line: Optional[int] = None  # 1-based line of the call the report must stand at
    code: Optional[str] = None
    number: Optional[int] = None  # the right value the message must give


def _line_of(lines, marker: str) -> int:
    return next(i for i, line in enumerate(lines, 1) if marker in line)


def _note(seen: dict, args) -> None:
    """A pre-hook's note of the width its layer receives (returning None keeps the input)."""
    seen.setdefault("width", args[0].shape[-1])


def _run(source: str, dims, index_input: bool, hook_line: Optional[int] = None):
    """(torch's verdict: None when the model runs, else the exception; the last
    dim of the tensor the layer built on hook_line receives)."""
    namespace: dict = {}
    seen = {}
    try:
        exec(compile(source, "<generated>", "exec"), namespace)
        model = namespace["Model"]()
        if hook_line is not None:
            name = source.splitlines()[hook_line - 1].split("=")[0].strip().removeprefix("self.")
            layer = model.encoder.layers[0] if name == "layer" else getattr(model, name)  # the encoder's copy
            layer.register_forward_pre_hook(lambda m, args: _note(seen, args))
        x = (torch.randint(0, 10, (BATCH,) + dims) if index_input else torch.zeros((BATCH,) + dims))
        with torch.no_grad():
            model.eval()(x)
    except (RuntimeError, ValueError, AssertionError, IndexError) as e:
        return e, seen.get("width")
    return None, seen.get("width")


def sequence(seed: int) -> Case:
    rng = random.Random(seed)
    vocab, embed, length = rng.choice([50, 1000]), rng.choice([16, 24, 32, 48, 64]), rng.choice([5, 12, 20])
    kind = rng.choice(["RNN", "LSTM", "GRU", "LSTM", "transformer", "attention"])
    conv = rng.random() < 0.3
    init = [f"self.embedding = nn.Embedding({vocab}, {embed})"]
    fwd = ["x = self.embedding(tokens)"]
    width = embed
    if conv:
        out = rng.choice([16, 32, 40])
        init.append(f"self.conv = nn.Conv1d({embed}, {out}, kernel_size=3, padding=1)")
        fwd.append("x = torch.relu(self.conv(x.permute(0, 2, 1))).permute(0, 2, 1)")
        width = out
    size_line = None  # the marker of the layer whose size argument a fault may change
    if kind in ("RNN", "LSTM", "GRU"):
        hidden, layers, bi = rng.choice([8, 20, 32]), rng.choice([1, 2]), rng.random() < 0.5
        batch_first = True  # a seq-first layer fed x.permute(1, 0, 2) moves the batch: not followed yet
        proj = rng.choice([0, 0, 5]) if kind == "LSTM" and hidden > 5 else 0
        extra = ", batch_first=True" if batch_first else ""
        extra += ", bidirectional=True" if bi else ""
        extra += f", proj_size={proj}" if proj else ""
        init.append(f"self.rnn = nn.{kind}({width}, {hidden}, num_layers={layers}{extra})")
        size_line = "self.rnn ="
        if not batch_first:
            fwd.append("x = x.permute(1, 0, 2)")
        fwd.append("out, state = self.rnn(x)")
        take = rng.choice(["last", "mean", "state"])
        step_dim = 1 if batch_first else 0
        if take == "last":
            fwd.append("x = out[:, -1]" if batch_first else "x = out[-1]")
        elif take == "mean":
            fwd.append(f"x = out.mean(dim={step_dim})")
        else:
            fwd.append("h = state[0] if isinstance(state, tuple) else state" if kind == "LSTM" else "h = state")
            fwd.append("x = h[-1]")
        head_in = (proj or hidden) * (2 if bi and take != "state" else 1)
    else:
        heads = rng.choice([h for h in (1, 2, 4, 8) if width % h == 0])
        if kind == "transformer":
            init.append(f"layer = nn.TransformerEncoderLayer(d_model={width}, nhead={heads}, dim_feedforward=64, "
                        "batch_first=True)")
            init.append(f"self.encoder = nn.TransformerEncoder(layer, num_layers={rng.choice([1, 2])})")
            size_line = "layer = nn.TransformerEncoderLayer"
            fwd.append("x = self.encoder(x)")
        else:
            init.append(f"self.attn = nn.MultiheadAttention({width}, {heads}, batch_first=True)")
            size_line = "self.attn ="
            fwd.append("x, _ = self.attn(x, x, x)")
        fwd.append(rng.choice(["x = x.mean(dim=1)", "x = x[:, 0]", "x = x[:, -1, :]"]))
        head_in = width
    classes = rng.choice([2, 5, 10])
    init.append(f"self.fc = nn.Linear({head_in}, {classes})")
    fwd.append("return self.fc(x)")
    body = (["import torch", "import torch.nn as nn", "", "", "class Model(nn.Module):",
             f"    def __init__(self):  # cnnshape: input=({length},)", "        super().__init__()"]
            + [f"        {s}" for s in init] + ["", "    def forward(self, tokens):"] + [f"        {s}" for s in fwd])
    body[4] += f"  # cnnshape: input=({length},)"
    body[5] = "    def __init__(self):"
    case = Case("\n".join(body) + "\n", (length,), True)
    _fault(rng, case, size_line)
    return case


def _fault(rng, case: Case, size_line: Optional[str]) -> None:
    """Maybe one fault, kept only where torch refuses the model."""
    lines = case.source.splitlines()
    choice = rng.random()
    if choice < 0.35:
        return
    if choice < 0.7 or size_line is None:
        marker, code = "self.fc = nn.Linear(", "CNS001"
    else:
        marker, code = size_line, "CNS010"
    at = _line_of(lines, marker)
    text = lines[at - 1]
    open_at = text.index("(") + 1
    first = text[open_at:].split(",")[0].split(")")[0]
    key = ""
    if "=" in first:
        key, first = first.split("=")
        key += "="
    right = int(first)
    if code == "CNS010" and rng.random() < 0.4:
        # the heads: a count that does not divide the width
        heads = next(h for h in (3, 5, 7, 9) if right % h)
        if "nhead=" in text:
            mutated = re.sub(r"nhead=\d+", f"nhead={heads}", text)
        else:
            mutated = re.sub(r"MultiheadAttention\((\d+), \d+", lambda m: f"MultiheadAttention({m[1]}, {heads}", text)
        code, number = "CNS007", None
    else:
        wrong = right + rng.choice([-8, -1, 1, 4, right])
        if wrong <= 0:
            return
        mutated = text[:open_at] + key + str(wrong) + text[open_at + len(key) + len(str(right)):]
        number = right
    lines[at - 1] = mutated
    source = "\n".join(lines) + "\n"
    verdict, width = _run(source, case.dims, case.index_input, at if code != "CNS007" else None)
    if verdict is None:
        return  # torch takes it: not a fault
    if number is not None and width is not None:
        number = int(width)  # what arrives there, as torch saw it
    case.source, case.fault_line, case.code, case.number = source, at, code, number


# builder -> (where its head is, the features the head receives)
HEADS = {
    "resnet18": ("fc", None), "resnet50": ("fc", None), "resnext50_32x4d": ("fc", None),
    "vgg11": ("classifier[6]", None), "vgg16_bn": ("classifier[6]", None), "alexnet": ("classifier[6]", None),
    "densenet121": ("classifier", None), "densenet169": ("classifier", None),
    "mobilenet_v2": ("classifier[1]", None), "mobilenet_v3_small": ("classifier[3]", None),
    "efficientnet_b0": ("classifier[1]", None), "efficientnet_b2": ("classifier[1]", None),
    "convnext_tiny": ("classifier[2]", None), "shufflenet_v2_x1_0": ("fc", None), "googlenet": ("fc", None),
    "vit_b_32": ("heads.head", None), "mnasnet1_0": ("classifier[1]", None),
    "regnet_x_400mf": ("fc", None), "regnet_y_800mf": ("fc", None), "swin_t": ("head", None),
    "maxvit_t": ("classifier[5]", None),
}


def transfer(seed: int, tv) -> Case:
    """A torchvision model with its head replaced; tv: torchvision, imported by the test."""
    rng = random.Random(seed)
    name = rng.choice(sorted(HEADS))
    place, _ = HEADS[name]
    size = 224 if name.startswith(("vit", "maxvit")) else rng.choice([64, 96, 128, 224])  # built for 224 x 224
    with torch.device("meta"):
        model = tv.models.get_model(name)
    seen = {}
    target = model
    for part in place.replace("]", "").replace("[", ".").split("."):
        target = target[int(part)] if part.isdigit() else getattr(target, part)
    target.register_forward_pre_hook(lambda m, args: _note(seen, args))
    model.eval()(torch.empty(BATCH, 3, size, size, device="meta"))
    right = int(seen["width"])
    wrong = right if rng.random() < 0.4 else right + rng.choice([-256, -1, 1, 512, right])
    classes = rng.choice([2, 10, 37])
    weights = rng.choice(['weights="DEFAULT"', "weights=None", "pretrained=True", ""])
    style = rng.choice(["from", "import"])
    head = "nn.Linear" if wrong == right or rng.random() < 0.5 else "nn.Linear"
    lines = ["import torch", "import torch.nn as nn",
             "from torchvision import models" if style == "from" else "import torchvision",
             "",
             f"model = {'models' if style == 'from' else 'torchvision.models'}.{name}({weights})"
             f"  # cnnshape: input=(3, {size}, {size})",
             "for p in model.parameters():", "    p.requires_grad = False",
             f"model.{place} = {head}({wrong}, {classes})"]
    case = Case("\n".join(lines) + "\n", (3, size, size), False)
    if wrong != right:
        case.fault_line, case.code, case.number = len(lines), "CNS001", right
    return case
