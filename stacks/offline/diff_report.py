"""The manifest diff as text (terminal) or Markdown (a pull-request comment)."""

from __future__ import annotations

from stacks.offline.compare import Comparison
from stacks.offline.diff import StackDiff

MAX_OBJECT_LINES = 120
"""Diff lines shown per changed object; the rest is cut with a note."""
MARKER = "<!-- hikube-gpu manifest diff -->"
"""First line of the Markdown report: the workflow finds and updates its own comment by it."""
MAX_COMMENT_CHARS = 60_000
"""GitHub refuses comments over 65,536 characters; stacks beyond this budget are summarized."""


def _counts(diff: StackDiff) -> str:
    if diff.error:
        return "error"
    return (
        f"{len(diff.added)} added, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed, {diff.unchanged} unchanged"
    )


def _trim(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_OBJECT_LINES:
        return lines
    return [*lines[:MAX_OBJECT_LINES], f"... {len(lines) - MAX_OBJECT_LINES} more diff lines not shown"]


def text(result: Comparison) -> str:
    out = [f"Manifest diff: {result.base} → {result.head}", ""]
    risks = [(d.stack, r) for d in result.stacks for r in d.risks]
    if risks:
        out.append("Risky changes:")
        out += [f"  ! {stack}: {risk.path}: {risk.message}" for stack, risk in risks]
        out.append("")
    for diff in result.stacks:
        out.append(f"stack {diff.stack}: {_counts(diff)}")
        if diff.error:
            out.append(f"  error: {diff.error}")
            continue
        out += [f"  note: {note}" for note in diff.notes]
        out += [f"  + {path}" for path in diff.added]
        out += [f"  - {path}" for path in diff.removed]
        for change in diff.changed:
            out.append(f"  ~ {change.path}")
            out += [f"      {line}" for line in _trim(change.diff)]
    if not result.has_changes:
        out.append("No changes.")
    return "\n".join(out) + "\n"


def _section(diff: StackDiff) -> str:
    lines = [f"<details><summary><b>{diff.stack}</b>: {_counts(diff)}</summary>", ""]
    if diff.error:
        lines += ["```", diff.error, "```"]
    lines += [f"- ℹ️ {note}" for note in diff.notes]
    for path in diff.added:
        lines.append(f"- ➕ `{path}`")
    for path in diff.removed:
        lines.append(f"- ➖ `{path}`")
    for change in diff.changed:
        lines += [f"- ✏️ `{change.path}`", "", "```diff", *_trim(change.diff), "```", ""]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def markdown(result: Comparison) -> str:
    head = [MARKER, f"### GPU manifests: `{result.base}` → {result.head}", ""]
    risks = [(d.stack, r) for d in result.stacks for r in d.risks]
    if risks:
        head += ["**⚠️ Risky changes**", ""]
        head += [f"- **{stack}** `{risk.path}`: {risk.message}" for stack, risk in risks]
        head.append("")
    head += ["| Stack | Added | Removed | Changed | Unchanged |", "|---|---:|---:|---:|---:|"]
    for diff in result.stacks:
        if diff.error:
            head.append(f"| {diff.stack} | ❌ invalid | | | |")
        else:
            counts = [len(diff.added), len(diff.removed), len(diff.changed), diff.unchanged]
            head.append(f"| {diff.stack} | " + " | ".join(str(c) for c in counts) + " |")
    head.append("")
    if not result.has_changes:
        head.append("No changes to any rendered object.")
    body = "\n".join(head) + "\n"
    skipped = []
    for diff in result.stacks:
        if not (diff.has_changes or diff.error):
            continue
        section = _section(diff)
        if len(body) + len(section) > MAX_COMMENT_CHARS:
            skipped.append(diff.stack)
            continue
        body += section
    if skipped:
        body += (
            f"\n_Details of {len(skipped)} stack(s) left out to stay under GitHub's comment size limit: "
            f"{', '.join(skipped)}. Run `python -m stacks diff --base {result.base}` to see them._\n"
        )
    return body
