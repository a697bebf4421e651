"""Packed sequences (interp/packed.py) against torch: generated models pack
their input (pack_padded_sequence, batch first or not; pack_sequence of
tensors they make), run an RNN / GRU / LSTM on it, pad it back and feed a
head the padded output, h_n or c_n. torch runs each at (2, 5, 6); the
analysis must report exactly the faults it can know of: a wrong input_size
always (CNS010, with the width torch saw), a head of the wrong width
(CNS001, with torch's width) where the head's input is a tensor that holds the
model's batch, and nothing else. The widths come from torch, never from us.

torch runs each model on the meta device and on the CPU with oneDNN off,
and the two must agree: torch 2.13's oneDNN LSTM takes packed data of any
width without a check (and reads past it), which the reference CPU kernel
and meta refuse."""
from __future__ import annotations

import itertools
import re
import types
import warnings

import pytest

from flake8_cnnshape.analysis import analyze

torch = pytest.importorskip("torch")

FEATURES = 6
INPUT = (2, 5, FEATURES)  # the pragma's (5, 6) at batch 2


def _layer(kind, input_size, bidirectional, layers, proj):
    extra = f", proj_size={proj}" if proj else ""
    return f"nn.{kind}({input_size}, 8, num_layers={layers}, bidirectional={bidirectional}{extra})"


def _pack(pack):
    """The packing statement: the input batch first, sequence first, or a list of sequences."""
    if pack == "batch_first":
        return "packed = pack_padded_sequence(x, [x.size(1)] * x.size(0), batch_first=True)"
    if pack == "seq_first":
        return "packed = pack_padded_sequence(x, torch.tensor([x.size(0)] * x.size(1)))"
    return f"packed = pack_sequence([torch.zeros(4, {FEATURES}, device=x.device), torch.zeros(3, {FEATURES}, device=x.device)])"


def _head(head, pad_first):
    """The head's input, after `out, states = self.rnn(packed)`."""
    if head == "flat":
        return f"padded, _ = pad_packed_sequence(out, batch_first={pad_first}, total_length=x.size(1))", "padded.flatten(1)"
    pad = f"padded, lengths = pad_packed_sequence(out, batch_first={pad_first})"
    if head == "padded":
        return pad, "padded"
    return pad, {"h": "h_n[-1]", "c": "states[1][-1]"}[head]


def source(cfg, input_size, width):
    kind, bidirectional, layers, proj, pack, pad_first, head = cfg
    pad, feed = _head(head, pad_first)
    h_n = "states[0]" if kind == "LSTM" else "states"
    return f'''import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pack_sequence, pad_packed_sequence


class Model(nn.Module):  # cnnshape: input=(5, {FEATURES})
    def __init__(self):
        super().__init__()
        self.rnn = {_layer(kind, input_size, bidirectional, layers, proj)}
        self.fc = nn.Linear({width}, 3)

    def forward(self, x):
        {_pack(pack)}
        out, states = self.rnn(packed)
        h_n = {h_n}
        {pad}
        return self.fc({feed})
'''


def _run(text, device):
    module = types.ModuleType("packed_model")
    exec(compile(text, "packed_model", "exec"), module.__dict__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.backends.mkldnn.flags(enabled=False):
            return module.Model().to(device)(torch.zeros(INPUT, device=device))


def torch_width(cfg):
    """What the head receives, in torch (the model built with the right input_size)."""
    return _run(source(cfg, FEATURES, 1).replace("return self.fc(", "return ("), "meta").shape[-1]


def torch_fails(text) -> bool:
    verdicts = []
    for device in ("meta", "cpu"):
        try:
            _run(text, device)
            verdicts.append(False)
        except RuntimeError:
            verdicts.append(True)
    assert verdicts[0] == verdicts[1], f"meta and cpu disagree: {verdicts}\n{text}"
    return verdicts[0]


def followed(cfg) -> bool:
    """Does the head's input hold the model's batch? Packed batch first, every head's does (led by it, or
    second when padded back sequence first). Packed sequence first or from a list, the model's batch is the
    padded length, which the analysis does not know."""
    kind, bidirectional, layers, proj, pack, pad_first, head = cfg
    return pack == "batch_first"


def _configs():
    for kind, bidirectional, layers, proj in [("RNN", False, 1, 0), ("RNN", True, 2, 0), ("GRU", False, 2, 0), ("GRU", True, 1, 0),
                                              ("LSTM", False, 1, 0), ("LSTM", True, 2, 0), ("LSTM", True, 1, 3), ("LSTM", False, 2, 5)]:
        for pack, pad_first, head in itertools.product(("batch_first", "seq_first", "list"), (True, False), ("padded", "flat", "h", "c")):
            if head == "c" and kind != "LSTM" or head == "flat" and (pack != "batch_first" or not pad_first):
                continue
            if head in ("h", "c") and not pad_first:
                continue  # the states do not depend on how the output is padded
            yield kind, bidirectional, layers, proj, pack, pad_first, head


CONFIGS = list(_configs())


def _check(cfg, input_size, width, right):
    text = source(cfg, input_size, width)
    fails = torch_fails(text)
    assert fails == (input_size != FEATURES or width != right), text
    lines = text.splitlines(True)
    want = set()
    if input_size != FEATURES:
        want.add((9, "CNS010"))
    if width != right and followed(cfg):
        want.add((10, "CNS001"))
    reports = analyze(lines, strict=True)
    assert {(r.place[0], r.fault.code) for r in reports} == want, f"{[r.fault.code + ' ' + str(r.place) for r in reports]}\n{text}"
    for r in reports:
        number = FEATURES if r.fault.code == "CNS010" else right
        assert re.search(rf"\b{number}\b", r.message), (r.message, text)


@pytest.mark.parametrize("cfg", CONFIGS, ids=["-".join(map(str, c)) for c in CONFIGS])
def test_packed_models_agree_with_torch(cfg):
    right = torch_width(cfg)
    _check(cfg, FEATURES, right, right)  # a model torch runs: nothing reported
    _check(cfg, FEATURES, right + 1, right)  # a head one too wide
    _check(cfg, FEATURES - 2, right, right)  # the recurrent layer built for another width


def test_the_grid_checks_heads():
    assert sum(followed(c) for c in CONFIGS) >= 20
    assert {c[-1] for c in CONFIGS if followed(c)} == {"padded", "flat", "h", "c"}
