"""Conformance: every object the example stacks and the test stacks render validates against
its upstream definition. One test per object, so a failure names the object."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from stacks.offline.cli import PROJECT_DIR, run_stack
from stacks.offline.engine import Registered
from stacks.offline.stack_list import discover
from tests.cluster_stacks import cluster_stack
from tests.conformance import check, managed_objects
from tests.helpers import REFERENCE, run_config, stack_config
from tests.platform_stacks import MODES, platform_stack

pytestmark = pytest.mark.skipif(
    not REFERENCE.exists(),
    reason=f"upstream reference files ({REFERENCE}) are absent (../shared not checked out)",
)

TEST_STACKS: dict[str, dict[str, Any]] = {
    "clusters-hikube": cluster_stack("hikube"),
    "clusters-cozystack-1.4": cluster_stack("cozystack-1.4"),
    **{f"platform-{mode}": platform_stack(mode) for mode in MODES},
}


def _cases() -> list[Any]:
    cases = []
    runs: list[tuple[str, str, list[Registered]]] = []
    for stack in discover(PROJECT_DIR):
        profile = (stack_config(stack).get("platform") or {}).get("profile", "hikube")
        runs.append((stack, profile, run_stack(PROJECT_DIR, stack).resources))
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in TEST_STACKS.items():
            run = run_config(Path(tmp) / name, config)
            assert run.failure is None, (name, run.failure)
            runs.append((name, (config.get("platform") or {}).get("profile", "hikube"), run.resources))
    for stack, profile, resources in runs:
        for resource in managed_objects(resources):
            cases.append(pytest.param(resource, profile, id=f"{stack}/{resource.name}"))
    return cases


CASES = _cases() if REFERENCE.exists() else []


@pytest.mark.parametrize(("resource", "profile"), CASES)
def test_object_conforms_to_its_upstream_definition(resource: Registered, profile: str) -> None:
    assert check(resource, profile)


def test_the_suite_covers_every_kind_we_render() -> None:
    kinds = {r.values[0].type.rsplit(":", 1)[-1] for r in CASES}
    assert {
        "VMInstance", "VMDisk", "Kubernetes", "Namespace", "ResourceQuota", "Service", "Deployment",
        "StatefulSet", "Job", "Secret", "Release", "NodePatch", "KubeVirtPatch", "VirtualMachine",
    } <= kinds  # fmt: skip
    assert len(CASES) >= 90
