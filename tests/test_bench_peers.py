"""The peer benchmark (benchmarks/peers_bench.py): the committed page matches the committed
JSON, every contender writes the same objects as ``stacks render``, and the harness runs end
to end on a tiny stack (no cdk8s, one round)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import peers_bench, peers_table
from benchmarks.peers_bench import (
    Contender,
    RunFailed,
    documents,
    marginal,
    measure_renders,
    ratios,
    run_process,
)
from benchmarks.peers_manifests import write_manifests, write_stack_file
from stacks.commands.cli import PROJECT_DIR


def test_the_committed_page_is_generated_from_the_committed_json(tmp_path: Path) -> None:
    result = json.loads(peers_table.RESULTS.read_text(encoding="utf-8"))
    assert peers_table.PAGE.read_text(encoding="utf-8") == peers_table.page(result)
    assert peers_table.main(["--check"]) == 0
    stale = tmp_path / "page.md"
    stale.write_text("old", encoding="utf-8")
    assert peers_table.main(["--check", "--out", str(stale)]) == 1


def test_the_committed_json_has_every_size_ratio_and_target() -> None:
    result = json.loads(peers_table.RESULTS.read_text(encoding="utf-8"))
    assert {"100", "1000", "10000"} <= set(result["renders"])
    for size, row in result["renders"].items():
        for name in ("builders", "pulumi", "dicts"):
            assert row[name]["cpu_min_s"] > 0, (size, name)
        if int(size) <= 1000:
            assert set(result["ratios"][size]) >= {"builders", "pulumi", "dicts"}
    assert set(result["targets"]) == {
        "render_1000_vs_cdk8s",
        "render_1000_vs_dicts",
        "marginal_flatness",
        "startup_s",
        "diff_1000_s",
        "large_s",
        "large_mib",
    }


def _body(path: Path) -> str:
    return "".join(
        line for line in path.read_text(encoding="utf-8").splitlines(True) if not line.startswith("#")
    )


def test_the_peers_write_the_bytes_stacks_render_writes(tmp_path: Path) -> None:
    """Same objects, same YAML: the dicts, pulumi and builders contenders write, file for file,
    what ``hikube-gpu render`` writes (less its ``#`` header lines)."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_stack_file(inputs / "Pulumi.bench.yaml", 3)
    write_manifests(inputs / "manifests.json", 3)
    outs = {}
    for name in ("ours", "builders", "pulumi", "dicts"):
        outs[name] = tmp_path / name
        argv = Contender(name, None).argv(3, inputs, outs[name])
        subprocess.run(argv, cwd=PROJECT_DIR, check=True, capture_output=True)
    ours = {p.relative_to(outs["ours"]): _body(p) for p in outs["ours"].rglob("*.yaml")}
    assert len(ours) == 6
    for name in ("builders", "pulumi", "dicts"):
        theirs = {
            p.relative_to(outs[name]): p.read_text(encoding="utf-8") for p in outs[name].rglob("*.yaml")
        }
        assert theirs == ours, name


def test_documents_ignore_file_names_and_comments_but_not_values(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.yaml").write_text("# a comment\nkind: VMDisk\nspec: {size: 1}\n", encoding="utf-8")
    (tmp_path / "b" / "y.yaml").write_text("kind: VMDisk\nspec:\n  size: 1\n", encoding="utf-8")
    assert documents(tmp_path / "a") == documents(tmp_path / "b")
    (tmp_path / "b" / "y.yaml").write_text("kind: VMDisk\nspec:\n  size: 2\n", encoding="utf-8")
    assert documents(tmp_path / "a") != documents(tmp_path / "b")


def test_a_contender_writing_other_objects_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fewer(self: Contender, vms: int, inputs: Path, out: Path) -> list[str]:
        return [sys.executable, "-m", "benchmarks.peers_manifests", str(vms - 1), str(out)]

    monkeypatch.setattr(Contender, "argv", fewer)
    with pytest.raises(RunFailed, match="wrote other objects"):
        measure_renders([2], 1, 1, [Contender("builders", None)], tmp_path)


def test_ours_is_refused_past_the_limit_and_ratios_skip_it(tmp_path: Path) -> None:
    renders = measure_renders([3], 1, 1, [Contender("ours", 2), Contender("dicts", None)], tmp_path)
    assert "skipped" in renders["3"]["ours"]
    assert renders["3"]["dicts"]["rounds"] == 1
    assert ratios(renders, "ours") == {}


def _row(**cpu: float) -> dict[str, Any]:
    return {name: {"cpu_median_s": value} for name, value in cpu.items()}


def test_peak_memory_is_the_measured_process_s_not_the_harness_s() -> None:
    """On Linux a child's peak RSS starts at its parent's: the launcher keeps the harness out."""
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))  # resident, not just reserved
    sample = run_process([sys.executable, "-c", "pass"], PROJECT_DIR)
    assert ballast[0] == 1
    assert 0 < sample.peak_mib < 100
    assert sample.cpu_s > 0


def test_ratios_and_marginal_cost_per_vm() -> None:
    renders = {"100": _row(ours=2.0, dicts=0.5), "1000": _row(ours=11.0, dicts=1.4), "3000": _row(ours=35.0)}
    assert ratios(renders, "ours") == {"100": {"dicts": 4.0}, "1000": {"dicts": 7.857}}
    steps = marginal(renders)
    assert steps["ours"] == {"100-1000": 10.0, "1000-3000": 12.0, "flatness": 1.2}
    assert steps["dicts"] == {"100-1000": 1.0}


def test_the_harness_runs_end_to_end_on_a_tiny_stack(tmp_path: Path) -> None:
    args = peers_bench.parse(
        ["--sizes", "2,5", "--rounds", "1", "--large", "0", "--fleet", "0", "--no-cdk8s", "--json", "x"]
    )
    result = peers_bench.run(args)
    assert result["skipped"] == {"cdk8s": "not requested (--no-cdk8s)"}
    assert result["ours"].partition(":")[0] == "ours"  # ours:<engine> when render offers --engine
    assert set(result["renders"]["5"]) >= {result["ours"], "builders", "pulumi", "dicts"}
    assert result["ratios"]["5"]["dicts"] > 1  # a whole render costs more than dumping dicts
    assert result["targets"]["startup_s"]["value"] == result["startup"]["wall_median_s"] > 0
    assert result["targets"]["diff_1000_s"]["met"] is None
    assert "| 5 |" in peers_table.table(result)


def test_make_bench_runs_the_peer_benchmark() -> None:
    makefile = (PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    bench = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    assert "$(MAKE) bench-peers" in bench
    peers = makefile.split("\nbench-peers:", 1)[1].split("\n\n", 1)[0]
    assert "benchmarks/requirements-peers.txt" in peers
    assert "-m benchmarks.peers_bench --json benchmarks/results/peers.json" in peers
    assert "-m benchmarks.peers_table" in peers
