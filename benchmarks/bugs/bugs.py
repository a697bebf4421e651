"""Real PyTorch shape bugs that people filed publicly, rebuilt on the real files, each with a fixed twin.

    python benchmarks/bugs/bugs.py build --out DIR [--mirror DIR] [--only ID ...]
    python benchmarks/bugs/bugs.py confirm DIR [--only ID ...]
    python benchmarks/bugs/bugs.py score DIR [--split dev|heldout|all] [--json FILE]

manifest.json (next to this script) lists the bugs. Each names a GitHub issue (or the PR/commit that fixed
one), the repository, the commit the bug was filed against, the model file `path`, how to build the model
(`model`, an expression over the file's names), the per-sample `input` size, the `faults` (line, 0-based col
of the layer's constructor call, code, the one `right` number where one number fixes it, and `alt`: other
lines that count, where the layer is built through a helper or wrapper), the `fix` (a fixing commit, or
one-line `edits`: old text -> new text on a line), `torch_error` and `split`. Optional: `cls` (the class --
or module-level `name = nn.Sequential(` -- whose definition line gets the pragma; default: the name the model
expression calls), `files` (sibling files or globs the model needs to import), `stubs` (third-party modules
the model does not use to build or run, replaced by stand-ins in `confirm`), `paths` (repo folders to put on
sys.path, as the project's scripts do), `load: "file"` (import the file alone, not as a module of its package,
when the package __init__ cannot be imported), `bare` (packages imported as plain folders, their __init__ not
run, when it imports what the model does not need), `batch` (bugs added after the first set, scored on their own
too: a held-out batch is scored once, on the code of the stop that added it).

build    writes DIR/<id>/bug/<path> (the real file at the commit) and DIR/<id>/fixed/<path> (the fix), with
         the sibling files, from a local git mirror (MIRROR/owner+name/ holding a bare repository, repo/ or
         repo/.git) or else a blob-less clone from GitHub. The one edit to the bug file is the pragma
         `  # cnnshape: input=(C, H, W)` at the end of the model's definition line (the same in fixed/).
confirm  runs torch on both: the model built from each file and run on torch.randn((2,) + input); the bug
         must raise the manifest's torch_error (building it or running it in eval mode), the twin must build
         and run in eval and in train mode. Needs torch; some model files also import numpy, scipy, PIL or
         einops (install them, or put them on PYTHONPATH).
score    runs the linter as a user would (python -m flake8_cnnshape.cli check --format json FILE) on each
         bug and twin file and prints, per bug, the faults found at the right place (line and code), the
         right numbers found (a CNS001/2/3/5 message at the fault containing the number) and any report on
         the twin; then recall, right-number rate and precision on twins, for all bugs and per split.

Standard library only, but for torch in `confirm`. The files are other people's code, used read only to
lint and run: never commit them.
"""
import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent  # the flake8-cnnshape checkout: `python -m flake8_cnnshape.cli` runs from it
MANIFEST = HERE / "manifest.json"
NUMBERED = {"CNS001", "CNS002", "CNS003", "CNS005"}


def load(only=None, split="all"):
    bugs = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [b for b in bugs if (not only or b["id"] in only) and split in ("all", b["split"])]


# ---------------------------------------------------------------- build

def git_dir(repo, mirror, cache):
    """A git directory holding repo: under the mirror folder if there, else a blob-less clone in cache."""
    if mirror:
        base = Path(mirror) / repo.replace("/", "+")
        for cand in (base, base / "repo", base / "repo" / ".git", base / ".git"):
            if (cand / "HEAD").is_file() and (cand / "objects").is_dir():
                return cand
    into = Path(cache) / repo.replace("/", "+")
    if not into.exists():
        subprocess.run(["git", "clone", "--quiet", "--bare", "--filter=blob:none",
                        f"https://github.com/{repo}", str(into)], check=True)
    return into


def show(gd, commit, path):
    return subprocess.run(["git", f"--git-dir={gd}", "show", f"{commit}:{path}"], check=True,
                          capture_output=True).stdout.decode("utf-8")


def tree(gd, commit):
    out = subprocess.run(["git", f"--git-dir={gd}", "ls-tree", "-r", "--name-only", commit], check=True,
                         capture_output=True, text=True).stdout
    return out.splitlines()


def model_name(bug):
    return bug.get("cls") or re.match(r"\s*([A-Za-z_]\w*)", bug["model"]).group(1)


def pragma(bug, declare=False):
    """The input pragma; with declare, also build= with the reporter's call where it calls the class itself
    (not a factory) on one line (the --declare-build variant: how a user who tells the linter the build fares)."""
    inp = bug["input"]
    text = "  # cnnshape: input=(%s)" % (", ".join(map(str, inp)) + ("," if len(inp) == 1 else ""))
    if declare and "\n" not in bug["model"] and re.match(rf"\s*{re.escape(model_name(bug))}\s*\(", bug["model"]):
        text += " build=" + bug["model"].strip()
    return text


def add_pragma(text, bug, declare=False):
    """The text with the pragma at the end of the model's definition line."""
    name = re.escape(model_name(bug))
    pat = re.compile(rf"^\s*(class\s+{name}\b|{name}\s*=\s*(nn\.|torch\.nn\.)?Sequential\()")
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if pat.match(line):
            lines[i] = line.rstrip() + pragma(bug, declare)
            return "\n".join(lines)
    raise SystemExit(f"{bug['id']}: no definition line for {model_name(bug)}")


def apply_edits(text, bug):
    lines = text.split("\n")
    for e in bug["fix"]["edits"]:
        line = lines[e["line"] - 1]
        if line.count(e["old"]) != 1:
            raise SystemExit(f"{bug['id']}: line {e['line']} does not hold {e['old']!r} once")
        lines[e["line"] - 1] = line.replace(e["old"], e["new"])
    return "\n".join(lines)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build(args):
    out = Path(args.out)
    for bug in load(args.only):
        gd = git_dir(bug["repo"], args.mirror, out / ".git-cache")
        fix_commit = bug["fix"].get("commit", bug["commit"])
        src = show(gd, bug["commit"], bug["path"])
        fixed = show(gd, fix_commit, bug["path"]) if "commit" in bug["fix"] else apply_edits(src, bug)
        for variant, commit, text in (("bug", bug["commit"], src), ("fixed", fix_commit, fixed)):
            base = out / bug["id"] / variant
            names = tree(gd, commit)
            for pattern in bug.get("files", []):
                for name in fnmatch.filter(names, pattern):
                    if name != bug["path"]:
                        write(base / name, show(gd, commit, name))
            write(base / bug["path"], add_pragma(text, bug, args.declare_build))
        print(f"{bug['id']:32} {bug['repo']}:{bug['path']}")


# ---------------------------------------------------------------- confirm

RUNNER = r"""
import importlib, importlib.abc, importlib.machinery, importlib.util, json, os, sys, types
spec = json.loads(sys.argv[1]); base = sys.argv[2]
stubs = spec.get("stubs", [])
class Any(type):  # what a stubbed module holds: usable as a value, call, base class, decorator, subscript
    def __getattr__(cls, a):
        if a.startswith("__"):
            raise AttributeError(a)
        return Any(a, (), {})
    def __call__(cls, *a, **k):
        return a[0] if len(a) == 1 and not k and callable(a[0]) else Any("any", (), {})
    def __getitem__(cls, k):
        return Any("any", (), {})
    def __iter__(cls):
        return iter(())
def attr(a):
    if a.startswith("__"):
        raise AttributeError(a)
    return Any(a, (), {})
class Stub(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if any(name == s or name.startswith(s + ".") for s in stubs):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
    def create_module(self, s):
        m = types.ModuleType(s.name); m.__path__ = []; m.__getattr__ = attr
        return m
    def exec_module(self, m):
        pass
sys.meta_path.insert(0, Stub())
path = spec["path"]
for p in [os.path.dirname(path)] + spec.get("paths", []) + [""]:
    sys.path.insert(0, os.path.join(base, p))
for pkg in spec.get("bare", []):  # a package whose __init__ pulls in what the model does not need
    m = types.ModuleType(pkg); m.__path__ = [os.path.join(base, pkg)]; sys.modules[pkg] = m
os.chdir(base)
import torch
name = path[:-3].replace("/", ".")
if spec.get("load") != "file" and all(p.isidentifier() for p in name.split(".")):
    mod = importlib.import_module(name)  # as a package module: relative imports resolve
else:  # the file alone (its folder on sys.path), when its package __init__ cannot be imported
    s = importlib.util.spec_from_file_location("model_file", os.path.join(base, path))
    mod = importlib.util.module_from_spec(s); sys.modules["model_file"] = mod; s.loader.exec_module(mod)
try:  # a layer that cannot be built (groups that do not divide the channels) raises here
    model = eval(spec["model"], vars(mod)).train(sys.argv[3] == "train")
    with torch.no_grad():
        model(torch.randn((2,) + tuple(spec["input"])))
    print(json.dumps({"ok": True}))
except Exception as e:
    print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0]}"}))
"""


def run_torch(bug, base, mode="eval"):
    r = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(bug), str(base), mode], capture_output=True,
                       text=True)
    lines = r.stdout.strip().splitlines()
    if r.returncode or not lines:
        return {"ok": None, "error": "could not build: " + (r.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(lines[-1])


def confirm(args):
    bad = 0
    for bug in load(args.only):
        b = run_torch(bug, Path(args.dir) / bug["id"] / "bug")
        f = run_torch(bug, Path(args.dir) / bug["id"] / "fixed")
        if f["ok"]:  # the twin must also run as it is trained (BatchNorm statistics, auxiliary heads)
            f = run_torch(bug, Path(args.dir) / bug["id"] / "fixed", "train")
        same = b.get("error") == bug["torch_error"]
        good = b["ok"] is False and same and f["ok"] is True
        bad += not good
        print(f"{'ok ' if good else 'BAD'} {bug['id']:32} bug: {b.get('error', 'ran')}"
              f"{'' if same else '  (manifest: ' + bug['torch_error'] + ')'}"
              f"  | twin: {'ran' if f['ok'] else f.get('error')}")
    print(f"{bad} not confirmed" if bad else "all confirmed")
    return 1 if bad else 0


# ---------------------------------------------------------------- score

def lint(path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-m", "flake8_cnnshape.cli", "check", "--format", "json", path.name],
                       cwd=path.parent, capture_output=True, text=True, env=env)
    try:
        return json.loads(r.stdout or "[]")
    except json.JSONDecodeError:
        return [{"line": 0, "col": 0, "code": "ERROR", "message": (r.stderr or r.stdout).strip()[-300:]}]


def has_number(message, n):
    return re.search(rf"(?<![\d.]){n}(?![\d.])", message) is not None


def score_one(bug, d):
    reports = lint(d / bug["id"] / "bug" / bug["path"])
    twin = lint(d / bug["id"] / "fixed" / bug["path"])
    faults = []
    for f in bug["faults"]:
        lines = [f["line"]] + f.get("alt", [])  # alt: lines of the wrapper/helper the layer is built through
        hits = [r for r in reports if r["line"] in lines and r["code"] == f["code"]]
        numbered = f["right"] is not None and f["code"] in NUMBERED
        faults.append({**f, "found": bool(hits),
                       "right_found": any(has_number(r["message"], f["right"]) for r in hits) if numbered
                       else None})
    at = {(line, f["code"]) for f in bug["faults"] for line in [f["line"]] + f.get("alt", [])}
    return {"id": bug["id"], "repo": bug["repo"], "split": bug["split"], "batch": bug.get("batch", 1), "faults": faults,
            "other_reports": [r for r in reports if (r["line"], r["code"]) not in at],
            "twin_reports": twin}


def totals(results):
    faults = [f for r in results for f in r["faults"]]
    numbered = [f for f in faults if f["right_found"] is not None]
    clean = [r for r in results if not r["twin_reports"]]

    def rate(a, b):
        return round(len(a) / len(b), 3) if b else None
    return {"bugs": len(results), "faults": len(faults), "found": sum(f["found"] for f in faults),
            "recall": rate([f for f in faults if f["found"]], faults),
            "numbered": len(numbered), "right_found": sum(bool(f["right_found"]) for f in numbered),
            "right_rate": rate([f for f in numbered if f["right_found"]], numbered),
            "twins": len(results), "clean_twins": len(clean), "twin_precision": rate(clean, results)}


def score(args):
    d = Path(args.dir)
    results = [score_one(bug, d) for bug in load(None, args.split)]

    def yes(v):
        return "-" if v is None else ("yes" if v else "NO")
    print(f"{'id':32} {'split':8} {'codes':16} {'found':10} {'right':10} twin")
    for r in results:
        fs = r["faults"]
        print(f"{r['id']:32} {r['split']:8} {','.join(f['code'] for f in fs):16} "
              f"{','.join(yes(f['found']) for f in fs):10} {','.join(yes(f['right_found']) for f in fs):10} "
              f"{'clean' if not r['twin_reports'] else 'REPORTS'}")
        for t in r["twin_reports"]:
            print(f"    twin {t['code']} line {t['line']}: {t['message']}")
    groups = {"all": results}
    if args.split == "all":
        groups.update({s: [r for r in results if r["split"] == s] for s in ("dev", "heldout")})
    batches = sorted({r["batch"] for r in results})
    if len(batches) > 1:  # the bugs added later, by batch: each scored as it first came
        groups.update({f"batch {b}": [r for r in results if r["batch"] == b] for b in batches})
    summary = {k: totals(v) for k, v in groups.items()}
    for k, t in summary.items():
        print(f"{k:9} bugs {t['bugs']}: recall {t['found']}/{t['faults']} = {t['recall']}, right number "
              f"{t['right_found']}/{t['numbered']} = {t['right_rate']}, clean twins {t['clean_twins']}/"
              f"{t['twins']} = {t['twin_precision']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "totals": summary}, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out", required=True)
    b.add_argument("--mirror")
    b.add_argument("--only", nargs="*")
    b.add_argument("--declare-build", action="store_true",
                   help="also give the reporter's constructor call in the pragma (build=), where it calls the class itself")
    c = sub.add_parser("confirm")
    c.add_argument("dir")
    c.add_argument("--only", nargs="*")
    s = sub.add_parser("score")
    s.add_argument("dir")
    s.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    s.add_argument("--json")
    args = ap.parse_args()
    return {"build": build, "confirm": confirm, "score": score}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
