"""Every benchmark runs, at its smallest size, through the entry point ``make bench`` uses, so a
benchmark cannot rot unnoticed (``make bench`` once failed on a probe the code had outgrown).
These tests check the shape of what a benchmark writes, never a time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import diff_bench, peers_bench
from benchmarks.peers_table import table as peers_table

ROOT = Path(__file__).resolve().parents[1]


def _bench(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and value > 0


def test_preview_bench_at_its_smallest_sizes(tmp_path: Path) -> None:
    out = tmp_path / "preview.json"
    done = _bench("preview_bench", "--repeat", "1", "--sizes", "2,5", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("preview benchmark")
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [size["vms"] for size in result["sizes"]] == [2, 5]
    for size in result["sizes"]:
        assert size["objects"] > 0
        assert size["registrations"] > size["objects"]
        assert all(_positive(size[key]) for key in ("program_s", "floor_s", "ratio", "validate_s"))
    assert result["scaling"]["vms"] == [2, 5]
    assert _positive(result["scaling"]["program"])
    assert _positive(result["scaling"]["floor"])
    assert _positive(result["startup"]["first_resource_s"])  # the probe saw a registration
    assert result["startup"]["slowest_imports_ms"]
    assert result["peak_rss_mb"]["vms"] == 5
    assert _positive(result["peak_rss_mb"]["mb"])
    assert "per object, 5 vs 2 VMs" in done.stdout


@pytest.mark.parametrize("engine", ["plan", "pulumi"])
def test_scale_bench_at_its_smallest_sizes(tmp_path: Path, engine: str) -> None:
    out = tmp_path / "scale.json"
    done = _bench("scale_bench", "--sizes", "2,5", "--engine", engine, "--json", str(out))
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [row["vms"] for row in rows] == [2, 5]
    assert all(row["files"] > 0 and _positive(row["peak_mib"]) for row in rows)
    assert rows[1]["files"] > rows[0]["files"]
    assert "per VM (marginal)" in done.stdout


def test_diff_bench_with_two_extra_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """``run`` as ``make bench`` calls it, with 2 stack copies instead of 50."""
    copy = diff_bench.project_copy
    monkeypatch.setattr(diff_bench, "project_copy", lambda extra_stacks=0: copy(min(extra_stacks, 2)))
    result = diff_bench.run(1)
    assert result["example_stacks"] >= 4
    for key in ("examples_sequential_s", "examples_parallel_s", "one_stack_s", "fifty_stacks_s"):
        assert _positive(result[key]), key
    assert "50 stacks / 1 stack" in diff_bench.table(result)


def test_peers_bench_end_to_end_with_a_large_run_and_a_fleet_diff(tmp_path: Path) -> None:
    out = tmp_path / "peers.json"
    args = ["--sizes", "2", "--rounds", "1", "--large", "3", "--fleet", "2", "--no-cdk8s", "--json", str(out)]
    peers_bench.main(args)
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["large"]["vms"] == 3
    assert _positive(result["diff"]["wall_median_s"])
    assert "| 2 |" in peers_table(result)


def test_every_benchmark_has_a_smoke_test() -> None:
    """A new ``benchmarks/*_bench.py`` needs a test that runs it small (here or in its own file)."""
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    for bench in sorted((ROOT / "benchmarks").glob("*_bench.py")):
        name = bench.stem
        used = re.search(rf"benchmarks\.{name}\b|from benchmarks import .*\b{name}\b|\"{name}\"", tests)
        assert used, f"{bench.relative_to(ROOT)} has no smoke test"


def test_make_bench_runs_what_the_smoke_tests_run() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    bench = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    assert "-m benchmarks.preview_bench --repeat 3 --json benchmarks/results/preview.json" in bench
    assert "-m benchmarks.diff_bench --repeat 2 --json benchmarks/results/diff.json" in bench
