"""Value objects without @dataclass.

A dataclass costs about a millisecond to create when its module is imported,
and every flake8 process that meets a torch file imports the analysis: the
twenty it had were a third of that import. These bases give what the
dataclasses gave: a repr that names the fields (Shown), and for value objects
equality and hash by field values too (Record, as @dataclass(frozen=True)).
Each class lists its fields in _fields and writes its own __init__.
"""
from __future__ import annotations

import reprlib
from typing import Tuple


class Shown:
    """Compared by identity; shown as Name(field=value, ...)."""

    __slots__ = ()
    _fields: Tuple[str, ...] = ()  # the fields the repr shows

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields) + ")"


class Record(Shown):
    """Equal, and hashed, by the values of its fields."""

    __slots__ = ()

    def _values(self) -> tuple:
        return tuple([getattr(self, n) for n in self._fields])

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())
