"""Running the real commands the way a user does: the `cnnshape` script and
flake8 of the environment the tests run in, in a folder of the test's own."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
CANONICAL = (ROOT / "fixtures" / "sequential" / "canonical_100.py").read_text()

# one wrong nn.Linear: CNS001 at line 3, column 57
WRONG = textwrap.dedent("""\
    import torch.nn as nn
    # cnnshape: input=(3, 32, 32)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(100, 10))
""")


def cnnshape(*args, cwd, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "cnnshape"), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          input=stdin, timeout=300)


def flake8(*args, cwd, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          input=stdin, timeout=300)


def write(folder: Path, files: dict) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text))
