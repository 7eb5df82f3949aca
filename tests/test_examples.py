"""Every example stack renders cleanly and every object it renders validates upstream."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from stacks.offline.cli import PROJECT_DIR, run_stack
from stacks.offline.engine import SECRET_MASK, OfflineRun
from stacks.offline.many import discover
from stacks.offline.render import target_cluster
from tests.conftest import reference_json, stack_config

EXAMPLES = discover(PROJECT_DIR)
COZYSTACK_APPS = {"VMInstance": "vm-instance", "VMDisk": "vm-disk", "Kubernetes": "kubernetes"}
SCHEMA_DIR = {"hikube": "v1.1.2", "cozystack-1.4": "main"}
KUBERNETES_VERSION = "1.33.0"


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


def _objects() -> list[Any]:
    cases = []
    for stack in EXAMPLES:
        run = run_stack(PROJECT_DIR, stack)
        profile = (stack_config(stack).get("platform") or {}).get("profile", "hikube")
        for resource in run.resources:
            if resource.read or not resource.custom or not resource.type.startswith("kubernetes:"):
                continue
            kind = resource.inputs.get("kind", "")
            name = resource.inputs.get("metadata", {}).get("name", resource.name)
            where = f"{target_cluster(resource)}:" if target_cluster(resource) else ""
            cases.append(pytest.param(resource.inputs, profile, id=f"{stack}/{where}{kind}/{name}"))
    return cases


def _unmasked(value: Any) -> Any:
    """Drop fields the engine masked as secrets (their real values are checked by the builder tests)."""
    if isinstance(value, dict):
        return {k: _unmasked(v) for k, v in value.items() if v != SECRET_MASK}
    if isinstance(value, list):
        return [_unmasked(v) for v in value]
    return value


@pytest.mark.parametrize(("manifest", "profile"), _objects())
def test_every_example_object_validates(manifest: dict[str, Any], profile: str) -> None:
    manifest = _unmasked(manifest)
    kind = manifest.get("kind", "")
    if kind in COZYSTACK_APPS:
        schema = reference_json(
            "cozystack", SCHEMA_DIR[profile], "apps", COZYSTACK_APPS[kind], "values.schema.json"
        )
        jsonschema.validate(manifest["spec"], schema, cls=jsonschema.Draft7Validator)
    elif manifest.get("apiVersion", "").startswith(("v1", "apps/", "batch/")) and "Patch" not in kind:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    else:
        pytest.skip(f"{kind}: checked by the platform tests (KubeVirt schema, Helm chart)")
