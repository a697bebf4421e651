"""The one table of codes. Every face reads it: flake8's default ignore list,
the CLI's selection, SARIF's rules, the fixer's list of what it can fix.
A new code is one row here plus its section in the README (what it does,
why it is bad, example, use instead), under the anchor the row names.

It imports nothing: the flake8 plugin reads it in every run, also on code
that never mentions torch.
"""


class Code:
    __slots__ = ("id", "title", "on", "fixable", "family", "level")

    def __init__(self, id: str, title: str, on: bool = True, fixable: bool = False, family: str = "CNS",
                 level: str = "error"):
        self.id = id
        self.title = title
        self.on = on  # reported unless the user deselects it; off: only when asked for
        self.fixable = fixable  # `cnnshape fix` can write the right number
        # an off code is reported only where a prefix at least this long selects it (flake8-bugbear's rule)
        self.family = family
        # the one severity every format gives it: error, warning or note (SARIF's words)
        self.level = level

    @property
    def anchor(self) -> str:
        """The README section that documents it."""
        return self.id.lower()

    def __repr__(self) -> str:
        return f"Code({self.id!r})"


CODES = (
    Code("CNS001", "nn.Linear in_features disagrees with the incoming feature width", fixable=True),
    Code("CNS002", "convolution in_channels disagrees with the incoming channels", fixable=True),
    Code("CNS003", "normalization (or PReLU) size disagrees with the incoming channels or trailing dims", fixable=True),
    Code("CNS004", "the input is too small for a layer's window at this point"),
    Code("CNS005", "view/reshape/unflatten sizes disagree with the element count (Fold: with the blocks)", fixable=True),
    Code("CNS006", "a layer or op receives a tensor of a rank it cannot take"),
    Code("CNS007", "groups (or another divisor) do not divide the channels"),
    Code("CNS008", "an elementwise op or torch.cat receives shapes that do not agree"),
    Code("CNS009", "a matrix product's operands do not agree (matmul / @ / bmm / mm / einsum)"),
    Code("CNS010", "a recurrent or attention layer's size (input_size, embed_dim, d_model) disagrees with the incoming width",
         fixable=True),
    Code("CNS011", "a layer argument torch takes only as an int is a float (a / where // was meant)", fixable=True),
    Code("CNS100", "(off by default) the input size an undeclared model's Linear assumes", on=False, family="CNS1", level="note"),
    Code("CNS900", "a cnnshape pragma cannot be read, or stands where no model is", level="warning"),
)
# not ours: `cnnshape` reports a file Python cannot parse as flake8 does (code_docs.py documents it)
SYNTAX_ERROR = Code("E999", "the file is not Python that can be parsed", family="E")
BY_ID = {c.id: c for c in CODES}
OFF_BY_DEFAULT = tuple(c.id for c in CODES if not c.on)
FIXABLE = frozenset(c.id for c in CODES if c.fixable)
