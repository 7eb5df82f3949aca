"""The manifest diff as text (terminal) or Markdown (a pull-request comment)."""

from __future__ import annotations

import re

from stacks.commands.diff.compare import Comparison
from stacks.commands.diff.objects import StackDiff

MAX_OBJECT_LINES = 120
"""Diff lines shown per changed object; the rest is cut with a note."""
MARKER = "<!-- hikube-gpu manifest diff -->"
"""First line of the Markdown report: the workflow finds and updates its own comment by it."""
MAX_COMMENT_CHARS = 60_000
"""GitHub refuses comments over 65,536 characters; stacks beyond this budget are summarized
(the rest is room for the workflow's link to the full report)."""
MAX_RISK_CHARS = 12_000
"""Room for the list of risky changes; the rest are counted."""
MAX_TABLE_CHARS = 12_000
"""Room for the table: every stack's row if they fit, else the changed stacks' rows that fit."""
MAX_NOTE_CHARS = 3_000
"""Room kept for the closing note that names the stacks left out."""


NOT_RENDERED = "unchanged (not rendered: same code, stack file and defaults file)"
"""How a stack that was not rendered is counted: its render cannot differ."""


def _counts(diff: StackDiff) -> str:
    if diff.error:
        return "error"
    if not diff.rendered:
        return NOT_RENDERED
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


# Markdown of text that comes from stack files, git or the renderers: nothing in it may
# close a code block, start HTML (``<!--`` hides the rest of a comment), or split a table row.

_SPECIAL = re.compile(r"[\x00-\x1f\x7f&<>`*_\[\]\\|#~$]")
"""Controls, HTML, code, emphasis, links, table cells, headings, strike-through, math."""


def md_text(text: str) -> str:
    """Text safe anywhere in Markdown or HTML (outside code): its special characters as entities."""
    return _SPECIAL.sub(lambda match: f"&#{ord(match.group())};", text)


def md_code(text: str) -> str:
    """An inline code span that ``text`` cannot close (newlines become spaces)."""
    flat = " ".join(text.splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def md_block(lines: list[str], info: str = "") -> list[str]:
    """A fenced code block that none of ``lines`` can close."""
    longest = max((len(run) for line in lines for run in re.findall(r"`{3,}", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *lines, fence]


def _section(diff: StackDiff) -> str:
    lines = [f"<details><summary><b>{md_text(diff.stack)}</b>: {_counts(diff)}</summary>", ""]
    if diff.error:
        lines += md_block(diff.error.splitlines())
    lines += [f"- ℹ️ {md_text(note)}" for note in diff.notes]
    for path in diff.added:
        lines.append(f"- ➕ {md_code(path)}")
    for path in diff.removed:
        lines.append(f"- ➖ {md_code(path)}")
    for change in diff.changed:
        lines += [f"- ✏️ {md_code(change.path)}", "", *md_block(_trim(change.diff), "diff"), ""]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def failure_markdown(base: str, reason: str) -> str:
    """The PR comment when the diff could not be made at all."""
    return "\n".join(
        [
            MARKER,
            f"### GPU manifests: the diff against {md_code(base)} could not be made",
            "",
            md_text(reason),
            "",
        ]
    )


def _bounded(lines: list[str], budget: int, more: str) -> list[str]:
    """``lines`` while their size stays within ``budget``; then one line saying how many are left
    out (``more`` with ``{count}``)."""
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > budget:
            return [*kept, more.format(count=len(lines) - index)]
        kept.append(line)
        size += len(line) + 1
    return kept


def _row(diff: StackDiff) -> str:
    if diff.error:
        return f"| {md_text(diff.stack)} | ❌ invalid | | | |"
    if not diff.rendered:
        return f"| {md_text(diff.stack)} | 0 | 0 | 0 | all (not rendered) |"
    counts = [len(diff.added), len(diff.removed), len(diff.changed), diff.unchanged]
    return f"| {md_text(diff.stack)} | " + " | ".join(str(c) for c in counts) + " |"


def _table(result: Comparison) -> list[str]:
    """Every stack's row if they fit in ``MAX_TABLE_CHARS``; else the changed ones that fit."""
    rows = [_row(diff) for diff in result.stacks]
    if sum(len(row) + 1 for row in rows) > MAX_TABLE_CHARS:
        changed = [_row(d) for d in result.stacks if d.has_changes or d.error]
        unchanged = len(rows) - len(changed)
        more = "| _{count} more changed stack(s): see the full report_ | | | | |"
        rows = [*_bounded(changed, MAX_TABLE_CHARS, more), f"| _{unchanged} unchanged stack(s)_ | | | | |"]
    return ["| Stack | Added | Removed | Changed | Unchanged |", "|---|---:|---:|---:|---:|", *rows]


def markdown(result: Comparison) -> str:
    """The pull-request comment: never more than ``MAX_COMMENT_CHARS``, whatever the number of
    stacks, risks or changes (what is left out is counted and named as far as room allows)."""
    changed = [d for d in result.stacks if d.has_changes or d.error]
    head = [MARKER, f"### GPU manifests: {md_code(result.base)} → {result.head}", ""]
    risks = [(d.stack, r) for d in result.stacks for r in d.risks]
    if risks:
        head += ["**⚠️ Risky changes**", ""]
        lines = [
            f"- **{md_text(stack)}** {md_code(risk.path)}: {md_text(risk.message)}" for stack, risk in risks
        ]
        head += _bounded(lines, MAX_RISK_CHARS, "- _{count} more risky change(s): see the full report_")
        head.append("")
    head += [*_table(result), ""]
    if not result.has_changes:
        head.append("No changes to any rendered object.")
    body = "\n".join(head) + "\n"
    skipped = []
    for diff in changed:
        section = _section(diff)
        if len(body) + len(section) > MAX_COMMENT_CHARS - MAX_NOTE_CHARS:
            skipped.append(diff.stack)
            continue
        body += section
    if skipped:
        command = md_code(f"hikube-gpu diff --base {result.base}")
        names = _bounded([md_text(s) for s in skipped], MAX_NOTE_CHARS // 2, "and {count} more")
        body += (
            f"\n_Details of {len(skipped)} stack(s) left out to stay under GitHub's comment size limit: "
            f"{', '.join(names)}. Run {command} or read the full report (the workflow run's "
            "`manifest-diff` artifact) to see them._\n"
        )
    return body
