"""Which stacks a project has, and what marks a render folder. No Pulumi import: the diff
orchestrator and ``python -m stacks list`` start fast."""

from __future__ import annotations

from pathlib import Path

RENDER_MARKER = ".hikube-gpu-render"
"""File a render writes into its folder; a render only replaces folders that have it."""


def discover(project_dir: Path) -> list[str]:
    """The stacks of a project: one per ``Pulumi.<stack>.yaml``, sorted."""
    return sorted(
        path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in project_dir.glob("Pulumi.*.yaml")
    )
