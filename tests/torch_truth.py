"""What torch says about a whole generated model: the truth of the
differential test (tests/test_differential.py).

The model's source is exec'd in a fresh namespace (the source imports torch
itself) and the model is built under `torch.device("meta")`, so parameters
cost nothing to create, then moved to the CPU with `to_empty()` (values set
to zero: only shapes matter) and run on a zero tensor of shape
(batch,) + input. The run is on the CPU because its kernels check what the
meta kernels do not: with torch 2.13 a ConvTranspose on meta accepts an input
with the wrong number of channels. Models with Lazy layers are built on the
CPU directly, since their first call materializes the parameters.

Every leaf module gets a forward pre-hook and a forward hook; when torch
raises, the offender is the leaf that was entered and not left. Its code is
read off the layer type and the tensor it received (never off our own shape
arithmetic): a Linear whose in_features differs from input.shape[-1] is
CNS001, a conv whose in_channels differs from input.shape[1] is CNS002, and
so on. For CNS001/2/3 the right value is taken from that input, the layer is
replaced by a fixed copy (same class, same other arguments, that one value
changed) and the model runs again. The loop ends when torch runs cleanly or
raises something no number fixes (too-small input CNS004, wrong rank CNS006,
groups CNS007, or an error none of our codes describes: code None).

The run is repeated at two batch sizes (2 and 3); the two truths must agree,
or the model reads the batch dim as something else and the harness refuses it.
"""
from __future__ import annotations

import re
import sys
import types
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.nn.modules import batchnorm, conv, instancenorm, pooling

FIXABLE = ("CNS001", "CNS002", "CNS003")
ENDING = ("CNS004", "CNS006", "CNS007")
# torch fails in a known way none of our codes names (a reflect pad wider than
# the input, a norm over a single value): the linter must stay silent there
UNCODED = "-"
_UNCODED = re.compile(
    r"Padding size should be less than the corresponding input dimension|wrapping around more than once|"
    r"Expected more than 1 spatial element when training|Expected more than 1 value per channel when training"
)
BATCHES = (2, 3)
MAX_FIXES = 12

# torch's words for a window that does not fit (conv, pools, upsampling)
_TOO_SMALL = re.compile(
    r"too small|can't be greater than actual input|smaller than kernel|negative dimension|"
    r"should be greater than 0|non-positive|Output size is",
    re.I,
)


class HarnessError(Exception):
    """The model is not one the harness can judge (a bug of the generator)."""


@dataclass(frozen=True)
class Fault:
    path: str  # module path in the built model ("features.3", "fc1")
    code: Optional[str]  # UNCODED: a known failure no code names; None: an unexpected one
    value: object  # the right value for CNS001/2/3 (int, or tuple for LayerNorm), else None
    layer: str  # the layer's class name
    error: str  # torch's message, first line
    use: int = 1  # which call of that module in the forward pass (a module may be called twice)

    @property
    def where(self) -> str:
        return self.path if self.use == 1 else f"{self.path}#{self.use}"

    def __str__(self) -> str:
        v = "" if self.value is None else f" right={self.value}"
        return f"{self.where} {self.layer}: {self.code}{v} [{self.error[:140]}]"


@dataclass
class Truth:
    faults: List[Fault] = field(default_factory=list)
    clean: bool = True  # torch ran to the end (after the fixes)
    out_shape: Optional[Tuple[int, ...]] = None  # per-sample output when clean
    # the first layer (module path, use) whose output has a 0-size dim: torch goes
    # on with the empty tensor and raises, if at all, further down
    empty: Optional[str] = None

    @property
    def ending(self) -> Optional[Fault]:
        return None if self.clean else self.faults[-1]

    def key(self):
        return ([(f.where, f.code, f.value) for f in self.faults], self.clean, self.out_shape, self.empty)


# ---------------------------------------------------------------------------
# Classification: which code describes the failure of `m` on input `x`.

def _spatial_n(m: nn.Module) -> int:
    digits = re.findall(r"(\d)d$", type(m).__name__)
    return int(digits[0]) if digits else 0


def _is_uninitialized(m: nn.Module) -> bool:
    return isinstance(m, nn.modules.lazy.LazyModuleMixin) and m.has_uninitialized_params()


def classify(m: nn.Module, x: torch.Tensor, exc: BaseException) -> Tuple[Optional[str], object]:
    """(code, right value) for torch raising `exc` in `m` called on `x`."""
    code, value = _classify(m, x, exc)
    if code is None and _UNCODED.search(str(exc)):
        return UNCODED, None
    return code, value


def _classify(m: nn.Module, x: torch.Tensor, exc: BaseException) -> Tuple[Optional[str], object]:
    msg = str(exc)
    if _is_uninitialized(m):
        if isinstance(m, conv._ConvNd):
            n = len(m.kernel_size)
            if x.dim() != n + 2:
                return "CNS006", None
            if x.shape[1] % m.groups:
                return "CNS007", None
        return None, None
    if isinstance(m, nn.Linear):
        if x.dim() < 2:
            return "CNS006", None
        if x.shape[-1] != m.in_features:
            return "CNS001", int(x.shape[-1])
        return None, None
    if isinstance(m, conv._ConvNd):
        n = len(m.kernel_size)
        if x.dim() != n + 2:
            return "CNS006", None
        c = int(x.shape[1])
        if c != m.in_channels:
            return ("CNS007", None) if c % m.groups else ("CNS002", c)
        if _TOO_SMALL.search(msg):
            return "CNS004", None
        return None, None
    if isinstance(m, (pooling._MaxPoolNd, pooling._AvgPoolNd, pooling._AdaptiveAvgPoolNd, pooling._AdaptiveMaxPoolNd, pooling._LPPoolNd)):
        n = _spatial_n(m)
        if x.dim() not in (n + 1, n + 2):
            return "CNS006", None
        if _TOO_SMALL.search(msg):
            return "CNS004", None
        return None, None
    if isinstance(m, instancenorm._InstanceNorm):
        n = _spatial_n(m)
        if x.dim() == n + 1:
            return None, None  # torch takes it as one unbatched sample
        if x.dim() != n + 2:
            return "CNS006", None
        if (m.affine or m.track_running_stats) and x.shape[1] != m.num_features:
            return "CNS003", int(x.shape[1])
        return None, None
    if isinstance(m, batchnorm._BatchNorm):
        n = _spatial_n(m)
        ranks = {1: (2, 3), 2: (4,), 3: (5,)}[n]
        if x.dim() not in ranks:
            return "CNS006", None
        if x.shape[1] != m.num_features:
            return "CNS003", int(x.shape[1])
        return None, None
    if isinstance(m, nn.GroupNorm):
        if x.dim() < 2:
            return "CNS006", None
        c = int(x.shape[1])
        if c != m.num_channels:
            return ("CNS007", None) if c % m.num_groups else ("CNS003", c)
        return None, None
    if isinstance(m, nn.LayerNorm):
        k = len(m.normalized_shape)
        if x.dim() < k:
            return "CNS006", None
        got = tuple(int(d) for d in x.shape[x.dim() - k:])
        if got != tuple(m.normalized_shape):
            return "CNS003", got[0] if k == 1 else got
        return None, None
    if isinstance(m, nn.PReLU):
        if m.num_parameters != 1 and x.dim() >= 2 and x.shape[1] != m.num_parameters:
            return "CNS003", int(x.shape[1])
        return None, None
    if isinstance(m, nn.Upsample):
        if x.dim() not in (3, 4, 5):
            return "CNS006", None
        if _TOO_SMALL.search(msg):
            return "CNS004", None
        return None, None
    if isinstance(m, nn.Flatten):
        return ("CNS006", None) if "out of range" in msg else (None, None)
    return None, None


def fixed_copy(m: nn.Module, code: str, value: object) -> nn.Module:
    """The same layer with the argument named by `code` set to `value`."""
    bias = getattr(m, "bias", None) is not None
    if isinstance(m, nn.Linear) and code == "CNS001":
        return nn.Linear(value, m.out_features, bias=bias)
    if isinstance(m, conv._ConvTransposeNd) and code == "CNS002":
        return type(m)(value, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding, output_padding=m.output_padding,
                       groups=m.groups, bias=bias, dilation=m.dilation, padding_mode=m.padding_mode)
    if isinstance(m, conv._ConvNd) and code == "CNS002":
        return type(m)(value, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding, dilation=m.dilation,
                       groups=m.groups, bias=bias, padding_mode=m.padding_mode)
    if isinstance(m, (batchnorm._BatchNorm, instancenorm._InstanceNorm)) and code == "CNS003":
        return type(m)(value, eps=m.eps, momentum=m.momentum, affine=m.affine, track_running_stats=m.track_running_stats)
    if isinstance(m, nn.GroupNorm) and code == "CNS003":
        return nn.GroupNorm(m.num_groups, value, eps=m.eps, affine=m.affine)
    if isinstance(m, nn.LayerNorm) and code == "CNS003":
        return nn.LayerNorm(value, eps=m.eps, elementwise_affine=m.elementwise_affine, bias=bias)
    if isinstance(m, nn.PReLU) and code == "CNS003":
        return nn.PReLU(value)
    raise HarnessError(f"no fix for {code} in {type(m).__name__}")


# ---------------------------------------------------------------------------
# Running a built model.

def _leaves(model: nn.Module):
    for path, mod in model.named_modules():
        if path and not any(True for _ in mod.children()):
            yield path, mod


def _replace(model: nn.Module, path: str, new: nn.Module) -> None:
    parent_path, _, name = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, name, new)


@contextmanager
def single_thread():
    """The tensors are tiny: one intra-op thread. Several threads spin and wait
    on each other when the machine is busy (a 5x slowdown seen on 2 cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def on_cpu(make: Callable[[], nn.Module]) -> nn.Module:
    """Build on meta (no init cost), then move to CPU memory set to zero (not
    left uninitialized: denormal garbage makes CPU kernels crawl)."""
    with torch.device("meta"):
        module = make()
    module = module.to_empty(device="cpu")
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            t.zero_()
    return module


def run_model(model: nn.Module, make_input: Callable[[], torch.Tensor]) -> Truth:
    """Run, fix, run again, ... (see the module docstring). Mutates `model`."""
    truth = Truth()
    seen = set()
    for _ in range(MAX_FIXES):
        truth.empty = None
        stack: List[Tuple[str, int, nn.Module, object]] = []
        uses: Dict[str, int] = {}
        handles = []
        for path, mod in _leaves(model):
            def pre(module, args, path=path):
                uses[path] = uses.get(path, 0) + 1
                stack.append((path, uses[path], module, args[0] if args else None))

            def post(module, args, out):
                if stack:
                    path, use, _, _ = stack.pop()
                    if truth.empty is None and isinstance(out, torch.Tensor) and 0 in out.shape[1:]:
                        truth.empty = path if use == 1 else f"{path}#{use}"

            handles.append(mod.register_forward_pre_hook(pre, prepend=True))  # before a Lazy layer's own hook
            handles.append(mod.register_forward_hook(post))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = model(make_input())
        except Exception as exc:  # noqa: BLE001 - any failure of the model is torch's verdict
            if not stack:
                raise HarnessError(f"torch raised outside any layer: {type(exc).__name__}: {exc}") from exc
            path, use, mod, x = stack[-1]
            if not isinstance(x, torch.Tensor):
                raise HarnessError(f"{path} received {type(x).__name__}") from exc
            code, value = classify(mod, x, exc)
            first_line = f"{type(exc).__name__}: {exc}".splitlines()[0]
            truth.faults.append(Fault(path, code, value, type(mod).__name__, first_line, use))
            if code not in FIXABLE:
                truth.clean = False
                return truth
            if (path, code) in seen:
                raise HarnessError(f"{path} still fails with {code} after the fix: {first_line}")
            seen.add((path, code))
            _replace(model, path, on_cpu(lambda: fixed_copy(mod, code, value)))
            continue
        finally:
            for h in handles:
                h.remove()
        if not isinstance(out, torch.Tensor):
            raise HarnessError(f"the model returns {type(out).__name__}")
        truth.out_shape = tuple(out.shape[1:])
        return truth
    raise HarnessError("too many fixes")


def _agree(truths: Sequence[Truth]) -> Truth:
    first = truths[0]
    for t in truths[1:]:
        if t.key() != first.key():
            raise HarnessError(f"batch-dependent truth: {first.key()} vs {t.key()}")
    return first


class _Absent(types.ModuleType):
    """What `import torchvision` finds while a generated file is executed: any
    attribute is another such module. The file may import torchvision at its top,
    but its dataset lines stand where they never run (an `if __name__ ==
    "__main__":` block, an uncalled function), so nothing of it is ever used,
    and the truth neither needs torchvision nor pays for importing it."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        child = _Absent(f"{self.__name__}.{name}")
        setattr(self, name, child)
        return child


_ABSENT = ("torchvision", "torchvision.datasets", "torchvision.transforms", "torchvision.transforms.v2")


@contextmanager
def without_torchvision():
    """Executing a generated file: torchvision's modules are _Absent ones."""
    saved = {name: sys.modules.get(name) for name in _ABSENT}
    for name in _ABSENT:
        module = sys.modules[name] = _Absent(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def build_from_source(source: str, entry: str, lazy: bool) -> nn.Module:
    """The model a generated file builds. It is executed as an imported module
    would be (its `if __name__ == "__main__":` block does not run)."""

    def make():
        ns: Dict[str, object] = {"__name__": "generated_model"}
        exec(compile(source, "<generated>", "exec"), ns)  # noqa: S102 - our own generated source
        model = ns.get("model")
        return ns[entry]() if model is None else model

    with warnings.catch_warnings(), without_torchvision():
        warnings.simplefilter("ignore")
        if lazy:
            torch.manual_seed(0)
            model = make()
        else:
            model = on_cpu(make)
    if not isinstance(model, nn.Module):
        raise HarnessError(f"'model' is a {type(model).__name__}")
    return model


def run_source(source: str, entry: str, dims: Tuple[int, ...], lazy: bool) -> Truth:
    """The truth for a rendered model: `entry` is the class to instantiate when
    the source binds no `model` variable; `dims` the per-sample input shape."""
    truths = []
    for batch in BATCHES:
        model = build_from_source(source, entry, lazy)
        with torch.no_grad():
            truths.append(run_model(model, lambda b=batch: torch.zeros((b,) + tuple(dims))))
    return _agree(truths)


def run_sequence(modules: Sequence[nn.Module], dims: Tuple[int, ...]) -> Truth:
    """The truth for a chain of already built (CPU) layers; paths are their indices."""
    model = nn.Sequential(OrderedDict((str(i), m) for i, m in enumerate(modules)))
    with torch.no_grad():
        return run_model(model, lambda: torch.zeros((BATCHES[0],) + tuple(dims)))
