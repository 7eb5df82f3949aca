"""Which stacks a project has, and what marks a render folder. No Pulumi import: the diff
orchestrator and ``python -m stacks list`` start fast."""

from __future__ import annotations

import re
from pathlib import Path

RENDER_MARKER = ".hikube-gpu-render"
"""File a render writes into its folder; a render only replaces folders that have it."""

STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
"""A stack name Pulumi accepts: 1-100 letters, digits, ``-``, ``_``, ``.``
(pulumi ``sdk/go/common/tokens/stack_name.go``, ``ParseStackName``)."""
FOLDER_NAMES = frozenset({".", ".."})
"""Names Pulumi accepts but that also name folders: a render is written to ``<out>/<stack>``."""


class StackNameError(ValueError):
    """A stack file or ``--stack`` names a stack Pulumi (or a render folder) cannot have."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a stack name, or None."""
    if name in FOLDER_NAMES:
        return "'.' and '..' name folders, not stacks"
    if not STACK_NAME.fullmatch(name):
        return "a stack name has 1 to 100 letters, digits, '-', '_' or '.' (Pulumi's rule)"
    return None


def discover(project_dir: Path) -> list[str]:
    """The stacks of a project: one per ``Pulumi.<stack>.yaml``, sorted.

    Raises ``StackNameError`` naming every file whose stack name Pulumi would refuse.
    """
    names, refused = [], []
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        problem = name_problem(name)
        if problem is None:
            names.append(name)
        else:
            refused.append(f"{path.name!r} ({problem})")
    if refused:
        raise StackNameError(f"stack files with an invalid stack name: {', '.join(refused)}; rename them")
    return names
