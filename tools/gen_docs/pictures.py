"""Pictures generated from the code and from offline runs of the example stacks.

- the data flow: the config models, rule modules, components and builders the code has, and
  the kinds of Kubernetes objects the example stacks render;
- the object graph of ``dev`` (tenant) and ``host-example`` (platform): every resource the
  program registers, with its parent (solid) and explicit dependencies (dotted), as Mermaid;
- the GPU capacity of the tenant examples, from their ``gpuCapacity`` output, as an SVG.
"""

from __future__ import annotations

import importlib.util
import pkgutil
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any

import components.builders
from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.commands.preview.engine import OfflineRun, Registered
from stacks.validation.config import PlatformStack, TenantStack
from tools.gen_docs import GENERATED_NOTE
from tools.gen_docs.api_ref import component_classes
from tools.gen_docs.rules_ref import MODULES

GRAPH_STACKS = ("dev", "host-example")
CAPACITY_STACKS = ("dev", "acme-vms", "globex-ml")
CAPACITY_SVG = "docs/reference/gpu-capacity.svg"


@cache
def run(stack: str) -> OfflineRun:
    result = run_stack(PROJECT_DIR, stack)
    if result.errors or result.failure is not None:
        raise RuntimeError(f"example stack {stack} does not render: {result.errors or result.failure}")
    return result


def _short(type_: str) -> str:
    """``kubernetes:apps.cozystack.io/v1alpha1:VMInstance`` → ``VMInstance``."""
    last = type_.rsplit(":", 1)[-1]
    return "Provider" if type_.startswith("pulumi:providers:") else last


def _node_id(index: int) -> str:
    return f"r{index}"


def object_graph(stack: str) -> str:
    """A Mermaid flowchart of every resource of ``stack``."""
    resources = sorted(run(stack).resources, key=lambda r: r.urn)
    ids = {r.urn: _node_id(i) for i, r in enumerate(resources)}
    lines = ["flowchart LR"]
    for resource in resources:
        label = f"{_short(resource.type)}<br/>{resource.name}"
        shape = ("[", "]") if resource.custom else ("([", "])")
        if resource.read:
            shape = ("[/", "/]")
        lines.append(f'  {ids[resource.urn]}{shape[0]}"{label}"{shape[1]}')
    for resource in resources:
        if resource.parent in ids:
            lines.append(f"  {ids[resource.parent]} --> {ids[resource.urn]}")
        for dependency in sorted(set(resource.dependencies)):
            if dependency in ids and dependency != resource.parent:
                lines.append(f"  {ids[dependency]} -.-> {ids[resource.urn]}")
    components_ = [ids[r.urn] for r in resources if not r.custom]
    if components_:
        lines.append("  classDef component fill:#e8eaf6,stroke:#3f51b5")
        lines.append(f"  class {','.join(components_)} component")
    return "\n".join(lines)


def _kinds() -> list[str]:
    counts: Counter[str] = Counter()
    for stack in GRAPH_STACKS + CAPACITY_STACKS:
        for resource in run(stack).resources:
            if resource.custom and resource.type.startswith("kubernetes:") and not _is_provider(resource):
                counts[_short(resource.type)] += 1
    return sorted(counts)


def _is_provider(resource: Registered) -> bool:
    return resource.type.startswith("pulumi:providers:")


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _wrap(names: list[str], per_line: int) -> str:
    """``names`` joined by commas, ``per_line`` to a line (Mermaid ``<br/>``)."""
    rows = [", ".join(names[i : i + per_line]) for i in range(0, len(names), per_line)]
    return "<br/>".join(rows)


def data_flow() -> str:
    """Config → validation → components → objects, with the names the code has today."""
    tenant_keys = ", ".join(TenantStack.model_fields[k].alias or k for k in TenantStack.model_fields)
    platform_keys = ", ".join(PlatformStack.model_fields[k].alias or k for k in PlatformStack.model_fields)
    rules = "<br/>".join(
        dict.fromkeys(name.replace(".", "/") + ".py" for _, name, _, _ in MODULES if _exists(name))
    )
    builders = _wrap(sorted(f"{m.name}.py" for m in pkgutil.iter_modules(components.builders.__path__)), 3)
    classes = _wrap([cls.__name__ for cls in component_classes()], 2)
    lines = [
        "flowchart TB",
        '  file[/"Pulumi.&lt;stack&gt;.yaml<br/>config: hikube-gpu:*"/]',
        '  models["stacks/validation/config.py + components/models: structure'
        f'<br/>TenantStack: {tenant_keys}<br/>PlatformStack: {platform_keys}"]',
        f'  rules["rules over the whole stack and each component\'s args<br/>{rules}"]',
        '  error[["ConfigError: one line per problem, exit 2,<br/>nothing registered"]]',
        '  program["stacks/program/main.py → stacks/program/plan.py → stacks/program/registration.py"]',
        f'  components["components: Pulumi ComponentResources<br/>{classes}"]',
        f'  builders["components/builders: pure functions → Manifest<br/>{builders}"]',
        f'  objects[("Kubernetes objects<br/>{_wrap(_kinds(), 5)}")]',
        "  file --> models --> rules --> program --> components --> builders --> objects",
        "  models -. invalid .-> error",
        "  rules -. errors .-> error",
    ]
    return "\n".join(lines)


def _capacity_rows() -> list[tuple[str, str, dict[str, Any]]]:
    rows = []
    for stack in CAPACITY_STACKS:
        for model, row in run(stack).outputs.get("gpuCapacity", {}).items():
            rows.append((stack, model, row))
    return rows


def _quota(row: dict[str, Any]) -> int:
    """The quota of a ``gpuCapacity`` row; 0 when unset (or secret, which a picture must not show)."""
    quota = row.get("quota")
    return quota if isinstance(quota, int) else 0


def capacity_svg() -> str:
    """Grouped bars per stack and model: VM GPUs, node groups outside roll-outs, peak, quota."""
    series: tuple[tuple[str, str, Callable[[dict[str, Any]], Any]], ...] = (
        ("VMs", "#3f51b5", lambda r: r["vmGpus"]),
        ("VMs + node groups (max)", "#009688", lambda r: r["vmGpus"] + r["nodeGroupGpus"]["max"]),
        ("Most (roll-out peak)", "#ff9800", lambda r: r["gpus"]),
        ("Quota", "#9e9e9e", _quota),
    )
    rows = _capacity_rows()
    top = max([1] + [int(f(r)) for _, _, r in rows for _, _, f in series])
    bar, gap, group_gap, height, left, base = 12, 2, 18, 220, 40, 250
    width = left + len(rows) * (len(series) * (bar + gap) + group_gap) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="330" viewBox="0 0 {width} 330" '
        'font-family="sans-serif" font-size="11">',
        f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#333"/>',
    ]
    for tick in range(0, top + 1, max(1, top // 5)):
        y = base - tick * height / top
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>')
    x = left + 10
    for stack, model, row in rows:
        start = x
        for name, colour, value in series:
            count = int(value(row))
            h = count * height / top
            parts.append(
                f'<rect x="{x}" y="{base - h:.1f}" width="{bar}" height="{h:.1f}" fill="{colour}">'
                f"<title>{stack} {model}: {name} {count}</title></rect>"
            )
            x += bar + gap
        middle = (start + x - gap) / 2
        parts.append(f'<text x="{middle:.1f}" y="{base + 14}" text-anchor="middle">{model}</text>')
        parts.append(
            f'<text x="{middle:.1f}" y="{base + 28}" text-anchor="middle" fill="#555">{stack}</text>'
        )
        x += group_gap
    for i, (name, colour, _) in enumerate(series):
        lx = left + i * 170
        parts.append(f'<rect x="{lx}" y="300" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="309">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _capacity_table() -> list[str]:
    lines = [
        "| Stack | Model | VMs | Node groups (min–max, peak) | Most | Quota |",
        "|---|---|---|---|---|---|",
    ]
    for stack, model, row in _capacity_rows():
        groups = row["nodeGroupGpus"]
        quota = row.get("quota", "-")
        lines.append(
            f"| {stack} | {model} | {row['vmGpus']} | {groups['min']}–{groups['max']}, {groups['peak']} "
            f"| {row['gpus']} | {quota} |"
        )
    return lines


def page() -> str:
    """The pictures page (it also needs ``capacity_svg()`` written beside it)."""
    lines = [
        GENERATED_NOTE,
        "# Pictures",
        "",
        "Generated by `tools/gen_docs/pictures.py` from the code and from offline runs of the",
        "example stacks (the same runs as `hikube-gpu preview`), never drawn by hand.",
        "",
        "## Data flow",
        "",
        "Config → validation → components → objects. An invalid stack stops before anything is",
        "registered.",
        "",
        "```mermaid",
        data_flow(),
        "```",
        "",
    ]
    for stack in GRAPH_STACKS:
        kind = "tenant" if stack == "dev" else "platform"
        lines += [
            f"## Objects of the `{stack}` stack ({kind})",
            "",
            "Every resource the program registers. Rounded: components; boxes: Kubernetes objects",
            "and providers; slanted: objects only read. Solid arrows: parent → child; dotted:",
            "explicit dependencies (`depends_on`).",
            "",
            "```mermaid",
            object_graph(stack),
            "```",
            "",
        ]
    lines += [
        "## GPU capacity of the tenant examples",
        "",
        "From each stack's `gpuCapacity` output (the preview's GPU capacity table). The quota is",
        "checked against VMs plus node groups as the platform runs them (an error past it), and",
        "the roll-out peak against it too (a warning).",
        "",
        f"![GPU capacity of {', '.join(CAPACITY_STACKS)}](gpu-capacity.svg)",
        "",
        *_capacity_table(),
        "",
    ]
    return "\n".join(lines)
