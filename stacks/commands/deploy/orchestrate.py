"""Run one Pulumi operation (up, or a preview) over many stacks: bounded parallelism, a progress
line per stack, a final table, never two operations on one stack at once; for a stack that
failed, the CLI's error lines and the changes it proposed.

The Pulumi calls sit behind ``Engine`` (``stacks.commands.deploy.automation`` is the real one), so the
orchestration is tested without a Pulumi CLI; the real engine is tested with a stand-in ``pulumi``
executable driven through the Automation API.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, TextIO

from stacks.commands.deploy.stack_log import StackLog, indented

Operation = Literal["up", "preview"]
SUCCEEDED = "succeeded"
FAILED = "failed"
ABSENT = "not in backend"
"""A preview of a stack the backend does not hold yet (a new customer): nothing to compare."""


class StackAbsent(Exception):
    """The backend has no such stack (a preview does not create one)."""


@dataclass(frozen=True)
class Outcome:
    changes: dict[str, int] = field(default_factory=dict)
    """Operation (create, update, delete, same, …) → number of resources."""


class Engine(Protocol):
    """One Pulumi operation on one stack, telling ``log`` what the CLI says; raises on failure
    (``StackAbsent`` for a missing stack)."""

    def run(self, stack: str, operation: Operation, log: StackLog) -> Outcome: ...


@dataclass(frozen=True)
class StackResult:
    stack: str
    result: str
    changes: dict[str, int]
    seconds: float
    errors: tuple[str, ...] = ()
    """Why it failed: the CLI's error lines (``StackLog.reasons``)."""
    proposed: tuple[str, ...] = ()
    """The changes the run proposed or made (for a failed drift check: the drift)."""
    log: tuple[str, ...] = ()
    """Everything the CLI printed, stdout and stderr in arrival order."""

    @property
    def failed(self) -> bool:
        return self.result == FAILED

    @property
    def error(self) -> str | None:
        """The first error line on one line, at most 300 characters (progress and tables)."""
        return " ".join(self.errors[0].split())[:300] if self.errors else None


def changes_text(changes: dict[str, int]) -> str:
    """``create 2, update 1`` (resources left as they are are not counted)."""
    shown = [f"{op} {count}" for op, count in sorted(changes.items()) if count and op != "same"]
    return ", ".join(shown) or "none"


class _InFlight:
    """The stacks being worked on: a second operation on one of them is a bug, refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stacks: set[str] = set()

    def enter(self, stack: str) -> None:
        with self._lock:
            if stack in self._stacks:
                raise RuntimeError(f"stack {stack!r} is already being updated")
            self._stacks.add(stack)

    def leave(self, stack: str) -> None:
        with self._lock:
            self._stacks.discard(stack)


def run_stacks(
    stacks: list[str],
    engine: Engine,
    operation: Operation,
    *,
    parallel: int,
    progress: TextIO,
) -> list[StackResult]:
    """Run ``operation`` on each stack (each once, whatever the duplicates), at most ``parallel``
    at a time; one progress line per finished stack; results in the order of ``stacks``."""
    unique = list(dict.fromkeys(stacks))
    in_flight = _InFlight()
    lock = threading.Lock()
    done = [0]

    def one(stack: str) -> StackResult:
        in_flight.enter(stack)
        start = time.monotonic()
        log = StackLog()
        try:
            outcome = engine.run(stack, operation, log)
            result = StackResult(stack, SUCCEEDED, outcome.changes, time.monotonic() - start)
        except StackAbsent:
            result = StackResult(stack, ABSENT, {}, time.monotonic() - start)
        except Exception as error:  # the stack fails, the others go on
            reasons = tuple(log.reasons(error))
            result = StackResult(stack, FAILED, {}, time.monotonic() - start, reasons, tuple(log.proposed))
        finally:
            in_flight.leave(stack)
        result = replace(result, log=tuple(log.lines))
        with lock:
            done[0] += 1
            line = f"[{done[0]}/{len(unique)}] {stack}: {result.result}"
            line += f" ({changes_text(result.changes)}) in {result.seconds:.1f}s"
            progress.write(line + (f": {result.error}" if result.error else "") + "\n")
            progress.flush()
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, unique))


def table(results: list[StackResult]) -> str:
    """The final table: stack, result, changes, duration."""
    rows = [("stack", "result", "changes", "duration")]
    rows += [(r.stack, r.result, changes_text(r.changes), f"{r.seconds:.1f}s") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def failure_text(result: StackResult, operation: Operation) -> str:
    """A failed stack for a terminal: its error lines, then what it would change."""
    lines = [f"--- {result.stack}: {operation} failed ---", indented(result.errors)]
    if result.proposed:
        lines += [f"changes {'proposed' if operation == 'preview' else 'made or attempted'}:"]
        lines += [indented(result.proposed)]
    return "\n".join(lines)


def _fenced(lines: tuple[str, ...]) -> list[str]:
    """A text block that nothing in ``lines`` can close early."""
    return ["```text", *(line.replace("```", "'''") for text in lines for line in text.splitlines()), "```"]


def markdown(results: list[StackResult], operation: Operation) -> str:
    """The same table in Markdown (a job summary or report artifact), then each failed stack's
    error lines and proposed changes."""
    failed = [r for r in results if r.failed]
    lines = [f"### pulumi {operation}: {len(results)} stack(s), {len(failed)} failed", ""]
    lines += ["| Stack | Result | Changes | Duration |", "|---|---|---|---:|"]
    for r in results:
        mark = "❌ " if r.failed else ""
        lines.append(f"| {r.stack} | {mark}{r.result} | {changes_text(r.changes)} | {r.seconds:.1f}s |")
    for r in failed:
        lines += ["", f"#### {r.stack}", "", *_fenced(r.errors)]
        if r.proposed:
            lines += ["", "Changes:", "", *_fenced(r.proposed)]
    return "\n".join(lines) + "\n"
