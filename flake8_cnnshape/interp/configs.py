"""Config objects whose fields are written in the file: an argparse parser's
defaults (what the script gets when run without options), a namedtuple's
fields, a dataclass's. Their values stand for the config the model is built
with; a field nobody gives a literal for is unknown."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional

from ..shapes.signature import UNKNOWN
from .plain import plain
from .values import Config, NamedTupleType

_ACTION_DEFAULTS = {"store_true": False, "store_false": True, "count": None}


class ArgParser:
    """argparse.ArgumentParser, as far as its arguments' defaults go."""

    __slots__ = ("fields",)

    def __init__(self):
        self.fields: Dict[str, object] = {}

    def add_argument(self, args, kwargs) -> None:
        flags = [a for a in args if type(a) is str]
        if len(flags) != len(args) or not flags:
            return
        longs = [f for f in flags if f.startswith("--")]
        dest = kwargs.get("dest")
        if type(dest) is not str:
            name = longs[0] if longs else flags[0]
            if not name.startswith("-"):
                self.fields[name] = UNKNOWN  # a positional argument: the user must give it
                return
            dest = name.lstrip("-").replace("-", "_")
        self.fields[dest] = _default(kwargs)

    def set_defaults(self, kwargs) -> None:
        self.fields.update(kwargs)

    def parse(self) -> Config:
        return Config(dict(self.fields))


def _default(kwargs):
    """The value an option has when the script runs without it."""
    if kwargs.get("required") is True:
        return UNKNOWN
    action = kwargs.get("action")
    if "default" not in kwargs:
        return _ACTION_DEFAULTS.get(action, None) if action is None or type(action) is str else UNKNOWN
    default = kwargs["default"]
    kind = kwargs.get("type")
    if type(default) is str and kind is not None:
        name = getattr(kind, "name", None)  # the builtin int / float
        try:
            default = {"int": int, "float": float}[name](default)
        except (KeyError, ValueError):
            return UNKNOWN
    return default if plain(default) else UNKNOWN


def namedtuple_type(args, kwargs) -> object:
    """collections.namedtuple("Params", "a b c") or (..., ["a", "b"])."""
    if len(args) != 2 or type(args[0]) is not str or set(kwargs) - {"defaults"}:
        return UNKNOWN
    fields = args[1].replace(",", " ").split() if type(args[1]) is str else args[1]
    if not isinstance(fields, (list, tuple)) or not all(type(f) is str and f.isidentifier() for f in fields):
        return UNKNOWN
    defaults = kwargs.get("defaults", ())
    if not isinstance(defaults, (list, tuple)) or len(defaults) > len(fields):
        return UNKNOWN
    return NamedTupleType(args[0], tuple(fields), tuple(defaults))


def bind_fields(fields: List[str], defaults: Dict[str, object], args, kwargs) -> Optional[Dict[str, object]]:
    """Fields bound to arguments as a generated __init__ binds them; None
    where Python would raise."""
    if len(args) > len(fields) or set(kwargs) - set(fields):
        return None
    out = dict(zip(fields, args))
    for name in fields[len(args):]:
        if name in kwargs:
            out[name] = kwargs[name]
        elif name in defaults:
            out[name] = defaults[name]
        else:
            return None
    return out


def make_namedtuple(t: NamedTupleType, args, kwargs):
    defaults = dict(zip(t.fields[len(t.fields) - len(t.defaults):], t.defaults))
    got = bind_fields(list(t.fields), defaults, args, kwargs)
    return UNKNOWN if got is None else Config(got)


def dataclass_fields(cls_node: ast.ClassDef) -> Optional[List[ast.AnnAssign]]:
    """The fields of a class decorated @dataclass (its annotated names, in
    order), or None when it is no dataclass."""
    def named(d) -> bool:
        d = d.func if isinstance(d, ast.Call) else d
        return isinstance(d, ast.Name) and d.id == "dataclass" or isinstance(d, ast.Attribute) and d.attr == "dataclass"

    if not any(named(d) for d in cls_node.decorator_list):
        return None
    return [s for s in cls_node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]


def parsed_defaults(ev, value: ast.Call, scope):
    """`opt = parser.parse_args()` at module level (ev: the Evaluator): the
    statements that add the parser's arguments are never run one by one
    (module names are worked out on first use), so they are read from the
    module's body, those that stand before it."""
    parser_name = value.func.value.id
    given = [ev.eval(a, scope) for a in value.args] + [ev.eval(k.value, scope) for k in value.keywords]
    if given and given != [[]]:
        return UNKNOWN  # parsed from arguments the file gives: not the defaults
    parser = ArgParser()
    for stmt in ev.module_body:
        node = stmt.value if type(stmt) in (ast.Expr, ast.Assign) else None
        func = node.func if type(node) is ast.Call else None
        if (stmt.lineno < value.lineno and type(func) is ast.Attribute and type(func.value) is ast.Name
                and func.value.id == parser_name and func.attr in ("add_argument", "set_defaults")):
            args = [ev.eval(a, scope) for a in node.args if type(a) is not ast.Starred]
            kwargs = {k.arg: ev.eval(k.value, scope) for k in node.keywords if k.arg is not None}
            if func.attr == "add_argument":
                parser.add_argument(args, kwargs)
            else:
                parser.set_defaults(kwargs)
    config = parser.parse()
    return config if value.func.attr == "parse_args" else (config, [])
