#!/usr/bin/env python
"""How much flake8-cnnshape adds to a flake8 run — a benchmark, not a test.

Every figure compares flake8 with the plugin against the same flake8 without
it, run in alternating turns on the same files, both through
benchmarks/_flake8_runner.py (which drops the CNS entry point before flake8
loads its plugins when asked, so the "without" arm never imports or runs it).
Each run is a fresh process; its wall time, CPU time (user + sys, from
os.wait4) and peak RSS are recorded. The ratio reported is the median of the
per-pair ratios. CPU time is the headline: on a shared machine wall time
mostly measures the neighbours.

    python benchmarks/overhead.py corpus --out DIR [--files N --seed S]
    python benchmarks/overhead.py measure PATH [PATH...] [--pairs 5] [--jobs 1] [--together]
    python benchmarks/overhead.py editor FILE [--runs 15]
    python benchmarks/overhead.py memory PATH
    python benchmarks/overhead.py profile PATH [PATH...] [--top 15]
    python benchmarks/overhead.py stdlib-check [STDLIB]
    python benchmarks/overhead.py all [--real DIR...] [--json FILE]

Needs only the standard library and flake8 (plus the plugin, for the "with"
arm). torch is never imported, by this script or by the plugin — `memory`
checks the latter.
"""
from __future__ import annotations

import argparse
import ast
import atexit
import cProfile
import importlib.util
import io
import json
import os
import platform
import pstats
import random
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import tokenize
import tracemalloc
from typing import Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RUNNER = os.path.join(HERE, "_flake8_runner.py")
sys.path.insert(0, HERE)

TARGET_TORCH = 1.15  # overhead allowed on real PyTorch projects
TARGET_PLAIN = 1.03  # overhead allowed on code without torch
SKIP_DIRS = {".git", ".hg", ".svn", "CVS", ".bzr", "__pycache__", ".tox", ".nox", ".eggs", "site-packages"}
REPORT_RE = re.compile(r":\d+:\d+: ([A-Z]+\d+) ")

_NEUTRAL_CWD: Optional[str] = None


def neutral_cwd() -> str:
    """An empty directory to run flake8 in, so that no config file is picked up
    (we also pass --isolated)."""
    global _NEUTRAL_CWD
    if _NEUTRAL_CWD is None:
        _NEUTRAL_CWD = tempfile.mkdtemp(prefix="cnsbench_cwd_")
        atexit.register(os.rmdir, _NEUTRAL_CWD)
    return _NEUTRAL_CWD


# -- running flake8 ---------------------------------------------------------------
def run_flake8(args: Sequence[str], mode: str, stdin_path: Optional[str] = None, report: Optional[str] = None,
               extra_env: Optional[Dict[str, str]] = None) -> dict:
    """One flake8 process through the runner. mode: on / off / only.
    Peak RSS is the runner's own VmHWM (of the main process: with --jobs > 1
    the workers are not in it)."""
    env = dict(os.environ, CNSBENCH_PLUGIN=mode)
    env.pop("CNSBENCH_BLOCK_TORCH", None)
    # Installed packages run from compiled bytecode (pip writes it); a machine
    # that forbids writing it would make every run recompile the plugin.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    own_report = report is None
    if own_report:
        fd, report = tempfile.mkstemp(suffix=".json", prefix="cnsbench_")
        os.close(fd)
    env["CNSBENCH_REPORT"] = report
    env.update(extra_env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        try:
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, RUNNER, *args], stdout=out, stderr=err, stdin=stdin, env=env, cwd=neutral_cwd())
            _, status, ru = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdin_path:
                stdin.close()
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace")
        errtext = err.read().decode("utf-8", "replace")
    try:
        with open(report) as f:
            record = json.load(f)
    except (OSError, ValueError):
        record = {}
    finally:
        if own_report:
            os.unlink(report)
    peak_kb, plugin_cpu, gc_cpu = record.get("vmhwm_kb"), record.get("plugin_cpu"), record.get("gc_cpu")
    if proc.returncode not in (0, 1) or "Traceback" in errtext:
        raise RuntimeError(f"flake8 ({mode}) failed with {proc.returncode}:\n{errtext[-3000:]}")
    codes: Dict[str, int] = {}
    for m in REPORT_RE.finditer(text):
        codes[m.group(1)] = codes.get(m.group(1), 0) + 1
    cns = [ln for ln in text.splitlines() if REPORT_RE.search(ln) and REPORT_RE.search(ln).group(1).startswith("CNS")]
    # ru_maxrss would not do: Linux carries the forking parent's high-water mark across exec
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": peak_kb or ru.ru_maxrss, "rc": proc.returncode,
            "reports": sum(codes.values()), "cns": len(cns), "cns_lines": cns, "stderr": errtext, "plugin_cpu": plugin_cpu,
            "gc_cpu": gc_cpu}


def check_arms() -> None:
    """The two arms must differ exactly by the plugin. Compiles the plugin's
    bytecode first, as `pip install` does, so no run pays for compiling it."""
    import compileall

    import flake8_cnnshape

    compileall.compile_dir(os.path.dirname(flake8_cnnshape.__file__), quiet=1)
    seen = {}
    for mode in ("on", "off"):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = f.name
        try:
            run_flake8(["--isolated", "--version"], mode, report=path)
            with open(path) as f:
                seen[mode] = json.load(f)
        finally:
            os.unlink(path)
    on, off = seen["on"], seen["off"]
    if not on["cns_loaded"]:
        raise SystemExit("flake8-cnnshape is not installed in this environment: the 'with' arm would not have it")
    if off["cns_loaded"] or off["cns_module_imported"]:
        raise SystemExit("the 'without' arm still loads flake8-cnnshape")
    diff = sorted(set(on["plugins"]) ^ set(off["plugins"]))
    if len(diff) != 1 or not diff[0].startswith("flake8-cnnshape:"):
        raise SystemExit(f"the arms differ by more than the plugin: {diff}")


def py_files(paths: Sequence[str]) -> List[str]:
    out = []
    for p in paths:
        if os.path.isfile(p):
            out.append(p)
            continue
        for root, dirs, files in os.walk(p):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            out.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".py"))
    return out


def count_lines(files: Sequence[str]) -> int:
    n = 0
    for f in files:
        with open(f, "rb") as fh:
            n += fh.read().count(b"\n")
    return n


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def measure(label: str, paths: Sequence[str], pairs: int = 5, jobs: int = 1, target: Optional[float] = None, quiet=False) -> dict:
    """Alternating turns with / without the plugin (on-off, off-on, ...), each
    a fresh process. The files are read once first to warm the page cache."""
    files = py_files(paths)
    lines = count_lines(files)  # also warms the page cache
    args = ["--isolated", f"--jobs={jobs}", *paths]
    runs = []
    for i in range(pairs):
        order = ("on", "off") if i % 2 == 0 else ("off", "on")
        pair = {}
        for m in order:
            pair[m] = run_flake8(args, m)
        runs.append(pair)
    warm = runs[0]
    res = {
        "label": label, "paths": list(paths), "files": len(files), "lines": lines, "jobs": jobs, "pairs": pairs,
        "wall_with": med([r["on"]["wall"] for r in runs]), "wall_without": med([r["off"]["wall"] for r in runs]),
        "cpu_with": med([r["on"]["cpu"] for r in runs]), "cpu_without": med([r["off"]["cpu"] for r in runs]),
        "wall_ratio": med([r["on"]["wall"] / r["off"]["wall"] for r in runs]),
        "cpu_ratio": med([r["on"]["cpu"] / r["off"]["cpu"] for r in runs]),
        "cpu_ratios": [round(r["on"]["cpu"] / r["off"]["cpu"], 4) for r in runs],
        "wall_ratios": [round(r["on"]["wall"] / r["off"]["wall"], 4) for r in runs],
        "reports_with": warm["on"]["reports"], "reports_without": warm["off"]["reports"], "cns_reports": warm["on"]["cns"],
        "maxrss_with_kb": max(r["on"]["maxrss_kb"] for r in runs), "maxrss_without_kb": max(r["off"]["maxrss_kb"] for r in runs),
        "target": target,
    }
    # noise only ever adds time: the ratio of the fastest runs is a second opinion
    res["cpu_min_ratio"] = min(r["on"]["cpu"] for r in runs) / min(r["off"]["cpu"] for r in runs)
    # a third, from the runs with the plugin alone: their CPU over the same CPU
    # less what was spent inside the plugin, both taken in the one process
    if jobs == 1 and all(r["on"]["plugin_cpu"] is not None for r in runs):
        res["inrun_ratio"] = med([r["on"]["cpu"] / (r["on"]["cpu"] - r["on"]["plugin_cpu"]) for r in runs])
        res["inrun_plugin_cpu"] = med([r["on"]["plugin_cpu"] for r in runs])
    if jobs == 1 and all(r[arm]["gc_cpu"] is not None for r in runs for arm in ("on", "off")):
        # left out of the in-run ratio: flake8's own collections, made longer
        # by what the plugin allocated
        res["gc_cpu_with"] = med([r["on"]["gc_cpu"] for r in runs])
        res["gc_cpu_without"] = med([r["off"]["gc_cpu"] for r in runs])
    # and a fourth that no neighbour disturbs much: the plugin's own CPU, in-process
    own = sum(analyze_cpu(files).values())
    res["inprocess_analyze_cpu"] = own
    res["inprocess_import_cpu"] = import_cpu(own > 0)
    res["inprocess_ratio"] = 1 + (own + res["inprocess_import_cpu"]) / res["cpu_without"]
    if warm["on"]["reports"] - warm["on"]["cns"] != warm["off"]["reports"]:
        res["warning"] = "the arms disagree on non-CNS reports"
    if not quiet:
        print_measure(res)
    return res


def verdict(ratio: float, target: Optional[float]) -> str:
    if target is None:
        return ""
    return f"  [target <= {target:.2f}x: {'ok' if ratio <= target else 'OVER'}]"


def print_measure(r: dict) -> None:
    print(f"== {r['label']}: {r['files']} files, {r['lines']} lines, --jobs {r['jobs']}, {r['pairs']} pairs")
    print(f"   cpu  with {r['cpu_with']:7.2f}s  without {r['cpu_without']:7.2f}s  ratio {r['cpu_ratio']:.3f}x"
          f"  (pairs: {', '.join(f'{x:.3f}' for x in r['cpu_ratios'])}){verdict(r['cpu_ratio'], r['target'])}")
    print(f"   wall with {r['wall_with']:7.2f}s  without {r['wall_without']:7.2f}s  ratio {r['wall_ratio']:.3f}x"
          f"  (pairs: {', '.join(f'{x:.3f}' for x in r['wall_ratios'])})")
    print(f"   fastest runs' ratio {r['cpu_min_ratio']:.3f}x; in-process estimate {r['inprocess_ratio']:.3f}x"
          f" (analyze() {r['inprocess_analyze_cpu']:.2f}s + import {r['inprocess_import_cpu'] * 1000:.0f} ms over {r['cpu_without']:.2f}s)")
    if "inrun_ratio" in r:
        print(f"   in-run ratio {r['inrun_ratio']:.3f}x (the runs with the plugin: their CPU over the same less the"
              f" {r['inrun_plugin_cpu']:.2f}s spent inside the plugin)")
    if "gc_cpu_with" in r:
        print(f"   cyclic garbage collection: {r['gc_cpu_with']:.3f}s with, {r['gc_cpu_without']:.3f}s without")
    print(f"   reports: {r['reports_with']} with, {r['reports_without']} without ({r['cns_reports']} CNS);"
          f" peak RSS {r['maxrss_with_kb'] / 1024:.1f} vs {r['maxrss_without_kb'] / 1024:.1f} MiB")
    if r.get("warning"):
        print("   WARNING:", r["warning"])
    sys.stdout.flush()


# -- the editor case ------------------------------------------------------------------
def plugin_import_time(runs: int = 5) -> Dict[str, float]:
    """CPU seconds to import the plugin in a fresh interpreter that has flake8
    and its default plugins loaded (what flake8 pays for it at startup), and
    then the analysis (what the first file that mentions torch pays)."""
    code = ("import time, flake8.main.cli, flake8.plugins.finder, flake8.checker, pyflakes.checker, pycodestyle, mccabe\n"
            "t = time.process_time()\nimport flake8_cnnshape.plugin\nu = time.process_time()\n"
            "import flake8_cnnshape.analysis\nprint(u - t, time.process_time() - u)")
    plugin, analysis = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=neutral_cwd(), check=True)
        a, b = out.stdout.split()
        plugin.append(float(a))
        analysis.append(float(b))
    return {"plugin": med(plugin), "analysis": med(analysis)}


def timeit(fn, n: int) -> float:
    """Median CPU seconds of fn() (CPU, not wall: the machine may be shared)."""
    vals = []
    for _ in range(n):
        t = time.process_time()
        fn()
        vals.append(time.process_time() - t)
    return med(vals)


_ANALYZE_CPU: Dict[str, float] = {}


def parsed_files(paths: Sequence[str]):
    """(path, lines, tree) of each .py file under `paths` that parses, one at a time."""
    for fpath in py_files(paths):
        with open(fpath, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            continue
        yield fpath, lines, tree


def analyze_cpu(files: Sequence[str]) -> Dict[str, float]:
    """CPU seconds of analysis.analyze(lines, tree) per file, the tree parsed
    beforehand as flake8 does; cached, profile() reuses it."""
    from flake8_cnnshape.analysis import analyze

    out = {}
    for f in files:
        if f not in _ANALYZE_CPU:
            try:
                with tokenize.open(f) as fh:  # as flake8 reads: the coding cookie, universal newlines
                    lines = fh.readlines()
                tree = ast.parse("".join(lines))
            except (SyntaxError, ValueError):
                _ANALYZE_CPU[f] = 0.0  # flake8 hands the plugin no tree then
                continue
            t = time.process_time()
            analyze(lines, tree)
            _ANALYZE_CPU[f] = time.process_time() - t
        out[f] = _ANALYZE_CPU[f]
    return out


_IMPORT_CPU: List[Dict[str, float]] = []


def import_cpu(torch_files: bool) -> float:
    """What one flake8 process pays to import the plugin, and the analysis
    when some file mentions torch."""
    if not _IMPORT_CPU:
        _IMPORT_CPU.append(plugin_import_time())
    t = _IMPORT_CPU[0]
    return t["plugin"] + (t["analysis"] if torch_files else 0.0)


def editor(path: str, runs: int = 15) -> dict:
    from flake8_cnnshape.analysis import analyze

    name = os.path.basename(path)
    args = ["--isolated", f"--stdin-display-name={name}", "-"]
    with tempfile.NamedTemporaryFile(suffix=".py", delete=False) as empty:
        empty_path = empty.name
    try:
        for m in ("on", "off"):  # warm-up
            run_flake8(args, m, stdin_path=path)
        pairs, empty_pairs = [], []
        for i in range(runs):
            order = ("on", "off") if i % 2 == 0 else ("off", "on")
            pairs.append({m: run_flake8(args, m, stdin_path=path) for m in order})
        for i in range(max(3, runs // 3)):
            order = ("on", "off") if i % 2 == 0 else ("off", "on")
            empty_pairs.append({m: run_flake8(args, m, stdin_path=empty_path) for m in order})
    finally:
        os.unlink(empty_path)
    with open(path) as f:
        lines = f.readlines()
    tree = ast.parse("".join(lines))
    reports = analyze(lines)
    n = 30
    res = {
        "file": path, "lines": len(lines), "runs": runs,
        "wall_with": med([p["on"]["wall"] for p in pairs]), "wall_without": med([p["off"]["wall"] for p in pairs]),
        "cpu_with": med([p["on"]["cpu"] for p in pairs]), "cpu_without": med([p["off"]["cpu"] for p in pairs]),
        "wall_ratio": med([p["on"]["wall"] / p["off"]["wall"] for p in pairs]),
        "cpu_ratio": med([p["on"]["cpu"] / p["off"]["cpu"] for p in pairs]),
        "empty_cpu_with": med([p["on"]["cpu"] for p in empty_pairs]), "empty_cpu_without": med([p["off"]["cpu"] for p in empty_pairs]),
        "cns_reports": pairs[0]["on"]["cns"],
        "import_s": plugin_import_time(),
        "analyze_lines_s": timeit(lambda: analyze(lines), n),
        "analyze_with_tree_s": timeit(lambda: analyze(lines, tree), n),
        "ast_parse_s": timeit(lambda: ast.parse("".join(lines)), n),
        "analyze_reports": len(reports),
    }
    print(f"== editor: {path} ({res['lines']} lines) through stdin, {runs} alternating pairs")
    print(f"   flake8 with    cpu {res['cpu_with'] * 1000:7.1f} ms  wall {res['wall_with'] * 1000:7.1f} ms")
    print(f"   flake8 without cpu {res['cpu_without'] * 1000:7.1f} ms  wall {res['wall_without'] * 1000:7.1f} ms")
    print(f"   added: cpu {1000 * (res['cpu_with'] - res['cpu_without']):+.1f} ms (ratio {res['cpu_ratio']:.3f}x),"
          f" wall {1000 * (res['wall_with'] - res['wall_without']):+.1f} ms (ratio {res['wall_ratio']:.3f}x)")
    print(f"   empty buffer (startup only): cpu {res['empty_cpu_with'] * 1000:.1f} vs {res['empty_cpu_without'] * 1000:.1f} ms;"
          f" importing the plugin: {res['import_s']['plugin'] * 1000:.1f} ms cpu, then the analysis:"
          f" {res['import_s']['analysis'] * 1000:.1f} ms")
    print(f"   in-process: analyze(lines) {res['analyze_lines_s'] * 1000:.2f} ms, analyze(lines, tree) {res['analyze_with_tree_s'] * 1000:.2f} ms"
          f" (ast.parse alone {res['ast_parse_s'] * 1000:.2f} ms); {res['analyze_reports']} reports")
    sys.stdout.flush()
    return res


# -- memory, and torch never imported -----------------------------------------------------------
def memory(path: str, rss: Optional[dict] = None) -> dict:
    """Peak RSS of flake8 --jobs 1 with and without the plugin (rss: figures a
    measure() run already has), and torch: never in sys.modules, never even
    tried, and the same CNS reports when torch cannot be imported at all."""
    from flake8_cnnshape.analysis import analyze

    out = {"path": path}
    reports = {}
    arms = [("with", "on", None), ("without", "off", None), ("with, torch blocked", "on", {"CNSBENCH_BLOCK_TORCH": "1"})]
    if rss:  # RSS known: the torch checks need only the plugin's own output
        arms = [("with", "only", None), ("without", "off", None), ("with, torch blocked", "only", {"CNSBENCH_BLOCK_TORCH": "1"})]
    for label, mode, env in arms:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            rep = f.name
        try:
            r = run_flake8(["--isolated", "--jobs=1", path], mode, report=rep, extra_env=env)
            with open(rep) as f:
                info = json.load(f)
        finally:
            os.unlink(rep)
        out[label] = {"maxrss_kb": r["maxrss_kb"], "cpu": r["cpu"], "cns": r["cns"], "torch_in_sys_modules": info["torch_in_sys_modules"],
                      "torch_import_attempts": info["torch_import_attempts"]}
        if rss and label in rss:
            out[label]["maxrss_kb"] = rss[label]
        reports[label] = sorted(r["cns_lines"])
    # the largest Python heap analyze() needs for one file, over all files
    peak, biggest = 0, None
    tracemalloc.start()
    for fpath, lines, tree in parsed_files([path]):
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        analyze(lines, tree)
        p = tracemalloc.get_traced_memory()[1] - base
        if p > peak:
            peak, biggest = p, fpath
        del tree, lines
    tracemalloc.stop()
    out["analyze_peak_heap_kb"] = peak / 1024
    out["analyze_peak_file"] = biggest
    out["torch_installed"] = importlib.util.find_spec("torch") is not None
    w, wo = out["with"], out["without"]
    out["torch_never_imported"] = not any(out[k]["torch_in_sys_modules"] or out[k]["torch_import_attempts"] for k in ("with", "without", "with, torch blocked"))
    out["same_reports_without_torch"] = reports["with"] == reports["with, torch blocked"]
    print(f"== memory: {path} (--jobs 1{', peak RSS from the timed runs' if rss else ''})")
    print(f"   peak RSS with {w['maxrss_kb'] / 1024:.1f} MiB, without {wo['maxrss_kb'] / 1024:.1f} MiB"
          f" ({(w['maxrss_kb'] - wo['maxrss_kb']) / 1024:+.1f} MiB, {w['maxrss_kb'] / wo['maxrss_kb']:.3f}x)")
    print(f"   analyze() peak Python heap for one file, largest over all files: {out['analyze_peak_heap_kb']:.0f} KiB"
          f" ({os.path.relpath(biggest, path) if biggest else '-'})")
    print(f"   torch installed here: {out['torch_installed']}; torch in sys.modules after linting: {w['torch_in_sys_modules'] or 'no'};"
          f" import attempts: {w['torch_import_attempts'] or 'none'}")
    print(f"   with torch made unimportable: same {len(reports['with'])} CNS reports: {out['same_reports_without_torch']}")
    print(f"   torch never imported: {'yes' if out['torch_never_imported'] else 'NO'}")
    sys.stdout.flush()
    return out


# -- the standard library -------------------------------------------------------------------------
def stdlib_dir() -> str:
    return sysconfig.get_paths()["stdlib"]


def stdlib_sample(max_lines: int, seed: int = 0) -> List[str]:
    """A deterministic sample of the standard library without its tests."""
    root = stdlib_dir()
    files = []
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and "test" not in d and d not in ("lib2to3", "idlelib", "turtledemo"))
        files.extend(os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".py") and "test" not in n)
    random.Random(seed).shuffle(files)
    out, n = [], 0
    for f in files:
        if n >= max_lines:
            break
        out.append(f)
        n += count_lines([f])
    return sorted(out)


def stdlib_check(root: Optional[str] = None, jobs: int = 2, mode: str = "only") -> dict:
    """`flake8 --select CNS <stdlib>` must print nothing. mode "only" runs just
    the plugin (same CNS reports, without pycodestyle/pyflakes' time)."""
    root = root or stdlib_dir()
    files = py_files([root])
    r = run_flake8(["--isolated", "--select=CNS", f"--jobs={jobs}", "--exclude=site-packages", root], mode)
    res = {"root": root, "files": len(files), "cns_reports": r["cns"], "first": r["cns_lines"][:20], "wall": r["wall"], "cpu": r["cpu"]}
    print(f"== stdlib zero-report check: flake8 --select CNS {root} ({len(files)} files, tests included, site-packages excluded)")
    print(f"   {r['cns']} CNS reports ({'ok' if r['cns'] == 0 else 'EXPECTED NONE'}); took {r['wall']:.1f}s wall, {r['cpu']:.1f}s cpu")
    for line in res["first"]:
        print("   ", line)
    sys.stdout.flush()
    return res


# -- where the time goes ------------------------------------------------------------------------------
def profile(paths: Sequence[str], top: int = 15) -> dict:
    from flake8_cnnshape.analysis import analyze

    inputs = list(parsed_files(paths))
    cpu = analyze_cpu([f for f, _, _ in inputs])
    per_file = [(cpu[f], f) for f, _, _ in inputs]
    total = sum(cpu.values())
    t = time.process_time()
    for f, lines, _ in inputs:
        ast.parse("".join(lines))
    parse_total = time.process_time() - t
    torch_files = sum(1 for _, lines, _ in inputs if "torch" in "".join(lines))
    prof = cProfile.Profile()
    prof.enable()
    for f, lines, tree in inputs:
        analyze(lines, tree)
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("cumulative").print_stats(top)
    cum = _clean_pstats(buf.getvalue())
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    tot = _clean_pstats(buf.getvalue())
    per_file.sort(reverse=True)
    print(f"== profile of analysis.analyze(lines, tree) over {len(inputs)} files ({torch_files} mention torch) under {', '.join(paths)}")
    print(f"   analyze total {total:.2f}s cpu (mean {1000 * total / max(len(inputs), 1):.1f} ms/file); ast.parse of the same files {parse_total:.2f}s")
    print("   slowest files: " + "; ".join(f"{os.path.relpath(f, paths[0]) if f.startswith(paths[0]) else f} {1000 * s:.0f} ms" for s, f in per_file[:5]))
    print(f"   top {top} by cumulative time:")
    print(cum)
    print(f"   top {top} by own time:")
    print(tot)
    sys.stdout.flush()
    return {"files": len(inputs), "torch_files": torch_files, "analyze_total_s": total, "parse_total_s": parse_total,
            "slowest": [(round(s, 4), f) for s, f in per_file[:10]], "cumulative": cum, "tottime": tot}


def _clean_pstats(text: str) -> str:
    keep = []
    started = False
    for line in text.splitlines():
        if line.strip().startswith("ncalls"):
            started = True
        if started and line.strip():
            line = line.replace(REPO + os.sep, "").replace(sysconfig.get_paths()["stdlib"] + os.sep, "<stdlib>/")
            keep.append("     " + line.rstrip())
    return "\n".join(keep)


# -- corpus -----------------------------------------------------------------------------------------------
def make_corpus(out: str, files: int, seed: int) -> dict:
    import _corpus

    if os.path.exists(os.path.join(out, "MANIFEST.json")):
        import shutil

        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    m = _corpus.generate(out, files, seed)
    kinds: Dict[str, int] = {}
    for f in m["files"]:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    lines = [f["lines"] for f in m["files"]]
    print(f"== corpus: {len(m['files'])} files, {m['total_lines']} lines (each {min(lines)}..{max(lines)}, median {med(lines):.0f}),"
          f" {m['seeded_bugs']} seeded bugs, seed {seed} -> {out}")
    print("   " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    sys.stdout.flush()
    return m


def seeded_bug_hits(corpus: str, cns_lines: Sequence[str]) -> str:
    with open(os.path.join(corpus, "MANIFEST.json")) as f:
        m = json.load(f)
    want = {(os.path.join(corpus, e["path"]), ln, code) for e in m["files"] for ln, code in e["bugs"]}
    got = set()
    for line in cns_lines:
        mm = re.match(r"(.*):(\d+):\d+: (CNS\d+) ", line)
        if mm:
            got.add((mm.group(1), int(mm.group(2)), mm.group(3)))
    hit = len(want & got)
    return f"{hit}/{len(want)} seeded bugs reported at their line with their code; {len(got)} CNS reports in all"


# -- environment -----------------------------------------------------------------------------------------------
def environment() -> dict:
    import flake8

    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--short", "flake8_cnnshape"], capture_output=True, text=True).stdout.split("\n")
        dirty = [d for d in dirty if d.strip()]
    except OSError:
        head, dirty = "?", []
    from flake8_cnnshape import __version__

    env = {"python": platform.python_version(), "flake8": flake8.__version__, "plugin": __version__, "git_head": head,
           "plugin_files_modified": len(dirty), "cpus": os.cpu_count(), "loadavg": os.getloadavg()}
    print(f"python {env['python']}, flake8 {env['flake8']}, flake8-cnnshape {env['plugin']} at {head}"
          f" ({len(dirty)} modified files under flake8_cnnshape/), {env['cpus']} CPUs, load average {env['loadavg'][0]:.2f}")
    return env


# -- CLI ------------------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus", help="generate the torch-heavy corpus")
    c.add_argument("--out", required=True)
    c.add_argument("--files", type=int, default=170)
    c.add_argument("--seed", type=int, default=0)
    m = sub.add_parser("measure", help="overhead ratio on each PATH")
    m.add_argument("paths", nargs="+")
    m.add_argument("--pairs", type=int, default=5)
    m.add_argument("--jobs", type=int, default=1)
    m.add_argument("--target", type=float, default=None)
    m.add_argument("--together", action="store_true", help="one flake8 run over all PATHs instead of one per PATH")
    e = sub.add_parser("editor", help="one file through stdin, as an editor lints it")
    e.add_argument("file")
    e.add_argument("--runs", type=int, default=15)
    mm = sub.add_parser("memory", help="peak RSS with/without; torch never imported")
    mm.add_argument("path")
    p = sub.add_parser("profile", help="cProfile of analysis.analyze over the files")
    p.add_argument("paths", nargs="+")
    p.add_argument("--top", type=int, default=15)
    s = sub.add_parser("stdlib-check", help="flake8 --select CNS on the whole standard library must report nothing")
    s.add_argument("root", nargs="?")
    s.add_argument("--full-flake8", action="store_true", help="run every plugin (slower); default runs only CNS")
    a = sub.add_parser("all", help="everything, with a summary")
    a.add_argument("--corpus", default=os.path.join(tempfile.gettempdir(), "cnsbench_corpus"))
    a.add_argument("--files", type=int, default=170)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--pairs", type=int, default=5)
    a.add_argument("--real", nargs="*", default=[], help="checkouts of real PyTorch projects (read only)")
    a.add_argument("--real-pairs", type=int, default=3)
    a.add_argument("--stdlib-lines", type=int, default=30000, help="size of the stdlib sample timed (the check covers all of it)")
    a.add_argument("--jobs2", action="store_true", help="also time the corpus with --jobs 2")
    a.add_argument("--json", default=None, help="write every figure here")
    args = ap.parse_args(argv)

    if args.cmd == "corpus":
        make_corpus(args.out, args.files, args.seed)
        return 0
    if args.cmd == "all":
        return run_all(args)
    environment()
    if args.cmd == "measure":
        check_arms()
        if args.together:  # one flake8 run over all of them, as a CI lint stage runs over a repository
            measure(f"{len(args.paths)} paths together", args.paths, args.pairs, args.jobs, args.target)
            return 0
        for path in args.paths:
            measure(path, [path], args.pairs, args.jobs, args.target)
        return 0
    if args.cmd == "editor":
        check_arms()
        editor(args.file, args.runs)
        return 0
    if args.cmd == "memory":
        r = memory(args.path)
        return 0 if r["torch_never_imported"] else 1
    if args.cmd == "profile":
        profile(args.paths, args.top)
        return 0
    if args.cmd == "stdlib-check":
        r = stdlib_check(args.root, mode="on" if args.full_flake8 else "only")
        return 0 if r["cns_reports"] == 0 else 1
    return 2


def run_all(args) -> int:
    t_start = time.perf_counter()
    results: dict = {"environment": environment()}
    check_arms()

    def step(name):
        print(f"\n[{time.perf_counter() - t_start:6.0f}s] {name}")
        sys.stdout.flush()

    step("corpus")
    make_corpus(args.corpus, args.files, args.seed)
    step("overhead on the generated corpus")
    results["corpus"] = measure("generated torch corpus", [args.corpus], args.pairs, 1, TARGET_TORCH)
    if args.jobs2:
        results["corpus_jobs2"] = measure("generated torch corpus", [args.corpus], min(3, args.pairs), 2, TARGET_TORCH)
    full = run_flake8(["--isolated", "--select=CNS", "--jobs=2", args.corpus], "only")
    results["seeded_bugs"] = seeded_bug_hits(args.corpus, full["cns_lines"])
    print("   " + results["seeded_bugs"])

    step("overhead on the standard library (sample, no tests)")
    sample = stdlib_sample(args.stdlib_lines)
    results["stdlib"] = measure("stdlib sample", sample, args.pairs, 1, TARGET_PLAIN, quiet=True)
    results["stdlib"]["label"] = f"stdlib sample ({stdlib_dir()})"
    print_measure(results["stdlib"])

    results["real"] = []
    if args.real:
        step("overhead on real PyTorch projects")
        for d in args.real:
            if not os.path.isdir(d):
                print(f"   (skipped: {d} is not a directory)")
                continue
            results["real"].append(measure(os.path.basename(d.rstrip("/")), [d], args.real_pairs, 1, TARGET_TORCH))
        if results["real"]:
            w = sum(r["cpu_with"] for r in results["real"])
            wo = sum(r["cpu_without"] for r in results["real"])
            results["real_pooled_cpu_ratio"] = w / wo
            print(f"   pooled over the {len(results['real'])} projects: cpu {w:.2f}s / {wo:.2f}s = {w / wo:.3f}x{verdict(w / wo, TARGET_TORCH)}")
            if all("inrun_ratio" in r for r in results["real"]):
                own = sum(r["inrun_plugin_cpu"] for r in results["real"])
                results["real_pooled_inrun_ratio"] = w / (w - own)
                print(f"   pooled in-run: {w:.2f}s / ({w:.2f}s - {own:.2f}s in the plugin) = {w / (w - own):.3f}x")

    step("editor: one ~300-line model file through stdin")
    results["editor"] = editor(os.path.join(args.corpus, "editor", "model_300.py"))

    step("memory and torch imports")
    results["memory"] = memory(args.corpus, rss={"with": results["corpus"]["maxrss_with_kb"], "without": results["corpus"]["maxrss_without_kb"]})

    step("stdlib zero-report check")
    results["stdlib_check"] = stdlib_check()

    step("profile of analysis.analyze")
    results["profile_corpus"] = profile([args.corpus])
    if args.real:
        results["profile_real"] = profile([d for d in args.real if os.path.isdir(d)], top=10)

    step("summary")
    rows = [("generated torch corpus, --jobs 1", results["corpus"])]
    if "corpus_jobs2" in results:
        rows.append(("generated torch corpus, --jobs 2", results["corpus_jobs2"]))
    rows.append(("stdlib sample (no torch)", results["stdlib"]))
    rows += [(f"real: {r['label']}", r) for r in results["real"]]
    print(f"   {'':36s} {'files':>5s} {'lines':>6s} {'cpu w/o':>7s} {'cpu with':>8s} {'cpu x':>6s} {'min x':>6s} {'est x':>6s}"
          f" {'in-run':>6s} {'wall x':>6s}  target")
    for name, r in rows:
        inrun = f"{r['inrun_ratio']:6.3f}" if "inrun_ratio" in r else f"{'':6s}"
        print(f"   {name:36s} {r['files']:5d} {r['lines']:6d} {r['cpu_without']:7.2f} {r['cpu_with']:8.2f} {r['cpu_ratio']:6.3f}"
              f" {r['cpu_min_ratio']:6.3f} {r['inprocess_ratio']:6.3f} {inrun} {r['wall_ratio']:6.3f}  {verdict(r['cpu_ratio'], r['target']).strip()}")
    print("   (cpu x: median of pair ratios; min x: fastest with / fastest without; est x: 1 + in-process analyze() and import CPU / cpu w/o;"
          " in-run: a run with the plugin over itself less the plugin's CPU)")
    if "real_pooled_cpu_ratio" in results:
        inrun = f"{results['real_pooled_inrun_ratio']:6.3f}" if "real_pooled_inrun_ratio" in results else ""
        print(f"   {'real projects pooled':36s} {'':5s} {'':6s} {'':7s} {'':8s} {results['real_pooled_cpu_ratio']:6.3f} {'':6s} {'':6s} {inrun}")
    ed = results["editor"]
    print(f"   editor ({ed['lines']} lines via stdin): +{1000 * (ed['cpu_with'] - ed['cpu_without']):.0f} ms cpu"
          f" ({ed['cpu_ratio']:.3f}x); analyze() alone {1000 * ed['analyze_lines_s']:.1f} ms")
    mem = results["memory"]
    print(f"   peak RSS (corpus, --jobs 1): {mem['with']['maxrss_kb'] / 1024:.1f} vs {mem['without']['maxrss_kb'] / 1024:.1f} MiB;"
          f" torch never imported: {mem['torch_never_imported']}")
    print(f"   stdlib --select CNS reports: {results['stdlib_check']['cns_reports']}")
    print(f"   total time {time.perf_counter() - t_start:.0f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
        print(f"   figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
