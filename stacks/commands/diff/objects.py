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


CONTEXT = 3
"""Unchanged lines shown around a change."""
AUTOJUNK_LINES = 200
"""From this many lines on, difflib's ``SequenceMatcher`` ignores frequent lines as match starts
(``autojunk``): ``_one_replacement`` then says nothing about what it matches."""


def unified(old: str, new: str, path: str) -> list[str]:
    """``difflib.unified_diff``'s lines (``n=3``, no header), byte for byte; one replaced run of
    lines is written without running difflib's matcher (``_one_replacement``)."""
    a, b = old.splitlines(), new.splitlines()
    fast = _one_replacement(a, b)
    if fast is not None:
        return fast
    return list(difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", lineterm="", n=CONTEXT))[2:]


def _one_replacement(a: list[str], b: list[str]) -> list[str] | None:
    """The hunk of ``a`` → ``b`` when they differ in one run of lines replaced by another
    (``a = P + X + S``, ``b = P + Y + S``, ``X`` and ``Y`` not empty), no line of ``X`` is in
    ``b``, no line of ``Y`` in ``a``, and ``b`` is too short for ``autojunk``; else None.

    Then difflib's matching blocks are exactly ``P`` and ``S``: a matching block holds no line
    of ``X`` or ``Y``, so each of its sides lies in ``P`` or in ``S``; ``P`` (at 0, 0) is the
    longest block when ``len(P) >= len(S)`` and the earliest of that length (a ``P``-to-``S``
    block that long starts at 0 in ``a`` but later in ``b``), else ``S`` is the only longest;
    what is left on either side holds only the other. (``SequenceMatcher.find_longest_match``:
    the longest block, earliest in ``a``, then in ``b``.) ``tests/test_diff_unified.py`` checks
    this against difflib on generated texts.
    """
    if len(b) >= AUTOJUNK_LINES:
        return None
    shorter = min(len(a), len(b))
    p = 0
    while p < shorter and a[p] == b[p]:
        p += 1
    s = 0
    while s < shorter - p and a[-1 - s] == b[-1 - s]:
        s += 1
    x, y = a[p : len(a) - s], b[p : len(b) - s]
    if not x or not y or not set(x).isdisjoint(b) or not set(y).isdisjoint(a):
        return None
    before, after = min(CONTEXT, p), min(CONTEXT, s)
    start = p - before
    header = f"@@ -{_range(start, p + len(x) + after)} +{_range(start, p + len(y) + after)} @@"
    return [
        header,
        *(" " + line for line in a[start:p]),
        *("-" + line for line in x),
        *("+" + line for line in y),
        *(" " + line for line in a[len(a) - s : len(a) - s + after]),
    ]


def _range(start: int, stop: int) -> str:
    """A hunk's range as difflib writes it (``_format_range_unified``; never empty here)."""
    length = stop - start
    return f"{start + 1}" if length == 1 else f"{start + 1},{length}"


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
