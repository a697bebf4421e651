"""A class nothing in the file builds, fed a declared input its defaults do
not take: `def __init__(self, in_channels=1, ...)` under `# cnnshape:
input=(3, 64, 64)`. The first layer refusing 3 channels says how the user
builds the class rather than what is wrong with it, since a pragma without
`build=` leaves the arguments to the class: the parameter whose default is
that layer's size is given the size the input has, and where the class so
built takes the input, it is checked as built that way, every fault it then
has reported with that build named. Where no such parameter makes the first
layer take the input, the class is checked as its defaults build it."""
from __future__ import annotations

import ast
from typing import List, Tuple

from ..findings import InputSource
from ..interp.events import Run

# the first layer's size faults a constructor parameter may stand behind
SIZE_FAULTS = ("channels", "linear_width")
MAX_TRIES = 3  # builds tried: each is a whole model run


def candidates(run: Run, init: ast.FunctionDef, given: dict) -> List[Tuple[str, int]]:
    """(parameter, value) builds to try, in the order of the run's faults: a
    parameter nobody gives whose default is the int the refusing layer wants,
    given the int it got."""
    sizes = []
    for f in run.found.values():
        fields = f.fault.fields
        want, got = fields.get("want"), fields.get("got")
        if f.fault.msg in SIZE_FAULTS and type(want) is int and type(got) is int and (want, got) not in sizes:
            sizes.append((want, got))
    a = init.args
    positional = (a.posonlyargs + a.args)[1:]
    defaults = list(zip(positional[len(positional) - len(a.defaults):], a.defaults))
    defaults += [(p, d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
    out = []
    for want, got in sizes:
        for p, d in defaults:
            if p.arg not in given and type(d) is ast.Constant and type(d.value) is int and d.value == want:
                out.append((p.arg, got))
    return out[:MAX_TRIES]


def source(inp: InputSource, cls_name: str, param: str, value: int) -> InputSource:
    """The declared input, naming the build it was checked with."""
    return InputSource(inp.kind, inp.dims, inp.line, inp.name, f"{cls_name}({param}={value})")
