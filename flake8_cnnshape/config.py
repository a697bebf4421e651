"""The one configuration both faces read: the [flake8] section of setup.cfg,
tox.ini or .flake8 (flake8's own files) and [tool.cnnshape] in
pyproject.toml, each the nearest found upward from the folder of the files
checked. The command line wins, then [flake8], then [tool.cnnshape], key by
key. flake8 reads its own section itself and never pyproject.toml: the
plugin takes what [tool.cnnshape] adds (plugin.py)."""
from __future__ import annotations

import configparser
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

INI_FILES = ("setup.cfg", "tox.ini", ".flake8")  # flake8's order of search
LISTS = ("select", "ignore", "extend-select", "extend-ignore", "exclude", "extend-exclude")
KEYS = ("input",) + LISTS + ("per-file-ignores", "disable-noqa")
# [flake8] names our own option with the plugin's prefix; flake8 takes _ for - too
INI_NAMES = {"cnnshape-input": "input", **{k: k for k in KEYS if k != "input"}}
FLAKE8_OPTIONS = "flake8's options"
FLAKE8_EXCLUDE = (".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs", "*.egg")  # its default
CODE_PREFIX = re.compile(r"^[A-Z]{1,3}[0-9]{0,3}$")  # flake8's rule for a code or a prefix of one
_PER_FILE_TOKEN = re.compile(r"(?P<code>[A-Z]+[0-9]*(?=$|\s|,))|(?P<file>[^\s:,]+)|(?P<colon>\s*:\s*)|(?P<sep>[\s,]+)")


class ConfigError(Exception):
    """A setting that cannot be read: a usage error, said once per run."""


class Settings:
    """The values that decide a run; None where nothing sets the key."""

    ATTRS = tuple(k.replace("-", "_") for k in KEYS)
    __slots__ = ATTRS + ("origin", "base")

    def __init__(self):
        for attr in self.ATTRS:
            setattr(self, attr, None)
        self.origin: Dict[str, str] = {}  # key -> where its value was set
        self.base: Dict[str, str] = {}  # key -> the folder its paths are relative to

    def get(self, key: str):
        return getattr(self, key.replace("-", "_"))

    def fill(self, other: "Settings") -> "Settings":
        """Keys this leaves unset take other's values."""
        for key in KEYS:
            if self.get(key) is None and other.get(key) is not None:
                setattr(self, key.replace("-", "_"), other.get(key))
                self.origin[key] = other.origin.get(key, "")
                self.base[key] = other.base.get(key, os.getcwd())
        return self


def start_folder(paths: Sequence[str], stdin_name: str = "stdin") -> str:
    """Where the search for the configuration starts: the folder holding all
    the files named (the current one for stdin without a file's name)."""
    folders = []
    for p in paths or ["."]:
        if p == "-":
            p = stdin_name if os.path.exists(stdin_name) else "."
        p = os.path.abspath(p)
        folders.append(p if os.path.isdir(p) else os.path.dirname(p))
    try:
        return os.path.commonpath(folders)
    except ValueError:  # paths on different drives
        return os.getcwd()


def _upward(start: str):
    """start and the folders above it, up to and without the home folder, as flake8 searches."""
    home = os.path.expanduser("~")
    path = start
    while True:
        yield path
        parent = os.path.dirname(path)
        if parent == path or parent == home:
            return
        path = parent


def find(start: str) -> Tuple[Optional[str], Optional[str]]:
    """The nearest flake8 file with a [flake8] section, and the nearest
    pyproject.toml with a [tool.cnnshape] table, looking upward from start."""
    ini = pyproject = None
    for folder in _upward(start):
        if ini is None:
            ini = next((os.path.join(folder, n) for n in INI_FILES if _has_flake8(os.path.join(folder, n))), None)
        if pyproject is None:
            candidate = os.path.join(folder, "pyproject.toml")
            if os.path.isfile(candidate) and "[tool.cnnshape" in _text(candidate):
                pyproject = candidate
        if ini and pyproject:
            break
    return ini, pyproject


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return ""


def _has_flake8(path: str) -> bool:
    return os.path.isfile(path) and "flake8" in _text(path) and "flake8" in _ini(path)


def _ini(path: str) -> configparser.RawConfigParser:
    cfg = configparser.RawConfigParser()
    try:
        cfg.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        pass  # flake8 skips an unparseable file in its search too
    return cfg


def from_ini(path: str) -> Settings:
    """Our keys of a [flake8] section, written as flake8 takes them."""
    section = _ini(path)["flake8"]
    values = {}
    for name, value in section.items():
        key = INI_NAMES.get(name.replace("_", "-"))
        if key is not None:
            values[key] = value
    return _settings(values, f"[flake8] of {path}", os.path.dirname(os.path.abspath(path)))


def from_pyproject(path: str) -> Settings:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f).get("tool", {}).get("cnnshape", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot be read: {e}") from None
    where = f"[tool.cnnshape] of {path}"
    unknown = sorted(k for k in table if k not in KEYS)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in {where} (the keys: {', '.join(KEYS)})")
    return _settings(table, where, os.path.dirname(os.path.abspath(path)))


def from_flake8(options) -> Settings:
    """What flake8 parsed from its command line and its own config file;
    a key left at flake8's default is unset here."""
    values = {}
    for key in KEYS:
        value = getattr(options, "cnnshape_input" if key == "input" else key.replace("-", "_"), None)
        if value in (None, "", [], False) or (key == "exclude" and tuple(value) == FLAKE8_EXCLUDE):
            continue
        values[key] = value
    return _settings(values, FLAKE8_OPTIONS, os.getcwd())


def from_command_line(values: Dict[str, object]) -> Settings:
    return _settings({k: v for k, v in values.items() if v is not None}, "the command line", os.getcwd())


def _settings(values: Dict[str, object], where: str, base: str) -> Settings:
    s = Settings()
    for key, value in values.items():
        setattr(s, key.replace("-", "_"), _value(key, value, where))
        s.origin[key], s.base[key] = where, base
    return s


def _label(key: str, value, where: str) -> str:
    """How a message names the setting: as the user wrote it."""
    if where == "the command line":
        return f"argument --{key}"
    name = "cnnshape-input" if key == "input" and "flake8" in where else key
    shown = value if isinstance(value, str) else ",".join(map(str, value)) if isinstance(value, list) else repr(value)
    return f"{name} = {shown}" + ("" if where == FLAKE8_OPTIONS else f" in {where}")


def _value(key: str, value, where: str):
    label = _label(key, value, where)
    if key == "input":
        return _input(value, label)
    if key == "disable-noqa":
        word = str(value).strip().lower()
        if isinstance(value, bool) or word in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value if isinstance(value, bool) else word in ("1", "true", "yes", "on")
        raise ConfigError(f"{label}: not true or false")
    if key == "per-file-ignores":
        pairs = per_file_ignores(value, label)
        for _, codes in pairs:
            _check_codes(codes, label)
        return pairs
    items = comma_list(value, label)
    if key in ("select", "ignore", "extend-select", "extend-ignore"):
        _check_codes(items, label)
    return items


def _input(value, label: str):
    from .models.pragma import parse_value

    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    dims, error = parse_value(str(value), example="3,224,224")
    if error is not None:
        raise ConfigError(f"{label}: {error}")
    return dims


def comma_list(value, name: str) -> List[str]:
    """flake8's comma- or space-separated list; TOML may give a list."""
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name}: a list of strings is needed")
        value = ",".join(value)
    if not isinstance(value, str):
        raise ConfigError(f"{name}: a string or a list of strings is needed")
    return [item.strip() for item in re.split(r"[,\s]", value) if item.strip()]


def _check_codes(codes: List[str], label: str) -> None:
    for code in codes:
        if not CODE_PREFIX.match(code):
            raise ConfigError(f"{label}: {code!r} is not a code or a prefix of one (like CNS001, CNS1 or CNS)")


def per_file_ignores(value, name: str) -> List[Tuple[str, List[str]]]:
    """`pattern ...: code ...` pairs as flake8 reads them, or a TOML table
    of pattern -> codes."""
    if isinstance(value, dict):
        return [(pattern, comma_list(codes, name)) for pattern, codes in value.items()]
    if not isinstance(value, str):
        raise ConfigError(f"{name}: a string or a table of patterns is needed")
    pairs: List[Tuple[str, List[str]]] = []
    files: List[str] = []
    codes: List[str] = []
    after_colon = False
    for m in _PER_FILE_TOKEN.finditer(value):
        kind = m.lastgroup
        if kind == "sep":
            continue
        if kind == "colon" and not after_colon and files:
            after_colon = True
        elif kind == "file" and not after_colon:
            files.append(m.group())
        elif kind == "code" and after_colon:
            codes.append(m.group())
        elif kind == "file":  # the next patterns begin
            pairs += [(f, codes) for f in files] if codes else []
            files, codes, after_colon = [m.group()], [], False
        else:
            raise ConfigError(f"{name}: expected patterns, a colon and codes (`tests/*.py: CNS001, CNS002`)")
    return pairs + ([(f, codes) for f in files] if codes else [])


def load(start: str, command_line: Dict[str, object], isolated: bool = False) -> Settings:
    """The settings of a run: the command line's, then the files' found from start."""
    settings = from_command_line(command_line)
    if isolated:
        return settings
    ini, pyproject = find(start)
    if ini is not None:
        settings.fill(from_ini(ini))
    if pyproject is not None:
        settings.fill(from_pyproject(pyproject))
    return settings
