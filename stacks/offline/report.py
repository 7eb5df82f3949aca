"""The offline preview's text: a ``pulumi preview``-like tree, a summary, GPU capacity, warnings."""

from __future__ import annotations

from typing import Any

import yaml

from components.catalog.gpus import OFFERED_MODELS
from stacks.offline.engine import OfflineRun, Registered

TYPE_WIDTH_MIN = 20


def _children(run: OfflineRun) -> dict[str, list[Registered]]:
    children: dict[str, list[Registered]] = {}
    for resource in run.resources:
        children.setdefault(resource.parent, []).append(resource)
    for items in children.values():
        items.sort(key=lambda r: (not r.type.startswith("pulumi:providers:"), r.name))  # providers first
    return children


def tree_rows(run: OfflineRun) -> list[tuple[str, str, str]]:
    """(indented type, name, info) rows, parents before children, siblings by name."""
    children = _children(run)
    rows: list[tuple[str, str, str]] = []

    def walk(resource: Registered, prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        info = "protected" if resource.protect else ""
        rows.append((prefix + branch + resource.type, resource.name, info))
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
    for type_text, name, info in rows:
        lines.append(f" +   {type_text:<{type_width}}  {name:<{name_width}}  create  {info}".rstrip())
    return "\n".join(lines)


def _catalog_order(model: str) -> tuple[int, str]:
    return (OFFERED_MODELS.index(model) if model in OFFERED_MODELS else len(OFFERED_MODELS), model)


def capacity_table(capacity: dict[str, dict[str, int]]) -> str:
    """The ``gpuCapacity`` stack output as a table, with totals."""
    header = f"  {'Model':<6} {'GPUs':>5} {'GPU memory':>11} {'INT8 TOPS':>10} {'Quota':>6}"
    lines = [header]
    totals = {"gpus": 0, "memoryGB": 0, "int8Tops": 0}
    for model in sorted(capacity, key=_catalog_order):
        row = capacity[model]
        quota = str(row["quota"]) if "quota" in row else "-"
        lines.append(
            f"  {model:<6} {row['gpus']:>5} {row['memoryGB']:>8} GB {row['int8Tops']:>10} {quota:>6}"
        )
        for key in totals:
            totals[key] += row[key]
    lines.append(f"  {'Total':<6} {totals['gpus']:>5} {totals['memoryGB']:>8} GB {totals['int8Tops']:>10}")
    return "\n".join(lines)


def _outputs(outputs: dict[str, Any]) -> str:
    if not outputs:
        return ""
    text = yaml.safe_dump(outputs, sort_keys=True, default_flow_style=False, width=4096)
    return "\n".join("    " + line for line in text.splitlines())


def preview_text(run: OfflineRun) -> str:
    """The full preview report for a successful run."""
    count = len(run.resources)
    parts = [
        f"Previewing stack {run.stack!r} offline (Pulumi mock runtime; nothing is deployed)",
        "",
        tree(run),
        "",
        "Outputs:",
        _outputs({k: v for k, v in run.outputs.items() if k != "gpuCapacity"}),
        "",
        "Resources:",
        f"    + {count} to create",
    ]
    capacity = run.outputs.get("gpuCapacity")
    if isinstance(capacity, dict):
        parts += ["", "GPU capacity:", capacity_table(capacity)]
    parts += ["", f"Warnings ({len(run.warnings)}):" if run.warnings else "Warnings: none"]
    parts += [f"  warning: {w}" for w in run.warnings]
    return "\n".join(parts) + "\n"
