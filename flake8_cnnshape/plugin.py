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
    def parse_options(cls, *args) -> None:
        """flake8 calls it once per run with (option manager, options, paths),
        or with the options alone. A setting that cannot be read stops the
        run there, with a usage error, as flake8 does for its own."""
        manager, options = (args[0], args[1]) if len(args) == 3 else (None, args[0])
        value = getattr(options, "cnnshape_input", None)
        cls.default_input = None
        if value:
            from .models.pragma import parse_value

            cls.default_input, error = parse_value(str(value), example="3,224,224")
            if error is not None:
                _usage_error(manager, f"cnnshape-input = {value}: {error}")

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        text = "".join(self.lines)
        if "torch" not in text and "cnnshape" not in text:
            return
        analyze = _analysis()
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        for f in analyze(self.lines, tree, default_input=self.default_input, path=self.filename or None):
            yield f.line, f.col, f.message, type(self)


def _usage_error(manager, message: str) -> None:
    """flake8's own way to refuse an option: its usage line, the message, exit 2."""
    parser = getattr(manager, "parser", None)
    if parser is not None:
        parser.error(message)
    raise SystemExit(f"flake8: error: {message}")
