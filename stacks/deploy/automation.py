"""The real ``Engine``: Pulumi's Automation API with the local workspace of the project folder
(the Pulumi CLI reads Pulumi.yaml, its ``stackConfigDir`` and the stack's file itself)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stacks.deploy.orchestrate import Operation, Outcome, StackAbsent


@dataclass(frozen=True)
class AutomationEngine:
    project_dir: Path
    refresh: bool = False
    expect_no_changes: bool = False
    policy_packs: list[str] = field(default_factory=list)

    def run(self, stack: str, operation: Operation, on_output: Callable[[str], None]) -> Outcome:
        from pulumi import automation as auto

        work_dir = str(self.project_dir)
        packs = self.policy_packs or None
        if operation == "up":
            selected = auto.create_or_select_stack(stack, work_dir=work_dir)
            up = selected.up(on_output=on_output, refresh=self.refresh, policy_packs=packs, color="never")
            return Outcome(_counts(up.summary.resource_changes or {}))
        try:
            selected = auto.select_stack(stack, work_dir=work_dir)
        except auto.StackNotFoundError:
            raise StackAbsent(stack) from None
        preview = selected.preview(
            on_output=on_output,
            refresh=self.refresh,
            expect_no_changes=self.expect_no_changes,
            policy_packs=packs,
            diff=True,
            color="never",
        )
        return Outcome(_counts(preview.change_summary))


def _counts(changes: Mapping[Any, int]) -> dict[str, int]:
    """Operation name (``create``, ``update``, …) → count; the API keys them by ``OpType``."""
    return {str(getattr(op, "value", op)): count for op, count in changes.items()}
