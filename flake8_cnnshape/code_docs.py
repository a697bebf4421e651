"""The documentation of each code, in one place: `cnnshape rule CODE`
prints its section, SARIF takes its description and help from it, and the
README's "Codes" section is this text (`python -m flake8_cnnshape.code_docs
README.md` writes it there; tests/test_rule.py fails when the two differ).
Each section: *What it does*, *Why is this bad?*, *Example*, *Use instead*."""
from __future__ import annotations

import re
import sys
from typing import Dict

BEGIN = "<!-- codes: written from flake8_cnnshape/code_docs.py by `python -m flake8_cnnshape.code_docs README.md` -->"
END = "<!-- /codes -->"

TEXT = """\
| code | what it means |
|------|---------------|
| [CNS001](#cns001) | `nn.Linear` `in_features` disagrees with the width it receives (or no flatten before it) |
| [CNS002](#cns002) | a convolution's `in_channels` disagrees with the channels it receives |
| [CNS003](#cns003) | a normalization's size (BatchNorm `num_features`, GroupNorm `num_channels`, LayerNorm/RMSNorm `normalized_shape`, InstanceNorm with `affine`/`track_running_stats`, PReLU `num_parameters`) disagrees |
| [CNS004](#cns004) | the input is too small for a kernel or pooling window at this point (output size < 1) |
| [CNS005](#cns005) | `view`/`reshape`/`nn.Unflatten` sizes disagree with the element count per sample (`nn.Fold`'s `output_size` with the blocks it receives) |
| [CNS006](#cns006) | a layer or op receives a tensor of a rank it cannot take (Conv2d after Flatten) |
| [CNS007](#cns007) | `groups` (or another divisor: GroupNorm `num_groups`, PixelShuffle, ChannelShuffle, Fold's kernel) does not divide the channels |
| [CNS008](#cns008) | an elementwise op (a residual `out + x`) or `torch.cat` receives shapes that do not agree |
| [CNS009](#cns009) | a matrix product (`torch.matmul`, `@`, `torch.bmm`, `torch.mm`, `torch.einsum`) receives operands whose inner dims (or batch dims) do not agree |
| [CNS010](#cns010) | a recurrent or attention layer's size (`nn.LSTM` `input_size`, `nn.MultiheadAttention` `embed_dim`, the `d_model` of `nn.Transformer` and its layers) disagrees with the features it receives |
| [CNS011](#cns011) | a layer argument torch takes only as an int (channels, features, kernel, stride, padding, groups, heads...) is a float: a `/` where `//` was meant |
| [CNS100](#cns100) | *off by default*: the input size an undeclared model's first Linear assumes |
| [CNS900](#cns900) | a `# cnnshape:` pragma cannot be read, or stands where no model is |
| [E999](#e999) | `cnnshape`: the file is not Python it can parse (flake8 reports it under the same code) |

Each report sits at the line and column where the call to change starts: the layer's constructor (in `__init__`
or inside the `nn.Sequential`), or the functional op / `view` in `forward()`. A layer used twice whose second use
misfits is reported at that call. `# noqa: CNS001` on that line silences it. Every message ends with the input size
it was found at and where that size came from (`for input (1, 28, 28) from datasets.MNIST at line 41`); a message
without one holds for every input size.

### CNS001
*What it does*: compares `nn.Linear(in_features, ...)` with the last dim of the tensor it receives.
*Why is this bad?* torch raises `mat1 and mat2 shapes cannot be multiplied` on the first batch.
*Example*: `nn.Flatten(), nn.Linear(64, 20)` after a conv stack that ends at 64 x 7 x 7.
*Use instead*: `nn.Linear(3136, 20)` (the message gives the number and its factors), or `nn.LazyLinear(20)`.
A Linear applied to a multi-dim tensor acts on its last dim; when the whole sample has `in_features` values the
message says to flatten first. For a model nobody gives a size for, CNS001 means that no input size gives that
width (`receives 64 x H' x W', a multiple of 64, for every input size`); the same when the channels are not known
but the spatial sizes are (`receives ? x 6 x 6, a multiple of 36: no size of ? gives 8192`).

### CNS002
*What it does*: compares a convolution's `in_channels` with the channels of the tensor it receives.
*Why is this bad?* torch raises `Given groups=1, weight of size [32, 32, 5, 5], expected input[8, 16, 24, 24] to
have 32 channels, but got 16 channels instead` in the forward pass.
*Example*: `nn.Conv2d(3, 16, 5), nn.Conv2d(32, 32, 5)`.
*Use instead*: `nn.Conv2d(16, 32, 5)`, or `nn.LazyConv2d(32, 5)`.

### CNS003
*What it does*: compares a normalization's size with what it receives: BatchNorm/InstanceNorm `num_features` and
GroupNorm `num_channels` with the channels, LayerNorm/RMSNorm `normalized_shape` with the trailing dims, PReLU
`num_parameters` with the channels.
*Why is this bad?* torch raises `running_mean should contain 32 elements not 16` (or its LayerNorm, GroupNorm and
PReLU kin).
*Example*: `nn.Conv2d(16, 32, 3), nn.BatchNorm2d(16)`.
*Use instead*: `nn.BatchNorm2d(32)`. An InstanceNorm without `affine=True` or `track_running_stats=True` has no
per-channel size and is not checked.

### CNS004
*What it does*: reports a kernel, pooling window, resize or `nn.Unfold` block whose output would be smaller than 1
at the size the tensor has there.
*Why is this bad?* torch raises `Kernel size can't be greater than actual input size` / `Output size is too small`.
*Example*: three 5x5 convolutions and pools on an 8x8 input.
*Use instead*: a larger input, padding, or fewer downsampling steps.

### CNS005
*What it does*: checks `view`/`reshape`/`nn.Unflatten` sizes against the number of values each sample holds.
*Why is this bad?* `x.view(-1, 320)` when each sample holds 500 values raises for most batch sizes, and for
others silently changes the batch size, which fails much later in the loss.
*Example*: `x.view(-1, 320)` after a stack that gives 20 x 5 x 5.
*Use instead*: `x.view(-1, 500)` (the message gives the number), or `torch.flatten(x, 1)`. After a wrong view the
analysis goes on as if the number were fixed: its last size, unless the layer that takes it fits only another of its
sizes changed (`view(-1, 512, 2, 2)` of 1024 values before an `nn.ConvTranspose2d(256, ...)`: 256 where it has
512), which is then the number the message gives. `nn.Fold` / `F.fold` are checked the same way: the last dim they
receive must be the number of sliding blocks `output_size` makes with the kernel, stride, padding and dilation
(torch: `expected size of input's dimension 2 to match the calculated number of sliding blocks 4 * 4 = 16`).

### CNS006
*What it does*: reports a layer or op given a tensor of a rank it cannot take.
*Why is this bad?* torch raises `Expected 3D (unbatched) or 4D (batched) input to conv2d`.
*Example*: `nn.Flatten(), nn.Conv2d(...)`.
*Use instead*: put the convolution before the flatten (or unflatten first).

### CNS007
*What it does*: checks that `groups` (GroupNorm `num_groups`, PixelShuffle's factor squared, ChannelShuffle's
groups, the size of `nn.Fold`'s kernel) divides the channels.
*Why is this bad?* torch raises at construction (`in_channels must be divisible by groups`) or in the forward pass.
*Example*: `nn.Conv2d(6, 9, 3, groups=4)`, `nn.GroupNorm(4, 10)`, `nn.MultiheadAttention(50, 8)` (the heads must
divide `embed_dim` / `d_model`).
*Use instead*: a divisor of the channels (`groups=3`, `nn.GroupNorm(5, 10)`, 5 or 10 heads).

### CNS008
*What it does*: checks that the two sides of an elementwise op (`out + x`), and the tensors of a `torch.cat`
along all but the joined dim, agree (after broadcasting).
*Why is this bad?* torch raises `The size of tensor a (16) must match the size of tensor b (32) at non-singleton
dimension 1`.
*Example*: `return self.conv(x) + x` with a stride-2 conv.
*Use instead*: a downsampling shortcut (`self.shortcut = nn.Conv2d(c, c, 1, stride=2)`).

### CNS009
*What it does*: checks a matrix product's operands: the last dim of the first against the second-to-last of the
second, and for `torch.bmm` the batch dims; for `torch.einsum`, that each label has one size and that the dims under
`...` broadcast; on the model's tensors and on the tensors a module makes itself
(`nn.Parameter(torch.randn(1, C, H * W))`), which have no batch dim. Messages show whole shapes, `B` the batch.
*Why is this bad?* torch raises `mat1 and mat2 shapes cannot be multiplied` or `Expected size for first two
dimensions of batch2 tensor to be ...` when the product runs.
*Example*: `torch.bmm(q, k)` with `q` and `k` both (B, N, C): the keys are not transposed.
*Use instead*: `torch.bmm(q, k.transpose(1, 2))`.

### CNS010
*What it does*: compares a recurrent layer's `input_size` (`nn.RNN`, `nn.LSTM`, `nn.GRU` and their cells),
`nn.MultiheadAttention`'s `embed_dim` (and `kdim` / `vdim`), and the `d_model` of `nn.TransformerEncoderLayer`,
`nn.TransformerDecoderLayer` and `nn.Transformer` with the
last dim of the tensor it receives.
*Why is this bad?* torch raises `input.size(-1) must be equal to input_size. Expected 64, got 128`, or `was
expecting embedding dimension of 256, but got 32`, on the first batch. (One exception: torch 2.13's CPU build, with
oneDNN on, runs an `nn.LSTM` given a `PackedSequence` of the wrong width without raising, and reads past its data;
the meta device, the CPU with oneDNN off and the other recurrent layers refuse it. It is reported all the same.)
*Example*: `nn.Embedding(1000, 128)` then `nn.LSTM(64, 256)`.
*Use instead*: `nn.LSTM(128, 256)` (the message gives the number). A bidirectional layer gives `2 * hidden_size`
features: the next `nn.Linear` is checked against that (CNS001).

### CNS011
*What it does*: reports a layer given a float where torch takes only an int: channels and features, kernel sizes,
strides, paddings, dilations, groups, heads, a recurrent layer's sizes, a BatchNorm's `num_features` (a norm with
neither weight nor running statistics takes one). The floats come from `/`, which in Python 3 divides exactly.
*Why is this bad?* torch raises `empty(): argument 'size' must be tuple of ints, but found element of type float`
when the layer is built, or `conv2d() received an invalid combination of arguments` on its first call. Code written
for Python 2, where `/` of two ints floored, hits it on every run.
*Example*: `mid_planes = out_planes / 4` then `nn.Conv2d(in_planes, mid_planes, 1)`; `padding=(k - 1) / 2`.
*Use instead*: `out_planes // 4`, `(k - 1) // 2` (or `int(...)`). The analysis goes on as if each float were the
int it stands for, so a later layer that would still be wrong is reported too.

### CNS100
*What it does*: for a model whose input size nobody gives, states which input sizes the first Linear after the
flatten was written for: `CNS100 nn.Linear in_features=3136 (64 x 7 x 7) assumes inputs of 100..111 x 100..111`.
*Why is this bad?* It is not: it is information for review, and off by default. It is reported only where a
prefix at least as long as its family `CNS1` selects it (`--extend-select CNS1`, `CNS10` or `CNS100`), by flake8
and by `cnnshape check` alike; `select = CNS` does not turn it on (flake8-bugbear's rule for its B9 codes).
*Example*: a LeNet without a pragma: `in_features=400 (16 x 5 x 5) assumes inputs of 32..35 x 32..35`.
*Use instead*: give the size (a pragma, a dummy call) to have the model checked at it.

### CNS900
*What it does*: reports a `# cnnshape:` pragma it cannot read or that stands where no model is defined.
*Why is this bad?* The size you meant to give is not used: the model is checked without it.
*Example*: `# cnnshape: input=(1, 28` (`'(1, 28' has no closing ')'`), a pragma on a line that defines no model, or
a `build=` that does not call the class it stands on.
*Use instead*: `# cnnshape: input=(1, 28, 28)` on (or directly above) the `class` or `nn.Sequential(` line. A
`cnnshape-input` setting (or `--input`) that cannot be read is not a CNS900: the run stops at once with a usage
error (exit code 2) that names the setting.

### E999
*What it does*: `cnnshape check` reports a file Python cannot parse (a syntax error, Python 2 code) at the place
Python names, whatever `--select` says, so that no file passes unchecked; flake8 reports such a file itself under
the same code. `show` and `fix` print it on stderr and exit 1.
*Why is this bad?* Nothing in the file can be checked.
*Example*: `print "hello"`: `E999 SyntaxError: Missing parentheses in call to 'print'`.
*Use instead*: code that runs on the Python you use.
"""


def sections() -> Dict[str, str]:
    """code -> its section's markdown, heading left out."""
    parts = re.split(r"^### (\S+)\n", TEXT, flags=re.M)
    return {code: body.strip() + "\n" for code, body in zip(parts[1::2], parts[2::2])}


def part(code: str, name: str) -> str:
    """One paragraph of a section as plain text: `What it does`, `Why is this bad?`..."""
    m = re.search(r"\*" + re.escape(name) + r"\*:? (.*?)(?=\n\*[A-Z][^*]*\*|\Z)", sections()[code], re.S)
    return " ".join(m.group(1).split()) if m else ""


def plain(markdown: str) -> str:
    """The text without its markdown marks: for a terminal or a SARIF text field."""
    return re.sub(r"\*([^*]+)\*", r"\1", markdown.replace("`", ""))


def write_readme(path: str) -> bool:
    """Put TEXT between the README's markers; whether anything changed."""
    with open(path, encoding="utf-8") as f:
        readme = f.read()
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n\n{TEXT}\n{END}{tail}"
    if new != readme:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
    return new != readme


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1 if write_readme(sys.argv[1] if len(sys.argv) > 1 else "README.md") else 0)
