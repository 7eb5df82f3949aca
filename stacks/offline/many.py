"""Render several stacks in one process (a worker of ``diff``): imports are paid once.

``python -m stacks render-many --out DIR STACK…`` writes each stack's render under
``DIR/<stack>/`` and, for a stack that cannot render, ``DIR/<stack>.error`` with the
reason. It prints ``done <stack>`` per stack, for progress.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stacks.offline.render import RenderCollision, render
from stacks.offline.revision import ERROR_SUFFIX
from stacks.offline.runner import run_config
from stacks.offline.stack_file import StackFileError, load_stack_file
from stacks.offline.stack_list import discover

__all__ = ["ERROR_SUFFIX", "discover", "render_many", "render_one"]


def render_one(project_dir: Path, stack: str, out: Path) -> str | None:
    """Render ``stack`` into ``out/<stack>``; the error text when it cannot be rendered."""
    try:
        run = run_config(load_stack_file(project_dir, stack))  # the plan, without the Pulumi runtime
    except StackFileError as error:
        return str(error)
    if run.failure is not None:
        return str(run.failure)
    if run.errors:
        return "\n".join(run.errors)
    try:
        render(run, out / stack)
    except RenderCollision as error:
        return str(error)
    return None


def render_many(project_dir: Path, stacks: list[str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for stack in stacks:
        error = render_one(project_dir, stack, out)
        if error is not None:
            (out / f"{stack}{ERROR_SUFFIX}").write_text(error + "\n", encoding="utf-8")
        print(f"done {stack}", flush=True)
    sys.stdout.flush()
