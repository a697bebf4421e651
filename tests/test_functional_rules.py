"""Every functional op of the shape engine checked against torch, case by case:
the keys of flake8_cnnshape.shapes.catalog.FUNCTIONS (F.*, torch.*) and
METHODS (tensor methods), and the two helpers reshape() (x.view, x.reshape,
torch.reshape) and permute() (x.permute, torch.permute).

How the engine is run: as extract/tensor.py runs it. The call's arguments are
bound with bind(spec.sig, [x] + args, kwargs) (x, an interpreter Tensor, lands
in `input`; tensor methods get the tensor as their first argument too), a call
that does not bind is UNKNOWN, and the rule gets the per-sample Shape (no batch
dim) with RULE_GIVES_UP meaning "unknown". Other tensors passed as arguments
are interpreter Tensors, torch.* attributes (torch.float64) TorchRefs, and
x.size(0) is BATCH.

The truth: the same call in torch on a zeroed CPU tensor of shape (batch,
*dims), at batch 2 and again at batch 3 (a verdict that changes with the batch
size comes from torch treating the batch dim as something else). CPU rather
than meta: CPU is the truth (meta kernels accept some calls CPU refuses, e.g.
an out-of-range softmax dim, and raise NotImplementedError on others), and for
these tiny tensors it is also far faster than meta (torch 2.13: interpolate
~30 us on CPU against ~25 ms on meta, relu ~4 us against ~1.5 ms, since meta
runs Python decompositions). Every tensor in the grids is a few hundred
elements at most.

The contract ("never guess"):
  * torch runs it (same per-sample shape at both batch sizes, batch dim kept in
    front) -> no fault, and either torch's per-sample shape exactly or a
    give-up (None). Give-ups are counted per entry and must stay below
    MAX_GIVE_UP_SHARE, except the ones that are so by design (design_give_up()
    documents each reason); an entry must have cases the engine computes.
  * torch refuses it, at one batch size or both, or returns something that is
    not one tensor with the batch dim in front -> a fault, or no shape. A known
    shape without a fault is a failure. A fault that still hands on a shape (a
    `view(-1, N)` with the wrong N goes on as if N were right) must name the
    number torch needs: the call with that number runs in torch and gives the
    shape the engine went on with.
  * the engine never raises.

Grids are fixed, the random tests use hypothesis with derandomize=True, so a
failure reproduces by its case id. Disagreements the engine has today are in
KNOWN_BUGS (BUG-n: the contract is broken; GAP-n: a give-up on calls torch runs
that is not by design): their cases run in test_known_bug as xfail(strict=True),
so fixing the engine turns them into XPASS, which fails until the entry is
removed. The random tests skip (assume) cases a KNOWN_BUGS predicate names.
Repros of each: /tmp/functional_bugs.md at the time of writing.
"""
from __future__ import annotations

import math
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import permutations, product
from typing import Callable, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

import torch  # noqa: E402

from flake8_cnnshape.interp.values import Tensor, TorchRef  # noqa: E402
from flake8_cnnshape.shapes.catalog import FUNCTIONS, METHODS  # noqa: E402
from flake8_cnnshape.shapes.rules import elementwise, tensor_ops  # noqa: E402
from flake8_cnnshape.shapes.shape import Shape  # noqa: E402
from flake8_cnnshape.shapes.signature import BATCH, RULE_GIVES_UP, bind  # noqa: E402
from flake8_cnnshape.shapes.spec import Ctx, Outcome  # noqa: E402

F = "torch.nn.functional."
BATCHES = (2, 3)
CODES = {f"CNS00{i}" for i in range(1, 9)}
MAX_GIVE_UP_SHARE = 0.10  # of the calls torch runs, not counting give-ups by design

# the entry names of the two helpers (the tables' keys are the other entries)
RESHAPE = "reshape()"
PERMUTE = "permute()"
INDEX = "index()"


# ---------------------------------------------------------------------------
# Cases

@dataclass(frozen=True)
class T:
    """Another tensor passed as an argument: per-sample `dims` with the batch in
    front, or the whole shape when `batched` is False (a parameter)."""

    dims: Tuple[int, ...]
    dtype: str = "float32"
    batched: bool = True

    def __repr__(self) -> str:
        return f"T{self.dims}" + ("" if self.dtype == "float32" else f":{self.dtype}") + ("" if self.batched else ":param")


@dataclass(frozen=True)
class Attr:
    """A torch attribute named in the source: torch.float64, torch.channels_last."""

    name: str

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _BatchArg:
    def __repr__(self) -> str:
        return "x.size(0)"


B = _BatchArg()  # x.size(0) in a view/reshape target


@dataclass(frozen=True)
class Case:
    # "function" (a FUNCTIONS key), "method" (a METHODS key), "reshape" (key:
    # view | reshape | torch.reshape) or "permute" (key: permute | torch.permute)
    kind: str
    key: str
    args: Tuple[object, ...]
    kwargs: Dict[str, object] = field(hash=False)
    dims: Tuple[int, ...]
    input_kw: bool = False  # the tensor passed as input=x

    @property
    def entry(self) -> str:
        return {"reshape": RESHAPE, "permute": PERMUTE, "index": INDEX}.get(self.kind, self.key)

    @cached_property
    def call(self) -> str:
        return self.id.rsplit("@", 1)[0]

    @cached_property
    def id(self) -> str:
        if self.kind == "index":
            return f"x[{_key_text(self.args[0])}]@{self.dims}"
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        if self.key.startswith("torch."):
            name = "F." + self.key[len(F):] if self.key.startswith(F) else self.key
            parts = parts + ["input=x"] if self.input_kw else ["x"] + parts
            return f"{name}({', '.join(parts)})@{self.dims}"
        return f"x.{self.key}({', '.join(parts)})@{self.dims}"


def _key_text(key) -> str:
    def one(i):
        if isinstance(i, slice):
            return ":".join("" if v is None else str(v) for v in (i.start, i.stop, i.step)).rstrip(":") or ":"
        return "..." if i is Ellipsis else repr(i)
    return ", ".join(one(i) for i in key)


def _c(out: List[Case], kind: str, key: str, args=(), kwargs=None, dims=(), input_kw=False) -> None:
    out.append(Case(kind, key, tuple(args), dict(kwargs or {}), tuple(dims), input_kw))


def fn(out, key, args=(), kwargs=None, dims=(), input_kw=False):
    _c(out, "function", key, args, kwargs, dims, input_kw)


def meth(out, key, args=(), kwargs=None, dims=()):
    _c(out, "method", key, args, kwargs, dims)


# ---------------------------------------------------------------------------
# The engine, run as extract/tensor.py runs it

def _engine_value(v):
    if isinstance(v, T):
        return Tensor(Shape(v.dims)) if v.batched else Tensor(Shape.unknown())
    if isinstance(v, Attr):
        return TorchRef("torch." + v.name)
    if v is B:
        return BATCH
    if isinstance(v, tuple):
        return tuple(_engine_value(e) for e in v)
    if isinstance(v, list):
        return [_engine_value(e) for e in v]
    return v


def _display(case: Case) -> str:
    if case.kind == "method":
        return f"x.{case.key}"
    return "F." + case.key[len(F):] if case.key.startswith(F) else case.key


def _run_engine(case: Case) -> Outcome:
    x = Tensor(Shape(case.dims))
    args = [_engine_value(a) for a in case.args]
    kwargs = {k: _engine_value(v) for k, v in case.kwargs.items()}
    if case.kind in ("function", "method"):
        # TensorOps.functional (and .method, which puts the tensor first)
        spec = FUNCTIONS[case.key] if case.kind == "function" else METHODS[case.key]
        if case.input_kw:
            kwargs["input"] = x
        else:
            args = [x] + args
        bound = bind(spec.sig, args, kwargs)
        if bound is None:
            return Outcome(None)  # the call does not bind: UNKNOWN
        t = bound.values.get("input")
        if not isinstance(t, Tensor):
            return Outcome(None)
        ctx = Ctx(_display(case))
        try:
            out = spec.rule(bound, t.shape, ctx)
        except RULE_GIVES_UP:
            return Outcome(None)
        return Outcome(out, ctx.faults)
    if kwargs:
        return Outcome(None)  # (no kwargs in these grids)
    if case.kind == "index":  # TensorOps.index: x[key]
        return Outcome(tensor_ops.index(args[0], x.shape))
    if case.kind == "reshape":
        # TensorOps.reshape: x.view(*target) / x.view(target) / torch.reshape(x, target)
        target = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
        text = f"x.{case.key}(...)"
        ctx = Ctx(text)
        try:
            out = tensor_ops.reshape(list(target), x.shape, ctx, text)
        except RULE_GIVES_UP:
            return Outcome(None)
        return Outcome(out, ctx.faults)
    # TensorOps.permute
    order = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
    return Outcome(tensor_ops.permute(list(order), x.shape))


class EngineRaised(Exception):
    """The engine must never raise: not an assertion, so no xfail absorbs it."""


def engine(case: Case) -> Outcome:
    try:
        return _run_engine(case)
    except Exception as exc:  # noqa: BLE001 - the engine must never raise
        raise EngineRaised(f"{case.id}: the engine raised {exc!r}") from exc


# ---------------------------------------------------------------------------
# The truth: torch on CPU at batch 2 and 3

OK = "ok"
RAISES = "raises"
BATCH_DEPENDENT = "batch-dependent"
UNTRACKED = "untracked"


@dataclass(frozen=True)
class Verdict:
    kind: str
    shape: Optional[Tuple[int, ...]] = None
    error: str = ""

    def __str__(self) -> str:
        return f"torch gives {self.shape}" if self.kind == OK else f"torch {self.kind}: {self.error}"


_DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}


def _torch_value(v, batch: int):
    if isinstance(v, T):
        shape = ((batch,) if v.batched else ()) + v.dims
        return torch.zeros(shape, dtype=_DTYPES[v.dtype])
    if isinstance(v, Attr):
        return getattr(torch, v.name)
    if v is B:
        return batch
    if isinstance(v, tuple):
        return tuple(_torch_value(e, batch) for e in v)
    if isinstance(v, list):
        return [_torch_value(e, batch) for e in v]
    return v


def _resolve(key: str):
    obj = torch
    for part in key.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _call_torch(case: Case, batch: int):
    x = torch.zeros((batch,) + case.dims)
    args = [_torch_value(a, batch) for a in case.args]
    kwargs = {k: _torch_value(v, batch) for k, v in case.kwargs.items()}
    if case.kind == "function":
        f = _resolve(case.key)
        return f(*args, input=x, **kwargs) if case.input_kw else f(x, *args, **kwargs)
    if case.kind == "method":
        return getattr(x, case.key)(*args, **kwargs)
    if case.kind == "index":
        return x[args[0]]
    if case.kind == "reshape":
        if case.key == "torch.reshape":
            return torch.reshape(x, *args)
        return getattr(x, case.key)(*args)
    if case.key == "torch.permute":
        return torch.permute(x, *args)
    return x.permute(*args)


@contextmanager
def _quiet():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny CPU kernels: more threads only add overhead
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.set_num_threads(before)


_TRUTH: Dict[str, Verdict] = {}


def truth(case: Case) -> Verdict:
    found = _TRUTH.get(case.id)
    if found is not None:
        return found
    results = []
    with _quiet():
        for batch in BATCHES:
            try:
                out = _call_torch(case, batch)
            except Exception as exc:  # noqa: BLE001 - any failure is torch refusing
                results.append(("raise", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
                continue
            if not isinstance(out, torch.Tensor):
                results.append(("untracked", f"returns {type(out).__name__}"))
            else:
                results.append(("ok", tuple(out.shape)))
    (k1, r1), (k2, r2) = results
    if k1 == k2 == "raise":
        v = Verdict(RAISES, error=r1)
    elif "raise" in (k1, k2):
        v = Verdict(BATCH_DEPENDENT, error=r1 if k1 == "raise" else r2)
    elif "untracked" in (k1, k2):
        v = Verdict(UNTRACKED, error=r1 if k1 == "untracked" else r2)
    elif not r1 or not r2 or r1[0] != BATCHES[0] or r2[0] != BATCHES[1] or r1[1:] != r2[1:]:
        v = Verdict(UNTRACKED, error=f"batch dim not kept: {r1} / {r2}")
    else:
        v = Verdict(OK, shape=r1[1:])
    _TRUTH[case.id] = v
    return v


# ---------------------------------------------------------------------------
# The check

def _describe(out: Outcome) -> str:
    shape = None if out.shape is None else out.shape.describe()
    return f"engine gives {shape} with faults {[(f.code, f.value, f.text) for f in out.faults]}"


AGREED, GAVE_UP, BY_DESIGN, FAULTED, DECLINED = "agreed", "gave up", "gave up by design", "faulted", "declined"


def check(case: Case, depth: int = 0) -> str:
    """One case against torch; returns how the engine did (AGREED ... DECLINED),
    raises AssertionError when it breaks the contract."""
    verdict = truth(case)
    out = engine(case)
    where = f"{case.id}: {verdict}; {_describe(out)}"
    for f in out.faults:
        assert f.code in CODES, f"{where}; unknown code"
    if out.shape is not None:
        assert out.shape.known(), f"{where}; a fully known input gives a partly known output"
    if verdict.kind == OK:
        assert not out.faults, f"{where}; a fault on a call torch runs"
        if out.shape is None:
            return BY_DESIGN if design_give_up(case, verdict) else GAVE_UP
        assert out.shape.dims == verdict.shape, f"{where}; wrong shape"
        return AGREED
    if out.shape is not None:
        assert out.faults, f"{where}; a known shape for a call torch refuses"
        check_fix(case, out, where, depth)
    return FAULTED if out.faults else DECLINED


def _target(case: Case) -> List[object]:
    args = case.args
    return list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else list(args)


def check_fix(case: Case, out: Outcome, where: str, depth: int) -> None:
    """A fault that goes on with a shape names the number torch needs (the last
    size of a view/reshape target): with it, torch runs and gives that shape."""
    assert depth == 0 and case.kind == "reshape", f"{where}; a shape handed on after a fault"
    values = [f.value for f in out.faults if f.value is not None]
    assert len(values) == 1, f"{where}; a shape handed on after a fault that names no number"
    target = _target(case)
    target = target[:-1] + [values[0]] if len(target) > 1 else target + [values[0]]
    packed = case.key == "torch.reshape" or (len(case.args) == 1 and isinstance(case.args[0], (tuple, list)))
    fixed = Case("reshape", case.key, (tuple(target),) if packed else tuple(target), {}, case.dims)
    where += f"; fixed call {fixed.id}: {truth(fixed)}"
    assert check(fixed, depth + 1) == AGREED, f"{where}; torch does not run the fixed call"
    assert truth(fixed).shape == out.shape.dims, f"{where}; the engine went on with another shape"


# Give-ups that are so by design: calls torch runs at batch 2 and 3 whose
# per-sample result the engine declines to state, on purpose.
def design_give_up(case: Case, verdict: Verdict) -> Optional[str]:
    if 0 in case.dims or 0 in verdict.shape:
        return "an empty tensor: torch's kernels disagree about empty dims, no rule follows one (spec.apply)"
    if case.key == F + "batch_norm" and any(isinstance(v, T) for v in case.args):
        return "F.batch_norm checks its statistics' size against dim 1: a tensor argument's size is not the engine's to know"
    dim = case.args[0] if case.args else case.kwargs.get("dim")
    if case.entry in ("squeeze", "torch.squeeze"):
        if isinstance(dim, int) and dim % (len(case.dims) + 1) == 0:
            return "squeeze(0) drops the batch dim when the batch size is 1, and only then"
        if dim is None and None in case.dims:
            return "squeeze() of a dim nobody knows: it may be 1"
    if case.entry in ("transpose", "torch.transpose"):
        d0, d1 = (case.args + (None, None))[:2] if case.args else (case.kwargs.get("dim0"), case.kwargs.get("dim1"))
        R = len(case.dims) + 1
        if isinstance(d0, int) and isinstance(d1, int) and d0 % R == 0 == d1 % R:
            return ("a transpose naming the batch dim is never followed; the one torch runs with the batch kept is "
                    "the no-op transpose(0, 0)")
    if case.key == F + "pad" and case.kwargs.get("mode", "constant") == "constant":
        pads = case.args[0] if case.args else case.kwargs.get("pad")
        if isinstance(pads, (tuple, list)) and len(pads) // 2 > len(case.dims):
            return "a constant pad that reaches the batch dim is not followed (misc.pad); torch keeps the batch only for 0s"
    if case.key == F + "pad" and case.kwargs.get("mode", "constant") != "constant":
        pads = case.args[0] if case.args else case.kwargs.get("pad")
        if isinstance(pads, (tuple, list)) and any(isinstance(v, int) and v < 0 for v in pads):
            return "negative reflect/replicate/circular padding (a crop) is not followed (misc.pad)"
    if case.key in (F + "unfold", F + "fold") and len(case.dims) == (2 if case.key == F + "unfold" else 1):
        return "a (B, H, W) tensor to unfold (or (B, L) to fold) is torch's unbatched form, the batch for the channels"
    return None


# ---------------------------------------------------------------------------
# Grids. Ops whose output follows from the input's shape alone (elementwise,
# *_like factories, dtype/device moves) get a handful of ranks and the
# settings torch checks; ops with arithmetic get grids.

SHAPES = [(), (5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]

# extra (args, kwargs) per elementwise op, beyond the bare call
_EW_F = {
    "relu": [((True,), {}), ((), dict(inplace=True))],
    "relu6": [((), dict(inplace=True))],
    "elu": [((0.5,), {}), ((), dict(alpha=2.0, inplace=True))],
    "celu": [((), dict(alpha=0.5)), ((), dict(alpha=0.0))],
    "gelu": [((), dict(approximate="tanh")), ((), dict(approximate="bogus"))],
    "hardtanh": [((-2.0, 2.0), {}), ((1.0, -1.0), {}), ((), dict(min_val=0.0, max_val=6.0))],
    "leaky_relu": [((0.2,), {}), ((), dict(negative_slope=0.1, inplace=True))],
    "softplus": [((2.0, 10.0), {}), ((), dict(beta=0.5))],
    "softshrink": [((0.3,), {}), ((-1.0,), {})],
    "hardshrink": [((0.3,), {})],
    "rrelu": [((0.1, 0.3), {}), ((0.5, 0.1), {}), ((), dict(training=True))],
    "threshold": [((0.1, 0.0, True), {}), ((), dict(threshold=0.5, value=1.0)), (("a", 0.0), {})],
    "normalize": [((), dict(dim=-1)), ((), dict(dim=0)), ((1.0,), {}), ((), dict(dim=4))],
}
for _name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
    _EW_F[_name] = [((0.2,), {}), ((), dict(p=0.0, training=False)), ((), dict(p=1.5)), ((), dict(p=-0.1, training=False))]
_REQUIRED = {"threshold": ((0.1, 0.0), {}), "full_like": ((0.5,), {})}  # instead of the bare call
_CLAMP = [((0.0,), {}), ((0.0, 1.0), {}), ((), dict(min=-1.0)), ((), dict(max=1.0)), ((), {}), ((None, None), {})]
_EW_METHODS = {
    "contiguous": [((), dict(memory_format=Attr("channels_last"))), ((), dict(memory_format=Attr("contiguous_format")))],
    "clone": [((), dict(memory_format=Attr("preserve_format")))],
    "to": [((Attr("float64"),), {}), (("cpu",), {}), ((T((1,), "float64"),), {}), ((), dict(dtype=Attr("float16"))),
           ((), dict(device="cpu", dtype=Attr("float64"))), ((Attr("float64"), True), {}), ((), {})],
    "type_as": [((T((1,), "float64"),), {}), ((T((3,), "int64", batched=False),), {}), ((), {})],
    "requires_grad_": [((False,), {})],
    "clamp": _CLAMP, "clip": _CLAMP, "clamp_": _CLAMP,
}


def elementwise_cases():
    out: List[Case] = []
    # settings are checked on two ranks; rank-sensitive ops (feature dropout,
    # normalize's dim, channels_last) on all
    few = [(3, 4), (2, 3, 4, 5)]
    ranked = {"dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout", "normalize"}
    for name in elementwise.F_ELEMENTWISE:
        key = F + name
        required = _REQUIRED.get(name, ((), {}))
        for dims in SHAPES:
            fn(out, key, required[0], required[1], dims)
        for args, kwargs in _EW_F.get(name, []):
            settings_ok = not ({"p", "dim"} & set(kwargs)) or kwargs.get("p", 0) in (0.0, 0.2)
            for dims in SHAPES if name in ranked and settings_ok else few:
                fn(out, key, args, kwargs, dims)
        fn(out, key, required[0], {}, (3, 4), input_kw=True)
        if name in _REQUIRED:
            fn(out, key, (), {}, (3, 4))  # a required argument left out
        fn(out, key, required[0], {}, (0, 4))
    for name in elementwise.TORCH_ELEMENTWISE:
        key = "torch." + name
        if name in ("clamp", "clip"):
            for (args, kwargs), dims in product(_CLAMP, few):
                fn(out, key, args, kwargs, dims)
            for dims in SHAPES:
                fn(out, key, (-1.0, 1.0), {}, dims)
            # a tensor bound broadcasts with x: a (C, 1, 1) parameter
            fn(out, key, (), dict(min=T((3, 1, 1), batched=False)), (3, 4, 5))
            fn(out, key, (), dict(max=T((3, 1, 1), batched=False)), (2, 4, 5))
            continue
        for dims in SHAPES:
            fn(out, key, (), {}, dims)
        fn(out, key, (), dict(out=T((3, 4))), (3, 4))
        fn(out, key, (T((3, 4)),), {}, (3, 4))  # one argument too many
        fn(out, key, (), {}, (3, 4), input_kw=True)
    for name in ("rand_like", "randn_like", "zeros_like", "ones_like", "empty_like", "full_like"):
        key = "torch." + name
        args, kwargs = _REQUIRED.get(name, ((), {}))
        for dims in SHAPES:
            fn(out, key, args, kwargs, dims)
            fn(out, key, args, dict(kwargs, memory_format=Attr("channels_last")), dims)
        fn(out, key, args, dict(kwargs, dtype=Attr("float64")), (3, 4))
        fn(out, key, args, {}, (3, 4), input_kw=True)
        if name in _REQUIRED:
            fn(out, key, (), {}, (3, 4))
    for name in elementwise.METHOD_ELEMENTWISE:
        if name == "cuda":
            meth(out, name, (), {}, (3, 4))  # (skipped without a GPU: see test_entry)
            continue
        if name not in ("clamp", "clip", "clamp_"):
            for dims in SHAPES:
                meth(out, name, (), {}, dims)
        else:
            for dims in SHAPES:
                meth(out, name, (0.0,), {}, dims)
        for (args, kwargs), dims in product(_EW_METHODS.get(name, []), SHAPES if name == "contiguous" else few):
            meth(out, name, args, kwargs, dims)
    return out


def arithmetic_cases():
    """x op other with broadcasting: numbers, tensors of the same shape, of
    sizes 1 that broadcast, of sizes that clash, of another rank."""
    out: List[Case] = []
    for dims in [(3,), (3, 4), (2, 3, 4)]:
        ones = tuple(1 if i % 2 else d for i, d in enumerate(dims))
        clash = dims[:-1] + (dims[-1] + 1,)
        others = [T(dims), T(ones), T(clash), T(dims[1:] or (1,)), T((1,) * len(dims)), 2.0, 3]
        for name in elementwise.BINARY:
            for other in others:
                meth(out, name, (other,), {}, dims)
                fn(out, "torch." + name, (other,), {}, dims)
        for name in elementwise.INPLACE:
            for other in others:
                meth(out, name, (other,), {}, dims)
            meth(out, name, (T(ones),), {}, ones)  # x of sizes 1 cannot take a broadcast that grows it
        for name in ("add", "sub"):
            meth(out, name, (T(dims),), dict(alpha=2), dims)
            fn(out, "torch." + name, (T(ones),), dict(alpha=0.5), dims)
        meth(out, "add", (), {}, dims)  # no operand
        for mask in (T(dims, "bool"), T(ones, "bool"), T(clash, "bool"), T((1,) * len(dims), "bool")):
            for name in ("masked_fill", "masked_fill_"):
                meth(out, name, (mask, 0.0), {}, dims)
        meth(out, "masked_fill", (T(dims, "bool"),), {}, dims)  # no value
        for name, arg in (("fill_", 1.0), ("clamp_min", 0.0), ("clamp_max", 1.0)):
            meth(out, name, (arg,), {}, dims)
            meth(out, name, (), {}, dims)
        meth(out, "type", (Attr("float64"),), {}, dims)
        meth(out, "type", (), dict(dtype=Attr("float16")), dims)
        meth(out, "type", (), {}, dims)  # the type's name, no tensor
    return out


def reduce_more_cases():
    """The other reductions (one dim only for prod/argmax/argmin), and the
    ops that repeat, expand, flip, narrow, select and swap dims."""
    out: List[Case] = []
    for dims in [(3,), (3, 4), (2, 3, 4)]:
        R = len(dims) + 1
        for d in list(range(-R, R + 1)) + [(1,), (1, -1), None]:
            for kw in ({}, dict(keepdim=True)):
                args = () if d is None else (d,)
                for name in ("prod", "argmax", "argmin", "std", "var", "logsumexp", "any", "all", "amin", "nansum", "nanmean"):
                    meth(out, name, args, kw, dims)
                for name in ("prod", "argmax", "argmin", "std", "var", "logsumexp"):
                    fn(out, "torch." + name, args, kw, dims)
        meth(out, "std", (1, False), {}, dims)
        meth(out, "var", (), dict(dim=1, correction=0), dims)
        for sizes in [(B,) + dims, (-1,) + dims, (-1,) + (-1,) * len(dims), (2,) + dims, (-1,) + dims[:-1] + (7,), (1, B) + dims]:
            meth(out, "expand", sizes, {}, dims)
            meth(out, "expand", (sizes,), {}, dims)
        ones = tuple(1 for _ in dims)
        meth(out, "expand", (-1,) + tuple(5 for _ in dims), {}, ones)
        for sizes in [(1,) + ones, (1,) + tuple(2 for _ in dims), (2,) + ones, (1, 1) + ones, ones, (1,) + (0,) * len(dims)]:
            meth(out, "repeat", sizes, {}, dims)
        for fl in [(1,), (-1,), ((1, -1),), (0,), (R,), ((1, 1),)]:
            meth(out, "flip", fl, {}, dims)
        for args in [(1, 0, 2), (1, 1, 2), (-1, 0, 1), (1, -2, 1), (1, 2, 5), (0, 0, 1), (R, 0, 1), (1, 0, 0)]:
            meth(out, "narrow", args, {}, dims)
        for args in [(1, 0), (1, -1), (-1, 2), (1, 9), (0, 0), (R, 0)]:
            meth(out, "select", args, {}, dims)
        for args in [(1, -1), (1, 1), (0, 1), (1, R)]:
            meth(out, "swapaxes", args, {}, dims)
            meth(out, "swapdims", args, {}, dims)
            fn(out, "torch.swapaxes", args, {}, dims)
            fn(out, "torch.swapdims", args, {}, dims)
    return out


def _sp(n: int, L) -> Tuple[int, ...]:
    return (L,) * n if isinstance(L, int) else tuple(L)


def pool_cases():
    out: List[Case] = []
    for n in (1, 2, 3):
        mx, av, lp, tmx = F + f"max_pool{n}d", F + f"avg_pool{n}d", F + f"lp_pool{n}d", f"torch.max_pool{n}d"
        if n == 1:
            ks, ss, ps, ds, sizes = (1, 2, 3, 5), (None, 1, 2, 3), (0, 1, 2), (1, 2), (1, 2, 3, 5, 7)
        elif n == 2:
            ks, ss, ps, ds, sizes = (2, 3, (2, 3)), (None, 1, 2, (1, 2)), (0, 1, (1, 0)), (1, (2, 1)), [(1, 1), (2, 3), (4, 4), (5, 7)]
        else:
            ks, ss, ps, ds, sizes = (2, 3), (None, 2), (0, 1), (1, 2), [(2, 2, 2), (3, 4, 5)]
        for k, s, p, d, ceil, L in product(ks, ss, ps, ds, (False, True), sizes):
            fn(out, mx, (k,), dict(stride=s, padding=p, dilation=d, ceil_mode=ceil), (3,) + _sp(n, L))
            kw = dict(stride=s if s is not None else (), padding=p, dilation=d, ceil_mode=ceil)
            if d == 1:
                fn(out, tmx, (k,), kw, (3,) + _sp(n, L))
        for k, s, p, ceil, cip, L in product(ks, ss, ps, (False, True), (True, False), sizes):
            fn(out, av, (k,), dict(stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip), (3,) + _sp(n, L))
        for k, s, ceil, L in product(ks, ss, (False, True), sizes):
            fn(out, lp, (2, k), dict(stride=s, ceil_mode=ceil), (3,) + _sp(n, L))
        # padding exactly k//2 with ceil_mode: the last window must start inside the input or the left padding
        for k, s, L in product((2, 3, 4, 5), (2, 3), (3, 4, 5, 6)):
            fn(out, mx, (k, s, k // 2), dict(ceil_mode=True), (2,) + (L,) * n)
            fn(out, av, (k, s, k // 2, True), {}, (2,) + (L,) * n)
        # positional calls in torch's order, keyword-only spelling, input=
        fn(out, mx, (3, 2, 1, 1, False, False), {}, (2,) + (6,) * n)
        fn(out, mx, (3, 2, 1, 1, True), {}, (2,) + (6,) * n)
        fn(out, mx, (), dict(kernel_size=2), (2,) + (6,) * n, input_kw=True)
        fn(out, av, (3, 2, 1, True, False), {}, (2,) + (6,) * n)
        fn(out, lp, (1.5, 2, 1, True), {}, (2,) + (6,) * n)
        fn(out, lp, (), dict(norm_type=2, kernel_size=3), (2,) + (6,) * n)
        fn(out, tmx, (3, 2, 1, 1, True), {}, (2,) + (6,) * n)
        fn(out, tmx, (3,), {}, (2,) + (6,) * n)
        # unbatched samples (no channel dim) and wrong ranks
        for r in range(0, n + 3):
            dims = ((3,) + (6,) * (r - 1)) if r else ()
            for key, args in ((mx, (2,)), (av, (2,)), (lp, (1.5, 2)), (tmx, (2,))):
                fn(out, key, args, {}, dims)
        # return_indices, divisor_override, non-positive and odd parameters
        fn(out, mx, (2,), dict(return_indices=True), (3,) + (4,) * n)
        fn(out, tmx, (2,), dict(return_indices=True), (3,) + (4,) * n)
        if n > 1:
            for dv in (0, 3, -1):
                fn(out, av, (2,), dict(divisor_override=dv), (3,) + (4,) * n)
        for kw in (dict(kernel_size=0), dict(kernel_size=2, stride=0), dict(kernel_size=3, padding=-1), dict(kernel_size=3, padding=2),
                   dict(kernel_size=(2,) * (n + 1)), dict(kernel_size=2, stride=(1,) * (n + 1)), dict(kernel_size=[2] * n),
                   dict(kernel_size=(2,)), dict(kernel_size=2.0)):
            fn(out, mx, (), kw, (3,) + (5,) * n)
            fn(out, av, (), kw, (3,) + (5,) * n)
            fn(out, tmx, (), kw, (3,) + (5,) * n)
        fn(out, mx, (2,), dict(dilation=0), (3,) + (5,) * n)
        fn(out, lp, (2, 0), {}, (3,) + (5,) * n)
        fn(out, lp, (0, 2), {}, (3,) + (5,) * n)
        fn(out, lp, (-1, 2), {}, (3,) + (5,) * n)
        for key, args in ((mx, (2,)), (av, (2,)), (lp, (2, 2)), (tmx, (2,))):
            fn(out, key, args, {}, (0,) + (4,) * n)
            fn(out, key, args, {}, (3,) + (4,) * (n - 1) + (0,))
    return out


def adaptive_cases():
    out: List[Case] = []
    for n, kind in product((1, 2, 3), ("avg", "max")):
        key = F + f"adaptive_{kind}_pool{n}d"
        sizes_out = [1, 2, 3, 5, None, 0, -1, (None,) * n, (2,) * n, (3, None, 1)[:n], (None, 2, None)[:n], (2,) * (n + 1), [2] * n]
        if n > 1:
            sizes_out.append((2,) * (n - 1))
        for o, L in product(sizes_out, [(1,) * n, (3,) * n, (2, 5, 4)[:n]]):
            fn(out, key, (o,), {}, (4,) + L)
        for r in range(0, n + 3):
            fn(out, key, (2,), {}, ((3,) + (5,) * (r - 1)) if r else ())
        if kind == "max":
            fn(out, key, (2, True), {}, (3,) + (4,) * n)
            fn(out, key, (2,), dict(return_indices=False), (3,) + (4,) * n)
        fn(out, key, (), dict(output_size=3), (3,) + (4,) * n, input_kw=True)
        fn(out, key, (2,), {}, (3,) + (4,) * (n - 1) + (0,))
        fn(out, key, (2,), {}, (0,) + (4,) * n)
    return out


def softmax_cases():
    out: List[Case] = []
    shapes = [(), (4,), (3, 4), (2, 3, 4)]
    dims_ = (None, 0, 1, 2, 3, -1, -2, -4)
    for name, d, dims in product(("softmax", "log_softmax", "softmin"), dims_, shapes):
        fn(out, F + name, () if d is None else (d,), {}, dims)
    for name, d, dims in product(("torch.softmax", "torch.log_softmax"), dims_, shapes):
        fn(out, name, () if d is None else (d,), {}, dims)
    for name, d, dims in product(("softmax", "log_softmax"), dims_, shapes):
        meth(out, name, () if d is None else (d,), {}, dims)
    for name in ("softmax", "log_softmax", "softmin"):
        fn(out, F + name, (), dict(dim=1, dtype=Attr("float64")), (3, 4))
        fn(out, F + name, (1, 3, Attr("float64")), {}, (3, 4))
        fn(out, F + name, (), dict(dim=-1), (3, 4), input_kw=True)
        fn(out, F + name, (), dict(dim=1.0), (3, 4))
    for name in ("torch.softmax", "torch.log_softmax"):
        fn(out, name, (1, Attr("float64")), {}, (3, 4))
        fn(out, name, (), dict(dim=1), (3, 4))
        fn(out, name, (), dict(dim=1), (3, 4), input_kw=True)
    for name in ("softmax", "log_softmax"):
        meth(out, name, (), dict(dim=-1, dtype=Attr("float64")), (3, 4))
        meth(out, name, (), {}, (3, 4))
    for d, dims in product((None, -1, 0, 1, 2, -2, 3, -4), [(), (4,), (5,), (3, 4), (4, 3), (2, 3, 6), (0, 4)]):
        fn(out, F + "glu", () if d is None else (d,), {}, dims)
    fn(out, F + "glu", (), dict(dim=1), (4, 3), input_kw=True)
    return out


_INTERP_RANKS = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,), "bilinear": (2,), "bicubic": (2,),
                 "trilinear": (3,), "area": (1, 2, 3)}  # spatial ranks each mode takes


def interpolate_cases():
    out: List[Case] = []
    spatial = {1: (5,), 2: (5, 3), 3: (5, 3, 2)}
    key = F + "interpolate"
    for mode, sn in product(_INTERP_RANKS, (0, 1, 2, 3, 4)):
        dims = (2,) + spatial.get(sn, (4,) * sn)
        for scale in (2, 2.0, 1.5, 0.7, 0.5, 0.3, 1, 0.2, 0, -1.0):
            fn(out, key, (), dict(scale_factor=scale, mode=mode), dims)
        for size in (1, 4, 7, 0, -1):
            fn(out, key, (size,), dict(mode=mode), dims)
        fn(out, key, ((3, 8, 2)[:sn] if sn else 3,), dict(mode=mode), dims)
        fn(out, key, ([3, 8, 2][:sn] if sn else 3,), dict(mode=mode), dims)
        fn(out, key, ((3, 8, 2, 2)[:sn + 1],), dict(mode=mode), dims)  # one size too many
        fn(out, key, (), dict(scale_factor=(2, 0.5, 1.5)[:sn] if sn else 2, mode=mode), dims)
        for align in (True, False):
            fn(out, key, (), dict(scale_factor=1.5, mode=mode, align_corners=align), dims)
        for rsf in (True, False):
            fn(out, key, (), dict(scale_factor=0.7, mode=mode, recompute_scale_factor=rsf), dims)
            fn(out, key, (3,), dict(mode=mode, recompute_scale_factor=rsf), dims)
        fn(out, key, (), dict(scale_factor=1.5, mode=mode, antialias=True), dims)
        fn(out, key, (None, 2, mode), {}, dims)  # positional, as torch orders them
    fn(out, key, (4,), dict(scale_factor=2), (2, 3, 3))  # both
    fn(out, key, (), {}, (2, 3, 3))  # neither
    fn(out, key, (), dict(scale_factor=2, mode="cubic"), (2, 3, 3))
    fn(out, key, (None, 2, "bilinear", True), {}, (2, 3, 3))
    fn(out, key, (), dict(size=(4, 6), mode="bilinear"), (2, 3, 3), input_kw=True)
    fn(out, key, (), dict(scale_factor=2), (0, 3, 3))
    fn(out, key, (), dict(scale_factor=2), (2, 0, 3))
    key = F + "upsample"
    for mode, sn in product(_INTERP_RANKS, (1, 2, 3)):
        dims = (2,) + spatial[sn]
        for kw in (dict(size=4), dict(scale_factor=2), dict(scale_factor=0.5), dict(scale_factor=1.5, align_corners=True),
                   dict(size=4, scale_factor=2), {}):
            fn(out, key, (), dict(kw, mode=mode), dims)
    fn(out, key, (None, 2, "bilinear", True), {}, (2, 3, 3))
    fn(out, key, (), dict(size=(4, 6), mode="nearest"), (2, 3, 3), input_kw=True)
    return out


def pad_cases():
    out: List[Case] = []
    key = F + "pad"
    pads = [(1, 1), (0, 2), (2, 0), (1, 2, 3, 4), (0, 0, 1, 0), (1, 1, 1, 1, 1, 1), (1, 0, 0, 1, 2, 2), (1,) * 8, (1,) * 10,
            (-1, -1), (-1, 2, 0, -1), (-2, -2), (3, 3), (4, 4, 4, 4), (1, 2, 3), (), [1, 1], (1.0, 1.0)]
    for mode, p, r in product(("constant", "reflect", "replicate", "circular"), pads, range(0, 5)):
        for dims in ((2, 3, 3, 4)[:r], (4, 5, 4, 5)[:r]):
            fn(out, key, (p,), dict(mode=mode) if mode != "constant" else {}, dims)
    for r in range(1, 5):
        fn(out, key, ((1, 1) * r,), {}, (3,) * r)  # pads every dim the sample has: the batch dim too
        fn(out, key, ((1, 1) * (r + 1),), {}, (3,) * r)
    fn(out, key, ((1, 1), "constant", 0.5), {}, (3, 4))
    fn(out, key, ((1, 1),), dict(value=1.0), (3, 4))
    fn(out, key, ((1, 1),), dict(mode="bogus"), (3, 4))
    fn(out, key, ((1, 1),), dict(mode="reflect", value=1.0), (3, 4))
    fn(out, key, (), dict(pad=(1, 2)), (3, 4), input_kw=True)
    fn(out, key, (1,), {}, (3, 4))
    for p, dims in [((2, -2), (1,)), ((-3, 3), (2, 2)), ((1, 1, 3, -2), (2, 1)), ((-1, 1), (1,)), ((-2, 3), (2,))]:
        fn(out, key, (p,), {}, dims)  # negative pads that crop a whole dim (or more) while the other side adds
    fn(out, key, ((1, 1),), {}, (0, 4))
    fn(out, key, ((1, 1),), dict(mode="reflect"), (0, 4))
    fn(out, key, ((1, 1),), dict(mode="replicate"), (3, 0))
    return out


def fold_cases():
    """F.unfold / F.fold: windows, sizes too small, ranks, arguments torch refuses;
    fold's L is the count torch's own unfold gives for output_size, and one more."""
    out: List[Case] = []
    for k, d, p, s, L in product((1, 2, 3, (2, 3)), (1, 2), (0, 1), (1, 2, (2, 1)), [(5, 5), (3, 4), (1, 6)]):
        fn(out, F + "unfold", (k,), dict(dilation=d, padding=p, stride=s), (3,) + L)
    for size, k, s, p in product(((3, 3), 4, (4, 5)), (1, 2, (2, 3)), (1, 2), (0, 1)):
        x = torch.empty((1, 1) + ((size,) * 2 if isinstance(size, int) else size))
        blocks = torch.nn.functional.unfold(x, k, 1, p, s).shape[-1]
        per = math.prod(k) if isinstance(k, tuple) else k * k
        for c, L in product((2 * per, 2 * per + 1), (blocks, blocks + 1)):
            fn(out, F + "fold", (size, k), dict(stride=s, padding=p), (c, L))
    for r in range(0, 5):
        fn(out, F + "unfold", (2,), {}, (3, 4, 4, 4)[:r])
        fn(out, F + "fold", ((3, 3), 2), {}, (8, 4, 1, 1)[:r])
    fn(out, F + "unfold", (1,), {}, (4, 5))
    fn(out, F + "unfold", (2, 1, 0, 1), {}, (3, 4, 5))
    fn(out, F + "unfold", (), dict(kernel_size=2), (3, 4, 5), input_kw=True)
    fn(out, F + "fold", ((3, 3), 2, 1, 0, 1), {}, (8, 4))
    fn(out, F + "fold", (), dict(output_size=(3, 3), kernel_size=2), (8, 4), input_kw=True)
    for kw in (dict(kernel_size=0), dict(stride=0), dict(padding=-1), dict(kernel_size=(2,)), dict(kernel_size=(2, 3, 4))):
        fn(out, F + "unfold", (), dict(dict(kernel_size=2), **kw), (3, 5, 5))
        fn(out, F + "fold", (), dict(dict(output_size=(3, 3), kernel_size=2), **kw), (8, 4))
    for size in (0, (3,), (1, 1), (2, 5)):
        fn(out, F + "fold", (size, 2), {}, (8, 4))
    return out


def flatten_cases():
    out: List[Case] = []
    shapes = [(), (3,), (3, 4), (2, 3, 4), (2, 1, 3, 4)]
    for s, e, dims in product(range(-4, 4), range(-4, 4), shapes):
        fn(out, "torch.flatten", (s, e), {}, dims)
        meth(out, "flatten", (s, e), {}, dims)
    for dims in shapes:
        fn(out, "torch.flatten", (), {}, dims)
        fn(out, "torch.flatten", (1,), {}, dims)
        fn(out, "torch.flatten", (), dict(start_dim=2), dims)
        fn(out, "torch.flatten", (), dict(end_dim=-2, start_dim=1), dims)
        meth(out, "flatten", (), {}, dims)
        meth(out, "flatten", (1,), {}, dims)
        meth(out, "flatten", (), dict(start_dim=-2), dims)
        meth(out, "flatten", (), dict(end_dim=2), dims)
    fn(out, "torch.flatten", (1,), {}, (0, 3, 4))
    meth(out, "flatten", (2,), {}, (3, 0, 4))
    fn(out, "torch.flatten", (), dict(start_dim=1), (3, 4), input_kw=True)
    fn(out, "torch.flatten", (1.0,), {}, (3, 4))
    meth(out, "flatten", (1, 2, 3), {}, (3, 4))
    return out


def norm_cases():
    """F.batch_norm: statistics and affine tensors given (whose size the
    engine does not know: a give-up) or None, in training and eval mode."""
    out: List[Case] = []
    for dims in [(), (3,), (3, 4), (3, 4, 4), (3, 2, 2, 2)]:
        c = dims[0] if dims else 1
        for training in (True, False, None):
            kw = {} if training is None else dict(training=training)
            fn(out, F + "batch_norm", (None, None), kw, dims)
            fn(out, F + "batch_norm", (T((c,), batched=False), T((c,), batched=False)), kw, dims)
            fn(out, F + "batch_norm", (T((c + 1,), batched=False), T((c + 1,), batched=False)), kw, dims)
        fn(out, F + "batch_norm", (None, None, T((c,), batched=False)), dict(training=True), dims)
        fn(out, F + "batch_norm", (None, None), dict(training=True, momentum=0.5, eps=1e-3), dims)
    fn(out, F + "batch_norm", (None, None), dict(training=True), (3, 4), input_kw=True)
    return out


def reduce_cases():
    out: List[Case] = []
    shapes = [(), (3,), (3, 4), (2, 3, 4), (2, 1, 3, 4)]
    dim_args = [0, 1, 2, 3, 4, -1, -2, -3, -5, (2, 3), (1, 2), (-1, -2), (1, -1), [2, 3], (1, 1), (1, -3), (0, 1), (), [], (5,)]
    for name, d, keep, dims in product(("mean", "sum", "amax"), dim_args, (False, True), shapes):
        args = (d, True) if keep else (d,)
        fn(out, "torch." + name, args, {}, dims)
        meth(out, name, args, {}, dims)
    for name, dims in product(("mean", "sum", "amax"), shapes[2:]):
        fn(out, "torch." + name, (), dict(dim=(2, 3), keepdim=True), dims)
        fn(out, "torch." + name, (), {}, dims)
        meth(out, name, (), {}, dims)
        meth(out, name, (), dict(dim=-1), dims)
        meth(out, name, (), dict(dim=None, keepdim=True), dims)
        meth(out, name, (), dict(keepdim=True), dims)
        meth(out, name, (), dict(dim=1, keepdim=True), dims)
        if name != "amax":
            meth(out, name, (1,), dict(dtype=Attr("float64")), dims)
            fn(out, "torch." + name, (1, True, Attr("float64")), {}, dims)
        meth(out, name, (1,), {}, (0, 4))
        meth(out, name, (2,), {}, (3, 0))
        fn(out, "torch." + name, (), dict(dim=-1), (3, 4), input_kw=True)
        meth(out, name, (1.0,), {}, (3, 4))
    return out


def axes_cases():
    """unsqueeze, squeeze, transpose: every dim in and around the range."""
    out: List[Case] = []
    shapes = [(), (3,), (1,), (3, 4), (1, 4), (3, 1), (2, 1, 3, 4), (2, 3, 1, 1)]
    for dims in shapes:
        R = len(dims) + 1  # the batched rank
        for d in range(-R - 2, R + 2):
            fn(out, "torch.unsqueeze", (d,), {}, dims)
            meth(out, "unsqueeze", (d,), {}, dims)
        for d in range(-R - 1, R + 1):
            fn(out, "torch.squeeze", (d,), {}, dims)
            meth(out, "squeeze", (d,), {}, dims)
            meth(out, "squeeze", (), dict(dim=d), dims)
        for d0, d1 in product(range(-R - 1, R + 1), repeat=2):
            fn(out, "torch.transpose", (d0, d1), {}, dims)
            meth(out, "transpose", (d0, d1), {}, dims)
        fn(out, "torch.squeeze", (), {}, dims)
        meth(out, "squeeze", (), {}, dims)
        if len(dims) >= 2:
            meth(out, "squeeze", ((1, 2),), {}, dims)
            fn(out, "torch.squeeze", ((-1, -2),), {}, dims)
            meth(out, "transpose", (), dict(dim0=1, dim1=-1), dims)
            fn(out, "torch.transpose", (), dict(dim0=1, dim1=2), dims, input_kw=True)
    fn(out, "torch.unsqueeze", (), dict(dim=1), (3, 4), input_kw=True)
    meth(out, "unsqueeze", (), {}, (3, 4))
    meth(out, "unsqueeze", (1.0,), {}, (3, 4))
    meth(out, "unsqueeze", (1,), {}, (0, 4))
    meth(out, "squeeze", (1,), {}, (0, 4))
    meth(out, "transpose", (1, 2), {}, (0, 4))
    meth(out, "transpose", (1,), {}, (3, 4))
    return out


def _divisors(n: int) -> List[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def reshape_targets(dims: Tuple[int, ...]) -> List[Tuple[object, ...]]:
    """view/reshape targets for a sample of `dims`: right and wrong sizes, with
    the batch as x.size(0) or as the -1 of view(-1, N)."""
    have = math.prod(dims)
    targets = [(-1, have), (-1, have + 1), (-1, 2 * have), (-1,), (B,), (B, -1), (B, have), (B, have + 1), (B, -1, -1),
               (-1, -1), (B, -2), (-1, -2), (B, 0), (-1, 0), (B, -1, 0), (2, -1), (B, B), (-1, B), (B, 1, -1), (-1, 1, have)]
    if have % 2 == 0 and have > 2:
        targets += [(-1, have // 2), (-1, 2, have // 2), (B, 2, -1), (B, -1, 2), (-1, have // 2, 2), (-1, 4)]
    if have % 3:
        targets += [(B, -1, 3), (-1, 3)]
    for d in _divisors(have)[1:4]:
        targets += [(B, d, have // d), (-1, d, have // d), (B, -1, d), (-1, have // d, d, 1), (B, d, -1, 1)]
    if len(dims) >= 2:
        targets += [(B,) + dims[::-1], (-1,) + dims[::-1], (B, dims[0], -1), (-1, dims[0], math.prod(dims[1:]))]
    return targets


def reshape_cases():
    out: List[Case] = []
    for dims in [(), (1,), (6,), (7,), (2, 3), (3, 4), (2, 3, 4), (4, 1, 6), (2, 3, 2, 2)]:
        for target in reshape_targets(dims):
            _c(out, "reshape", "view", target, {}, dims)
            _c(out, "reshape", "reshape", target, {}, dims)
            _c(out, "reshape", "view", (target,), {}, dims)  # x.view((B, -1))
            _c(out, "reshape", "torch.reshape", (target,), {}, dims)
    # a folded batch: x.view(-1, N) where N takes part of each sample (3 x 4 -> rows of 4)
    for dims, target in [((3, 4), (-1, 4)), ((2, 3, 4), (-1, 3, 4)), ((2, 3, 4), (-1, 4)), ((6,), (-1, 2)), ((5,), (-1, 10))]:
        _c(out, "reshape", "view", target, {}, dims)
    _c(out, "reshape", "view", (B, -1), {}, (0, 4))
    _c(out, "reshape", "view", (-1, 0), {}, (0, 4))
    return out


def permute_cases():
    out: List[Case] = []
    for dims in [(), (3,), (3, 4), (2, 3, 4), (2, 1, 3, 4)]:
        R = len(dims) + 1
        for order in permutations(range(R)):
            for key, args in (("permute", order), ("permute", (order,)), ("torch.permute", (order,))):
                _c(out, "permute", key, args, {}, dims)
            neg = tuple(i - R if i % 2 else i for i in order)  # some dims counted from the end
            _c(out, "permute", "permute", neg, {}, dims)
        bad = [tuple(range(R - 1)), tuple(range(R + 1)), (0,) * R, (0, R) + tuple(range(1, R - 1)), (0,) + tuple(range(-R + 1, 0)),
               (-R,) + tuple(range(1, R))]
        for order in bad:
            if order:
                _c(out, "permute", "permute", order, {}, dims)
    _c(out, "permute", "permute", (0, 2, 1), {}, (0, 4))
    return out


def index_cases():
    out: List[Case] = []
    S = slice
    keys = [
        (S(None),), (S(None), 0), (S(None), -1), (S(None), S(None, 2)), (S(None), S(1, None)), (S(None), S(None, None, 2)),
        (S(None), S(None), S(None, None, 2), S(None, None, 2)), (Ellipsis, None), (Ellipsis, 0), (Ellipsis, S(None, 2)),
        (S(None), None), (S(None), Ellipsis, -1), (S(None), S(-2, None)), (S(None), 5), (S(None), -6), (0,), (0, S(None)),
        (S(None, 1),), (S(None), S(None, None, -1)), (S(None), S(None), S(None), S(None), S(None), S(None)),
        (Ellipsis, Ellipsis), (S(None), S(10, 20)), (S(None), S(3, 1)), (S(None), None, S(None), None),
    ]
    for dims in [(3,), (3, 4), (2, 3, 4), (4, 6, 6), (2, 3, 4, 5)]:
        for key in keys:
            _c(out, "index", "index", (key,), {}, dims)
    return out


def _dedupe(cases: List[Case]) -> List[Case]:
    kept: Dict[str, Case] = {}
    for c in cases:
        kept.setdefault(c.id, c)
    return list(kept.values())


FAMILIES: Dict[str, Callable[[], List[Case]]] = {
    "elementwise": elementwise_cases, "pool": pool_cases, "adaptive_pool": adaptive_cases, "softmax_glu": softmax_cases,
    "interpolate": interpolate_cases, "pad": pad_cases, "flatten": flatten_cases, "reduce": reduce_cases,
    "axes": axes_cases, "reshape": reshape_cases, "permute": permute_cases, "index": index_cases,
    "arithmetic": arithmetic_cases, "reduce_more": reduce_more_cases, "norm": norm_cases, "fold": fold_cases,
}
FAMILY_OF: Dict[str, str] = {}  # case id -> family
ALL: List[Case] = []
for _family, _make in FAMILIES.items():
    for _case in _dedupe(_make()):
        if _case.id not in FAMILY_OF:
            FAMILY_OF[_case.id] = _family
            ALL.append(_case)


# ---------------------------------------------------------------------------
# Disagreements the engine has today (each written up in /tmp/functional_bugs.md
# when found). A predicate names the cases; they run as strict xfails.

_DROPOUTS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
_UNARY = [n for n in elementwise.TORCH_ELEMENTWISE if n not in ("clamp", "clip")]
_NO_BOUNDS = {f"torch.{n}({args})" for args, n in product(("x", "x, None, None"), ("clamp", "clip"))}
_NO_BOUNDS |= {f"x.{n}({args})" for args, n in product(("", "None, None"), ("clamp", "clip", "clamp_"))}

BUG1_SETTINGS = {
    "F.celu(x, alpha=0.0)", "F.gelu(x, approximate='bogus')", "F.hardtanh(x, 1.0, -1.0)", "F.softshrink(x, -1.0)",
    "F.rrelu(x, 0.5, 0.1)", "F.threshold(x, 'a', 0.0)",
} | {f"F.{n}(x, p=1.5)" for n in _DROPOUTS} | {f"F.{n}(x, p=-0.1, training=False)" for n in _DROPOUTS} | _NO_BOUNDS
BUG2_SIGNATURE = {"F.threshold(x)", "torch.full_like(x)", "x.type_as()", "torch.relu(x, out=T(3, 4))"}
BUG2_SIGNATURE |= {f"torch.{n}(x, T(3, 4))" for n in _UNARY}
BUG2_SIGNATURE |= {f"torch.{n}(x, 1, True, torch.float64)" for n in ("mean", "sum")}
_CHANNELS_LAST = {"x.contiguous(memory_format=torch.channels_last)"} | {
    f"torch.{n}(x{a}, memory_format=torch.channels_last)" for n, a in
    [("rand_like", ""), ("randn_like", ""), ("zeros_like", ""), ("ones_like", ""), ("empty_like", ""), ("full_like", ", 0.5")]}
BUG6_EMPTY = {
    *(f"F.{k}_pool{n}d(x, {a})@{(0,) + (4,) * n}" for n in (1, 2, 3) for k, a in (("max", "2"), ("avg", "2"), ("lp", "2, 2"))),
    *(f"torch.max_pool{n}d(x, 2)@{(0,) + (4,) * n}" for n in (1, 2, 3)),
    "F.adaptive_max_pool1d(x, 2)@(0, 4)", "F.adaptive_max_pool2d(x, 2)@(0, 4, 4)", "F.adaptive_max_pool3d(x, 2)@(0, 4, 4, 4)",
    "F.adaptive_avg_pool3d(x, 2)@(0, 4, 4, 4)", "F.interpolate(x, scale_factor=2)@(0, 3, 3)",
    "F.pad(x, (1, 1), mode='reflect')@(0, 4)", "F.pad(x, (1, 1), mode='replicate')@(3, 0)",
    "x.amax(1)@(0, 4)", "x.amax(2)@(3, 0)", "x.view(-1, 0)@(0, 4)",
}


def _bug_rank(c: Case) -> bool:
    """feature dropout and normalize: the rank / dim torch requires is not checked"""
    R = len(c.dims) + 1
    if c.key == F + "dropout1d" and c.call in ("F.dropout1d(x)", "F.dropout1d(x, 0.2)", "F.dropout1d(x, p=0.0, training=False)"):
        return R not in (2, 3)
    if c.key == F + "dropout2d" and c.call in ("F.dropout2d(x)", "F.dropout2d(x, 0.2)"):
        return R < 2  # (with training=False torch checks nothing either)
    if c.key == F + "normalize" and not c.input_kw:
        d = c.kwargs.get("dim", 1)
        return not -R <= d < R
    return False


def _bug_interp_options(c: Case) -> bool:
    """F.interpolate / F.upsample: the option checks nn.Upsample's rule makes"""
    if c.key not in (F + "interpolate", F + "upsample"):
        return False
    kw = dict(zip(("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"), c.args), **c.kwargs)
    mode = kw.get("mode", "nearest")
    if len(c.dims) - 1 not in _INTERP_RANKS.get(mode, ()):
        return False  # a rank the mode does not take: the engine reports that
    if kw.get("align_corners") is not None and mode in ("nearest", "nearest-exact", "area"):
        return True
    if kw.get("recompute_scale_factor") and kw.get("size") is not None:
        return True
    return bool(kw.get("antialias")) and mode not in ("bilinear", "bicubic")


def _bug_pad_crop(c: Case) -> bool:
    if c.key != F + "pad" or c.kwargs.get("mode", "constant") != "constant" or not c.args:
        return False
    p = c.args[0]
    if not isinstance(p, tuple) or len(p) % 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in p):
        return False
    n = len(p) // 2
    if len(c.dims) < n:
        return False
    axes = [(p[2 * a], p[2 * a + 1], c.dims[-1 - a]) for a in range(n)]
    return all(L + lo + hi >= 1 for lo, hi, L in axes) and any(lo < -L or hi < -L for lo, hi, L in axes)


KNOWN_BUGS: List[Tuple[str, str, Callable[[Case], bool]]] = [
    ("BUG-1", "elementwise functional entries check none of the settings torch refuses (the nn layers do)",
     lambda c: c.call in BUG1_SETTINGS),
    ("BUG-2", "sig('input', _varargs=True) (and torch.mean/sum's positional dtype) binds calls torch refuses to bind",
     lambda c: c.call in BUG2_SIGNATURE),
    ("BUG-3", "F.dropout1d / F.dropout2d / F.normalize: the rank or dim torch requires is not checked", _bug_rank),
    ("BUG-4", "memory_format=torch.channels_last needs a rank-4 tensor; x.contiguous and torch.*_like ignore it",
     lambda c: c.call in _CHANNELS_LAST and len(c.dims) != 3),
    ("BUG-5", "torch.clamp/clip with a tensor bound: the bound's shape is ignored",
     lambda c: c.call in ("torch.clamp(x, max=T(3, 1, 1):param)", "torch.clip(x, max=T(3, 1, 1):param)")),
    ("BUG-6", "empty dims: tensor.py runs functional rules without spec.apply's empty-tensor guard",
     lambda c: c.id in BUG6_EMPTY),
    ("BUG-7", "F.interpolate / F.upsample accept align_corners, recompute_scale_factor and antialias where torch refuses them",
     _bug_interp_options),
    ("BUG-9", "F.pad: an empty pad in reflect/replicate/circular mode, and value= outside constant mode, are refused",
     lambda c: c.key == F + "pad" and c.kwargs.get("mode", "constant") != "constant"
     and ((c.args[:1] == ((),) and len(c.dims) <= 1) or "value" in c.kwargs)),
    ("BUG-10", "F.pad constant mode: a negative pad larger than the dim is refused even when the other side makes up for it",
     _bug_pad_crop),
    ("GAP-1", "x.squeeze / torch.squeeze with a tuple of dims (torch >= 2.0) is not followed: the engine gives up",
     lambda c: c.entry in ("squeeze", "torch.squeeze") and isinstance((c.args or (None,))[0], tuple)),
]


def known_bug(case: Case) -> Optional[str]:
    for bug, what, matches in KNOWN_BUGS:
        if matches(case):
            return f"{bug}: {what}"
    return None


_BUG_OF = {c.id: known_bug(c) for c in ALL}
BUGGY = [c for c in ALL if _BUG_OF[c.id]]
CASES = [c for c in ALL if not _BUG_OF[c.id]]
ENTRIES = sorted(set(FUNCTIONS) | set(METHODS) | {RESHAPE, PERMUTE, INDEX})


# ---------------------------------------------------------------------------
# The tests

BY_ENTRY: Dict[str, List[Case]] = {}
for _case in CASES:
    BY_ENTRY.setdefault(_case.entry, []).append(_case)

NO_GPU = "x.cuda() needs a CUDA device; this torch build / machine has none, so torch cannot say what it does"


def run_entry(entry: str):
    """Every grid case of one entry: (contract failures, outcome counts, give-ups)."""
    failures, gave_up, counts = [], [], Counter()
    for case in BY_ENTRY[entry]:
        try:
            result = check(case)
        except AssertionError as exc:
            failures.append(str(exc).split("\n")[0])
            continue
        counts[result] += 1
        if result == GAVE_UP:
            gave_up.append(f"{case.id}: {truth(case)}")
    return failures, counts, gave_up


def assert_entry(entry: str) -> None:
    failures, counts, gave_up = run_entry(entry)
    n = len(BY_ENTRY[entry])
    assert not failures, f"{entry}: {len(failures)} of {n} cases break the contract:\n" + "\n".join(failures[:25])
    assert counts[AGREED], f"{entry}: no call torch runs gets its shape from the engine ({dict(counts)})"
    ran = counts[AGREED] + counts[GAVE_UP]
    assert len(gave_up) <= MAX_GIVE_UP_SHARE * ran, (
        f"{entry}: the engine gives up on {len(gave_up)} of the {ran} calls torch runs:\n" + "\n".join(gave_up[:25]))


@pytest.mark.parametrize("entry", ENTRIES)
def test_entry(entry: str) -> None:
    if entry == "cuda" and not torch.cuda.is_available():
        pytest.skip(NO_GPU)
    assert_entry(entry)


def _xfail(c: Case):
    # raises=Failed: the failure is reported with pytest.fail(pytrace=False), as
    # formatting 400 tracebacks through this file would take a minute
    return pytest.mark.xfail(strict=True, raises=pytest.fail.Exception, reason=_BUG_OF[c.id])


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_xfail(c)) for c in BUGGY])
def test_known_bug(case: Case) -> None:
    """A BUG breaks the contract (check raises); a GAP gives up on a call torch
    runs (and must keep the contract: a wrong shape there is a plain failure)."""
    if _BUG_OF[case.id].startswith("GAP"):
        result = check(case)
    else:
        try:
            result = check(case)
        except AssertionError as exc:
            pytest.fail(str(exc).split("\n")[0], pytrace=False)
    if result == GAVE_UP:
        pytest.fail(f"{case.id}: the engine gives up; {truth(case)}", pytrace=False)


def test_every_entry_has_cases() -> None:
    """Every key of FUNCTIONS and METHODS (and reshape/permute) has grid cases
    outside the known bugs, and no case names something else."""
    assert set(ENTRIES) - set(BY_ENTRY) == set()
    assert {c.entry for c in ALL} - set(ENTRIES) == set()
    for bug, _, matches in KNOWN_BUGS:
        assert any(matches(c) for c in ALL), f"{bug} matches no case: remove it"


def test_the_check_can_fail(monkeypatch) -> None:
    """Wrong rules are caught: one that returns its input unchanged, one that
    always gives up, one that is off by one; a reshape that ignores the target."""
    from flake8_cnnshape.shapes.spec import OpSpec

    def caught(entry: str) -> bool:
        try:
            assert_entry(entry)
        except AssertionError:
            return True
        return False

    spec = FUNCTIONS[F + "max_pool2d"]
    monkeypatch.setitem(FUNCTIONS, F + "max_pool2d", OpSpec(spec.sig, lambda a, x, ctx: x, spec.axes))
    assert caught(F + "max_pool2d")
    monkeypatch.setitem(FUNCTIONS, F + "max_pool2d", OpSpec(spec.sig, lambda a, x, ctx: None, spec.axes))
    assert caught(F + "max_pool2d")
    spec = METHODS["flatten"]

    def off_by_one(a, x, ctx):
        out = spec.rule(a, x, ctx)
        return None if out is None or not out.dims else out.with_dims(out.dims[:-1] + (out.dims[-1] + 1,))

    monkeypatch.setitem(METHODS, "flatten", OpSpec(spec.sig, off_by_one, spec.axes))
    assert caught("flatten")
    monkeypatch.setattr(tensor_ops, "reshape", lambda target, x, ctx, call: x)
    assert caught(RESHAPE)
    monkeypatch.setattr(tensor_ops, "permute", lambda order, x: None)
    assert caught(PERMUTE)
    monkeypatch.setattr(tensor_ops, "index", lambda key, x: x)
    assert caught(INDEX)


# ---------------------------------------------------------------------------
# Random cases (hypothesis, derandomized, bounded): the arithmetic over ranges
# the grids only sample. Known bugs are left to test_known_bug.

_HYP = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def random_check(case: Case) -> None:
    assume(not known_bug(case))
    if case.kind in ("function", "method"):
        spec = FUNCTIONS.get(case.key) if case.kind == "function" else METHODS.get(case.key)
        assert spec is not None, case.id
    check(case)


def _sizes(n: int, hi: int):
    return st.lists(st.integers(1, hi), min_size=n, max_size=n).map(tuple)


@_HYP
@given(kind=st.sampled_from(["max_pool", "avg_pool", "lp_pool", "torch.max_pool"]), n=st.integers(1, 3), k=st.integers(1, 5),
       s=st.one_of(st.none(), st.integers(1, 4)), p=st.integers(0, 3), d=st.integers(1, 3), ceil=st.booleans(),
       channels=st.sampled_from([(), (1,), (3,)]), data=st.data())
def test_pool_random(kind, n, k, s, p, d, ceil, channels, data) -> None:
    dims = channels + data.draw(_sizes(n, 12 if n < 3 else 6), label="sizes")
    if kind == "max_pool":
        case = Case("function", F + f"max_pool{n}d", (k,), dict(stride=s, padding=p, dilation=d, ceil_mode=ceil), dims)
    elif kind == "torch.max_pool":
        case = Case("function", f"torch.max_pool{n}d", (k,), dict(stride=() if s is None else s, padding=p, dilation=d, ceil_mode=ceil), dims)
    elif kind == "avg_pool":
        case = Case("function", F + f"avg_pool{n}d", (k,), dict(stride=s, padding=p, ceil_mode=ceil, count_include_pad=d > 1), dims)
    else:
        case = Case("function", F + f"lp_pool{n}d", (float(d), k), dict(stride=s, ceil_mode=ceil), dims)
    random_check(case)


@_HYP
@given(n=st.integers(1, 3), kind=st.sampled_from(["avg", "max"]), data=st.data())
def test_adaptive_random(n, kind, data) -> None:
    dims = data.draw(st.sampled_from([(), (2,)])) + data.draw(_sizes(n, 9), label="sizes")
    size = data.draw(st.one_of(st.integers(1, 9), st.lists(st.one_of(st.none(), st.integers(1, 9)), min_size=n, max_size=n).map(tuple)))
    random_check(Case("function", F + f"adaptive_{kind}_pool{n}d", (size,), {}, dims))


@_HYP
@given(mode=st.sampled_from(sorted(_INTERP_RANKS)), data=st.data())
def test_interpolate_random(mode, data) -> None:
    n = data.draw(st.sampled_from(_INTERP_RANKS[mode]), label="spatial rank")
    dims = (2,) + data.draw(_sizes(n, 24 if n == 1 else 8), label="sizes")
    if data.draw(st.booleans(), label="by size"):
        size = data.draw(st.one_of(st.integers(1, 30), _sizes(n, 30)), label="size")
        case = Case("function", F + "interpolate", (size,), dict(mode=mode), dims)
    else:
        scale = data.draw(st.floats(0.05, 4.0, allow_nan=False, allow_infinity=False), label="scale")
        kw = dict(scale_factor=scale, mode=mode, recompute_scale_factor=data.draw(st.sampled_from([None, True, False])))
        if mode in ("linear", "bilinear", "bicubic", "trilinear"):
            kw["align_corners"] = data.draw(st.sampled_from([None, True, False]))
        case = Case("function", F + "interpolate", (), kw, dims)
    random_check(case)


@_HYP
@given(mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]), dims=st.lists(st.integers(1, 5), max_size=4).map(tuple),
       pads=st.lists(st.integers(-2, 5), min_size=1, max_size=4).map(lambda v: tuple(v + v)))
def test_pad_random(mode, dims, pads) -> None:
    random_check(Case("function", F + "pad", (pads,), dict(mode=mode) if mode != "constant" else {}, dims))


_AXIS_OPS = ["torch.flatten", "flatten", "torch.transpose", "transpose", "torch.unsqueeze", "unsqueeze", "torch.squeeze", "squeeze",
             "torch.mean", "sum", "amax", "softmax", "torch.log_softmax", F + "softmin", F + "glu", "permute"]


@_HYP
@given(op=st.sampled_from(_AXIS_OPS), dims=st.lists(st.integers(1, 4), max_size=4).map(tuple), data=st.data())
def test_axes_random(op, dims, data) -> None:
    R = len(dims) + 1
    dim = st.integers(-R - 1, R)
    kind = "function" if op.startswith("torch.") else "method"
    if op == "permute":
        order = data.draw(st.permutations(range(R)), label="order")
        case = Case("permute", "permute", tuple(i - R if data.draw(st.booleans()) else i for i in order), {}, dims)
    elif op.endswith(("flatten", "transpose")):
        case = Case(kind, op, (data.draw(dim), data.draw(dim)), {}, dims)
    elif op.endswith(("mean", "sum", "amax")):
        d = data.draw(st.one_of(dim, st.lists(dim, min_size=1, max_size=3).map(tuple)), label="dim")
        case = Case(kind, op, (d, data.draw(st.booleans(), label="keepdim")), {}, dims)
    else:
        case = Case(kind, op, (data.draw(dim, label="dim"),), {}, dims)
    random_check(case)


@_HYP
@given(dims=st.lists(st.integers(1, 5), max_size=4).map(tuple), data=st.data())
def test_reshape_random(dims, data) -> None:
    have = math.prod(dims)
    size = st.one_of(st.sampled_from(_divisors(have)), st.integers(-1, 2 * have + 1))
    first = data.draw(st.sampled_from([B, -1, -1, 2]), label="first")
    rest = data.draw(st.lists(size, max_size=3), label="rest")
    if data.draw(st.booleans(), label="complete"):  # make the sizes add up
        known = math.prod(v for v in rest if v > 0) or 1
        if have % known == 0 and -1 not in rest:
            rest.append(have // known)
    key = data.draw(st.sampled_from(["view", "reshape"]), label="call")
    random_check(Case("reshape", key, (first,) + tuple(rest), {}, dims))
