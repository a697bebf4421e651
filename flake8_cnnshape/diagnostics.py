"""Codes and the text of each report."""
from __future__ import annotations

from functools import total_ordering

from .records import Record

CODES = {
    "CNS001": "nn.Linear in_features disagrees with the incoming feature width",
    "CNS002": "convolution in_channels disagrees with the incoming channels",
    "CNS003": "normalization (or PReLU) size disagrees with the incoming channels or trailing dims",
    "CNS004": "the input is too small for a layer's window at this point",
    "CNS005": "view/reshape/unflatten sizes disagree with the element count",
    "CNS006": "a layer or op receives a tensor of a rank it cannot take",
    "CNS007": "groups (or another divisor) do not divide the channels",
    "CNS008": "an elementwise op or torch.cat receives shapes that do not agree",
    "CNS100": "(off by default) the input size an undeclared model's Linear assumes",
    "CNS900": "a cnnshape pragma cannot be read",
}


@total_ordering
class Report(Record):
    __slots__ = _fields = ("line", "col", "code", "text")

    def __init__(self, line: int, col: int, code: str, text: str):
        self.line = line
        self.col = col
        self.code = code
        self.text = text  # the message after the code

    def __lt__(self, other: "Report") -> bool:
        """By position, then code and text."""
        if other.__class__ is not Report:
            return NotImplemented
        return self._values() < other._values()

    @property
    def message(self) -> str:
        return f"{self.code} {self.text}"


# Codes a user has to ask for (flake8 --extend-select=CNS100); plugin.py keeps
# its own copy so that loading the plugin imports nothing else.
OFF_BY_DEFAULT = ("CNS100",)


def describe_input(dims) -> str:
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"
