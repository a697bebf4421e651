"""The limits every piece of work is held to, and the one object that counts
steps and depth. A run cut short by them reports nothing."""
from __future__ import annotations

MAX_STEPS = 200_000  # interpreter steps for one file: about a second at worst
MAX_MODEL_STEPS = 40_000  # one model: the file's budget is shared by all of them
MAX_DEPTH = 40  # nested evaluations and calls
MAX_LOOP = 512  # iterations of one loop followed
MAX_SEQ = 4096  # longest list/str the interpreter will build
MAX_BITS = 128  # ints larger than this are not sizes anybody means


class OutOfBudget(Exception):
    pass


class Budget:
    """Steps taken in the file, the limit of the model being run, and the
    depth of evaluation. The hot paths (an expression, a statement, a call, a
    layer) compare these themselves rather than call tick()."""

    __slots__ = ("steps", "limit", "depth", "max_steps")

    def __init__(self, max_steps: int = MAX_STEPS):
        self.steps = 0
        self.depth = 0
        self.max_steps = max_steps
        self.limit = min(max_steps, MAX_MODEL_STEPS)

    def start_model(self) -> None:
        """A model's run begins: it may take MAX_MODEL_STEPS more, within the file's."""
        self.limit = min(self.max_steps, self.steps + MAX_MODEL_STEPS)

    def tick(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > self.limit:
            raise OutOfBudget()
