"""A file's imports from other files of its project (interp/project.py): a
model's base class and blocks defined elsewhere are read and followed, as
torch runs them; a fault inside another file's class that this file's input
causes is reported at this file's build of it; what cannot be read stays unknown."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_cnnshape.analysis import analyze
from flake8_cnnshape.interp.project import shift_lines

ROOT = Path(__file__).resolve().parent.parent

FILES = {
    "models/__init__.py": "from .blocks import Block\n",
    "models/base.py": """
        import torch.nn as nn


        class BaseVAE(nn.Module):
            def __init__(self):
                super().__init__()

            def encode(self, x):
                raise NotImplementedError
    """,
    "models/blocks.py": """
        import torch.nn as nn

        WIDTH = 32


        class Block(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv = nn.Conv2d(cin, cout, 3, padding=1)
                self.bn = nn.BatchNorm2d(cout)

            def forward(self, x):
                return self.bn(self.conv(x))


        class Broken(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(5, 8, 1)

            def forward(self, x):
                return self.conv(x)
    """,
    "models/vae.py": """
        import torch.nn as nn

        from models import Block
        from .base import BaseVAE
        from . import blocks as B
        from models.blocks import WIDTH


        class VAE(BaseVAE):  # cnnshape: input=(3, 16, 16)
            def __init__(self):
                super().__init__()
                self.enc = nn.Sequential(Block(3, 16), B.Block(16, WIDTH))
                self.fc = nn.Linear(16 * 16 * 16, 10)

            def forward(self, x):
                return self.fc(self.enc(x).flatten(1))
    """,
    "models/uses_broken.py": """
        import torch.nn as nn

        from .blocks import Broken


        class Net(nn.Module):  # cnnshape: input=(3, 4, 4)
            def __init__(self):
                super().__init__()
                self.first = Broken()
                self.head = nn.Conv2d(8, 2, 1)

            def forward(self, x):
                return self.head(self.first(x))
    """,
    "models/opaque.py": """
        import torch
        import torch.nn as nn


        class Opaque(nn.Module):
            def forward(self, x):
                return torch.special_op(x)
    """,
    "models/uses_opaque.py": """
        import torch.nn as nn

        from .opaque import Opaque


        class Net(nn.Module):  # cnnshape: input=(3, 4, 4)
            def __init__(self):
                super().__init__()
                self.first = Opaque()
                self.head = nn.Conv2d(8, 2, 1)

            def forward(self, x):
                return self.head(self.first(x))
    """,
    "models/acts.py": """
        import torch.nn as nn

        __all__ = ["Gate", "Swish"]


        class Gate(nn.Module):
            def forward(self, x):
                return x.sigmoid()


        class Swish(nn.Module):
            def forward(self, x):
                return x * x.sigmoid()


        class Hidden(nn.Module):
            def forward(self, x):
                return x
    """,
    "models/more_acts.py": """
        import torch.nn as nn


        class Swish(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(7, 7)

            def forward(self, x):
                return self.fc(x)
    """,
    "models/star_user.py": """
        import torch.nn as nn

        from .acts import *
        from .more_acts import *


        class Net(nn.Module):  # cnnshape: input=(3, 8, 8)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.gate = Gate()
                self.fc = nn.Linear(4 * 8 * 8, 10)

            def forward(self, x):
                return self.fc(self.gate(self.conv(x)).flatten(1))


        class Later(nn.Module):  # cnnshape: input=(5,)
            def __init__(self):
                super().__init__()
                self.act = Swish()

            def forward(self, x):
                return self.act(x)


        class NotExported(nn.Module):  # cnnshape: input=(3, 8, 8)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.hidden = Hidden()
                self.fc = nn.Linear(4 * 8 * 8, 10)

            def forward(self, x):
                return self.fc(self.hidden(self.conv(x)).flatten(1))
    """,
    "train.py": """
        import torch
        from models.vae import VAE
        from nowhere.missing import Thing

        model = VAE()
        head = torch.nn.Sequential(Thing(), torch.nn.Linear(7, 2))
    """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _lint(path: Path, with_path: bool = True):
    lines = path.read_text().splitlines(keepends=True)
    return [(f.line, f.code, f.text) for f in analyze(lines, path=str(path) if with_path else None, strict=True)]


def test_base_class_and_blocks_from_other_files(project):
    got = _lint(project / "models" / "vae.py")
    assert [(line, code) for line, code, _ in got] == [(14, "CNS001")]
    assert "receives 8192 (32 x 16 x 16)" in got[0][2]
    # without the file's place on the disk nothing is read: the blocks are unknown
    assert _lint(project / "models" / "vae.py", with_path=False) == []


def _torch_refuses(project, module: str, cls: str, dims) -> str:
    """What torch raises running the project's class on zeros of dims (in a process of its own)."""
    pytest.importorskip("torch")
    code = (f"import sys, torch; sys.path.insert(0, sys.argv[1]); from {module} import {cls}\n"
            f"try:\n    {cls}()(torch.zeros{tuple(dims)})\nexcept RuntimeError as e:\n    print(e)")
    return subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, text=True, check=True).stdout


def test_torch_agrees(project):
    assert "2x8192 and 4096x10" in _torch_refuses(project, "models.vae", "VAE", (2, 3, 16, 16))


def test_a_fault_in_the_other_file_is_reported_at_this_files_build(project):
    # Broken's conv expects 5 channels and this file feeds it 3: the report is at
    # the build here (the line this file's author reads), naming where the layer is;
    # blocks.py alone, its input unknown, holds nothing that fails for every size
    [(line, code, text)] = _lint(project / "models" / "uses_broken.py")
    assert (line, code) == (10, "CNS002")
    assert "nn.Conv2d (in Broken, blocks.py line 20) expects in_channels=5 but receives 3 channels" in text
    assert _lint(project / "models" / "blocks.py") == []


def test_torch_fails_where_the_build_is_reported(project):
    assert "expected input[1, 3, 4, 4] to have 5 channels" in _torch_refuses(project, "models.uses_broken", "Net", (1, 3, 4, 4))


def test_run_from_a_subfolder_with_a_bare_file_name(project):
    # flake8 and cnnshape hand over the path as typed: the project root is still found from it
    for cmd in ([sys.executable, "-m", "flake8", "--isolated", "--select", "CNS", "vae.py"],
                [sys.executable, "-m", "flake8_cnnshape.cli", "check", "vae.py"]):
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=project / "models").stdout
        assert "vae.py:14:" in out and "CNS001" in out and "8192 (32 x 16 x 16)" in out, (cmd, out)


def test_what_cannot_be_read_stays_unknown(project):
    assert _lint(project / "train.py") == []


def test_through_flake8_and_the_command(project):
    for cmd in ([sys.executable, "-m", "flake8", "--isolated", "--select", "CNS", "models/vae.py"],
                [sys.executable, "-m", "flake8_cnnshape.cli", "check", "models/vae.py"]):
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=project).stdout
        assert "vae.py:14:" in out and "CNS001" in out, (cmd, out)


def test_show_names_the_other_file_where_the_shape_ends(project):
    from flake8_cnnshape.show import render, tables

    path = project / "models" / "uses_opaque.py"
    [table] = tables(path.read_text().splitlines(True), path=str(path))
    first = table["stops"][0]
    assert (first["file"], first["line"], first["what"]) == (str(project / "models" / "opaque.py"), 8, "torch.special_op")
    assert "known shape ends at opaque.py line 8: torch.special_op: not modelled" in render(table)


def test_a_file_read_is_kept_and_a_change_is_read_again(tmp_path):
    from flake8_cnnshape.interp import project as proj

    path = tmp_path / "blocks.py"
    path.write_text("import torch.nn as nn\nWIDTH = 3\n")
    kept = proj.kept_trees()
    first = proj.load(str(path))
    assert first is not None and proj._PARSED[str(path)][2] is first and proj.kept_trees() == kept + 1
    assert proj.load(str(path)) is first and proj.kept_trees() == kept + 1  # read again: the same tree
    path.write_text("import torch.nn as nn\nWIDTH = 33\n")  # a new size: the old tree is stale
    changed = proj.load(str(path))
    assert changed is not first
    assert changed[0].body[1].value.value == 33


def test_the_line_shift_is_asts():
    """project.shift_lines moves every line as ast.increment_lineno does: on the
    package's own sources and on the nodes with holes and names in their lists."""
    tricky = "global g\nd = {**a, 'k': 1}\ndef f(*, x, y=2): pass\nfrom . import m  # type: ignore\nmatch v:\n    case [1, *r]: pass\n"
    sources = [tricky] + [Path(p).read_text() for p in sorted((ROOT / "flake8_cnnshape").rglob("*.py"))]
    for src in sources:
        a, b = ast.parse(src, type_comments=True), ast.parse(src, type_comments=True)
        ast.increment_lineno(a, 3_000_000)
        shift_lines(b, 3_000_000)
        assert ast.dump(a, include_attributes=True) == ast.dump(b, include_attributes=True)


def test_star_imports_of_project_files(project):
    # `from .acts import *` binds what acts.py exports (its __all__); of two star
    # imports the later one's Swish is the one bound, as Python binds them
    got = _lint(project / "models" / "star_user.py")
    assert [(line, code) for line, code, _ in got] == [(13, "CNS001"), (22, "CNS001")]
    assert "receives 144 (4 x 6 x 6)" in got[0][2]
    assert "expects in_features=7 but receives 5" in got[1][2]


def test_torch_agrees_with_the_star_imports(project):
    assert "2x144 and 256x10" in _torch_refuses(project, "models.star_user", "Net", (2, 3, 8, 8))
    assert "1x5 and 7x7" in _torch_refuses(project, "models.star_user", "Later", (1, 5))
    # Hidden is not in acts.__all__: in Python the name is not bound at all
    assert "name 'Hidden' is not defined" in subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from models.star_user import NotExported; NotExported()",
         str(project)], capture_output=True, text=True).stderr
