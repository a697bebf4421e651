"""Control flow of the interpreted code, carried as exceptions."""


class Raised(Exception):
    """The interpreted code raises, or takes a path we cannot follow."""


class Return(Exception):
    def __init__(self, value):
        self.value = value


class LoopExit(Exception):
    """A comprehension we cannot follow to its end."""


class Break(Exception):
    """`break`: caught by the loop it stands in."""


class Continue(Exception):
    """`continue`: caught by the loop it stands in."""


class Unfollowed(Exception):
    """A loop's `break` or `continue` on one side of an `if` the interpreter
    cannot decide: the loop is not followed (all it binds becomes unknown)."""
