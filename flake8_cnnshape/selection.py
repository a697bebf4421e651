"""Which codes are reported, and which files checked, decided as flake8
decides them: select / ignore and their extend- forms (the longest prefix
wins where a code is both selected and ignored), per-file-ignores (the
longest pattern that matches the file), exclude / extend-exclude. One rule
of our own, flake8-bugbear's for its B9 codes: a code that is off by
default is reported only where a prefix at least as long as its family
selects it (CNS1, CNS10, CNS100; not CNS)."""
from __future__ import annotations

import fnmatch
import os
from typing import Callable, Optional, Sequence, Tuple

from .codes import BY_ID
from .config import FLAKE8_EXCLUDE as DEFAULT_EXCLUDE

DEFAULT_SELECT = ("CNS",)
DEFAULT_IGNORE = ("E121", "E123", "E126", "E226", "E24", "E704", "W503", "W504")  # flake8's; none of ours
# where no exclude is set: flake8's, and the folders of virtualenvs and builds
WALK_EXCLUDE = DEFAULT_EXCLUDE + (".venv", "venv", "env", ".env", "build", "dist", "node_modules", ".mypy_cache",
                                  ".pytest_cache", "site-packages", "*.egg-info")


def _sorted(codes) -> Tuple[str, ...]:
    return tuple(sorted(codes, reverse=True))


class Decider:
    """flake8's DecisionEngine, for our codes."""

    def __init__(self, select=None, ignore=None, extend_select=None, extend_ignore=None):
        self.explicit_select = _sorted([*(select or []), *(extend_select or [])])
        self.explicit_ignore = _sorted([*(ignore or []), *(extend_ignore or [])])
        self.select = _sorted([*(select if select is not None else DEFAULT_SELECT), *(extend_select or [])])
        self.ignore = _sorted([*(ignore if ignore is not None else DEFAULT_IGNORE), *(extend_ignore or [])])

    def chosen(self, code: str) -> bool:
        off = BY_ID.get(code)
        if off is not None and not off.on and not self._selected_by_family(code, off.family):
            return False
        return self._decide(code)

    def _selected_by_family(self, code: str, family: str) -> bool:
        return any(code.startswith(s) and len(s) >= len(family) for s in self.explicit_select)

    def _decide(self, code: str) -> bool:
        selected = "explicit" if code.startswith(self.explicit_select) else "implicit" if code.startswith(self.select) else None
        ignored = "explicit" if code.startswith(self.explicit_ignore) else "implicit" if code.startswith(self.ignore) else None
        if ignored is None:
            return selected is not None
        if selected is None:
            return False
        if selected != ignored:  # an explicit choice beats an implicit one
            return selected == "explicit"
        longest_select = next(s for s in self.select if code.startswith(s))
        longest_ignore = next(i for i in self.ignore if code.startswith(i))
        return len(longest_select) > len(longest_ignore)


def matches(path: str, patterns: Sequence[str]) -> bool:
    """flake8's rule: a pattern matches the file's name or its absolute path."""
    if not patterns:
        return False
    base = os.path.basename(path)
    if base not in (".", "..") and any(fnmatch.fnmatch(base, p) for p in patterns):
        return True
    absolute = os.path.abspath(path)
    return any(fnmatch.fnmatch(absolute, p) for p in patterns)


def normalize(pattern: str, base: str) -> str:
    """A pattern with a folder in it is taken from base, as flake8 takes it."""
    if pattern == "." or os.sep in pattern or (os.altsep and os.altsep in pattern):
        pattern = os.path.abspath(os.path.join(base, pattern))
    return pattern.rstrip(os.sep + (os.altsep or ""))


class Selection:
    """The run's choices, per file."""

    def __init__(self, settings):
        self.settings = settings
        self.decider = Decider(settings.select, settings.ignore, settings.extend_select, settings.extend_ignore)
        base = settings.base.get("per-file-ignores", os.getcwd())
        self.per_file = [(normalize(p, base), codes) for p, codes in settings.per_file_ignores or []]
        self._deciders = {}
        exclude_base = settings.base.get("exclude", os.getcwd())
        extend_base = settings.base.get("extend-exclude", os.getcwd())
        exclude = WALK_EXCLUDE if settings.exclude is None else [normalize(p, exclude_base) for p in settings.exclude]
        self.exclude = list(exclude) + [normalize(p, extend_base) for p in settings.extend_exclude or []]

    def for_file(self, path: Optional[str]) -> Callable[[str], bool]:
        """code -> reported, in this file: its per-file-ignores added to ignore."""
        pattern, codes = max(((p, c) for p, c in self.per_file if path and matches(path, [p])),
                             key=lambda pc: len(pc[0]), default=(None, None))
        if pattern is None:
            return self.decider.chosen
        if pattern not in self._deciders:
            s = self.settings
            self._deciders[pattern] = Decider(s.select, s.ignore, s.extend_select, [*(s.extend_ignore or []), *codes])
        return self._deciders[pattern].chosen

    def excluded(self, path: str) -> bool:
        return matches(path, self.exclude)

    def excluded_file(self, path: str) -> bool:
        """A file flake8 hands the plugin is left out where a walk from the
        current folder would have left it or a folder above it."""
        rel = os.path.relpath(os.path.abspath(path))
        if rel.startswith(os.pardir):
            return self.excluded(path)
        parts = rel.split(os.sep)
        return any(self.excluded(os.path.join(*parts[: i + 1])) for i in range(len(parts)))
