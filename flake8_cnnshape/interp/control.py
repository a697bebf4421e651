"""Control flow of the interpreted code, carried as exceptions."""


class Raised(Exception):
    """The interpreted code raises, or takes a path we cannot follow."""


class Return(Exception):
    def __init__(self, value):
        self.value = value


class LoopExit(Exception):
    """A comprehension we cannot follow to its end."""
