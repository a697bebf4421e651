"""The flake8 face: flake8 hands us the lines it read (an unsaved buffer
through stdin too) and its ast; we hand back (line, col, message, type).

flake8 applies its own select / ignore / per-file-ignores / noqa to what we
yield; we add what it cannot know: [tool.cnnshape] in pyproject.toml, and
the rule that CNS100 is reported only where CNS1, CNS10 or CNS100 selects it."""
from __future__ import annotations

import ast
import gc
from typing import Callable, Iterator, List, Optional, Tuple

from . import __version__


def _analysis():
    """The analysis, imported on the first file that needs it: flake8 loads
    this module in every run, also on code that never mentions torch."""
    if _imported:
        return _imported[0]
    # The import makes many objects that live as long as the process: no
    # cyclic collection runs during it, and after it they are frozen (as
    # gc.freeze's docs advise for what a program sets up at its start), so
    # that no later collection walks them again; so are the trees of the
    # project's files once a file's analysis kept them (run(), after a
    # collection: no garbage is frozen). What flake8 holds at those moments is
    # frozen with them: its options and results, which live as long, and what
    # it still holds of the file being checked, which a collection could not
    # free later if it became a cycle (on pytorchcv's 180 files, 556 objects
    # were collectable at the end, against 3,920 with one freeze only).
    collecting = gc.isenabled()
    gc.disable()
    try:
        from .analysis import analyze
    finally:
        if collecting:
            gc.freeze()
            gc.enable()
    _imported.append(analyze)
    return analyze


_imported: list = []  # the analysis' entry, once imported


def _kept_trees() -> int:
    from .interp.project import kept_trees  # imported with the analysis

    return kept_trees()


class CnnShapeChecker:
    name = "flake8-cnnshape"
    version = __version__
    default_input: Optional[Tuple[int, ...]] = None
    chosen_in: Optional[Callable[[str], Callable[[str], bool]]] = None  # file -> code -> reported
    excluded: Optional[Callable[[str], bool]] = None  # by [tool.cnnshape]'s exclude

    def __init__(self, tree: ast.AST, lines: List[str], filename: str = ""):
        self.tree = tree
        self.lines = lines
        self.filename = filename  # the other files of its project it imports from are read from the disk

    @classmethod
    def add_options(cls, manager) -> None:
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
        from . import config
        from .selection import Selection

        try:
            settings = config.from_flake8(options)
            if not getattr(options, "isolated", False):
                start = config.start_folder(getattr(options, "filenames", None) or ["."],
                                            getattr(options, "stdin_display_name", "stdin"))
                _, pyproject = config.find(start)
                if pyproject is not None:
                    settings.fill(config.from_pyproject(pyproject))
        except config.ConfigError as e:
            _usage_error(manager, str(e))
        selection = Selection(settings)
        cls.default_input = settings.input
        cls.chosen_in = selection.for_file
        own_excludes = {"exclude", "extend-exclude"} & {k for k, v in settings.origin.items() if "tool.cnnshape" in v}
        cls.excluded = selection.excluded_file if own_excludes else None

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        text = "".join(self.lines)
        if "torch" not in text and "cnnshape" not in text:
            return
        if self.excluded is not None and self.filename and self.excluded(self.filename):
            return
        analyze = _analysis()
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        if self.chosen_in is None:  # not given options by flake8: its defaults
            from .selection import Decider

            chosen = Decider().chosen
        else:
            chosen = self.chosen_in(self.filename)
        kept = _kept_trees()
        findings = analyze(self.lines, tree, default_input=self.default_input, path=self.filename or None)
        if _kept_trees() != kept and gc.isenabled():
            # the trees of other files it read are kept for the process, as the
            # import's objects: frozen too, after a collection (of what little
            # the freezes left to walk) so that no garbage is frozen with them
            gc.collect()
            gc.freeze()
        for f in findings:
            if chosen(f.code):
                yield f.line, f.col, f.message, type(self)


def _usage_error(manager, message: str) -> None:
    """flake8's own way to refuse an option: its usage line, the message, exit 2."""
    parser = getattr(manager, "parser", None)
    if parser is not None:
        parser.error(message)
    raise SystemExit(f"flake8: error: {message}")
