"""The flake8 face stays light: loading the plugin imports no analysis code
(reading its options, only the configuration and the table of codes), the
analysis imports no dataclasses, and a file's analysis leaves no cyclic
garbage for flake8's collector."""
import ast
import gc
import glob
import os
import subprocess
import sys

from flake8_cnnshape import analysis, codes, plugin

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")


def test_the_plugin_registers_its_option_and_leaves_cns100_to_its_own_rule():
    class Manager:
        def __init__(self):
            self.ignored, self.options = [], []

        def extend_default_ignore(self, codes):
            self.ignored += codes

        def add_option(self, *a, **kw):
            self.options.append(a[0])

    m = Manager()
    plugin.CnnShapeChecker.add_options(m)
    # flake8's default ignore would be overridden by any `ignore =`: CNS100 is
    # held back by the plugin itself (selection.Decider), as bugbear holds B9
    assert m.ignored == [] and [c.id for c in codes.CODES if not c.on] == ["CNS100"]
    assert m.options == ["--cnnshape-input"]


def test_loading_the_plugin_and_its_options_import_no_analysis():
    code = ("import sys, argparse, flake8_cnnshape.plugin as p; loaded = sorted(m for m in sys.modules if m.startswith('flake8_cnnshape'));"
            "p.CnnShapeChecker.parse_options(argparse.Namespace(select=None, ignore=None, filenames=['.']));"
            "print(loaded, sorted(m for m in sys.modules if m.startswith('flake8_cnnshape')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ("['flake8_cnnshape', 'flake8_cnnshape.plugin'] "
                           "['flake8_cnnshape', 'flake8_cnnshape.codes', 'flake8_cnnshape.config', "
                           "'flake8_cnnshape.plugin', 'flake8_cnnshape.selection']")


def test_the_analysis_imports_no_dataclasses():
    # each dataclass costs about a millisecond to create, in every flake8 process
    code = "import sys, flake8_cnnshape.analysis; print('dataclasses' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


NESTED = """
import torch.nn as nn

def make(width):
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(width, 10)
    act = lambda: nn.ReLU()
    layers = [layer for c in (3, width) for layer in block(c, width)]
    return nn.Sequential(*layers, act(), Head())
"""


def test_an_analysis_leaves_no_cyclic_garbage():
    """The values of a file (classes and the scope that holds them, built
    models...) are let go by the analysis itself: otherwise a cyclic collection
    later in flake8's run frees them, and walks all of flake8's objects to do
    it (about 490 objects per fixture file without Interp.close; 20 while
    comprehensions, nested defs, lambdas and classes still closed over the
    scope that held them)."""
    files = sorted(glob.glob(os.path.join(FIXTURES, "**", "*.py"), recursive=True))
    assert len(files) > 30
    sources = [NESTED]
    for f in files:
        with open(f, encoding="utf-8") as fh:
            sources.append(fh.read())
    gc.collect()
    gc.disable()
    try:
        for source in sources:
            analysis.analyze(source.splitlines(keepends=True), strict=True)
        collected = gc.collect()
    finally:
        gc.enable()
    assert collected == 0


def test_the_analysis_import_freezes_the_heap_once(monkeypatch):
    """The objects of the analysis' import are frozen once (a freeze per file
    would keep every file's cycles for ever), and the entry is the analysis'."""
    frozen = []
    monkeypatch.setattr(plugin, "_imported", [])
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    assert plugin._analysis() is analysis.analyze
    assert plugin._analysis() is analysis.analyze
    assert frozen == [1]
    assert gc.isenabled()


def test_the_heap_is_frozen_after_a_file_whose_analysis_kept_trees(tmp_path, monkeypatch):
    """A file importing another file of its project keeps that file's tree for
    the process: the heap is collected, then frozen, once for it; a file that
    keeps nothing new freezes nothing."""
    (tmp_path / "blocks.py").write_text("import torch.nn as nn\n\n\ndef block(c):\n    return nn.Conv2d(c, c, 3)\n")
    model = tmp_path / "model.py"
    model.write_text("import torch.nn as nn\nfrom blocks import block\n\n\nclass Net(nn.Module):\n"
                     "    def __init__(self):\n        super().__init__()\n        self.b = block(3)\n\n"
                     "    def forward(self, x):\n        return self.b(x)\n")
    plugin._analysis()
    events = []
    monkeypatch.setattr(gc, "freeze", lambda: events.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *a: events.append("collect") or 0)
    lines = model.read_text().splitlines(True)

    def run():
        list(plugin.CnnShapeChecker(ast.parse("".join(lines)), lines, str(model)).run())

    run()
    assert events == ["collect", "freeze"]
    run()  # the tree is kept already
    assert events == ["collect", "freeze"]
