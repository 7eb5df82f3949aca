"""Every example stack renders cleanly (its objects are checked by tests/test_conformance.py)."""

from __future__ import annotations

import pytest

from stacks.offline.cli import PROJECT_DIR, run_stack
from stacks.offline.engine import OfflineRun
from stacks.offline.many import discover

EXAMPLES = discover(PROJECT_DIR, examples=True)


@pytest.fixture(scope="module")
def runs() -> dict[str, OfflineRun]:
    return {stack: run_stack(PROJECT_DIR, stack) for stack in EXAMPLES}


def test_there_are_tenant_and_platform_examples() -> None:
    assert {"dev", "acme-vms", "globex-ml", "host-example"} <= set(EXAMPLES)


@pytest.mark.parametrize("stack", EXAMPLES)
def test_example_renders_without_errors_or_warnings(runs: dict[str, OfflineRun], stack: str) -> None:
    run = runs[stack]
    assert run.failure is None, run.failure
    assert run.errors == []
    allowed = {"host-example": "kubevirt.resourceNaming"}  # none expected: keep examples clean
    assert [w for w in run.warnings if allowed.get(stack, "-") not in w] == []
