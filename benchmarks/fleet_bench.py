"""What `changed` and `diff` cost on a fleet, against their floor, in whole processes.

For each size (default 1,000 and 5,000 stacks, ``benchmarks.fleet``) and each kind of change
(one stack file, one defaults file, a builder), one commit on top of the fleet, then
``changed --base HEAD~1`` and ``diff --base HEAD~1``, interleaved round by round with their floor:

- a stack-file or defaults-file change: ``git diff --name-only HEAD~1``, reading the changed
  files, and rendering the affected stacks at both revisions (two ``render-many`` processes at
  once, one per revision, both in the working tree: the same work);
- a builder change (every render differs): two full renders of the fleet, one per revision, at
  once on both cores.

Each command starts with an empty render cache (``HIKUBE_GPU_RENDER_CACHE``). Two more rows
measure the cache after a builder change: the base's renders from the cache that ``main``
produced (``cache warm`` at the base), and a second ``diff`` of the same tree. ``changed``'s list
is checked against the stacks the change affects. Medians of ``--repeat`` rounds; peak RSS is
the largest of the command's processes.

    python -m benchmarks.fleet_bench [--sizes 1000,5000] [--repeat 3] [--json benchmarks/results/fleet.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import fleet
from benchmarks.fleet import CHANGES, DESCRIBE, Change

SIZES = (1000, 5000)
CACHE_ENV = "HIKUBE_GPU_RENDER_CACHE"
Measure = Callable[[], tuple[float, float]]


def _python() -> str:
    return sys.executable


def _env(cache: Path | None) -> dict[str, str]:
    env = {**os.environ, "CI": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env[CACHE_ENV] = str(cache) if cache is not None else "off"
    return env


STREAM = {"HIKUBE_GPU_RENDER_STREAM": "1"}
"""The floor's renderers print their renders instead of writing files (as the diff's do)."""


Measured = tuple[float, float, float]
"""(wall seconds, peak RSS MiB, CPU seconds: user + system of every process it ran)."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[Measured, str, int]:
    """What running ``command`` cost (its children's peak and CPU included), its stdout, its exit code."""
    with tempfile.TemporaryFile() as out:
        cpu = _children_cpu()
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return (seconds, usage.ru_maxrss / 1024, _children_cpu() - cpu), text, process.returncode


def _render_both(root: Path, stacks: list[str]) -> float:
    """Two ``render-many`` processes at once (one per revision), each rendering ``stacks``."""
    with tempfile.TemporaryDirectory(prefix="hikube-gpu-floor-") as tmp:
        env = {**_env(None), **STREAM}
        processes = [
            subprocess.Popen(
                [_python(), "-m", "stacks", "render-many", "--out", f"{tmp}/{side}", *stacks],
                cwd=root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            for side in ("base", "head")
        ]
        peak = 0.0
        for process in processes:
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            assert process.returncode == 0, f"render-many failed ({process.returncode})"
            peak = max(peak, usage.ru_maxrss / 1024)
    return peak


def floor(root: Path, affected: list[str]) -> Measured:
    """git diff --name-only, read the changed files, render ``affected`` at both revisions."""
    cpu = _children_cpu()
    start = time.perf_counter()
    names = subprocess.run(
        ["git", "-C", str(root), "diff", "--name-only", "HEAD~1"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in names:
        (root / name).read_bytes()
    peak = _render_both(root, affected)
    return time.perf_counter() - start, peak, _children_cpu() - cpu


def _ours(root: Path, command: str, expected: list[str], cache: Path | None) -> Measured:
    args = [_python(), "-m", "stacks", command, "--base", "HEAD~1", "--project-dir", str(root)]
    if command == "changed":
        args += ["--format", "json"]
    measured, out, code = run(args, root, _env(cache))
    if command == "changed":
        assert code == 0, f"changed failed (exit {code})"
        assert json.loads(out) == expected, "changed did not name exactly the affected stacks"
    else:
        assert code == 1, f"diff exit {code}, expected 1 (changes)"
    return measured


def _fresh(cache: Path) -> Path:
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    return cache


def _median(runs: list[Measured]) -> dict[str, Any]:
    seconds = [r[0] for r in runs]
    return {
        "s": round(statistics.median(seconds), 3),
        "runs_s": [round(s, 3) for s in seconds],
        "peak_mib": round(max(r[1] for r in runs), 1),
        "cpu_s": round(statistics.median(r[2] for r in runs), 3),
    }


BOUNDS = {"stack": 2.0, "defaults": 2.0, "builder": 1.2}
"""The issue's targets: ours / floor at most this (issue 26); peak memory below ``MAX_PEAK_MIB``."""
MAX_PEAK_MIB = 500


def _row(stacks: int, kind: str, command: str, ours: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    ratio = round(ours["s"] / base["s"], 2)
    bound = BOUNDS.get(kind)
    return {
        "stacks": stacks,
        "change": kind,
        "command": command,
        "ours_s": ours["s"],
        "floor_s": base["s"],
        "ratio": ratio,
        "bound": bound,
        "met": None if bound is None else ratio <= bound and ours["peak_mib"] < MAX_PEAK_MIB,
        "peak_mib": ours["peak_mib"],
        "ours_runs_s": ours["runs_s"],
        "floor_runs_s": base["runs_s"],
        "ours_cpu_s": ours["cpu_s"],
        "floor_cpu_s": base["cpu_s"],
        "cpu_ratio": round(ours["cpu_s"] / base["cpu_s"], 2),
    }


def measure_size(stacks: int, repeat: int, work: Path, cache_rows: bool = True) -> list[dict[str, Any]]:
    """Every row of one fleet size."""
    root = fleet.build(stacks, work / f"fleet-{stacks}")
    cache = work / "cache"
    rows = []
    try:
        for kind in CHANGES:
            fleet.change(root, stacks, kind)
            affected = fleet.changed_stacks(stacks, kind)
            runs: dict[str, list[Measured]] = {"floor": [], "changed": [], "diff": []}
            for _ in range(repeat):  # interleaved: floor, changed, diff, floor, ...
                runs["floor"].append(floor(root, affected))
                for command in ("changed", "diff"):
                    runs[command].append(_ours(root, command, affected, _fresh(cache)))
            base = _median(runs["floor"])
            measured = [
                _row(stacks, kind, command, _median(runs[command]), base) for command in ("changed", "diff")
            ]
            _report(measured)
            rows += measured
        if cache_rows:
            measured = _cache_rows(root, stacks, repeat, cache)
            _report(measured)
            rows += measured
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def _report(rows: list[dict[str, Any]]) -> None:
    """Each row on stderr as soon as it is measured (a run at 5,000 stacks takes a while)."""
    for row in rows:
        print(
            f"{row['stacks']} {row['command']} after {row['change']}: {row['ours_s']:.2f} s vs "
            f"{row['floor_s']:.2f} s ({row['ratio']:.2f}x), peak {row['peak_mib']:.0f} MiB",
            file=sys.stderr,
            flush=True,
        )


def _warm(root: Path, cache: Path) -> None:
    """What main's workflow does: render every stack of the base into the cache."""
    fleet.git(root, "checkout", "-q", "HEAD~1")
    try:
        command = [_python(), "-m", "stacks", "cache", "warm", "--project-dir", str(root)]
        _, _, code = run(command, root, _env(cache))
        assert code == 0, f"cache warm failed (exit {code})"
    finally:
        fleet.git(root, "checkout", "-q", "-")


def _cache_rows(root: Path, stacks: int, repeat: int, cache: Path) -> list[dict[str, Any]]:
    """After a builder change: diff with main's cache of the base, and a second diff."""
    fleet.change(root, stacks, "builder")
    affected = fleet.changed_stacks(stacks, "builder")
    runs: dict[str, list[Measured]] = {"floor": [], "main": [], "again": []}
    for _ in range(repeat):
        runs["floor"].append(floor(root, affected))
        _fresh(cache)
        _warm(root, cache)
        runs["main"].append(_ours(root, "diff", affected, cache))
        runs["again"].append(_ours(root, "diff", affected, cache))
    base = _median(runs["floor"])
    return [
        _row(stacks, "builder, base from main's cache", "diff", _median(runs["main"]), base),
        _row(stacks, "builder, second diff of the same tree", "diff", _median(runs["again"]), base),
    ]


def table(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    lines = [
        "| N stacks | command | after | ours (wall s) | floor (wall s) | ratio | target | CPU ratio "
        "| peak MiB |",
        "|---:|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for row in result["rows"]:
        after = DESCRIBE.get(row["change"], row["change"])
        target = (
            "—" if row["bound"] is None else f"≤ {row['bound']:g}×: {'met' if row['met'] else '**missed**'}"
        )
        lines.append(
            f"| {row['stacks']:,} | `{row['command']}` | {after} | {row['ours_s']:.2f} | "
            f"{row['floor_s']:.2f} | {row['ratio']:.2f}× | {target} | {row['cpu_ratio']:.2f}× | "
            f"{row['peak_mib']:,.0f} |"
        )
    return "\n".join(lines)


def measure(sizes: list[int], repeat: int, cache_rows: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hikube-gpu-fleet-bench-") as tmp:
        rows = [row for size in sizes for row in measure_size(size, repeat, Path(tmp), cache_rows)]
    return {
        "machine": {
            "python": platform.python_version(),
            "cores": len(os.sched_getaffinity(0)),
            "system": platform.platform(),
        },
        "repeat": repeat,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cache-rows", action="store_true", help="leave out the two cache rows")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure([int(s) for s in args.sizes.split(",")], args.repeat, not args.no_cache_rows)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["CHANGES", "Change", "main", "measure", "table"]
