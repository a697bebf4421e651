"""The mechanisms that make the analysis fast, each behind one switch:

* index: one hand-tuned walk of the tree collects what the later steps look
  up (off: the plain recursive walk that defines what it must find);
* build_cache: a class built with the same arguments again is a copy of the
  first build while nothing in it has changed (off: every build runs __init__);
* replay: a block copied by the build cache, called again in a run with the
  same input shape, gives what its first call did (off: every call runs forward()).

None changes what the analysis reports; tests/test_speed.py runs the
fixtures and generated models with each off and compares.
"""
from __future__ import annotations

from contextlib import contextmanager

SWITCHES = {"index": True, "build_cache": True, "replay": True}


@contextmanager
def off(*names: str):
    """The analyses started inside run without these mechanisms."""
    saved = dict(SWITCHES)
    for name in names:
        if name not in SWITCHES:
            raise KeyError(name)
        SWITCHES[name] = False
    try:
        yield
    finally:
        SWITCHES.update(saved)
