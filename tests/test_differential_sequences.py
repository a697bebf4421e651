"""Generated sequence models and transfer-learning scripts (tests/gen_sequences.py),
linted and run by torch: a report exactly where torch refuses the model (at
the layer whose argument is off, with the value torch saw arrive), none where
torch runs it."""
from __future__ import annotations

import re

import pytest

import gen_sequences
from flake8_cnnshape.analysis import analyze
from torchvision_truth import import_torchvision

SEEDS = range(60)


def _check(case: gen_sequences.Case) -> None:
    verdict, _ = gen_sequences._run(case.source, case.dims, case.index_input) if "torchvision" not in case.source \
        else (None, None)
    if case.fault_line is None:
        assert verdict is None, f"the generator's valid model fails in torch: {verdict}\n{case.source}"
    reports = analyze(case.source.splitlines(True), strict=True)
    got = [(r.place[0], r.fault.code) for r in reports]
    want = [] if case.fault_line is None else [(case.fault_line, case.code)]
    assert got == want, f"{[r.message for r in reports]}\n{case.source}"
    if case.number is not None:
        assert re.search(rf"\b{case.number}\b", reports[0].message), f"{reports[0].message}\n{case.source}"


@pytest.mark.parametrize("seed", SEEDS)
def test_sequence_models(seed):
    _check(gen_sequences.sequence(seed))


@pytest.mark.parametrize("seed", range(30))
def test_transfer_learning_scripts(seed):
    _check(gen_sequences.transfer(seed, import_torchvision()))


def test_the_generators_make_faults_of_each_kind():
    cases = [gen_sequences.sequence(s) for s in SEEDS]
    assert {c.code for c in cases} >= {None, "CNS001", "CNS010", "CNS007"}
    transfer = [gen_sequences.transfer(s, import_torchvision()) for s in range(30)]
    assert {c.code for c in transfer} == {None, "CNS001"}
