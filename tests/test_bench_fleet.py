"""The fleet benchmark (benchmarks/fleet_bench.py): the committed page matches the committed JSON,
which has every size, change and command of the table; and the harness runs end to end on a
small fleet (its shape is checked, never its times)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import fleet, fleet_bench, fleet_table

COMMANDS = ("changed", "diff")
CACHE_ROWS = ("builder, base from main's cache", "builder, second diff of the same tree")


def test_the_committed_page_is_generated_from_the_committed_json(tmp_path: Path) -> None:
    result = json.loads(fleet_table.RESULTS.read_text(encoding="utf-8"))
    assert fleet_table.PAGE.read_text(encoding="utf-8") == fleet_table.page(result)
    assert fleet_table.main(["--check"]) == 0
    stale = tmp_path / "page.md"
    stale.write_text("old", encoding="utf-8")
    assert fleet_table.main(["--check", "--out", str(stale)]) == 1


def _shape(result: dict[str, object], sizes: list[int]) -> None:
    rows = result["rows"]
    assert isinstance(rows, list)
    expected = [(n, kind, command) for n in sizes for kind in fleet.CHANGES for command in COMMANDS]
    expected_cache = [(n, kind, "diff") for n in sizes for kind in CACHE_ROWS]
    assert sorted((r["stacks"], r["change"], r["command"]) for r in rows) == sorted(expected + expected_cache)
    for row in rows:
        assert min(row["ours_s"], row["floor_s"], row["peak_mib"]) > 0
        assert row["ratio"] == round(row["ours_s"] / row["floor_s"], 2)
        assert row["cpu_ratio"] == round(row["ours_cpu_s"] / row["floor_cpu_s"], 2)
        assert (row["bound"] is None) == (row["change"] in CACHE_ROWS)


def test_the_committed_json_has_every_size_change_and_command() -> None:
    _shape(json.loads(fleet_table.RESULTS.read_text(encoding="utf-8")), list(fleet_bench.SIZES))


def test_the_harness_runs_end_to_end_on_a_small_fleet() -> None:
    """The smallest run: every change, both commands, the floors and the cache rows; the
    harness itself checks that ``changed`` names exactly the affected stacks."""
    result = fleet_bench.measure([20], repeat=1)
    _shape(result, [20])
    text = fleet_bench.table(result)
    assert text.count("\n") == len(result["rows"]) + 1
    assert "| 20 | `changed` | one stack file changed |" in text
