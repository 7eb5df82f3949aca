"""Every example stack renders cleanly (its objects are checked by tests/test_conformance.py)."""

from __future__ import annotations

import pytest

from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.commands.diff.many import discover
from stacks.commands.preview.engine import OfflineRun

EXAMPLES = discover(PROJECT_DIR, examples=True)


@pytest.fixture(scope="module")
def runs() -> dict[str, OfflineRun]:
    return {stack: run_stack(PROJECT_DIR, stack) for stack in EXAMPLES}


def test_there_are_tenant_and_platform_examples() -> None:
    assert {"dev", "acme-vms", "globex-ml", "host-example"} <= set(EXAMPLES)


# The warnings each example is meant to show (by config path): what the platform does
# differently from what the config asks (docs/platform-behaviour.md), nothing else.
EXPECTED_WARNINGS = {
    "dev": [
        "hikube-gpu:clusters.ml.nodeGroups.l40s",  # P2: starts with two nodes
        "hikube-gpu:vms.ws-1.external",  # P3: the guest firewall
    ],
    "acme-vms": ["hikube-gpu:vms.ws-alice.external"],
    "globex-ml": [
        "hikube-gpu:clusters.serve.nodeGroups.l40s",
        "hikube-gpu:clusters.train.nodeGroups.a100-mig",
        "hikube-gpu:clusters.train.nodeGroups.h100",
        "hikube-gpu:quota.A100",  # roll-out peaks past the quota
        "hikube-gpu:quota.H100",
        "hikube-gpu:quota.L40S",
    ],
    "host-example": [],
}


@pytest.mark.parametrize("stack", EXAMPLES)
def test_example_renders_with_exactly_its_expected_warnings(runs: dict[str, OfflineRun], stack: str) -> None:
    run = runs[stack]
    assert run.failure is None, run.failure
    assert run.errors == []
    assert sorted(w.split(": ", 1)[0] for w in run.warnings) == sorted(EXPECTED_WARNINGS[stack])
