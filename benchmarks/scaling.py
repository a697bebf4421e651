#!/usr/bin/env python
"""How the analysis of one file grows with the number of classes in it: a
series of files of 10, 100 and 1,000 nn.Module classes (blocks no model
builds, each run on its own; every tenth a subclass of the one before),
each analysed in-process. The cost per class must stay flat.

    python benchmarks/scaling.py [--sizes 10 100 1000] [--runs 3]

Prints, for each size, the CPU seconds of one analysis (the best of --runs)
and the microseconds per class. With PYTHONPATH pointing at another
checkout it measures that checkout's analysis.
"""
from __future__ import annotations

import argparse
import ast
import sys
import time


def source(n: int) -> str:
    out = ["import torch", "import torch.nn as nn", ""]
    for i in range(n):
        base = f"Block{i - 1}" if i % 10 == 9 else "nn.Module"
        c = 8 * (1 + i % 4)
        out += [
            f"class Block{i}({base}):",
            "    width = %d" % c,
            "",
            "    def __init__(self):",
            "        super().__init__()",
            f"        self.conv = nn.Conv2d({c}, {c}, 3, padding=1)",
            f"        self.bn = nn.BatchNorm2d({c})",
            "",
            "    def forward(self, x):",
            "        return torch.relu(self.bn(self.conv(x)))",
            "",
        ]
    return "\n".join(out) + "\n"


def analyse_cpu(text: str, runs: int) -> float:
    try:
        from flake8_cnnshape.analysis import analyze
    except ImportError:  # the layout before analysis.py
        from flake8_cnnshape.core import analyze
    lines = text.splitlines(keepends=True)
    best = None
    for _ in range(runs):
        tree = ast.parse(text)
        t = time.process_time()
        analyze(lines, tree)
        spent = time.process_time() - t
        best = spent if best is None else min(best, spent)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args(argv)
    print(f"{'classes':>8}  {'seconds':>8}  {'us/class':>9}")
    for n in a.sizes:
        s = analyse_cpu(source(n), a.runs)
        print(f"{n:8d}  {s:8.3f}  {s / n * 1e6:9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
