"""``python -m stacks diff``: render every stack at a base revision and in the working tree,
and compare them object by object."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from stacks.offline.diff import StackDiff, diff_stack
from stacks.offline.revision import Progress, checkout, render_trees
from stacks.offline.risks import stack_quota

WORKING_TREE = "working tree"


@dataclass(frozen=True)
class Comparison:
    base: str
    head: str
    stacks: list[StackDiff]

    @property
    def has_changes(self) -> bool:
        return any(s.has_changes or s.error for s in self.stacks)

    @property
    def has_errors(self) -> bool:
        return any(s.error for s in self.stacks)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _stack_text(project_dir: Path, stack: str) -> str | None:
    path = project_dir / f"Pulumi.{stack}.yaml"
    return path.read_text(encoding="utf-8") if path.exists() else None


def _config(text: str | None) -> object:
    document = yaml.safe_load(text) if text else None
    return document.get("config") if isinstance(document, dict) else None


def compare(
    project_dir: Path,
    base_ref: str,
    *,
    stacks: list[str] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Render ``base_ref`` and the working tree; one ``StackDiff`` per stack found in either."""
    count = workers or default_workers()
    report = progress or (lambda _label, _stack: None)
    base_label = f"base {base_ref}"
    with checkout(project_dir, base_ref) as base_dir:
        base, head = render_trees(
            [(base_dir, base_label), (project_dir, WORKING_TREE)], count, report, stacks
        )
        base_texts = {stack: _stack_text(base_dir, stack) for stack in base}
    head_texts = {stack: _stack_text(project_dir, stack) for stack in head}
    diffs = []
    for stack in sorted(set(base) | set(head)):
        old, new = base.get(stack), head.get(stack)
        old_text, new_text = base_texts.get(stack), head_texts.get(stack)
        diffs.append(
            diff_stack(
                stack,
                old,
                new,
                base_label=base_label,
                head_label=WORKING_TREE,
                base_quota=stack_quota(old_text),
                head_quota=stack_quota(new_text),
                config_changed=old is not None and new is not None and _config(old_text) != _config(new_text),
            )
        )
    return Comparison(base_ref, WORKING_TREE, diffs)


class ProgressPrinter:
    """A one-line progress bar on a terminal; plain lines elsewhere (CI logs)."""

    def __init__(self, total: int = 0, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.tty = stream.isatty() and not os.environ.get("CI")

    def __call__(self, label: str, stack: str) -> None:
        self.done += 1
        write = self.stream.write
        if self.tty:
            width = 30
            filled = width * self.done // max(1, self.total)
            write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label}: {stack}\x1b[K"
            )
            if self.done >= self.total:
                write("\n")
        else:
            write(f"rendered {stack} at {label} ({self.done}/{self.total})\n")
