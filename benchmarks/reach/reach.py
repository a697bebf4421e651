"""REACH: of the size errors torch raises in real models, how many flake8-cnnshape reports at the right place.

    python benchmarks/reach/reach.py build --out DIR [--mirror DIR]
    python benchmarks/reach/reach.py mutants DIR [--only OWNER/NAME ...]
    python benchmarks/reach/reach.py score DIR [--json FILE]
    python benchmarks/reach/reach.py dense DIR --out OUT

manifest.json lists public projects (pinned commits) and, per project, model classes (or module-level
nn.Sequential variables): "path", "class", "build" (an expression in the file's namespace that builds the model as
the project does), "input" (the per-sample size the project feeds it), "line" (of the class or the Sequential
assignment) and, where needed, "argv" (for a script that parses it at import) and "call" (how forward is
called, default "model(x)"). No project code is kept here.

* build: writes each project's .py files at its commit into DIR/owner__name/ (via ../real/corpus.py: from the
  local mirror MIRROR/owner+name/ if given, else a clone from GitHub).
* mutants: in each model's file, every int literal that is an nn.Linear in_features, a conv / transposed conv
  in_channels, a BatchNorm/InstanceNorm num_features, a GroupNorm num_channels or a LayerNorm normalized_shape
  (positional or keyword; a module-level constant named there counts once, at its assignment) becomes N+1, one
  mutant per literal. Torch then builds each model of that file and runs it on torch.randn((2,) + input)
  (meta device; the CPU where meta accepts a changed model, as for ConvTranspose). A literal that changes no
  parameter or buffer shape is not used by the model and is no mutant; a mutant torch accepts is dropped; the
  others are kept with torch's exception, in DIR/mutants.json. Each project runs in its own process (torch
  needed) on a temporary copy; a file is imported as its module, top-level statements one by one (a failing
  one is skipped: scripts parse argv, load data...; each has 30 s), under `with torch.device("meta")`;
  packages that cannot be imported are stubbed.
* score: every file gets `  # cnnshape: input=(...)` on each model's definition line, and the linter is run as
  its command runs (`cnnshape check --format json`, in-process) on each mutant and on each unmutated file. A
  mutant is reached when the linter reports the mutated layer's code (CNS001 Linear, CNS002 conv, CNS003
  norms) where that layer's constructor call starts (line, col). Any report on an unmutated file is a false
  report, listed in full.
* dense: the model-dense set for benchmarks/overhead.py: the projects' files with each model file pragma'd, as
  score lints the unmutated files, and OUT/files.txt listing the model files.

Standard library and torch only (numpy etc. where a project needs them: put them on PYTHONPATH).
"""
import argparse
import ast
import concurrent.futures
import contextlib
import io
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
sys.path.insert(0, str(HERE.parent / "real"))

# layer -> (position of its size argument, that argument's keyword, the code the linter reports it with)
LAYERS = {"Linear": (0, "in_features", "CNS001"), "GroupNorm": (1, "num_channels", "CNS003"),
          "LayerNorm": (0, "normalized_shape", "CNS003")}
LAYERS.update({f"{kind}{d}d": (0, "in_channels", "CNS002") for kind in ("Conv", "ConvTranspose") for d in (1, 2, 3)})
LAYERS.update({f"{kind}{d}d": (0, "num_features", "CNS003") for kind in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)})


def load_manifest():
    with open(MANIFEST, encoding="utf-8") as f:
        return json.load(f)


def project_dir(root, repo):
    return Path(root) / repo.replace("/", "__")


# ---------------------------------------------------------------- build

def build(args):
    import corpus  # benchmarks/real/corpus.py
    projects = load_manifest()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for p in projects:
        dest = project_dir(out, p["repo"])
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir()
        git_dir = corpus.mirror_git_dir(args.mirror, p["repo"]) if args.mirror else None
        with tempfile.TemporaryDirectory(prefix="reach-clone-") as tmp:
            if git_dir is None:
                git_dir = corpus.clone(p["repo"], p["commit"], Path(tmp) / "repo")
            files, lines, _ = corpus.extract(git_dir, p["commit"], dest)
        print(f"{p['repo']:50} {p['commit'][:12]} {files:5} files {lines:7} lines {len(p['models']):3} models")


# ---------------------------------------------------------------- mutant sites (ast only)

def nn_layer_names(tree):
    """Bare names bound to torch.nn layers by `from torch.nn import X [as Y]` (and `import *`)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch.nn"):
            for a in node.names:
                if a.name == "*":
                    names.update({k: k for k in LAYERS})
                elif a.name in LAYERS:
                    names[a.asname or a.name] = a.name
    return names


def module_constants(tree):
    """Module-level NAME = <int> bound once in the whole file: name -> its Constant node."""
    stores, consts = {}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):
            stores[node.arg] = stores.get(node.arg, 0) + 1
    for st in tree.body:
        if (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)
                and is_int(st.value) and stores.get(st.targets[0].id) == 1):
            consts[st.targets[0].id] = st.value
    return consts


def is_int(node):
    return isinstance(node, ast.Constant) and type(node.value) is int


def size_arg(call, index, keyword):
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
        return call.args[index]
    return None


def sites(source):
    """The mutant sites of a file: [{line, col, end_col, value, layer, code, const, calls: [[line, col, code]...]}]."""
    tree = ast.parse(source)
    bare = nn_layer_names(tree)
    consts = module_constants(tree)
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        layer = f.attr if isinstance(f, ast.Attribute) and f.attr in LAYERS else bare.get(getattr(f, "id", None))
        if layer is None:
            continue
        index, keyword, code = LAYERS[layer]
        arg = size_arg(node, index, keyword)
        if isinstance(arg, ast.Name) and arg.id in consts:
            lit, const = consts[arg.id], arg.id
        elif is_int(arg):
            lit, const = arg, None
        else:
            continue
        key = (lit.lineno, lit.col_offset)
        site = found.setdefault(key, {"line": lit.lineno, "col": lit.col_offset, "end_col": lit.end_col_offset,
                                      "value": lit.value, "layer": layer, "code": code, "const": const,
                                      "calls": []})
        site["calls"].append([node.lineno, node.col_offset, code])  # a constant: every layer naming it
    return sorted(found.values(), key=lambda s: (s["line"], s["col"]))


def split_lines(source):
    """Lines as ast numbers them (only \\n, \\r\\n and \\r end one), endings kept."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n|$)", source)[:-1] if source else []


def mutate(source, site):
    lines = split_lines(source)
    i = site["line"] - 1
    b = lines[i].encode("utf-8")
    b = b[:site["col"]] + str(site["value"] + 1).encode() + b[site["end_col"]:]
    lines[i] = b.decode("utf-8")
    return "".join(lines)


def with_pragmas(source, models):
    """source with `  # cnnshape: input=(...)` at the end of each model's definition line."""
    lines = split_lines(source)
    for m in models:
        i = m["line"] - 1
        body = lines[i].rstrip("\r\n")
        dims = ", ".join(str(d) for d in m["input"]) + ("," if len(m["input"]) == 1 else "")
        lines[i] = f"{body}  # cnnshape: input=({dims}){lines[i][len(body):] or chr(10)}"
    return "".join(lines)


def by_file(project):
    files = {}
    for m in project["models"]:
        files.setdefault(m["path"], []).append(m)
    return files


# ---------------------------------------------------------------- mutants (torch, one process per project)

def mutants(args):
    root = Path(args.dir)
    out_path = root / "mutants.json"
    done = json.loads(out_path.read_text()) if out_path.exists() else {}
    todo = [p for p in load_manifest()
            if (p["repo"] in args.only if args.only else done.get(p["repo"], {}).get("project") != p)]

    def run(p):
        job = {"dir": str(project_dir(root, p["repo"])), "files": {}}
        for path, models in by_file(p).items():
            source = (project_dir(root, p["repo"]) / path).read_text(encoding="utf-8")
            job["files"][path] = {"models": models, "sites": sites(source)}
        proc = subprocess.run([sys.executable, __file__, "_torch"], input=json.dumps(job), text=True,
                              capture_output=True, timeout=args.timeout)
        if proc.returncode != 0:
            return p, job, None, proc.stderr[-3000:]
        return p, job, json.loads(proc.stdout.splitlines()[-1]), None

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for p, job, res, err in pool.map(run, todo):
            if res is None:
                print(f"{p['repo']}: worker failed\n{err}", file=sys.stderr)
                continue
            res["project"] = p  # the manifest entry it was made for: a changed entry is made again
            done[p["repo"]] = res
            out_path.write_text(json.dumps(done, indent=1))
            n_sites = sum(len(f["sites"]) for f in job["files"].values())
            print(f"{p['repo']:50} {len(res['models']):3} models {n_sites:4} sites {len(res['used']):4} used "
                  f"{len(res['mutants']):4} rejected", flush=True)
            for m in res["models"]:
                if m.get("error"):
                    print(f"    MODEL FAILS UNMUTATED: {m['path']}::{m['class']}: {m['error']}", flush=True)


class Stub:
    """Stands for anything of a package that cannot be imported."""
    def __init__(self, name="stub"):
        self._name = name

    def __getattr__(self, k):
        if k.startswith("__") and k.endswith("__"):
            raise AttributeError(k)
        return Stub(f"{self._name}.{k}")

    def __call__(self, *a, **k):
        return Stub(self._name + "()")

    def __iter__(self):
        return iter(())

    def __mro_entries__(self, bases):
        return (object,)


class StubFinder:
    """Last on sys.meta_path: a module nothing else finds, imported by a file of the project, becomes a stub
    (noted in `stubbed`). Imports by torch itself (its optional packages) are left to fail."""
    stubbed = set()
    root = None

    def find_spec(self, name, path=None, target=None):
        import importlib.machinery
        frame = sys._getframe(1)
        while frame and frame.f_code.co_filename.startswith("<frozen"):
            frame = frame.f_back
        if frame is None or not frame.f_code.co_filename.startswith(str(self.root)):
            return None
        self.stubbed.add(name)
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        import types

        class StubModule(types.ModuleType):
            def __getattr__(self, k):
                if k.startswith("__") and k.endswith("__"):
                    raise AttributeError(k)
                return Stub(f"{self.__name__}.{k}")
        m = StubModule(spec.name)
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


def load_module(root, path, argv=()):
    """Import the file root/path as its module, statement by statement, under the meta device."""
    import importlib
    import importlib.util
    import torch
    rel = Path(path).with_suffix("")
    name = ".".join(rel.parts)
    parent = ".".join(rel.parts[:-1])
    file = Path(root) / path
    for p in (str(file.parent), str(root)):
        if p in sys.path:
            sys.path.remove(p)
    sys.path[:0] = [str(file.parent), str(root)]
    for k in [k for k, m in sys.modules.items() if str(getattr(m, "__file__", "") or "").startswith(str(root))]:
        del sys.modules[k]
    importlib.invalidate_caches()
    if parent and all(p.isidentifier() for p in rel.parts[:-1]):
        with torch.device("meta"), contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(BaseException):
            importlib.import_module(parent)
    spec = importlib.util.spec_from_file_location(name, file)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = parent
    sys.modules[name] = mod
    source = file.read_text(encoding="utf-8")
    skipped = []
    sys.argv = [str(file), *argv]
    with torch.device("meta"), contextlib.redirect_stdout(io.StringIO()):
        for st in ast.parse(source).body:
            signal.signal(signal.SIGALRM, on_alarm)
            signal.alarm(30)
            try:
                exec(compile(ast.Module([st], []), str(file), "exec"), mod.__dict__)
            except BaseException as e:  # noqa: BLE001 - scripts exit, read files, need a GPU...
                skipped.append(f"line {st.lineno}: {type(e).__name__}: {first_line(e)}")
            finally:
                signal.alarm(0)
    return mod, skipped


def first_line(e):
    text = str(e).strip()
    return (text.splitlines() or [""])[0][:300]


class Timeout(Exception):
    pass


def on_alarm(*_):
    raise Timeout("timed out")


def run_model(mod, model, device):
    """Build the model and run it; returns (shapes, None) or (None, exception line)."""
    import torch
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(120)
    try:
        with torch.device(device), contextlib.redirect_stdout(io.StringIO()):
            net = eval(model["build"], mod.__dict__)
            shapes = {k: list(v.shape) for k, v in list(net.named_parameters()) + list(net.named_buffers())}
            net.eval()
            x = torch.randn((2, *model["input"]))
            with torch.no_grad():
                eval(model.get("call", "model(x)"), {"model": net, "x": x})
        return shapes, None
    except Exception as e:  # noqa: BLE001 - torch's rejection is what we record
        ours = [f for f in traceback.extract_tb(e.__traceback__) if f.filename.startswith(str(StubFinder.root))]
        return None, f"{type(e).__name__}: {first_line(e)}" + (
            f"  [{Path(ours[-1].filename).name}:{ours[-1].lineno}]" if ours else "")
    finally:
        signal.alarm(0)


def torch_worker():
    """Reads a job from stdin, builds each model unmutated and mutated; prints the result as one JSON line."""
    import torch  # noqa: F401
    # torchvision imported as the tests import it (beside the CPU torch its compiled ops do not load)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    try:
        from torchvision_truth import import_torchvision
        import_torchvision()
    except ImportError:
        pass  # not installed: a project's import of it is stubbed like any other missing package
    sys.meta_path.append(StubFinder())
    job = json.loads(sys.stdin.read())
    result = {"models": [], "used": [], "mutants": [], "stubbed": []}
    with tempfile.TemporaryDirectory(prefix="reach-") as tmp:
        root = Path(tmp) / "p"
        shutil.copytree(job["dir"], root)
        StubFinder.root = root
        os.chdir(root)
        for path, info in job["files"].items():
            file = root / path
            original = file.read_text(encoding="utf-8")
            base = {}
            argv = info["models"][0].get("argv", ())
            mod, skipped = load_module(root, path, argv)
            for m in info["models"]:
                entry = {"path": path, "class": m["class"], "skipped_statements": skipped}
                for device in ("meta", "cpu"):
                    shapes, err = run_model(mod, m, device)
                    if err is None:
                        base[m["class"]] = (shapes, device)
                        entry["device"] = device
                        break
                    entry.setdefault("error", err)
                else:
                    result["models"].append(entry)
                    continue
                entry.pop("error", None)
                result["models"].append(entry)
            for site in info["sites"]:
                file.write_text(mutate(original, site), encoding="utf-8")
                mod, _ = load_module(root, path, argv)
                for m in info["models"]:
                    if m["class"] not in base:
                        continue
                    shapes0, device = base[m["class"]]
                    shapes, err = run_model(mod, m, device)
                    if err is None and shapes != shapes0 and device == "meta":
                        shapes, err = run_model(mod, m, "cpu")  # meta checks no ConvTranspose channels
                    if err is None and shapes == shapes0:
                        continue  # the literal is not used by this model
                    use = dict(site, path=path, model=m["class"])
                    result["used"].append(use)
                    if err is not None:
                        result["mutants"].append(dict(use, error=err))
                        break  # one mutant per literal, whichever model of the file rejects it
            file.write_text(original, encoding="utf-8")
    result["stubbed"] = sorted({n.split(".")[0] for n in StubFinder.stubbed})
    # a literal used by two models of one file is one use
    seen, used = set(), []
    for u in result["used"]:
        if (u["path"], u["line"], u["col"]) not in seen:
            seen.add((u["path"], u["line"], u["col"]))
            used.append(u)
    result["used"] = used
    sys.stdout.write("\n" + json.dumps(result) + "\n")


# ---------------------------------------------------------------- score (the linter)

def lint(job):
    """The linter's JSON report on one source, as `cnnshape check --format json` prints it for a file of
    the project (the source given on stdin under the file's own path, as an editor hands over an unsaved
    buffer: the project's other files are read from the disk); for an unmutated file also whether the
    analysis, run strict, raises (the command then reports nothing)."""
    source, name, unmutated = job
    from flake8_cnnshape import cli
    from flake8_cnnshape.analysis import analyze
    buf = io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.StringIO(source)
    try:
        with contextlib.redirect_stdout(buf):
            cli.main(["check", "--format", "json", "--stdin-display-name", name, "-"])
    finally:
        sys.stdin = stdin
    crash = None
    if unmutated:
        try:
            analyze(source.splitlines(keepends=True), strict=True, path=name)
        except Exception as e:  # noqa: BLE001
            crash = f"{type(e).__name__}: {first_line(e)}"
    return json.loads(buf.getvalue() or "[]"), crash


def score(args):
    root = Path(args.dir)
    done = json.loads((root / "mutants.json").read_text())
    jobs, where = [], []
    for p in load_manifest():
        res = done.get(p["repo"])
        if res is None or res.get("project") != p:
            print(f"{p['repo']}: no mutants for this manifest entry (run `mutants`)", file=sys.stderr)
            done.pop(p["repo"], None)
            continue
        for path, models in by_file(p).items():
            real = project_dir(root, p["repo"]) / path  # linted in its project: the files it imports are read
            original = real.read_text(encoding="utf-8")
            jobs.append((with_pragmas(original, models), str(real), True))
            where.append((p["repo"], path, None))
            for mu in res["mutants"]:
                if mu["path"] == path:
                    jobs.append((with_pragmas(mutate(original, mu), models), str(real), False))
                    where.append((p["repo"], path, mu))
    with multiprocessing.Pool(args.jobs) as pool:
        reports = pool.map(lint, jobs, chunksize=4)
    table = {p["repo"]: {"models": len(p["models"]), "mutants": [], "false": [], "crashes": []}
             for p in load_manifest() if p["repo"] in done}
    for (repo, path, mu), (rep, crash) in zip(where, reports):
        if mu is None:
            table[repo]["false"] += [dict(r, path=path) for r in rep]
            if crash:
                table[repo]["crashes"].append({"path": path, "error": crash})
            continue
        hit = any([r["line"], r["col"] - 1, r["code"]] in mu["calls"] for r in rep)
        at = [r for r in rep if [r["line"], r["col"] - 1] in [c[:2] for c in mu["calls"]]]
        table[repo]["mutants"].append(dict(mu, reached=hit, reports_there=at, reports=len(rep)))
    print(f"{'project':46} {'models':>6} {'mutants':>7} {'reached':>7} {'reach':>6} {'false':>5}")
    tot = [0, 0, 0, 0]
    for repo, t in table.items():
        n, r = len(t["mutants"]), sum(m["reached"] for m in t["mutants"])
        tot = [tot[0] + t["models"], tot[1] + n, tot[2] + r, tot[3] + len(t["false"])]
        print(f"{repo:46} {t['models']:6} {n:7} {r:7} {pct(r, n):>6} {len(t['false']):5}")
    print(f"{'total':46} {tot[0]:6} {tot[1]:7} {tot[2]:7} {pct(tot[2], tot[1]):>6} {tot[3]:5}")
    shares = [sum(m["reached"] for m in t["mutants"]) / len(t["mutants"]) for t in table.values() if t["mutants"]]
    print(f"{'mean of the projects':46} {'':6} {'':7} {'':7} {pct(sum(shares), len(shares)):>6}")
    for repo, t in table.items():
        for f in t["false"]:
            print(f"false report: {repo}/{f['path']}:{f['line']}:{f['col']}: {f['code']} {f['message']}")
        for c in t["crashes"]:
            print(f"analysis raises (run strict): {repo}/{c['path']}: {c['error']}")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))


def dense(args):
    """The model-dense set: each project's files in OUT/owner__name/, every
    model's file with its pragmas (so every model in it is run at its
    project's input size), and OUT/files.txt listing those files, for
    `overhead.py measure $(cat OUT/files.txt) --together`."""
    root, out = Path(args.dir), Path(args.out)
    listed = []
    for p in load_manifest():
        src = project_dir(root, p["repo"])
        dst = out / src.name
        shutil.copytree(src, dst, dirs_exist_ok=True)
        for path, models in by_file(p).items():
            (dst / path).write_text(with_pragmas((src / path).read_text(encoding="utf-8"), models), encoding="utf-8")
            listed.append(str(dst / path))
    (out / "files.txt").write_text("\n".join(listed) + "\n")
    print(f"{len(listed)} model files of {len(load_manifest())} projects -> {out}/files.txt")


def pct(a, b):
    return f"{100 * a / b:.0f}%" if b else "-"


def main(argv=None):
    if sys.argv[1:2] == ["_torch"]:
        return torch_worker()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="materialise the projects' files at their commits")
    b.add_argument("--out", required=True)
    b.add_argument("--mirror", default=os.environ.get("CNNSHAPE_MIRROR"), help="folder of git snapshots owner+name/")
    b.set_defaults(func=build)
    m = sub.add_parser("mutants", help="make the mutants, keep those torch rejects (DIR/mutants.json)")
    m.add_argument("dir")
    m.add_argument("--only", nargs="+", metavar="OWNER/NAME", help="(re)do only these projects")
    m.add_argument("--timeout", type=int, default=3600, help="seconds per project")
    m.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="projects at once")
    m.set_defaults(func=mutants)
    s = sub.add_parser("score", help="run the linter on mutants and unmutated files")
    s.add_argument("dir")
    s.add_argument("--json", help="write every mutant's outcome and every false report here")
    s.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    s.set_defaults(func=score)
    d = sub.add_parser("dense", help="the model files with their pragmas, for overhead.py (OUT/files.txt)")
    d.add_argument("dir")
    d.add_argument("--out", required=True)
    d.set_defaults(func=dense)
    args = ap.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
