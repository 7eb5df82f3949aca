"""The policies page: every policy of the CrossGuard pack, from ``policy/gpu_policies.py``."""

from __future__ import annotations

import json
import sys
from typing import Any

from tools.gen_docs import GENERATED_NOTE, ROOT


def policies() -> list[Any]:
    """The pack's policies (``policy/`` imports its modules by their bare names)."""
    folder = str(ROOT / "policy")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import gpu_policies  # type: ignore[import-not-found]

    return list(gpu_policies.POLICIES)


def _level(policy: Any) -> str:
    level = policy.enforcement_level
    return str(getattr(level, "value", level))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def _settings(policy: Any) -> str:
    schema = getattr(policy, "config_schema", None)
    if schema is None:
        return ""
    parts = []
    for name, spec in schema.properties.items():
        text = f"`{name}`"
        extra = [spec.get("description", "").rstrip(".")]
        if "default" in spec:
            extra.append(f"default `{json.dumps(spec['default'])}`")
        if "enum" in spec:
            extra.append("one of " + ", ".join(f"`{v}`" for v in spec["enum"]))
        details = "; ".join(e for e in extra if e)
        parts.append(f"{text}: {details}" if details else text)
    return "<br>".join(_cell(p) for p in parts)


def page() -> str:
    found = policies()
    lines = [
        GENERATED_NOTE,
        "# Policies",
        "",
        f"The {len(found)} policies of the CrossGuard pack in `policy/`, generated from",
        "`policy/gpu_policies.py`. Run it with `pulumi preview --policy-pack policy`; every level can",
        'be changed in the pack config (`{"gpu-vm-vcpu-per-gpu": "mandatory"}`). What each checks',
        "in detail, and how to configure it: [The GPU policy pack](../policy-pack.md).",
        "",
        "| Policy | Scope | Default level | What it checks | Settings |",
        "|---|---|---|---|---|",
    ]
    for policy in found:
        scope = "stack" if type(policy).__name__.startswith("Stack") else "resource"
        text = _cell(policy.description)
        lines.append(f"| `{policy.name}` | {scope} | {_level(policy)} | {text} | {_settings(policy)} |")
    lines.append("")
    return "\n".join(lines)
