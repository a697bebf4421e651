"""Run flake8 in this process with the cnnshape plugin present or absent.

Both arms of the overhead benchmark go through this runner, so that the only
difference between them is the plugin:

    CNSBENCH_PLUGIN=on    every installed plugin (what a plain `flake8` does)
    CNSBENCH_PLUGIN=off   the flake8-cnnshape entry point is dropped before
                          flake8 loads plugins: never imported, never run
    CNSBENCH_PLUGIN=only  only flake8-cnnshape (and flake8's own reporters):
                          the same CNS reports as `flake8 --select CNS`,
                          without running pycodestyle/pyflakes

Why not `--extend-ignore CNS` or `--select`: flake8 imports and runs every
plugin on every file and filters the reports afterwards.

CNSBENCH_BLOCK_TORCH=1 makes every torch import fail as if torch were not
installed (the plugin must give the same reports).

CNSBENCH_REPORT=FILE makes the runner write a JSON record after the run: its
peak RSS (VmHWM), the CPU time spent inside the plugin's run() (main process
only: with --jobs 1 that is all of it), the CPU time of cyclic garbage
collections (likewise), the plugins flake8 was given, whether `torch` ended up in sys.modules and every
attempt to import torch (or a torch.* module) seen by an import hook — an
attempt counts even when torch is not installed.

Usage: python benchmarks/_flake8_runner.py [flake8 arguments]
"""
from __future__ import annotations

import json
import os
import sys

PLUGIN_PACKAGE = "flake8-cnnshape"
PLUGIN_CODE = "CNS"

_torch_attempts: list = []


class _TorchImportWatch:
    """A meta path finder that only records; it never finds anything itself,
    so imports behave exactly as without it."""

    block = False

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            _torch_attempts.append(name)
            if self.block:  # as if torch were not installed
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _peak_rss_kb() -> int:
    """This process's peak RSS since it was exec'd. (getrusage's ru_maxrss is
    not that: Linux carries the high-water mark of the process that forked us
    across exec, so a child of a big parent starts "big".)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


_plugin_cpu = [0.0]
_gc_cpu = [0.0, 0.0]  # CPU in cyclic collections, and when the current one started


def _time_gc() -> None:
    """Count the CPU of flake8's cyclic garbage collections (both arms): the
    objects a plugin leaves behind make them longer, after its run() returned."""
    import gc
    import time

    def callback(phase, info):
        if phase == "start":
            _gc_cpu[1] = time.process_time()
        else:
            _gc_cpu[0] += time.process_time() - _gc_cpu[1]

    gc.callbacks.append(callback)


def _time_plugin() -> None:
    """Count the process CPU time spent inside the plugin's run() (which also
    imports the analysis on the first torch file). Taken in the same process
    as flake8's own work, its share is not skewed by how fast the machine
    happens to be during one run or the next."""
    import time

    from flake8_cnnshape.plugin import CnnShapeChecker

    run = CnnShapeChecker.run

    def timed(self):
        t = time.process_time()
        try:
            out = list(run(self))
        finally:
            _plugin_cpu[0] += time.process_time() - t
        return iter(out)

    CnnShapeChecker.run = timed


def _is_cns(plugin) -> bool:
    return plugin.package == PLUGIN_PACKAGE or plugin.entry_point.name == PLUGIN_CODE


def main(argv) -> int:
    mode = os.environ.get("CNSBENCH_PLUGIN", "on")
    if mode not in ("on", "off", "only"):
        sys.stderr.write(f"CNSBENCH_PLUGIN must be on, off or only, not {mode!r}\n")
        return 2
    watch = _TorchImportWatch()
    watch.block = os.environ.get("CNSBENCH_BLOCK_TORCH") == "1"
    sys.meta_path.insert(0, watch)

    from flake8.main import cli
    from flake8.plugins import finder

    original = finder.find_plugins
    given: list = []

    def find_plugins(cfg, opts):
        plugins = original(cfg, opts)
        if mode == "off":
            plugins = [p for p in plugins if not _is_cns(p)]
        elif mode == "only":
            plugins = [p for p in plugins if _is_cns(p) or p.entry_point.group == "flake8.report"]
        given.extend(f"{p.package}:{p.entry_point.name}" for p in plugins)
        return plugins

    finder.find_plugins = find_plugins
    _time_gc()
    if mode != "off":
        _time_plugin()
    try:
        rc = cli.main(list(argv))
    except SystemExit as e:  # --version, --help and argument errors exit
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    report = os.environ.get("CNSBENCH_REPORT")
    if report:
        with open(report, "w") as f:
            json.dump(
                {
                    "mode": mode,
                    "plugins": given,
                    "cns_loaded": any(g.startswith(PLUGIN_PACKAGE + ":") for g in given),
                    "cns_module_imported": "flake8_cnnshape" in sys.modules,
                    "torch_in_sys_modules": sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")),
                    "torch_import_attempts": sorted(set(_torch_attempts)),
                    "vmhwm_kb": _peak_rss_kb(),
                    "plugin_cpu": _plugin_cpu[0] if mode != "off" else None,
                    "gc_cpu": _gc_cpu[0],
                },
                f,
            )
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
