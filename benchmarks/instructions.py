#!/usr/bin/env python
"""Instructions the analysis costs on a set of files, counted by valgrind's
callgrind: unlike seconds, the count is the same from one run to the next
whatever else the machine is doing, so two versions can be compared to the
percent.

    python benchmarks/instructions.py PATH... [--json FILE]   (folders or files)

Four arms run under callgrind in fresh interpreters with flake8 imported (as
in a flake8 run, whose modules the analysis then finds loaded), garbage
collection off (its passes would fall at other points in each arm): nothing
more; the analysis imported; that and every .py file under PATH read and
parsed; that and each file analysed (the tree and the path handed over as flake8
does: the other files of the project it imports are read and parsed in that arm).
The import is the second less the first, the analysis the fourth less the
third. Run it with PYTHONPATH pointing at another
checkout to count that checkout's analysis. Needs valgrind.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ARM = r'''
import ast, gc, os, sys
gc.disable()
import flake8.checker, flake8.main.application  # noqa: F401  (what a flake8 run has loaded)
roots, arm = sys.argv[1:-1], int(sys.argv[-1])
if arm:
    try:
        from flake8_cnnshape.analysis import analyze
    except ImportError:  # the layout before analysis.py
        from flake8_cnnshape.core import analyze
if arm < 2:
    sys.exit(0)
import inspect
# the file's path, as flake8 gives it (other files of the project are read): where analyze() takes one
path_of = (lambda f: {"path": f}) if "path" in inspect.signature(analyze).parameters else (lambda f: {})
files = []
for root in roots:
    if os.path.isfile(root):
        files.append(root)
        continue
    for d, dirs, names in os.walk(root):
        dirs.sort()
        files += [os.path.join(d, n) for n in sorted(names) if n.endswith(".py")]
for f in files:
    with open(f, encoding="utf-8", errors="replace") as fh:
        lines = fh.readlines()
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        continue
    if arm == 3:
        analyze(lines, tree, **path_of(f))
'''
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def count(paths, arm: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "arm.py")
        with open(script, "w") as f:
            f.write(ARM)
        env = dict(os.environ, PYTHONHASHSEED="0")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={os.path.join(tmp, 'out')}",
               sys.executable, script, *paths, str(arm)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        m = COLLECTED.search(done.stderr)
        if done.returncode != 0 or m is None:
            raise SystemExit(f"callgrind failed:\n{done.stderr[-2000:]}")
        return int(m.group(1))


def compile_package() -> None:
    """Bytecode for the analysis, as pip writes it: no arm pays for compiling."""
    code = "import compileall, os, flake8_cnnshape as p; compileall.compile_dir(os.path.dirname(p.__file__), quiet=1)"
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+")
    p.add_argument("--json")
    a = p.parse_args(argv)
    compile_package()
    bare, imported, parsed, total = (count(a.paths, arm) for arm in (0, 1, 2, 3))
    result = {"paths": a.paths, "import": imported - bare, "analysis": total - parsed, "parse": parsed - imported}
    print(f"analysis: {result['analysis']:,} instructions; import: {result['import']:,} "
          f"(reading and parsing: {result['parse']:,})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
