"""The one place the interpreter changes a value in place, and the one table
of the methods that do (list.append, dict.update, a container's add_module).

Every change goes through Mutations, which notes it on one clock before
making it: the build cache copies a kept build only while nothing in it has
changed since it was built (speed/build_cache.py), so a change made anywhere
else would be a copy of something that no longer is. A method that changes
its object and is not followed exactly leaves the object unknown (poisoned):
never as it was before the call.
"""
from __future__ import annotations

from typing import Callable, Dict

from ..shapes.signature import UNKNOWN
from .budget import MAX_SEQ, OutOfBudget
from .plain import is_int, plain, same_value, unknown_like
from .values import CONTAINERS, POISON, Instance, Layer, Tensor, known_position, unknown_length


class Mutations:
    __slots__ = ("clock", "changed")

    def __init__(self):
        self.clock = 0
        self.changed: Dict[int, int] = {}  # id of each object changed in place -> when, last

    def note(self, obj) -> None:
        """obj (an instance, a container, a list or dict) is about to change in place."""
        self.clock += 1
        self.changed[id(obj)] = self.clock

    # -- attributes ----------------------------------------------------------
    def set_attr(self, inst: Instance, name: str, value) -> None:
        self.clock += 1  # note(), inlined: every `self.x = ...` of every __init__ comes here
        self.changed[id(inst)] = self.clock
        inst.attrs[name] = value
        if type(value) is Layer and value.kind in CONTAINERS:
            value.owner = (inst.cls, name)

    def set_attrs(self, inst: Instance, attrs: dict) -> None:
        """All of them at once (one side of a branch begins, or they are joined)."""
        self.note(inst)
        inst.attrs = attrs

    def forget_attrs(self, inst: Instance) -> None:
        """An attribute changed whose name is unknown: any of them may have."""
        self.note(inst)
        inst.attrs = {k: unknown_like(v) for k, v in inst.attrs.items()}
        inst.complete = False

    # -- items ---------------------------------------------------------------
    def set_item(self, obj, key, value) -> bool:
        """obj[key] = value; False where it is no object whose items we follow."""
        if isinstance(obj, dict) and isinstance(key, (str, int)):
            self.note(obj)
            obj[key] = value
            return True
        if isinstance(obj, list) and is_int(key) and known_position(obj, key):
            self.note(obj)
            obj[key] = value
            return True
        if isinstance(obj, Layer) and obj.kind in CONTAINERS:
            self.note(obj)
            if obj.children is not None and is_int(key) and -len(obj.children) <= key < len(obj.children):
                obj.children[key] = value
            elif obj.kind == "ModuleDict" and obj.items is not None and isinstance(key, str):
                obj.items[key] = value
            else:
                _poison(obj)
            return True
        return False

    def del_item(self, obj, key) -> None:
        """del obj[key]: exact for a position in a list or container, else the
        object becomes unknown."""
        seq = obj.children if isinstance(obj, Layer) else obj if isinstance(obj, list) else None
        if seq is not None and is_int(key) and known_position(seq, key):
            self.note(obj)
            del seq[key]
        elif isinstance(obj, (Layer, list, dict)):
            self.poison(obj)

    def extend(self, lst: list, items: list) -> bool:
        """`layers += [...]`; False when the list would grow past MAX_SEQ."""
        if len(lst) + len(items) > MAX_SEQ:
            return False
        self.note(lst)
        lst.extend(items)
        return True

    # -- whole contents ------------------------------------------------------
    def poison(self, box) -> None:
        self.note(box)
        _poison(box)

    def restore(self, box, contents) -> None:
        """Set a list, dict or container back to what contents() read off it."""
        self.note(box)
        if isinstance(box, Layer):
            box.children = None if contents[0] is None else list(contents[0])
            box.items = None if contents[1] is None else dict(contents[1])
            box.repeat = None if contents[2] is None else list(contents[2])
        elif isinstance(box, list):
            box[:] = contents
        else:
            box.clear()
            box.update(contents)

    # -- methods -------------------------------------------------------------
    def call(self, obj, name: str, args: list, kwargs: dict, iterate: Callable):
        """A method of MUTATORS called on a list, dict or container: its
        result; anything not followed exactly poisons the object."""
        table = _LIST if type(obj) is list else _DICT if type(obj) is dict else _CONTAINER
        handler = table.get(name)
        self.note(obj)
        got = handler(obj, args, kwargs, iterate) if handler is not None and (not kwargs or name == "update") else _NOT_FOLLOWED
        if got is _NOT_FOLLOWED:
            _poison(obj)
            return UNKNOWN
        return got


def contents(box):
    """What a list, dict or container holds now, for restore()."""
    if isinstance(box, Layer):
        return (list(box.children) if box.children is not None else None, dict(box.items) if box.items is not None else None,
                list(box.repeat) if box.repeat is not None else None)
    return list(box) if isinstance(box, list) else dict(box)


class Snapshot:
    """What a side of a branch or a pass of a loop may change: a scope's
    values, the attributes of the instances among them, the lists and
    containers they hold. Taken again after (the same instances and boxes),
    and set back."""

    __slots__ = ("vars", "selves", "attrs", "boxes", "held")

    def __init__(self, scope, selves=None, boxes=None):
        self.vars = dict(scope.vars)
        self.selves = [v for v in self.vars.values() if type(v) is Instance] if selves is None else selves
        self.attrs = [dict(i.attrs) for i in self.selves]
        self.boxes = boxes_in(list(self.vars.values()) + [v for a in self.attrs for v in a.values()]) if boxes is None else boxes
        self.held = [contents(b) for b in self.boxes]

    def again(self, scope) -> "Snapshot":
        return Snapshot(scope, self.selves, self.boxes)

    def restore(self, mutation: Mutations, scope) -> None:
        scope.vars = dict(self.vars)
        for inst, attrs in zip(self.selves, self.attrs):
            mutation.set_attrs(inst, dict(attrs))
        for box, held in zip(self.boxes, self.held):
            mutation.restore(box, held)


def boxes_in(values) -> list:
    """Lists, dicts and layer containers reachable from these values (two levels)."""
    seen, out = set(), []
    todo = [(v, 0) for v in values]
    while todo:
        v, level = todo.pop()
        if id(v) in seen:
            continue
        if isinstance(v, (list, dict)) or (isinstance(v, Layer) and (v.children is not None or v.items is not None)):
            seen.add(id(v))
            out.append(v)
            if level < 2:
                inner = v.values() if isinstance(v, dict) else (v if isinstance(v, list) else (v.children or []))
                todo.extend((e, level + 1) for e in list(inner))
    return out


def same_contents(a, b) -> bool:
    if isinstance(a, tuple):
        return all(same_contents(x, y) if x is not None and y is not None else x is y for x, y in zip(a, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(x is y or same_value(x, y) for x, y in zip(a, b))
    return a.keys() == b.keys() and all(a[k] is b[k] or same_value(a[k], b[k]) for k in a)


def _poison(box) -> None:
    if isinstance(box, Layer):
        box.children = None
        box.items = None
        box.repeat = None
    elif isinstance(box, list):
        box[:] = [POISON]
    else:
        box.clear()
        box["__unknown__"] = UNKNOWN


_NOT_FOLLOWED = object()


def _known(lst: list) -> bool:
    return not unknown_length(lst)


def _equal(a, b):
    """a == b as Python decides it, or None when we cannot tell: modules
    compare by identity, plain values by value."""
    if a is b:
        return True
    if plain(a) and plain(b):
        return a == b
    kinds = (Layer, Instance)
    if (isinstance(a, kinds) and not isinstance(b, Tensor) and b is not UNKNOWN
            or isinstance(b, kinds) and not isinstance(a, Tensor) and a is not UNKNOWN):
        custom = [v for v in (a, b) if isinstance(v, Instance) and v.cls.lookup("__eq__") is not None]
        return None if custom else False
    return None


def _index(lst: list, args) -> object:
    """The position pop() takes, or None."""
    if not args:
        return len(lst) - 1 if lst else None
    i = args[0]
    return i if len(args) == 1 and is_int(i) and -len(lst) <= i < len(lst) else None


# -- lists -------------------------------------------------------------------
def _list_append(lst, args, kwargs, iterate):
    if len(args) != 1:
        return _NOT_FOLLOWED
    if len(lst) >= MAX_SEQ:
        raise OutOfBudget()
    lst.append(args[0])
    return None


def _list_extend(lst, args, kwargs, iterate):
    items = iterate(args[0]) if len(args) == 1 else UNKNOWN
    if items is UNKNOWN or len(lst) + len(items) > MAX_SEQ:
        return _NOT_FOLLOWED
    lst.extend(items)
    return None


def _list_insert(lst, args, kwargs, iterate):
    if len(args) != 2 or not is_int(args[0]) or not _known(lst) and not (args[0] >= 0 and known_position(lst, args[0])):
        return _NOT_FOLLOWED
    lst.insert(args[0], args[1])
    return None


def _list_pop(lst, args, kwargs, iterate):
    i = _index(lst, args) if _known(lst) else None
    return _NOT_FOLLOWED if i is None else lst.pop(i)


def _list_remove(lst, args, kwargs, iterate):
    if len(args) != 1 or not _known(lst):
        return _NOT_FOLLOWED
    for i, e in enumerate(lst):
        same = _equal(e, args[0])
        if same is None:
            return _NOT_FOLLOWED
        if same:
            del lst[i]
            return None
    return _NOT_FOLLOWED  # Python raises ValueError


def _list_clear(lst, args, kwargs, iterate):
    if args:
        return _NOT_FOLLOWED
    lst.clear()
    return None


def _list_reverse(lst, args, kwargs, iterate):
    if args or not _known(lst):
        return _NOT_FOLLOWED
    lst.reverse()
    return None


def _list_sort(lst, args, kwargs, iterate):
    if args or not all(type(e) in (int, float, str) for e in lst):
        return _NOT_FOLLOWED
    try:
        lst.sort()
    except TypeError:
        return _NOT_FOLLOWED
    return None


# -- dicts -------------------------------------------------------------------
def _dict_known(d: dict) -> bool:
    return "__unknown__" not in d


def _key(k) -> bool:
    return isinstance(k, (str, int)) and not isinstance(k, bool)


def _dict_update(d, args, kwargs, iterate):
    if len(args) > 1 or not _dict_known(d):
        return _NOT_FOLLOWED
    new = dict(args[0]) if args and type(args[0]) is dict else {} if not args else None
    if new is None or not all(_key(k) for k in new) or not _dict_known(new):
        return _NOT_FOLLOWED
    new.update(kwargs)
    d.update(new)
    return None


def _dict_pop(d, args, kwargs, iterate):
    if not 1 <= len(args) <= 2 or not _key(args[0]) or not _dict_known(d):
        return _NOT_FOLLOWED
    if args[0] in d:
        return d.pop(args[0])
    return args[1] if len(args) == 2 else _NOT_FOLLOWED  # Python raises KeyError


def _dict_popitem(d, args, kwargs, iterate):
    if args or not d or not _dict_known(d):
        return _NOT_FOLLOWED
    return d.popitem()


def _dict_clear(d, args, kwargs, iterate):
    if args:
        return _NOT_FOLLOWED
    d.clear()
    return None


def _dict_setdefault(d, args, kwargs, iterate):
    if not 1 <= len(args) <= 2 or not _key(args[0]) or not _dict_known(d):
        return _NOT_FOLLOWED
    return d.setdefault(args[0], args[1] if len(args) == 2 else None)


# -- nn.Sequential / ModuleList / ModuleDict ------------------------------------
def _box_append(box, args, kwargs, iterate):
    if box.children is None or len(args) != 1:
        return _NOT_FOLLOWED
    box.children.append(args[0])
    return box


def _box_extend(box, args, kwargs, iterate):
    items = iterate(args[0]) if box.children is not None and len(args) == 1 else UNKNOWN
    if items is UNKNOWN:
        return _NOT_FOLLOWED
    box.children.extend(items)
    return box


def _box_insert(box, args, kwargs, iterate):
    if box.children is None or len(args) != 2 or not is_int(args[0]):
        return _NOT_FOLLOWED
    box.children.insert(args[0], args[1])
    return None


def _box_add_module(box, args, kwargs, iterate):
    kids = box.children
    if kids is None or len(args) != 2 or not isinstance(args[0], str):
        return _NOT_FOLLOWED
    name, module = args
    if box.items is not None and name in box.items:
        kids[kids.index(box.items[name])] = module
    else:
        kids.append(module)
    if box.items is not None:
        box.items[name] = module
    return None


def _box_update(box, args, kwargs, iterate):
    if box.kind != "ModuleDict" or box.items is None or kwargs or len(args) != 1 or not isinstance(args[0], dict):
        return _NOT_FOLLOWED
    box.items.update(args[0])
    return None


def _box_pop(box, args, kwargs, iterate):
    if box.kind == "ModuleDict":
        if box.items is None or len(args) != 1 or args[0] not in box.items:
            return _NOT_FOLLOWED
        return box.items.pop(args[0])
    i = _index(box.children, args) if box.children is not None else None
    return _NOT_FOLLOWED if i is None else box.children.pop(i)


_LIST = {"append": _list_append, "extend": _list_extend, "insert": _list_insert, "pop": _list_pop, "remove": _list_remove,
         "clear": _list_clear, "reverse": _list_reverse, "sort": _list_sort}
_DICT = {"update": _dict_update, "pop": _dict_pop, "popitem": _dict_popitem, "clear": _dict_clear, "setdefault": _dict_setdefault}
_CONTAINER = {"append": _box_append, "extend": _box_extend, "insert": _box_insert, "add_module": _box_add_module,
              "register_module": _box_add_module, "update": _box_update, "pop": _box_pop}
# every method that changes the object it is called on: for a name bound
# once, such a call means the assignment no longer says what the value is
MUTATORS = frozenset(_LIST) | frozenset(_DICT) | frozenset(_CONTAINER) | {"__setitem__", "__delitem__"}
LIST_MUTATORS = frozenset(_LIST)
DICT_MUTATORS = frozenset(_DICT)
