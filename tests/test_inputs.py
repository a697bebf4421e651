"""Input sizes read from the file (dummy calls, summary(), datasets and their
transforms) and from flake8's config; each inferred size is checked in torch."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import pytest

from flake8_cnnshape import analysis

analyze = partial(analysis.analyze, strict=True)  # no safety net: a bug of ours raises

ROOT = Path(__file__).resolve().parent.parent


def lint(src: str, **kw):
    """Reports as flake8 shows them by default (CNS100 is opt-in)."""
    return [r for r in analyze(textwrap.dedent(src).splitlines(keepends=True), **kw) if r.code != "CNS100"]


# (fixture, model expression, inferred per-sample size, torch must fail)
TRUTH = [
    ("dummy_call.py", "CNNclf()", (1, 100, 100), True),
    ("mnist_script.py", "Net()", (1, 28, 28), True),
    ("summary_calls.py", "Small()", (3, 16, 16), True),
    ("imagefolder.py", "model", (3, 224, 224), True),
    ("disagree.py", "model", (3, 32, 32), False),
    ("disagree.py", "model", (3, 62, 62), True),
    ("factory_call.py", "make_net(classes=5)", (3, 64, 64), True),
]


@pytest.mark.parametrize("name,expr,dims,fails", TRUTH)
def test_inferred_size_is_what_torch_fails_on(name, expr, dims, fails):
    torch = pytest.importorskip("torch")
    path = ROOT / "fixtures" / "inputs" / name
    source = path.read_text()
    # the size we say we inferred must be named in the report
    notes = {r.text.split(" for input ")[1].split(" from ")[0] for r in analyze(source.splitlines(True)) if " for input " in r.text}
    if fails:
        assert str(dims).replace(",)", ")") in {n.replace(",)", ")") for n in notes}
    namespace = {"__name__": "fixture"}
    stubbed = source.replace("from torchvision import datasets, transforms", "").replace("from torchsummary import summary", "")
    skip = ("train =", "test =", "data =", "unsure =", "summary(", "transform =", "tf =", "print(", "model(", "import torchvision", "from torchvision")
    stubbed = "\n".join(line for line in stubbed.splitlines() if not line.startswith(skip))
    exec(compile(stubbed, str(path), "exec"), namespace)
    model = eval(expr, namespace)
    try:
        model(torch.zeros((2,) + dims))
        failed = False
    except RuntimeError:
        failed = True
    assert failed == fails


def test_pragma_wins_over_dummy_call():
    reports = lint("""
        import torch
        from torch import nn
        m = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))  # cnnshape: input=(3, 2, 2)
        m(torch.zeros(1, 3, 4, 4))
    """)
    assert reports == []


def test_dataset_not_applied_where_first_layer_rejects_it():
    reports = lint("""
        import torch.nn as nn
        from torchvision import datasets, transforms
        data = datasets.CIFAR10(".", transform=transforms.ToTensor())
        decoder = nn.Sequential(nn.Linear(100, 3 * 32 * 32), nn.Linear(50, 3))
    """)
    # only the fault that holds for every input is left
    assert [(r.code, r.text) for r in reports] == [("CNS001", "nn.Linear expects in_features=50 but receives 3072")]


def test_unknown_transform_gives_up_on_the_dataset():
    reports = lint("""
        import torch.nn as nn
        from torchvision import datasets, transforms
        data = datasets.CIFAR10(".", transform=transforms.Compose([MyResize(64), transforms.ToTensor()]))
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 30 * 30, 2))
    """)
    assert reports == []


def test_transforms_change_the_size():
    reports = lint("""
        import torch.nn as nn
        import torchvision.transforms as T
        from torchvision.datasets import CIFAR10
        data = CIFAR10(".", transform=T.Compose([T.Grayscale(), T.Pad(2), T.ToTensor()]))
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 30 * 30, 2))
    """)
    assert [r.code for r in reports] == ["CNS001"]
    assert "receives 4624 (4 x 34 x 34) for input (1, 36, 36) from datasets.CIFAR10 at line 5" in reports[0].text


def test_torchinfo_sizes_include_the_batch():
    reports = lint("""
        import torch.nn as nn
        from torchinfo import summary
        net = nn.Sequential(nn.Flatten(), nn.Linear(10, 2))
        summary(net, input_size=(16, 1, 28, 28))
    """)
    assert [r.code for r in reports] == ["CNS001"] and "receives 784" in reports[0].text


def _flake8(tmp_path, source, *args, cfg=None):
    (tmp_path / "m.py").write_text(textwrap.dedent(source))
    if cfg is not None:
        (tmp_path / "setup.cfg").write_text(cfg)
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "CNS", *args, "m.py"], cwd=tmp_path, capture_output=True, text=True)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


MODEL = """
    import torch.nn as nn
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 222 * 222, 10))
    gen = nn.Sequential(nn.Linear(64, 3 * 8 * 8))
"""


def test_project_default_from_config(tmp_path):
    out = _flake8(tmp_path, MODEL, cfg="[flake8]\ncnnshape-input = 3,32,32\n")
    assert "CNS001" in out and "from the cnnshape-input setting" in out and "(8 x 30 x 30)" in out
    assert out.count("CNS") == 1  # gen's first layer rejects (3, 32, 32): not its input


def test_project_default_on_the_command_line(tmp_path):
    assert _flake8(tmp_path, MODEL, "--cnnshape-input=3,224,224") == ""
    bad = subprocess.run([sys.executable, "-m", "flake8", "--cnnshape-input=3,x", "m.py"], cwd=tmp_path, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "error: cnnshape-input = 3,x: 'x' is not a whole number" in bad.stderr
