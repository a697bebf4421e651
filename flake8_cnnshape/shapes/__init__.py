"""The shape engine: pure arithmetic on shapes, no parsing. `LAYERS` maps a
torch.nn class name to its constructor signature and shape rule."""
from .registry import BATCH, UNKNOWN, Args, Fault, LayerSpec, Outcome, apply, bind, table
from .shape import Shape

LAYERS = table()

__all__ = ["BATCH", "UNKNOWN", "Args", "Fault", "LAYERS", "LayerSpec", "Outcome", "Shape", "apply", "bind"]
