"""Compare two renders of a stack, object by object (pure functions, no git, no processes)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from stacks.commands.diff.revision import StackRender
from stacks.commands.diff.risks import Quota, Risk, object_risks, quota_notes, quota_risks


@dataclass(frozen=True)
class ObjectChange:
    path: str
    """The object's file in a render: ``<namespace>/<kind>-<name>.yaml``."""
    diff: list[str]
    """Unified diff lines (without the ``---``/``+++`` header)."""


@dataclass(frozen=True)
class StackDiff:
    stack: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ObjectChange] = field(default_factory=list)
    unchanged: int = 0
    risks: list[Risk] = field(default_factory=list)
    error: str | None = None
    """Why the stack could not be compared (an invalid config at one revision)."""
    notes: list[str] = field(default_factory=list)
    """Changes that no rendered object shows (the quota; secret values are masked in renders)."""
    rendered: bool = True
    """False: not rendered, its render cannot differ (same code, stack file and defaults file)."""

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.risks or self.notes)


def unified(old: str, new: str, path: str) -> list[str]:
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), f"a/{path}", f"b/{path}", lineterm="", n=3
    )
    return list(lines)[2:]


def diff_stack(
    stack: str,
    base: StackRender | None,
    head: StackRender | None,
    *,
    base_label: str,
    head_label: str,
    base_quota: Quota = None,
    head_quota: Quota = None,
    config_changes: list[str] | None = None,
    details: bool = True,
) -> StackDiff:
    """What changes in ``stack`` from ``base`` to ``head`` (None: the stack does not exist there).

    ``config_changes``: the config keys that changed, the quota left out (it has its own risks
    and notes); named in a note when no rendered object changed. Without ``details``, changed
    objects have no diff lines and removed or changed objects no risks (``has_changes`` is the
    same: those objects are changes already).
    """
    for render, label in ((base, base_label), (head, head_label)):
        if render is not None and render.error is not None:
            return StackDiff(stack, error=f"invalid at {label}: {render.error}")
    old = base.files if base else {}
    new = head.files if head else {}
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = [
        ObjectChange(path, unified(old[path], new[path], path) if details else [])
        for path in sorted(set(old) & set(new))
        if old[path] != new[path]
    ]
    unchanged = len(set(old) & set(new)) - len(changed)
    risks: list[Risk] = []
    for path in removed if details else ():
        risks += object_risks(path, old[path], None)
    for change in changed if details else ():
        risks += object_risks(change.path, old[change.path], new[change.path])
    risks += quota_risks(base_quota, head_quota)
    notes = quota_notes(base_quota, head_quota)
    if config_changes and not (added or removed or changed):
        notes.append(
            f"config changed but no rendered object did ({', '.join(config_changes)}): secret values "
            "(sshKeys, cloudInit, kubeconfig, workload env and args) render masked; review the change "
            "in the stack file"
        )
    return StackDiff(stack, added, removed, changed, unchanged, risks, notes=notes)
