"""Where the known shape ends on real code, counted: what to teach the analysis next.

    python benchmarks/stops.py ROOT... [--top 30] [--json FILE]

Runs `cnnshape show`'s analysis (flake8_cnnshape.show.tables) on every .py file under each ROOT (a real-project
corpus from real/corpus.py, a reach set) and counts the places a known shape went in and none came out: by what
was called there (`torch.fft.fft2`, `nn.Conv2d`, `self.encoder`) and why (not modelled, arguments not known, a
value not known), and in how many projects each one occurs. A call that stops models in many projects is worth
more than one that stops many models of one project.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flake8_cnnshape.show import tables  # noqa: E402

# the varying part of a reason (`line 12`, a number) is left out so that the same reason counts once
_NUMBERS = re.compile(r"\d+")


def _files(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield Path(dirpath) / name


def _project(root: Path, path: Path) -> str:
    rel = path.relative_to(root).parts
    return rel[0] if len(rel) > 1 else root.name


def count(roots):
    by_call = collections.Counter()
    by_why = collections.Counter()
    projects = collections.defaultdict(set)
    models = 0
    for root in map(Path, roots):
        for path in _files(root):
            try:
                lines = path.read_text(encoding="utf-8").splitlines(True)
            except (OSError, UnicodeDecodeError):
                continue
            if "torch" not in "".join(lines):
                continue
            for table in tables(lines, path=str(path)):
                models += 1
                for stop in table["stops"]:
                    what = stop["what"]
                    why = _NUMBERS.sub("N", stop["why"])
                    by_call[(what, why)] += 1
                    by_why[why] += 1
                    projects[(what, why)].add(_project(root, path))
    return models, by_call, by_why, projects


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("roots", nargs="+")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--json")
    args = ap.parse_args()
    models, by_call, by_why, projects = count(args.roots)
    print(f"{models} models; {sum(by_call.values())} places where a known shape ended")
    print("\nby reason:")
    for why, n in by_why.most_common():
        print(f"  {n:5}  {why}")
    print(f"\nby call (top {args.top}, ordered by the projects it occurs in):")
    ranked = sorted(by_call, key=lambda k: (-len(projects[k]), -by_call[k], k))
    for key in ranked[:args.top]:
        print(f"  {len(projects[key]):3} projects {by_call[key]:5}x  {key[0]}: {key[1]}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"call": k[0], "why": k[1], "count": by_call[k], "projects": sorted(projects[k])} for k in ranked], indent=1))


if __name__ == "__main__":
    main()
