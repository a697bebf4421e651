"""Whole shapes, the batch among their dims: matrix products (torch.matmul,
`@`, torch.bmm, torch.mm) and broadcasting between a model's tensors and the
tensors a module made itself (`nn.Parameter(torch.randn(1, C, 1, H))`), which
have no batch dim. A dim is an int, None (not known) or B, the model's batch,
whose size is not known (only that it is at least 1). What depends on B's
size (B against 7) is not known either: no fault, no shape.

torch.matmul (torch/functional docs, "Matrix product of two tensors"): a 1-d
operand gets a 1 put in front (first) or behind (second), removed after; the
last dim of the first must equal the second-to-last of the second; the dims
before those broadcast. bmm takes 3-d operands whose first dims are equal;
mm takes 2-d ones.
"""
from __future__ import annotations

from typing import Optional, Tuple

from ..signature import Unknowable
from ..spec import Ctx


class _Batch:
    __slots__ = ()

    def __repr__(self) -> str:
        return "B"


B = _Batch()  # the model's batch dim


class GivesUp(Unknowable):
    """The outcome depends on what is not known (the batch size)."""


def describe(dims) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"


def _pair(p, q):
    """Two sizes broadcast; False when torch refuses them."""
    if p is B or q is B:
        if (p is B or p == 1) and (q is B or q == 1):
            return B
        raise GivesUp()  # B against 7, or against a size nobody knows
    if p is None or q is None:
        known = q if p is None else p
        return None if known == 1 or known is None else known  # if it runs, it is that size
    if p == q or q == 1:
        return p
    if p == 1:
        return q
    return False


def broadcast(a: Tuple, b: Tuple, ctx: Ctx) -> Optional[Tuple]:
    """Two whole shapes broadcast (aligned on the right); CNS008 where torch refuses."""
    n = max(len(a), len(b))
    a2, b2 = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for p, q in zip(a2, b2):
        got = _pair(p, q)
        if got is False:
            ctx.fault("CNS008", "broadcast_whole", {"a": describe(a), "b": describe(b)})
            return None
        out.append(got)
    if B in out and (out[0] is not B or out.count(B) > 1):
        raise GivesUp()  # the batch would no longer lead, or stand twice
    return tuple(out)


def matmul(a: Tuple, b: Tuple, ctx: Ctx) -> Optional[Tuple]:
    if not a or not b:
        raise GivesUp()  # torch refuses 0-d operands; not what this is for
    a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    if not _inner_ok(a2[-1], b2[-2], a, b, ctx):
        return None
    batch = broadcast(a2[:-2], b2[:-2], ctx) if len(a2) > 2 or len(b2) > 2 else ()
    if batch is None:
        return None
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def bmm(a: Tuple, b: Tuple, ctx: Ctx) -> Optional[Tuple]:
    if len(a) != 3 or len(b) != 3:
        ctx.fault("CNS006", "bmm_rank", {"a": describe(a), "b": describe(b)})
        return None
    p, q = a[0], b[0]
    if (p is B) != (q is B):
        raise GivesUp()  # the batch against a fixed size: depends on the batch
    if p is not B and p is not None and q is not None and p != q:
        ctx.fault("CNS009", "bmm_batch", {"a": describe(a), "b": describe(b)})
        return None
    if not _inner_ok(a[2], b[1], a, b, ctx):
        return None
    return (p if p is not None else q, a[1], b[2])


def mm(a: Tuple, b: Tuple, ctx: Ctx) -> Optional[Tuple]:
    if len(a) != 2 or len(b) != 2:
        ctx.fault("CNS006", "mm_rank", {"a": describe(a), "b": describe(b)})
        return None
    return matmul(a, b, ctx)


def _inner_ok(k1, k2, a, b, ctx: Ctx) -> bool:
    if k1 is B or k2 is B:
        if k1 is B and k2 is B:
            return True
        raise GivesUp()
    if k1 is not None and k2 is not None and k1 != k2:
        ctx.fault("CNS009", "matmul_inner", {"a": describe(a), "b": describe(b), "k1": k1, "k2": k2})
        return False
    return True


_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _term(term: str):
    """A term's labels before and after its ellipsis, (labels, None) without
    one; None for a term torch refuses (a stray '.', a second ellipsis)."""
    head, dots, tail = term.partition("...")
    if not set(head + tail) <= _LETTERS:
        return None
    return (head, tail) if dots else (head, None)


def _operand(term, dims, index: int, equation: str, ctx: Ctx):
    """(labels, their dims, the dims under the ellipsis); None after CNS006
    (the operand has another rank than its term names)."""
    head, tail = term
    n = len(head) + len(tail or "")
    if len(dims) < n or tail is None and len(dims) != n:
        ctx.fault("CNS006", "einsum_rank", {"equation": equation, "index": index, "term": head + ("" if tail is None else "..." + tail),
                                            "shape": describe(dims)})
        return None
    cut = len(dims) - len(tail or "")
    return head + (tail or ""), tuple(dims[:len(head)]) + tuple(dims[cut:]), tuple(dims[len(head):cut])


def _ellipsis(a: Tuple, b: Tuple, equation: str, ctx: Ctx):
    """The dims two ellipses cover, broadcast as torch does (aligned on the
    right); None after CNS009."""
    n = max(len(a), len(b))
    a2, b2 = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = tuple(_pair(p, q) for p, q in zip(a2, b2))
    if False in out:
        ctx.fault("CNS009", "einsum_ellipsis", {"equation": equation, "a": describe(a), "b": describe(b)})
        return None
    return out


def einsum(equation: str, operands, ctx: Ctx) -> Optional[Tuple]:
    """torch.einsum('bhid,bhjd->bhij', q, k): each operand's labels name its
    dims (CNS006 where its rank is another); a label's sizes must agree (a 1
    broadcasts: CNS009 where two known sizes do not); an ellipsis covers the
    dims its labels leave, and the ellipses of all operands broadcast
    together (CNS009 where they do not). The output is the right side's
    labels, the ellipsis where it stands there (summed where it does not);
    without a right side, the ellipsis then the labels used once, sorted."""
    eq = equation.replace(" ", "")
    left, arrow, right = eq.partition("->")
    terms = [_term(t) for t in left.split(",")]
    out_term = _term(right)
    if len(terms) != len(operands) or None in terms or out_term is None:
        raise GivesUp()
    sizes: dict = {}
    ell: Tuple = ()
    for i, (term, dims) in enumerate(zip(terms, operands)):
        got = _operand(term, dims, i, equation, ctx)
        if got is None:
            return None
        labels, ldims, covered = got
        if len(set(labels)) != len(labels):
            raise GivesUp()  # a label twice in one operand (a diagonal): not followed
        if not _labels_agree(labels, ldims, sizes, equation, ctx):
            return None
        ell = _ellipsis(ell, covered, equation, ctx)
        if ell is None:
            return None
    # without a right side: the ellipsis first, then the labels used once
    head, tail = out_term if arrow else ("", "".join(sorted(c for c in sizes if left.count(c) == 1)))
    labels = head + (tail or "")
    if len(set(labels)) != len(labels) or any(c not in sizes for c in labels):
        raise GivesUp()
    out = tuple(sizes[c] for c in head) + (() if tail is None else ell + tuple(sizes[c] for c in tail))
    if sum(d is B for d in out) > 1:
        raise GivesUp()  # the batch twice (two operands' batches): no tensor of ours
    return out


def _labels_agree(labels: str, dims, sizes: dict, equation: str, ctx: Ctx) -> bool:
    """Each label's sizes so far, a 1 taking the other's; False after CNS009."""
    for label, d in zip(labels, dims):
        if label not in sizes or sizes[label] == 1:
            sizes[label] = d if label not in sizes or d != 1 else sizes[label]
            continue
        got = _pair(sizes[label], d)
        if got is False:
            ctx.fault("CNS009", "einsum", {"equation": equation, "label": label, "a": sizes[label], "b": d})
            return False
        sizes[label] = got
    return True


PRODUCTS = {"matmul": matmul, "bmm": bmm, "mm": mm}
