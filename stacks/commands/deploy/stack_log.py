"""What one stack's Pulumi run said: every output line, the CLI's error lines and the changes it
proposed, gathered from the three streams the Automation API hands over (stdout, stderr and the
engine events).

Where the Pulumi CLI puts what (pulumi/pulumi v3.259.0):

- a command's own error goes to stderr as ``error: <message>`` (``sdk/go/common/util/cmdutil/
  exit.go`` 90-107 through the diag sink, ``sdk/go/common/diag/sink.go`` 93-99 and 191-209), e.g.
  ``error: no changes were expected for preview but changes were proposed`` for
  ``--expect-no-changes`` (``pkg/cmd/pulumi/operations/preview.go`` 635-636,
  ``pkg/backend/backenderr/backenderr.go`` 237-242);
- a resource's failure is a diagnostic event of severity ``error``, printed on stdout under
  ``Diagnostics:`` (``pkg/backend/display/progress.go`` 779-844); the command then exits 1
  without a message of its own (a bail, ``pkg/cmd/pulumi/cmd/exit_codes.go`` 82-85);
- each step is a ``resourcePreEvent`` whose ``metadata.op`` names the change; ``same``,
  ``read``, ``discard`` and ``read-replacement`` are not changes (``pkg/engine/update.go``
  531-542, what ``--expect-no-changes`` counts).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

NOT_CHANGES = frozenset({"same", "read", "discard", "read-replacement", "refresh"})
"""Step operations that change nothing (``refresh`` only reads the live object)."""
TAIL = 5
"""Lines of output shown as the reason when the CLI said nothing that reads as an error."""


def resource_label(urn: str) -> str:
    """``type (name)`` as the CLI's Diagnostics section heads a resource (``progress.go`` 469),
    from ``urn:pulumi:<stack>::<project>::<parent types$>type::name``."""
    if not urn.startswith("urn:pulumi:"):
        return urn
    head, _, name = urn.rpartition("::")
    kind = head.rpartition("::")[2].rpartition("$")[2]
    return f"{kind} ({name})"


class StackLog:
    """Thread-safe sink for one stack's output; the Automation API calls it from its reader
    threads and its event server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.lines: list[str] = []
        """stdout and stderr lines as they arrived: the full log."""
        self.stderr: list[str] = []
        self.errors: list[str] = []
        """The CLI's error lines: ``error:`` lines on stderr, resource diagnostics of severity
        error, mandatory policy violations."""
        self.proposed: list[str] = []
        """The changes the run proposed or made, one line per resource step."""

    def out(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def err(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)
            self.stderr.append(line)
            if line.startswith("error: "):
                self.errors.append(line)

    def event(self, event: Any) -> None:
        """An ``EngineEvent`` of the Automation API (``pulumi.automation.events``)."""
        diagnostic = getattr(event, "diagnostic_event", None)
        if diagnostic is not None and diagnostic.severity == "error" and not diagnostic.ephemeral:
            message = f"{diagnostic.prefix or ''}{diagnostic.message}".rstrip()
            where = resource_label(diagnostic.urn) if diagnostic.urn else ""
            with self._lock:
                self.errors.append(f"{where}: {message}" if where else message)
        policy = getattr(event, "policy_event", None)
        if policy is not None and policy.enforcement_level == "mandatory":
            where = f" {resource_label(policy.resource_urn)}" if policy.resource_urn else ""
            text = f"policy {policy.policy_pack_name}/{policy.policy_name}{where}: {policy.message.strip()}"
            with self._lock:
                self.errors.append(text)
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None:
            step = pre.metadata
            op = str(getattr(step.op, "value", step.op))
            if op not in NOT_CHANGES:
                diffs = f": {', '.join(step.diffs)}" if step.diffs else ""
                with self._lock:
                    self.proposed.append(f"{op} {resource_label(step.urn)}{diffs}")

    def reasons(self, error: BaseException | None = None) -> list[str]:
        """Why the run failed: the CLI's error lines; else the last lines of stderr; else, for an
        exception raised outside the CLI, its text; else the last lines of stdout."""
        own = None if error is None or isinstance(error, CliFailed) else " ".join(str(error).split())
        with self._lock:
            found = [self.errors, self.stderr[-TAIL:], [own[:300]] if own else [], self.lines[-TAIL:]]
            for lines in found:
                shown = [line for line in lines if line.strip()]
                if shown:
                    return list(dict.fromkeys(shown))
        return [type(error).__name__ if error is not None else "failed"]


class CliFailed(Exception):
    """The Pulumi CLI exited non-zero (its output is in the stack's ``StackLog``)."""


def indented(lines: Iterable[str], prefix: str = "  ") -> str:
    """Each line (and each line of a multi-line entry) behind ``prefix``."""
    return "\n".join(prefix + part for line in lines for part in line.splitlines() or [""])
