"""The peer benchmark's JSON (``benchmarks/results/peers.json``) as Markdown tables, and the
generated page ``docs/reference/performance-peers.md``:

    python -m benchmarks.peers_table [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchmarks.common import page_command

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULTS = PROJECT_DIR / "benchmarks" / "results" / "peers.json"
PAGE = PROJECT_DIR / "docs" / "reference" / "performance-peers.md"
ORDER = ("ours", "builders", "pulumi", "cdk8s", "dicts")
TITLES = {
    "ours": "this project (`stacks render`)",
    "builders": "our builders, no Pulumi runtime",
    "pulumi": "raw pulumi_kubernetes under mocks",
    "cdk8s": "cdk8s",
    "dicts": "plain dicts → YAML",
}


def _names(result: dict[str, Any]) -> list[str]:
    found = {name for row in result["renders"].values() for name in row}
    key = {base: i for i, base in enumerate(ORDER)}
    return sorted(found, key=lambda name: (key.get(name.split(":")[0], len(ORDER)), name))


def _title(name: str) -> str:
    base, _, engine = name.partition(":")
    return TITLES.get(base, name) + (f" engine `{engine}`" if engine else "")


def _cell(entry: dict[str, Any] | None, field: str = "cpu") -> str:
    if not entry:
        return "—"
    if "skipped" in entry:
        return "refused"
    if field == "peak":
        return f"{entry['peak_mib']:,.0f}"
    return f"{entry['cpu_min_s']:.2f} ({entry['cpu_median_s']:.2f})"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:,.3g}" if value < 100 else f"{value:,.0f}"


def table(result: dict[str, Any]) -> str:
    """The render table (CPU s, min (median)), the ratios, peak memory, marginal cost and targets."""
    names = _names(result)
    sizes = sorted(result["renders"], key=int)
    head = "| N VMs | " + " | ".join(_title(n) for n in names) + " |"
    rule = "|---|" + "---|" * len(names)
    lines = ["CPU seconds, whole process, min (median) over the rounds:", "", head, rule]
    for size in sizes:
        row = result["renders"][size]
        lines.append(f"| {int(size):,} | " + " | ".join(_cell(row.get(n)) for n in names) + " |")
    lines += ["", "Peak RSS, MiB:", "", head, rule]
    for size in sizes:
        row = result["renders"][size]
        lines.append(f"| {int(size):,} | " + " | ".join(_cell(row.get(n), "peak") for n in names) + " |")
    ours = result["ours"]
    peers = [n for n in names if n != ours]
    lines += ["", f"Ratio of `{ours}`'s CPU to each contender's (median; below 1: ours is cheaper):", ""]
    lines += ["| N VMs | " + " | ".join(_title(n) for n in peers) + " |", "|---|" + "---|" * len(peers)]
    for size in [s for s in sizes if s in result["ratios"]]:
        ratio = result["ratios"][size]
        lines.append(f"| {int(size):,} | " + " | ".join(_number(ratio.get(n)) for n in peers) + " |")
    lines += [
        "",
        "Marginal CPU per VM, ms (medians, between consecutive sizes; flatness: last step over first):",
        "",
    ]
    steps = sorted(
        {k for v in result["marginal"].values() for k in v if k != "flatness"},
        key=lambda k: int(k.split("-")[0]),
    )
    lines += ["| contender | " + " | ".join(steps) + " | flatness |", "|---|" + "---|" * (len(steps) + 1)]
    for name in names:
        entry = result["marginal"].get(name, {})
        cells = [_number(entry.get(k)) for k in [*steps, "flatness"]]
        lines.append(f"| {_title(name)} | " + " | ".join(cells) + " |")
    startup = result["startup"]
    lines += [
        "",
        "Start-up, `hikube-gpu preview --stack dev` (as `python -m stacks`): "
        f"{startup['wall_min_s']:.2f} s wall "
        f"(median {startup['wall_median_s']:.2f}), {startup['cpu_min_s']:.2f} s CPU, "
        f"{startup['peak_mib']:.0f} MiB.",
    ]
    large = result.get("large")
    if large:
        lines.append(
            f"{large['vms']:,} VMs with `{large['contender']}`: {large['wall_min_s']:.1f} s wall, "
            f"{large['cpu_min_s']:.1f} s CPU, {large['peak_mib']:.0f} MiB."
        )
    diff = result.get("diff")
    if diff and "failed" in diff:
        lines.append(f"Diff of {diff['stacks']:,} stacks, one changed: failed ({diff['failed']}).")
    elif diff:
        lines.append(
            f"Diff of {diff['stacks']:,} stacks, one changed, {diff['cores']} cores: "
            f"{diff['wall_min_s']:.1f} s wall, {diff['cpu_min_s']:.1f} s CPU, {diff['peak_mib']:.0f} MiB."
        )
    for name, reason in sorted(result["skipped"].items()):
        lines.append(f"{name} skipped: {reason}.")
    lines += ["", "| target | measured | bound | met |", "|---|---|---|---|"]
    for check in result["targets"].values():
        met = {True: "yes", False: "**no**", None: "not measured"}[check["met"]]
        lines.append(f"| {check['what']} | {_number(check['value'])} | {check['bound']:g} | {met} |")
    return "\n".join(lines) + "\n"


def page(result: dict[str, Any]) -> str:
    """``docs/reference/performance-peers.md``: how it was measured, then the tables."""
    machine = result["machine"]
    return (
        "# Performance against the peers\n\n"
        "<!-- generated by `python -m benchmarks.peers_table` from benchmarks/results/peers.json;"
        " do not edit -->\n\n"
        f"Workload: {result['workload']}. The objects are generated once by this project's builders; "
        "every contender is a fresh `python` process that starts from data (the stack file for this "
        "project, the objects as JSON for the peers) and writes one YAML file per object, the same "
        "objects (checked on the first round of each size). Rounds interleave the contenders; CPU is "
        "user + system of the process and the children it waited for.\n\n"
        "- **this project**: `hikube-gpu render` (as `python -m stacks`), once per `--engine` when it "
        "offers one "
        "(`plan`: the stack's plan without the Pulumi runtime; `pulumi`: the components under "
        "Pulumi's mock runtime); config, validation, secrets masked; stacks above the loader's "
        "limit are refused "
        "([limits](../limits.md)), so its larger sizes show *refused*;\n"
        "- **our builders**: the same validation and builders without the Pulumi runtime "
        "(`python -m benchmarks.peers_manifests`), past the limit in chunks of valid stacks;\n"
        "- **raw pulumi_kubernetes**: one `CustomResource` per object under `pulumi.runtime.mocks`;\n"
        "- **cdk8s**: one `ApiObject` per object, `App.synth()` (optional: needs Node.js and "
        "`benchmarks/requirements-peers.txt`; skipped with the reason otherwise);\n"
        "- **plain dicts**: PyYAML's C dumper, the floor of any Python tool.\n\n"
        "Run `make bench-peers` (or `python -m benchmarks.peers_bench --help` for sizes, rounds, "
        "the large run and the diff fleet); then `python -m benchmarks.peers_table` rewrites this "
        "page from the JSON. The numbers are one machine's "
        f"({machine['cores']} cores, {machine['system']}, Python {machine['python']}); "
        "the targets are reported, not enforced by tests.\n\n" + table(result)
    )


def main(argv: list[str] | None = None) -> int:
    return page_command(
        argv,
        description=__doc__.split("\n")[0],
        results=RESULTS,
        page_path=PAGE,
        page=page,
        module="benchmarks.peers_table",
    )


if __name__ == "__main__":
    sys.exit(main())
