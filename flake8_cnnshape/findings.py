"""What the analysis finds, as data: every face (flake8, the CLI's outputs,
show, fix) reads these fields; the words come from messages.py.

* Fault: one thing torch would reject, as a shape rule sees it: the code,
  the message and its fields, the layer, and the constructor argument to
  change with its right value when one number fixes it.
* InputSource: where the input size a model was checked at comes from.
* Finding: a fault at its place in the file, with the source of the size it
  was found at.
"""
from __future__ import annotations

from functools import total_ordering
from typing import Optional, Tuple

from .messages import dims as render_dims
from .messages import render
from .records import Record, Shown

Place = Tuple[int, int]  # (line, col) of the call a report stands at


class Fault(Shown):
    __slots__ = ("code", "msg", "layer", "kind", "fields", "param", "value", "at_use", "factors", "_text")
    _fields = ("code", "text", "param", "value", "at_use", "factors")

    def __init__(self, code: str, msg: str, layer: Optional[str], fields: dict, param: Optional[str] = None,
                 value: object = None, at_use: bool = False, factors: Optional[Tuple[int, ...]] = None,
                 kind: Optional[str] = None):
        self.code = code
        self.msg = msg  # the id of its wording in messages.py
        self.layer = layer  # as the report names it: nn.Linear, F.max_pool2d, x.view
        self.kind = kind  # the torch.nn class (Linear) when a layer constructor is at fault
        self.fields = fields
        self.param = param  # the constructor argument to change...
        self.value = value  # ...and its right value (also set where no one argument fixes it)
        # the fault is in how the layer is *used* (a rank, a too-small input):
        # blamed on the call rather than on the constructor
        self.at_use = at_use
        self.factors = factors  # the sizes `value` is the product of (64, 7, 7), so a fix can keep a product
        self._text: Optional[str] = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = render(self.msg, self.layer, self.fields)
        return self._text

    def inside(self, model: str) -> "Fault":
        """The fault as reported at the call into a model whose layers are not
        the file's (a torchvision model): no argument there to change."""
        fields = self.fields
        if isinstance(fields.get("text"), str):  # a view names its call's source, not a layer; its number is not the user's
            fields = dict(fields, text=f"{fields['text']} (in {model})", **({"value": None} if "value" in fields else {}))
        return Fault(self.code, self.msg, f"{self.layer} (in {model})", fields, None, self.value, True, self.factors,
                     self.kind)

    def _values(self) -> tuple:
        return (self.code, self.text, self.param, self.value, self.at_use, self.factors)

    def __eq__(self, other):
        if other.__class__ is Fault:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())


class InputSource(Record):
    """kind: pragma (`# cnnshape: input=...`), call (a dummy call on the model),
    summary (torchsummary/torchinfo), dataset (a torchvision dataset and its
    transforms), setting (the cnnshape-input option), option (show --input)."""

    __slots__ = _fields = ("kind", "dims", "line", "name", "built")
    # show --input ("option") is taken, like the cnnshape-input setting, only where the model's first layer accepts it
    EXPLICIT = frozenset({"pragma", "call", "summary"})

    def __init__(self, kind: str, dims: Tuple[int, ...], line: Optional[int] = None, name: Optional[str] = None,
                 built: Optional[str] = None):
        self.kind = kind
        self.dims = dims
        self.line = line  # where the call or dataset is
        self.name = name  # the dataset's class (MNIST)
        # the build a pragma's class was checked with, where its defaults do not take the input (models/fitted.py)
        self.built = built

    @property
    def explicit(self) -> bool:
        """Trusted as the model's input; a dataset or the project setting is
        taken only where the model's first sized layer accepts it."""
        return self.kind in self.EXPLICIT

    @property
    def where(self) -> str:
        """`the call at line 41`, `datasets.MNIST at line 41`, `pragma`..."""
        return self.where_at()

    def where_at(self, at=lambda line: f"line {line}") -> str:
        """where, with its line named by `at` (a notebook's `cell 2, line 5`)."""
        return {
            "pragma": lambda: "pragma",
            "call": lambda: f"the call at {at(self.line)}",
            "summary": lambda: f"summary() at {at(self.line)}",
            "dataset": lambda: f"datasets.{self.name} at {at(self.line)}",
            "setting": lambda: "the cnnshape-input setting",
            "option": lambda: "--input",
        }[self.kind]()

    @property
    def note(self) -> str:
        """What a message says of it: ` for input (1, 28, 28) from datasets.MNIST at line 41`."""
        return self.note_at()

    def note_at(self, at=lambda line: f"line {line}") -> str:
        text = f" for input {render_dims(self.dims)}"
        if self.built is not None:
            return f"{text} with {self.built}"
        return text if self.kind == "pragma" else f"{text} from {self.where_at(at)}"


@total_ordering
class Finding(Shown):
    __slots__ = ("place", "fault", "source", "layer_node", "call_node", "layer")
    _fields = ("place", "fault", "source")

    def __init__(self, place: Place, fault: Fault, source: Optional[InputSource] = None, layer_node=None, call_node=None,
                 layer=None):
        self.place = place
        self.fault = fault
        self.source = source  # the input size it was found at; None: it holds for every size
        self.layer_node = layer_node  # the ast.Call of the layer's constructor, where one is at fault
        self.call_node = call_node  # the ast node of the use or op call
        self.layer = layer  # the layer object at fault: two findings of one object are one instance's two uses

    @property
    def line(self) -> int:
        return self.place[0]

    @property
    def col(self) -> int:
        """0-based, as flake8 takes it."""
        return self.place[1]

    @property
    def code(self) -> str:
        return self.fault.code

    @property
    def text(self) -> str:
        """The message after the code."""
        return self.text_at()

    def text_at(self, at=lambda line: f"line {line}") -> str:
        """text, with the line of its input's source named by `at`."""
        return self.fault.text + (self.source.note_at(at) if self.source is not None else "")

    @property
    def message(self) -> str:
        return f"{self.code} {self.text}"

    def key(self) -> tuple:
        return (self.place, self.code, self.text)

    def __eq__(self, other):
        if other.__class__ is Finding:
            return self.key() == other.key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.key())

    def __lt__(self, other: "Finding") -> bool:
        if other.__class__ is not Finding:
            return NotImplemented
        return self.key() < other.key()
