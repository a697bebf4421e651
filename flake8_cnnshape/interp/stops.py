"""For `cnnshape show`: where a known shape went into a call and none came
out, and why (noted only while show asks: Evaluator.noting_stops)."""
from __future__ import annotations

import ast

from ..shapes.signature import UNKNOWN
from .events import Recorder
from .tensors import modelled
from .values import Tensor, TorchRef


def note_stop(rec: Recorder, func, args, node: ast.Call) -> None:
    if not any(type(a) is Tensor and not a.shape.open for a in args):
        return
    if type(func) is TorchRef and not modelled(func.qual):
        why = "not modelled"
    elif func is UNKNOWN:
        why = "not known: from a library the analysis does not read, or a value it could not work out"
    else:
        why = "its result could not be worked out"
    text = ast.unparse(node.func)
    rec.log.stop(node.lineno, text if len(text) <= 40 else text[:37] + "...", why)
