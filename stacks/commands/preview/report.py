"""The offline preview's text: a ``pulumi preview``-like tree, a summary, GPU capacity, warnings."""

from __future__ import annotations

from typing import Any

from components.catalog.gpus import OFFERED_MODELS
from components.yaml_text import dump_yaml
from stacks.program.records import OfflineRun, Registered

TYPE_WIDTH_MIN = 20
SIGNS = {"create": "+", "read": ">", "import": "="}
"""The signs ``pulumi preview`` shows for each operation."""


def _children(run: OfflineRun) -> dict[str, list[Registered]]:
    children: dict[str, list[Registered]] = {}
    for resource in run.resources:
        children.setdefault(resource.parent, []).append(resource)
    for items in children.values():
        items.sort(key=lambda r: (not r.type.startswith("pulumi:providers:"), r.name))  # providers first
    return children


def tree_rows(run: OfflineRun) -> list[tuple[str, str, str, str]]:
    """(indented type, name, plan, info) rows, parents before children, siblings by name."""
    children = _children(run)
    rows: list[tuple[str, str, str, str]] = []

    def walk(resource: Registered, prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        info = "protected" if resource.protect else ""
        plan = "read" if resource.read else "import" if resource.imported else "create"
        rows.append((prefix + branch + resource.type, resource.name, plan, info))
        kids = children.get(resource.urn, [])
        extension = "" if depth == 0 else ("   " if last else "│  ")
        for index, kid in enumerate(kids):
            walk(kid, prefix + extension, index == len(kids) - 1, depth + 1)

    for root in children.get("", []):
        walk(root, "", True, 0)
    return rows


def tree(run: OfflineRun) -> str:
    rows = tree_rows(run)
    type_width = max([TYPE_WIDTH_MIN, *(len(r[0]) for r in rows)])
    name_width = max([4, *(len(r[1]) for r in rows)])
    lines = [f"     {'Type':<{type_width}}  {'Name':<{name_width}}  Plan    Info"]
    for type_text, name, plan, info in rows:
        sign = SIGNS[plan]
        lines.append(f" {sign}   {type_text:<{type_width}}  {name:<{name_width}}  {plan:<6}  {info}".rstrip())
    return "\n".join(lines)


def _catalog_order(model: str) -> tuple[int, str]:
    return (OFFERED_MODELS.index(model) if model in OFFERED_MODELS else len(OFFERED_MODELS), model)


def capacity_table(capacity: dict[str, dict[str, Any]]) -> str:
    """The ``gpuCapacity`` stack output as a table, with totals (memory and TOPS at the most GPUs).

    ``Node groups`` is min–max as the platform runs them; ``Peak`` adds the roll-out surge.
    """
    header = (
        f"  {'Model':<6} {'VMs':>4} {'Node groups':>12} {'Peak':>5} {'Most':>5} "
        f"{'GPU memory':>11} {'INT8 TOPS':>10} {'Quota':>6}"
    )
    lines = [header]
    totals = {"vmGpus": 0, "min": 0, "max": 0, "peak": 0, "gpus": 0, "memoryGB": 0, "int8Tops": 0}
    for model in sorted(capacity, key=_catalog_order):
        row = capacity[model]
        nodes = row["nodeGroupGpus"]
        quota = "[secret]" if row.get("quotaSecret") else str(row.get("quota", "-"))
        lines.append(
            f"  {model:<6} {row['vmGpus']:>4} {_span(nodes['min'], nodes['max']):>12} {nodes['peak']:>5} "
            f"{row['gpus']:>5} {row['memoryGB']:>8} GB {row['int8Tops']:>10} {quota:>6}"
        )
        for key in ("vmGpus", "gpus", "memoryGB", "int8Tops"):
            totals[key] += row[key]
        for key in ("min", "max", "peak"):
            totals[key] += nodes[key]
    lines.append(
        f"  {'Total':<6} {totals['vmGpus']:>4} {_span(totals['min'], totals['max']):>12} {totals['peak']:>5} "
        f"{totals['gpus']:>5} {totals['memoryGB']:>8} GB {totals['int8Tops']:>10}"
    )
    return "\n".join(lines)


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def clusters_table(clusters: dict[str, Any]) -> str:
    """The ``clusters`` stack output: node groups (nodes, GPUs min-max, sharing), then workloads."""
    groups = [
        [
            "Cluster",
            "Node group",
            "Instance type",
            "GPUs per node",
            "Nodes (config)",
            "Nodes (platform)",
            "GPUs",
            "Sharing",
        ]
    ]
    workloads = [
        ["Cluster", "Workload", "Kind", "Namespace", "GPU resource", "Pods x per pod", "Node groups"]
    ]
    for name in sorted(clusters):
        cluster = clusters[name]
        for group_name, group in sorted(cluster["nodeGroups"].items()):
            per_node = group["gpusPerNode"]
            count = sum(per_node.values())
            low, high = group["minReplicas"], group["maxReplicas"]
            real = group["platformNodes"]
            gpus = ", ".join(
                f"{n} {m}" for m, n in sorted(per_node.items(), key=lambda i: _catalog_order(i[0]))
            )
            groups.append(
                [
                    name,
                    group_name,
                    group["instanceType"],
                    gpus or "-",
                    _span(low, high),
                    f"starts {real['start']}, {_span(low, real['max'])}, peak {real['peak']}",
                    _span(low * count, real["peak"] * count) if count else "-",
                    group["sharing"] if count else "-",
                ]
            )
        for workload_name, workload in sorted(cluster["workloads"].items()):
            workloads.append(
                [
                    name,
                    workload_name,
                    workload["kind"],
                    workload["namespace"],
                    workload["gpuResource"],
                    f"{workload['pods']} x {workload['perPod']}",
                    ", ".join(workload["nodeGroups"]),
                ]
            )
    lines = _table(groups)
    if len(workloads) > 1:
        lines += ["", *_table(workloads)]
    return "\n".join(lines)


def _outputs(outputs: dict[str, Any]) -> str:
    if not outputs:
        return ""
    text = dump_yaml(outputs)
    return "\n".join("    " + line for line in text.splitlines())


def preview_text(run: OfflineRun) -> str:
    """The full preview report for a successful run."""
    imports = len([r for r in run.resources if r.imported and not r.read])
    reads = len([r for r in run.resources if r.read])
    count = len(run.resources) - reads - imports
    parts = [
        f"Previewing stack {run.stack!r} offline (no Pulumi CLI, no cluster; nothing is deployed)",
        "",
        tree(run),
        "",
        "Outputs:",
        _outputs({k: v for k, v in run.outputs.items() if k not in ("gpuCapacity", "clusters")}),
        "",
        "Resources:",
        f"    + {count} to create"
        + (f"\n    = {imports} to import" if imports else "")
        + (f"\n    > {reads} to read" if reads else ""),
    ]
    clusters = run.outputs.get("clusters")
    if isinstance(clusters, dict) and clusters:
        parts += ["", "GPU clusters:", clusters_table(clusters)]
    capacity = run.outputs.get("gpuCapacity")
    if isinstance(capacity, dict):
        parts += ["", "GPU capacity:", capacity_table(capacity)]
    parts += ["", f"Warnings ({len(run.warnings)}):" if run.warnings else "Warnings: none"]
    parts += [f"  warning: {w}" for w in run.warnings]
    return "\n".join(parts) + "\n"
