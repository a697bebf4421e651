"""The flake8 face: flake8 hands us the lines it read (an unsaved buffer
through stdin too) and its ast; we hand back (line, col, message, type)."""
from __future__ import annotations

import ast
import gc
from typing import Iterator, List, Optional, Tuple

from . import __version__
from .codes import OFF_BY_DEFAULT


def _analysis():
    """The analysis, imported on the first file that needs it: flake8 loads
    this module in every run, also on code that never mentions torch. The
    import makes many objects that live as long as the process, and a cyclic
    collection set off among them would walk flake8's whole heap: none runs
    during it."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        from .analysis import analyze
    finally:
        if collecting:
            gc.enable()
    return analyze


class CnnShapeChecker:
    name = "flake8-cnnshape"
    version = __version__
    default_input: Optional[Tuple[int, ...]] = None
    option_error: Optional[str] = None

    def __init__(self, tree: ast.AST, lines: List[str], filename: str = ""):
        self.tree = tree
        self.lines = lines
        self.filename = filename  # the other files of its project it imports from are read from the disk

    @classmethod
    def add_options(cls, manager) -> None:
        manager.extend_default_ignore(list(OFF_BY_DEFAULT))
        manager.add_option(
            "--cnnshape-input",
            default=None,
            parse_from_config=True,
            help="Per-sample input size assumed for models whose file gives none, e.g. 3,224,224 "
            "(used only where the model's first layer accepts it; a pragma or a call in the file wins).",
        )

    @classmethod
    def parse_options(cls, options) -> None:
        value = getattr(options, "cnnshape_input", None)
        cls.default_input, cls.option_error = None, None
        if value:
            from .models.pragma import parse_value

            cls.default_input, cls.option_error = parse_value(str(value))

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        if self.option_error is not None:
            from .findings import Fault

            fault = Fault("CNS900", "setting_unreadable", None, {"error": self.option_error})
            yield 1, 0, f"{fault.code} {fault.text}", type(self)
        text = "".join(self.lines)
        if "torch" not in text and "cnnshape" not in text:
            return
        analyze = _analysis()
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        for f in analyze(self.lines, tree, default_input=self.default_input, path=self.filename or None):
            yield f.line, f.col, f.message, type(self)
