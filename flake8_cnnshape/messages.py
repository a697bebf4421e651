"""How each finding is worded, in one place. The analysis says what it found
(a Fault: the message's id and its fields); these say it in words. Nothing
reads these words back: fix, show and the outputs use the fields.

Each function takes the layer as the report names it (`nn.Linear`,
`F.max_pool2d`, `x.view`) and the message's fields.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple


def axes(sizes) -> str:
    """`7 x 7`, with `?` for a size nobody knows."""
    return " x ".join("?" if s is None else str(s) for s in sizes)


def factors(values: Tuple[int, ...]) -> str:
    return axes(values)


def dims(values) -> str:
    """A per-sample shape as a tuple: `(1, 28, 28)`, `(10,)`."""
    return "(" + ", ".join(str(d) for d in values) + ("," if len(values) == 1 else "") + ")"


def width(value: int, parts) -> str:
    """`3136 (64 x 7 x 7)` where the width is a product, else `3136`."""
    return f"{value} ({factors(parts)})" if parts else str(value)


def _window(kind: str, k, stride) -> str:
    """`kernel 3x3`, `window 2x2 (stride 2x2)`, `padding 1x1`."""
    text = f"{kind} {'x'.join(map(str, k))}"
    return text + (f" (stride {'x'.join(map(str, stride))})" if stride is not None else "")


def _values(count: int, shape) -> str:
    """`3136 (64 x 7 x 7)` values of a sample of that shape; `64` for a 1-d one."""
    return f"{count} ({factors(shape)})" if len(shape) > 1 else str(count)


def _linear_last_dim(layer, want, got, last, flat, flat_shape):
    if flat is None:
        hint = ""
    elif flat == want:
        hint = f"; it holds {want} values per sample: flatten first (nn.Flatten())"
    else:
        hint = f"; flattened it would be {flat} ({factors(flat_shape)})"
    return f"{layer} expects in_features={want} but receives {got.describe()} and acts on its last dim, {last}{hint}"


def _examples(examples) -> str:
    """` (e.g. 3136 = 64 x 7 x 7 for input (1, 28, 28); ...)`: the width at
    common input sizes, so that the number to write can be read off."""
    if not examples:
        return ""
    parts = [f"{w}" + (f" = {factors(f)}" if f else "") + f" for input {dims(inp)}" for w, f, inp in examples]
    return f" (e.g. {'; '.join(parts)})"


def _and(names) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _view_count(layer, text, count, shape, want, value=None):
    if value is not None:
        return f"{text} should end in {value}: each sample holds {_values(count, shape)} values, not {want}"
    return f"{text} asks for {want} values per sample but each sample holds {_values(count, shape)}"


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def _batch_effect(divides: bool) -> str:
    """What torch does with a view(-1, ...) whose sizes do not hold a sample."""
    return "silently changes the batch size" if divides else "raises for most batch sizes"


def _view_at(layer, text, count, shape, want, at, old, value, divides=None):
    which = _ORDINALS[at] if at < len(_ORDINALS) else f"number {at + 1}"
    effect = "" if divides is None else f" (which {_batch_effect(divides)})"
    return (f"{text} should have {value} where its {which} size has {old}: each sample holds {_values(count, shape)} values, "
            f"not {want}{effect}, and the next layer takes {value}")


def _view_width(layer, text, count, shape, want, value, divides):
    effect = _batch_effect(divides)
    if value is not None:
        return f"{text} should end in {value}: each sample holds {_values(count, shape)} values; {want} {effect}"
    return f"{text} asks for {want} values per sample but each sample holds {_values(count, shape)}; it {effect}"


MESSAGES: Dict[str, Callable[..., str]] = {
    # a size to change (CNS001/2/3)
    "channels": lambda layer, param, want, got: f"{layer} expects {param}={want} but receives {got} channels",
    "prelu": lambda layer, want, got: f"{layer} expects num_parameters={want} (or 1) but receives {got} channels",
    "normalized_shape": lambda layer, want, got: f"{layer} expects normalized_shape={want} but receives {got}",
    "linear_width": lambda layer, want, got, parts: f"{layer} expects in_features={want} but receives {width(got, parts)}",
    "bilinear_width": lambda layer, param, want, got: f"{layer} expects {param}={want} but receives {got}",
    "linear_multiple": lambda layer, want, parts, multiple: (
        f"{layer} expects in_features={want} but receives {factors(parts)}, a multiple of {multiple}: "
        f"no size of ? gives {want}"),
    "linear_last_dim": _linear_last_dim,
    # a rank the layer cannot take (CNS006)
    "rank": lambda layer, form, got: f"{layer} needs a {form} sample but receives {got.describe()}",
    "no_feature_dim": lambda layer: f"{layer} needs a feature dim but receives one number per sample",
    "flatten_dims": lambda layer, start, end, got: f"{layer} flattens dims {start}..{end} but receives {got.describe()}",
    "unflatten_dim": lambda layer, dim, got: f"{layer} unflattens dim {dim} but receives {got.describe()}",
    "along_dim": lambda layer, dim, got: f"{layer} works along dim {dim} but receives {got.describe()}",
    "halves_dim": lambda layer, dim, got: f"{layer} halves dim {dim} but receives {got.describe()}",
    "reduce_dims": lambda layer, dims, got: f"{layer} reduces dims {dims} but receives {got.describe()}",
    "trailing_rank": lambda layer, count, got: f"{layer} normalizes the last {count} dims but receives {got.describe()}",
    # too small (CNS004)
    "window": lambda layer, kind, k, stride, sizes, outs: (
        f"{layer} {_window(kind, k, stride)} does not fit its {axes(sizes)} input "
        f"(output would be {axes(outs)}): the input is too small at this point"),
    "resize": lambda layer, sizes, outs: f"{layer} would produce {axes(outs)} from its {axes(sizes)} input",
    # element counts (CNS005)
    "unflatten_split": lambda layer, have, sizes: f"{layer} cannot split {have} into {sizes}",
    "unflatten_holds": lambda layer, have, sizes, holds: f"{layer} splits {have} into {sizes}, which holds {holds}",
    "view_split": lambda layer, text, count, shape, target: (
        f"{text} cannot split the {_values(count, shape)} values of each sample into {target}"),
    "view_count": _view_count,
    "view_width": _view_width,
    "view_at": _view_at,
    "fold_blocks": lambda layer, size, kernel, blocks, got: (
        f"{layer} output_size {'x'.join(map(str, size))} with kernel {'x'.join(map(str, kernel))} has "
        f"{blocks[0] * blocks[1]} ({axes(blocks)}) sliding blocks but receives L={got}"),
    # ints (CNS011)
    "float_arg": lambda layer, params: (
        f"{layer} is given a float for {_and(params)}, which torch takes only as an int (a `/` where `//` was meant?)"),
    # divisors (CNS007)
    "groups_arguments": lambda layer, groups, bad: f"{layer} groups={groups} does not divide {' and '.join(bad)}",
    "groups_incoming": lambda layer, groups, got: f"{layer} groups={groups} does not divide the {got} incoming channels",
    "num_groups": lambda layer, groups, channels: f"{layer} num_groups={groups} does not divide num_channels={channels}",
    "num_groups_incoming": lambda layer, groups, got: f"{layer} num_groups={groups} does not divide the {got} incoming channels",
    "upscale": lambda layer, factor, got: (
        f"{layer} needs channels divisible by {factor * factor} (upscale_factor {factor} squared) but receives {got}"),
    "fold_channels": lambda layer, kernel, got: (
        f"{layer} needs channels divisible by {kernel[0] * kernel[1]} (kernel {'x'.join(map(str, kernel))}) but receives {got}"),
    # shapes that must agree (CNS008)
    "cat": lambda layer, dim, shapes: (
        f"torch.cat along dim {dim} needs the other dims to agree but receives {', '.join(s.describe() for s in shapes)}"),
    "broadcast": lambda layer, a, b: f"elementwise op needs matching shapes but receives {a.describe()} and {b.describe()}",
    "cat_whole": lambda layer, dim, shapes: (
        f"torch.cat along dim {dim} needs the other dims to agree but receives {shapes} (whole shapes, B the batch)"),
    "stack": lambda layer, shapes: f"torch.stack needs tensors of one shape but receives {', '.join(s.describe() for s in shapes)}",
    "broadcast_whole": lambda layer, a, b: (
        f"{layer} needs shapes that broadcast but receives {a} and {b} (whole shapes, B the batch)"),
    # sequence layers (CNS010; CNS007 for the heads)
    "sequence_width": lambda layer, param, want, got: f"{layer} expects {param}={want} but receives {got} features",
    "heads": lambda layer, width, param, heads, heads_param: f"{layer} {heads_param}={heads} does not divide {param}={width}",
    "heads_incoming": lambda layer, width, heads, heads_param: (
        f"{layer} {heads_param}={heads} does not divide the {width} incoming features"),
    # einops (CNS005 for the lengths, CNS006 for the rank)
    "einops_rank": lambda layer, pattern, got: f"{layer} '{pattern}' cannot take a tensor of shape {got} (B the batch)",
    "einops_divide": lambda layer, pattern, dim, group, by: (
        f"{layer} '{pattern}' splits a dim of {dim} into ({group}), but {dim} is not a multiple of {by}"),
    "einops_length": lambda layer, pattern, dim, group, makes: (
        f"{layer} '{pattern}' takes a dim of {dim} as ({group}), which makes {makes}"),
    # matrix products (CNS009; CNS006 for a rank bmm / mm cannot take)
    "matmul_inner": lambda layer, a, b, k1, k2: (
        f"{layer} cannot multiply {a} by {b}: the first's last dim ({k1}) must equal the second's "
        f"second-to-last ({k2}) (whole shapes, B the batch)"),
    "bmm_batch": lambda layer, a, b: f"{layer} needs equal batch dims but receives {a} and {b}",
    "einsum": lambda layer, equation, label, a, b: (
        f"{layer} '{equation}' gives label {label} two sizes, {a} and {b}"),
    "einsum_ellipsis": lambda layer, equation, a, b: (
        f"{layer} '{equation}' cannot broadcast the dims under '...', {a} and {b} (whole shapes, B the batch)"),
    "einsum_rank": lambda layer, equation, index, term, shape: (
        f"{layer} '{equation}' reads operand {index} as '{term}' but receives {shape} (whole shapes, B the batch)"),
    "bmm_rank": lambda layer, a, b: f"{layer} takes two 3-d tensors but receives {a} and {b} (whole shapes, B the batch)",
    "mm_rank": lambda layer, a, b: f"{layer} takes two 2-d tensors but receives {a} and {b} (whole shapes, B the batch)",
    # a model nobody gives a size for (CNS001, CNS100)
    "assumes_inputs": lambda layer, want, channels, sizes, sides: (
        f"{layer} in_features={want} ({channels} x {axes(sizes)}) assumes inputs of "
        + " x ".join(f"{a}..{b}" if a != b else str(a) for a, b in sides)),
    "width_multiple": lambda layer, want, channels, axes_text, examples: (
        f"{layer} expects in_features={want} but receives {channels} x {axes_text}, "
        f"a multiple of {channels}, for every input size{_examples(examples)}"),
    "width_out_of_reach": lambda layer, want, channels, axes_text, ranges, examples: (
        f"{layer} expects in_features={want} but no input from 1 to 4096 per side gives it: "
        f"it receives {channels} x {axes_text} with {axes_text.replace(' x ', ', ')} in "
        + ", ".join(f"{a}..{b}" for a, b in ranges) + _examples(examples)),
    # the tool's own settings (CNS900)
    "pragma_unreadable": lambda layer, error: f"cannot read the cnnshape pragma: {error}",
    "pragma_stray": lambda layer: "cnnshape pragma is not on (or directly above) a model's definition line; it has no effect",
}


def render(msg: str, layer, fields: dict) -> str:
    return MESSAGES[msg](layer, **fields)
