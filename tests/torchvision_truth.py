"""torchvision, imported for the tests, and what its models do on the meta device.

pip's torchvision 0.28.0 is built against CUDA; beside the CPU build of torch
2.13.0 its compiled ops (`torchvision::nms` and kin) do not load, and the
import fails where torchvision registers a fake kernel for `nms` and `qnms`,
ops it expects its library to have declared. Its model code is pure Python
and needs none of them: the two schemas are declared here before the import
(only when the library did not), so the import goes through. Nothing here
runs an op of torchvision's own. RegNet's builders compute their widths with
torch ops read back as numbers: that step runs on the CPU even where a model
is built on the meta device.
"""
from __future__ import annotations

import functools
from typing import List, Optional, Tuple

import torch

_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_LIBRARY = None  # kept alive: the declarations last as long as it does


def _declared(op: str) -> bool:
    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{op}", "")
        return True
    except RuntimeError:
        return False


def import_torchvision():
    global _LIBRARY
    missing = [op for op in _SCHEMAS if not _declared(op)]
    if missing and _LIBRARY is None:
        try:
            import torchvision  # a build whose ops load declares them itself
            _regnet_params_on_cpu(torchvision)
            return torchvision
        except RuntimeError:
            import sys
            for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
                del sys.modules[name]
        _LIBRARY = torch.library.Library("torchvision", "FRAGMENT")
        for op in missing:
            if not _declared(op):
                _LIBRARY.define(_SCHEMAS[op])
    import torchvision
    _regnet_params_on_cpu(torchvision)
    return torchvision


def children_outputs(name: str, dims: Tuple[int, ...], **kwargs) -> Optional[List[Tuple[str, tuple, int]]]:
    """(child name, per-sample output shape, its parameter count) of each
    top-level child of a torchvision model in the order its forward runs
    them (a child run twice in a row, once), on a batch of two at dims; None
    when torch refuses the input."""
    model, calls = _hooked(name, tuple(sorted(kwargs.items())))
    calls.clear()
    try:
        with torch.no_grad():
            model(torch.empty((2,) + tuple(dims), device="meta"))
    except (RuntimeError, ValueError, AssertionError, IndexError):
        return None
    return list(calls)


@functools.lru_cache(maxsize=None)
def _hooked(name: str, kwargs: tuple):
    """The model (built once: building the big ones takes seconds even on
    meta) and the list its hooks write each top-level child's output to."""
    tv = import_torchvision()
    with torch.device("meta"):
        model = tv.models.get_model(name, **dict(kwargs))
    model.eval()
    calls: List[Tuple[str, tuple, int]] = []

    def hook(child_name, child):
        params = sum(p.numel() for p in child.parameters())

        def record(mod, args, out):
            if isinstance(out, torch.Tensor):
                if calls and calls[-1][0] == child_name:
                    calls.pop()
                calls.append((child_name, tuple(out.shape[1:]), params))
        return record

    for child_name, child in model.named_children():
        # a ModuleList is never called itself: what it gives is what its last member run gives
        for part in (child if isinstance(child, torch.nn.ModuleList) else [child]):
            part.register_forward_hook(hook(child_name, child))
    return model, calls


def _regnet_params_on_cpu(tv) -> None:
    """RegNet's builders work out their stage widths with torch ops and read
    them back with `.tolist()`, which a meta tensor cannot do: that one step
    runs on the CPU (the layers are still built where the caller builds them)."""
    params = tv.models.regnet.BlockParams
    plain = params.__dict__["from_init_params"]
    if getattr(plain.__func__, "on_cpu", False):
        return

    def on_cpu(cls, *args, **kwargs):
        with torch.device("cpu"):
            return plain.__func__(cls, *args, **kwargs)

    on_cpu.on_cpu = True
    params.from_init_params = classmethod(on_cpu)


def total_params(name: str, **kwargs) -> int:
    model, _ = _hooked(name, tuple(sorted(kwargs.items())))
    return sum(p.numel() for p in model.parameters())
