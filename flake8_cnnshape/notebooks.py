"""Jupyter notebooks (.ipynb, nbformat 4) as one Python source: the code
cells in order, each line of IPython's own (`%magic`, `%%cell magic`,
`!shell`, `obj?`) made a comment that stands in for it, so that line
numbers hold; every place maps back to its cell and line, as nbqa reports
them (`nb.ipynb:cell_2:3:5`, code cells counted from 1). A fixed source is
put back into the cells, the stand-ins given back their lines."""
from __future__ import annotations

import json
import re
import secrets
from typing import Dict, List, Optional, Tuple

# cell magics whose body is Python (nbqa's list): only their first line is IPython's
PYTHON_CELL_MAGICS = frozenset(("time", "timeit", "capture", "pypy", "python", "python3", "prun"))
_HELP = re.compile(r"^[\w.]+\?{1,2}$")  # `model?`, `nn.Conv2d??`


class NotebookError(ValueError):
    """Not a notebook this can read."""


def _ipython_lines(lines: List[str]) -> List[bool]:
    """For each line of a cell, whether it is IPython's rather than Python's."""
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        if first[2:].split()[0:1] and first[2:].split()[0] not in PYTHON_CELL_MAGICS:
            return [True] * len(lines)  # %%bash, %%html...: no Python in it
        return [True] + [_line_magic(line) for line in lines[1:]]
    return [_line_magic(line) for line in lines]


def _line_magic(line: str) -> bool:
    s = line.strip()
    return s.startswith(("%", "!")) or bool(_HELP.match(s))


def _cell_lines(source) -> List[str]:
    text = "".join(source) if isinstance(source, list) else str(source)
    return text.splitlines(keepends=True)


class Notebook:
    def __init__(self, text: str, name: str):
        try:
            self.data = json.loads(text)
        except json.JSONDecodeError as e:
            raise NotebookError(f"{name}: not a notebook: its JSON cannot be read ({e.msg} at line {e.lineno})") from None
        cells = self.data.get("cells") if isinstance(self.data, dict) else None
        if not isinstance(cells, list):
            raise NotebookError(f"{name}: not a notebook of nbformat 4 (no list of cells)")
        self.text = text
        self.token = secrets.token_hex(4)  # stand-ins no cell holds
        self.lines: List[str] = []
        self.places: List[Tuple[int, int]] = []  # combined line - 1 -> (code cell, its line; 0 for the separator)
        self.stand_ins: Dict[str, str] = {}
        self.code_cells: List[dict] = []
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                self._add(cell)

    def _add(self, cell: dict) -> None:
        number = len(self.code_cells) + 1
        self.code_cells.append(cell)
        self.lines.append(self._separator(number))
        self.places.append((number, 0))
        lines = _cell_lines(cell.get("source", ""))
        for k, (line, ipython) in enumerate(zip(lines, _ipython_lines(lines)), 1):
            if ipython:
                stand_in = f"# nb-{self.token}-{len(self.stand_ins)}"
                self.stand_ins[stand_in] = line.rstrip("\r\n")
                line = stand_in
            self.lines.append(line if line.endswith("\n") else line + "\n")
            self.places.append((number, k))

    def _separator(self, number: int) -> str:
        return f"# nb-{self.token}-cell-{number}\n"

    def place(self, line: int) -> Tuple[Optional[int], int]:
        """(code cell, line in it) of a line of the combined source."""
        if 0 < line <= len(self.places):
            return self.places[line - 1]
        return None, line

    def at(self, line: int) -> str:
        """A line as messages name it: `cell_2:5`."""
        return "cell_{}:{}".format(*self.place(line))

    def cell_lines_in(self, tables: List[dict], text: bool) -> None:
        """show's tables with their lines as the notebook's: `cell_2:5` in
        text, a line and its cell in JSON. A stop in another file keeps its line."""
        for table in tables:
            for row in table["layers"] + [s for s in table.get("stops", []) if not s.get("file")]:
                if row.get("line") is None:
                    continue
                cell, line = self.place(row["line"])
                if text:
                    row["line"] = f"cell_{cell}:{line}"
                else:
                    row["line"], row["cell"] = line, cell

    def cell_sources(self, text: str) -> List[List[str]]:
        """Each code cell's lines in a rewritten combined source."""
        cells: List[List[str]] = []
        for line in text.splitlines(keepends=True):
            if line.startswith(f"# nb-{self.token}-cell-"):
                cells.append([])
            elif cells:
                stand_in = line.strip()
                cells[-1].append(self.stand_ins.get(stand_in, line.rstrip("\r\n")) + "\n" if stand_in in self.stand_ins
                                 else line)
        return cells

    def rewritten(self, text: str) -> str:
        """The notebook's JSON with the code cells of the combined source
        `text`, written as it was (indent, key order, last newline)."""
        for cell, lines in zip(self.code_cells, self.cell_sources(text)):
            old = cell.get("source", "")
            joined = "".join(lines)
            if not "".join(old if isinstance(old, list) else [old]).endswith("\n"):
                joined = joined[:-1] if joined.endswith("\n") else joined
            cell["source"] = joined.splitlines(keepends=True) if isinstance(old, list) else joined
        indent = re.match(r"\{\s*\n( *)", self.text)
        out = json.dumps(self.data, indent=len(indent.group(1)) if indent else 1, ensure_ascii=False)
        return out + ("\n" if self.text.endswith("\n") else "")

    def cell_text(self, number: int, text: Optional[str] = None) -> List[str]:
        """A code cell's lines: as they are, or as in a rewritten source."""
        if text is None:
            return _cell_lines(self.code_cells[number - 1].get("source", ""))
        lines = self.cell_sources(text)[number - 1]
        return lines
