"""The real ``Engine``: Pulumi's Automation API with the local workspace of the project folder
(the Pulumi CLI reads Pulumi.yaml, its ``stackConfigDir`` and the stack's file itself).

The Automation API runs the ``pulumi`` executable and hands its stdout to ``on_output``, its
stderr to ``on_error`` (``pulumi/automation/_cmd.py`` 234-262 in pulumi 3.272.0) and its engine
events to ``on_event``; all three go to the stack's ``StackLog``. Its own ``CommandError`` text
(``_cmd.py`` 44-45: code, stdout, then stderr) is never shown: the log knows which line is the
error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stacks.commands.deploy.orchestrate import Operation, Outcome, StackAbsent
from stacks.commands.deploy.stack_log import CliFailed, StackLog


@dataclass(frozen=True)
class AutomationEngine:
    project_dir: Path
    refresh: bool = False
    expect_no_changes: bool = False
    policy_packs: list[str] = field(default_factory=list)

    def run(self, stack: str, operation: Operation, log: StackLog) -> Outcome:
        from pulumi import automation as auto

        work_dir = str(self.project_dir)
        packs = self.policy_packs or None
        streams: dict[str, Any] = {"on_output": log.out, "on_error": log.err, "on_event": log.event}
        try:
            if operation == "up":
                selected = _select(lambda: auto.create_or_select_stack(stack, work_dir=work_dir), log)
                up = selected.up(
                    refresh=self.refresh, policy_packs=packs, color="never", show_secrets=False, **streams
                )
                return Outcome(_counts(up.summary.resource_changes or {}))
            try:
                selected = _select(lambda: auto.select_stack(stack, work_dir=work_dir), log)
            except auto.StackNotFoundError:
                raise StackAbsent(stack) from None
            preview = selected.preview(
                refresh=self.refresh,
                expect_no_changes=self.expect_no_changes,
                policy_packs=packs,
                diff=True,
                color="never",
                **streams,
            )
            return Outcome(_counts(preview.change_summary))
        except auto.CommandError as error:
            raise CliFailed(stack) from error


def _select(select: Callable[[], Any], log: StackLog) -> Any:
    """The stack from ``select``; when the CLI refuses (``stack select``/``init`` run without
    the log's callbacks), its stderr goes to the log: the SDK's text ends with it (``_cmd.py``
    44-45)."""
    from pulumi import automation as auto

    try:
        return select()
    except auto.StackNotFoundError:
        raise
    except auto.CommandError as error:
        _, found, stderr = str(error).partition("\n stderr: ")
        for line in stderr.splitlines() if found else []:
            log.err(line.rstrip())
        raise


def _counts(changes: Mapping[Any, int]) -> dict[str, int]:
    """Operation name (``create``, ``update``, …) → count; the API keys them by ``OpType``."""
    return {str(getattr(op, "value", op)): count for op, count in changes.items()}
