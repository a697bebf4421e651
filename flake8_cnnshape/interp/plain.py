"""Arithmetic and comparison on plain Python values, refusing what nobody
means as a size; when two values are the same value; and which exceptions
are Python refusing the analysed code rather than a bug of ours."""
from __future__ import annotations

import ast
import math
import operator
import re
import string

from ..shapes.shape import Shape
from ..shapes.signature import UNKNOWN
from .budget import MAX_BITS, MAX_SEQ
from .values import Tensor

# what Python raises when it refuses what the analysed code asks (a zero slice
# step, an int too large to index with): the evaluator makes the value unknown
REFUSED = (TypeError, ValueError, ArithmeticError, IndexError, KeyError, AttributeError)

_BAD_CALL = ("positional argument", "unexpected keyword argument", "required positional argument",
             "required keyword-only argument")


def our_call_failed(e: Exception) -> bool:
    """A TypeError of a Python function called with the wrong arguments: the
    analysis calls no Python function of the analysed code, so it is a bug of
    ours (builtins word their refusals otherwise: `expected at most 3 arguments`)."""
    return type(e) is TypeError and any(s in str(e) for s in _BAD_CALL)


BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.Pow: operator.pow, ast.Div: operator.truediv,
}
CMPOPS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
PLAIN = (int, float, str, bool, type(None))


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def plain(v) -> bool:
    """A Python value we can compute with (nested tuples/lists of constants).
    Shared inner lists are looked at once, and a value with more than MAX_SEQ
    items in all is not one anybody means as a size."""
    if isinstance(v, PLAIN):
        return True
    if not isinstance(v, (tuple, list)):
        return False
    seen, todo, count = set(), [v], 0
    while todo:
        item = todo.pop()
        if isinstance(item, PLAIN):
            continue
        if not isinstance(item, (tuple, list)):
            return False
        if id(item) in seen:
            continue
        seen.add(id(item))
        count += len(item)
        if count > MAX_SEQ:
            return False
        todo.extend(item)
    return True


_DIGITS = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%[^a-zA-Z%]*")


def spec_too_wide(spec: str) -> bool:
    """A format spec asking for a width or precision nobody means in a name:
    `{:>1000000000}` builds a gigabyte before its length can be looked at. A
    width taken from an argument (`*`, a nested `{}`) is not followed."""
    return "*" in spec or "{" in spec or any(len(d) > 5 or int(d) > MAX_SEQ for d in _DIGITS.findall(spec))


def template_too_wide(template: str, style: str) -> bool:
    """Any field of a `str.format` template (style "{}") or a %-template
    (style "%") whose spec is too wide; a template Python refuses is too."""
    if style == "%":
        return any(spec_too_wide(m.group()) for m in _PERCENT_SPEC.finditer(template))
    try:
        return any(spec and spec_too_wide(spec) for _, _, spec, _ in string.Formatter().parse(template))
    except ValueError:
        return True


def joined(op, a, b):
    """`[pool] + layers` of lists or tuples holding more than plain values
    (layers, tensors): a new sequence of the same objects; else unknown."""
    if type(op) is ast.Add and type(a) in (list, tuple) and type(b) is type(a) and len(a) + len(b) <= MAX_SEQ:
        return a + b
    return UNKNOWN


def safe_binop(op, a, b):
    """Arithmetic on constants, refusing results nobody means as a size."""
    if isinstance(op, ast.Pow):
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return UNKNOWN
        if is_int(a) and is_int(b):
            if b < 0 or (abs(a) > 1 and b * max(1, abs(a).bit_length()) > MAX_BITS):
                return UNKNOWN
        elif abs(b) > 64 or abs(a) > 2 ** 64:
            return UNKNOWN
    if isinstance(op, ast.Mult):
        if isinstance(a, (str, list, tuple)) or isinstance(b, (str, list, tuple)):
            seq, n = (a, b) if isinstance(a, (str, list, tuple)) else (b, a)
            if not is_int(n) or len(seq) * max(n, 0) > MAX_SEQ:
                return UNKNOWN
        elif is_int(a) and is_int(b) and a.bit_length() + b.bit_length() > MAX_BITS:
            return UNKNOWN
    if isinstance(op, ast.Add) and isinstance(a, (str, list, tuple)) and isinstance(b, type(a)):
        if len(a) + len(b) > MAX_SEQ:
            return UNKNOWN
    if isinstance(op, ast.Mod) and isinstance(a, str):
        # %-formatting of names (`'layer%d' % i`): plain values in, a short string out
        values = b if isinstance(b, tuple) else (b,)
        if len(a) > MAX_SEQ or template_too_wide(a, "%") or not all(type(v) in (int, float, str) for v in values):
            return UNKNOWN
    try:
        r = BINOPS[type(op)](a, b)
    except Exception:
        return UNKNOWN
    if isinstance(r, float) and not math.isfinite(r):
        return UNKNOWN
    if isinstance(r, str) and len(r) > MAX_SEQ:
        return UNKNOWN
    return r


def unknown_like(v):
    """What a value becomes when it is no longer known: a tensor stays a tensor."""
    return Tensor(Shape.unknown()) if isinstance(v, Tensor) else UNKNOWN


def join_vars(a: dict, b: dict, same=None) -> dict:
    """Two paths' values by name (a branch's sides, none or some passes of a
    loop): one both have and agree on stays, any other becomes unknown."""
    same = same or same_value
    # in a's order, then b's own names: an instance's attributes are its modules in the order torch registers them
    keys = list(a) + [k for k in b if k not in a]
    return {k: a[k] if k in a and k in b and same(a[k], b[k]) else unknown_like(a[k] if k in a else b[k]) for k in keys}


def same_value(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a.shape == b.shape
    if plain(a) and plain(b):
        return type(a) is type(b) and a == b
    return False
