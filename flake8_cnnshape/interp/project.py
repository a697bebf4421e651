"""The other files of the project that a file imports from. flake8 hands the
plugin one file; a model's base class or blocks often stand in another
(`from .blocks import BasicBlock`, `from models.base import BaseVAE`). Such a
file is read when the analysis meets a name it imports, parsed once per
process, and evaluated in the same interpreter, its line numbers moved past
FOREIGN_LINE (findings there are that file's, not this one's: they are
dropped). Bounded: MAX_FILES a file, MAX_LINES each; what cannot be read
stays unknown, as an import of a library does.
"""
from __future__ import annotations

import ast
import os
from typing import Dict, Optional, Tuple

from ..speed.index import file_index
from .names import ImportMap, module_imports

FOREIGN_LINE = 1_000_000  # the lines of the n-th file read are moved past n times this
MAX_FILES = 16  # other files read for one file's analysis
MAX_LINES = 10_000  # longest file read
MAX_UP = 6  # parent folders searched for the root of an absolute import
_CACHE_SIZE = 256
# our shape-equivalent sources of torchvision.models (zoo/__init__.py says why)
ZOO_INDEX = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zoo", "models.py")
ZOO_DIR = os.path.dirname(ZOO_INDEX)
ZOO_SUBMODULES = frozenset("resnet vgg squeezenet densenet mobilenet mobilenetv2 mobilenetv3 efficientnet inception googlenet "
                           "convnext vision_transformer shufflenetv2 mnasnet video".split())
# packages that are never the project's own: not looked for on the disk
EXTERNAL = frozenset(
    "torch torchvision torchaudio torchtext numpy np scipy PIL matplotlib sklearn pandas cv2 einops timm transformers "
    "os sys math re json time random copy logging pathlib typing collections functools itertools argparse dataclasses "
    "abc warnings pickle glob shutil subprocess io enum string inspect contextlib tqdm yaml h5py".split())

# path -> (mtime, size, (tree, index, imports) or None), for the whole process: a
# zoo's files are read by many files, and so are a project's common blocks. A
# kept tree would lengthen every later cyclic collection of flake8's: the
# plugin freezes the heap after a file whose analysis kept one (kept_trees)
_PARSED: Dict[str, Tuple[float, int, Optional[tuple]]] = {}
_KEPT = [0]  # trees kept so far
_OFFSETS: Dict[str, int] = {}  # path -> its line offset (the same in every analysis of the process)
_ZOO_OFFSETS: set = set()  # the offsets of the zoo's files


class Project:
    """Finds and reads the files a file imports from; `scope_of` makes a
    loaded file's module scope in the interpreter (machine.py)."""

    def __init__(self, path: Optional[str], scope_of):
        self.path = os.path.abspath(path) if path and os.path.isfile(path) else None
        self.scope_of = scope_of  # (path, tree, index, imports) -> its ModuleScope
        self.scopes: Dict[str, object] = {}  # path -> its ModuleScope, for this analysis
        self.found: Dict[tuple, Optional[str]] = {}  # (folder, module) -> the file, or None

    def module(self, qual: str, from_file: Optional[str]):
        """The module scope of the file a qualified module name stands for
        (`.blocks`, `models.blocks`), imported from from_file; None if not found."""
        where = from_file or self.path
        if where is None or len(self.scopes) >= MAX_FILES and qual not in self.scopes:
            return None
        if not os.path.isabs(where):  # flake8 run from a subfolder names the file from there: its parents are searched too
            where = os.path.abspath(where)
        level = len(qual) - len(qual.lstrip("."))
        parts = [p for p in qual[level:].split(".") if p]
        if not level and (not parts or parts[0] in EXTERNAL):
            return None
        if level:
            root = os.path.dirname(where)
            for _ in range(level - 1):
                root = os.path.dirname(root)
            roots = [root]
        else:
            roots = _ancestors(os.path.dirname(where))
        for root in roots:
            path = self._find(root, parts)
            if path is not None:
                return self._scope(path)
        return None

    def torchvision(self, qual: str, attribute):
        """`torchvision.models`, a submodule or a builder, read from our zoo;
        attribute(scope, name, qual) reads a name of a module."""
        from .values import UNKNOWN, ModuleRef

        module, _, attr = qual.rpartition(".")
        scope = self.zoo(module) if qual != "torchvision.models" else None
        v = attribute(scope, attr, qual) if scope is not None else UNKNOWN
        if v is UNKNOWN and (qual == "torchvision.models" or attr in ZOO_SUBMODULES):
            scope = self.zoo(qual)  # `torchvision.models.resnet`: a module
            return ModuleRef(scope, qual) if scope is not None else UNKNOWN
        return v

    def zoo(self, qual: str):
        """The zoo's module scope for `torchvision.models` (and its submodules)."""
        rest = qual.split(".")[2:]
        if any(part not in ZOO_SUBMODULES for part in rest):
            return None
        return self._scope(ZOO_INDEX)

    def _find(self, root: str, parts) -> Optional[str]:
        key = (root, tuple(parts))
        if key not in self.found:
            base = os.path.join(root, *parts) if parts else root
            found = None
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if parts and os.path.isfile(candidate):
                    found = candidate
                    break
            if not parts and os.path.isfile(os.path.join(root, "__init__.py")):
                found = os.path.join(root, "__init__.py")
            self.found[key] = found
        return self.found[key]

    def _scope(self, path: str):
        got = self.scopes.get(path)
        if got is None and path != self.path and (len(self.scopes) < MAX_FILES or path.startswith(ZOO_DIR)):
            loaded = load(path)
            if loaded is not None:
                got = self.scopes[path] = self.scope_of(path, *loaded)
        return got


def foreign_place(line: int) -> Optional[Tuple[str, int]]:
    """(the other file, its own line) of a line moved past FOREIGN_LINE; None for the file's own."""
    if line < FOREIGN_LINE:
        return None
    offset = line // FOREIGN_LINE * FOREIGN_LINE
    path = next((p for p, o in _OFFSETS.items() if o == offset), None)
    return (path, line - offset) if path is not None else None


def zoo_read() -> bool:
    """Has this process read a torchvision model of the zoo?"""
    return bool(_ZOO_OFFSETS)


def in_zoo(line: int) -> bool:
    """Is the line one of the zoo's (a torchvision model's own)?"""
    return line >= FOREIGN_LINE and line // FOREIGN_LINE * FOREIGN_LINE in _ZOO_OFFSETS


def _ancestors(folder: str):
    out = []
    for _ in range(MAX_UP):
        out.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return out


def load(path: str) -> Optional[Tuple[ast.Module, object, ImportMap]]:
    """(tree, index, imports) of a file, its lines moved past its offset;
    None when it cannot be read or parsed, or is too long."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    got = _PARSED.get(path)
    if got is not None and got[:2] == (st.st_mtime, st.st_size):
        return got[2]
    loaded = None
    try:
        with open(path, "rb") as f:
            source = f.read()
        if source.count(b"\n") <= MAX_LINES:
            tree = ast.parse(source)
            offset = _OFFSETS.setdefault(path, FOREIGN_LINE * (len(_OFFSETS) + 1))
            if path.startswith(ZOO_DIR):
                _ZOO_OFFSETS.add(offset)
            shift_lines(tree, offset)
            loaded = (tree, file_index(tree), module_imports(tree))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        loaded = None
    if len(_PARSED) >= _CACHE_SIZE:
        _PARSED.clear()
    _PARSED[path] = (st.st_mtime, st.st_size, loaded)
    _KEPT[0] += 1
    return loaded


def kept_trees() -> int:
    """How many trees the process has kept (it only grows)."""
    return _KEPT[0]


def shift_lines(tree: ast.AST, n: int) -> None:
    """ast.increment_lineno(tree, n), at half its cost: one pass over each
    node's own values, without the generator walk and the attribute lookups
    (a zoo family or a project's package is thousands of nodes)."""
    todo = [tree]
    pop, push, extend = todo.pop, todo.append, todo.extend
    while todo:
        node = pop()
        if node is None or type(node) is str:  # a list's hole (`{**x}`'s key, a kw_default) or a name (`global a`)
            continue
        d = node.__dict__
        for k, v in d.items():
            t = type(v)
            if t is list:
                extend(v)
            elif t is int:
                if k == "lineno" or k == "end_lineno":
                    d[k] = v + n
            elif isinstance(v, ast.AST):
                push(v)
