"""Every layer, functional op and tensor method the engine knows, by name:
LAYERS by torch.nn class name (Conv2d), FUNCTIONS by qualified name
(torch.nn.functional.max_pool2d, torch.flatten), METHODS by tensor method
name (view's kin: mean, flatten). Each rule module lists its own; this
merges them. A name two modules list is a mistake (tests/test_specs.py)."""
from __future__ import annotations

from typing import Dict

from .rules import conv, elementwise, linear, norm, pairwise, pool, resample, sequence, tensor_ops
from .spec import LayerSpec, OpSpec

MODULES = (conv, pool, norm, linear, elementwise, resample, tensor_ops, sequence, pairwise)


def _merged(table: str) -> dict:
    out: dict = {}
    for mod in MODULES:
        out.update(getattr(mod, table, {}))
    return out


LAYERS: Dict[str, LayerSpec] = _merged("LAYERS")
FUNCTIONS: Dict[str, OpSpec] = _merged("FUNCTIONS")
METHODS: Dict[str, OpSpec] = _merged("METHODS")
