"""`cnnshape fix` over the differential generator: every generated model whose
faults are all fixable (in_features, in_channels, norm sizes) runs clean in
torch after the fix, unless the fixer said why it left a number; a model
torch runs cleanly is not touched; a second fix changes nothing. And `show`
agrees with torch on the generated models' layer shapes and parameters. The
size is the pragma's, or that of the dummy call or dataset the file has in its
place (gen_models.draw_source) where the model takes it."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.importorskip("torch")

import gen_models  # noqa: E402
import torch_truth  # noqa: E402
from flake8_cnnshape.fix import fix_source  # noqa: E402
from flake8_cnnshape.show import tables  # noqa: E402

SEEDS = range(120)


def _case(seed):
    spec = gen_models.generate(seed)
    if not (spec.pragma or spec.source is not None) or spec.custom:
        pytest.skip("the fix needs the declared size and a model torch can run without custom layers")
    rendered = gen_models.render(spec)
    with torch_truth.single_thread():
        truth = torch_truth.run_source(rendered.source, rendered.entry, spec.dims, spec.lazy)
    if not gen_models.input_taken(spec, rendered, truth):
        # a dataset whose size the model's first sized layer rejects: not the model's input
        pytest.skip("the file gives no size this model takes")
    return spec, rendered, truth


@pytest.mark.parametrize("seed", SEEDS)
def test_fix_makes_fixable_models_run(seed):
    spec, rendered, truth = _case(seed)
    result = fix_source(rendered.source)
    assert fix_source(result.source).source == result.source, "a second run must change nothing"
    if truth.clean and not truth.faults:
        assert result.source == rendered.source, "a model torch runs must not be touched"
        return
    if not all(f.code in torch_truth.FIXABLE for f in truth.faults) or not truth.clean and truth.faults[-1].code not in torch_truth.FIXABLE:
        return  # an unfixable fault stays: nothing to run
    if result.notes:
        return  # the fixer left a number and said why
    with torch_truth.single_thread():
        after = torch_truth.run_source(result.source, rendered.entry, spec.dims, spec.lazy)
    assert after.clean and not after.faults, f"{rendered.source}\n--- fixed ---\n{result.source}\n{[str(f) for f in after.faults]}"


@pytest.mark.parametrize("seed", SEEDS)
def test_show_matches_torch_on_generated_models(seed):
    import torch

    spec, rendered, truth = _case(seed)
    if not (truth.clean and not truth.faults) or spec.lazy:
        pytest.skip("show is compared on models torch runs")
    found = tables(rendered.source.splitlines(True))
    assert found, rendered.source
    table = found[0]
    ns = {"__name__": "generated"}
    with torch_truth.without_torchvision():
        exec(compile(rendered.source, "generated", "exec"), ns)
    model = ns["model"] if "model" in ns else ns[rendered.entry]()
    shapes = []
    leaves = [m for m in model.modules() if not list(m.children()) and not isinstance(m, torch.nn.Sequential)]
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(list(o.shape[1:]))) for m in leaves]
    with torch_truth.single_thread():
        model.eval()(torch.zeros((2,) + tuple(spec.dims)))
    for h in hooks:
        h.remove()
    assert [r["output_shape"] for r in table["layers"]] == shapes, rendered.source
    assert table["total_params"] == sum(p.numel() for p in model.parameters()), rendered.source
