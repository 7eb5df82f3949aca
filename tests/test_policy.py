"""The policy pack: each rule with a violating and a compliant resource, the CrossGuard
wiring, and our own example stacks complying with it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.loading.stack_list import discover
from tests.helpers import stack_config

sys.path.insert(0, str(PROJECT_DIR / "policy"))
import gpu_policies
import gpu_rules
import shapes
import stack_rules
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from stack_rules import StackResource

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def deployment(limits: dict[str, Any], requests: dict[str, Any] | None = None, **pod: Any) -> dict[str, Any]:
    container = {
        "name": "c",
        "image": "i",
        "resources": {"limits": limits, **({"requests": requests} if requests else {})},
    }
    return {
        "metadata": {"namespace": "ml"},
        "spec": {"template": {"spec": {"containers": [container], **pod}}},
    }


PLACED = {
    "nodeSelector": {"node-role.kubernetes.io/gpu-l40s": ""},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
}


def vm_instance(instance_type: str, gpus: int = 1) -> dict[str, Any]:
    return {"spec": {"instanceType": instance_type, "gpus": [{"name": "nvidia.com/AD102GL_L40S"}] * gpus}}


def kubevirt_vm(
    instance_type: str, eviction: str = "None", device: str = "nvidia.com/AD102GL_L40S"
) -> dict[str, Any]:
    return {
        "spec": {
            "instancetype": {"name": instance_type},
            "template": {
                "spec": {
                    "evictionStrategy": eviction,
                    "domain": {"devices": {"gpus": [{"name": "gpu1", "deviceName": device}]}},
                }
            },
        }
    }


RESOURCE_CASES = [
    # (rule, type, violating props, compliant props)
    (
        gpu_rules.gpu_limits,
        DEPLOYMENT,
        deployment({"cpu": "1"}, {"nvidia.com/gpu": 1}),
        deployment({"nvidia.com/gpu": 1}, {"nvidia.com/gpu": 1}),
    ),
    (
        gpu_rules.gpu_limits,
        "kubernetes:batch/v1:Job",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "c",
                                "resources": {
                                    "limits": {"nvidia.com/gpu": 2},
                                    "requests": {"nvidia.com/gpu": 1},
                                },
                            }
                        ]
                    }
                }
            }
        },
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 2}}}]}
                }
            }
        },
    ),
    (
        gpu_rules.gpu_toleration,
        DEPLOYMENT,
        deployment({"nvidia.com/gpu": 1}),
        deployment({"nvidia.com/gpu": 1}, **PLACED),
    ),
    (
        gpu_rules.gpu_placement,
        DEPLOYMENT,
        deployment({"nvidia.com/gpu": 1}),
        deployment({"nvidia.com/gpu": 1}, **PLACED),
    ),
    (gpu_rules.gpu_vm_safety, shapes.VM_INSTANCE, vm_instance("o1.2xlarge"), vm_instance("u1.2xlarge")),
    (
        gpu_rules.gpu_vm_safety,
        shapes.VIRTUAL_MACHINE,
        kubevirt_vm("u1.2xlarge", eviction="LiveMigrate"),
        kubevirt_vm("u1.2xlarge", eviction="LiveMigrateIfPossible"),
    ),
    (
        gpu_rules.vcpu_per_gpu,
        shapes.VM_INSTANCE,
        vm_instance("u1.2xlarge", gpus=4),
        vm_instance("u1.8xlarge", gpus=4),
    ),
    (
        gpu_rules.helm_values_without_secrets,
        shapes.HELM_RELEASE,
        {
            "values": {
                "vgpuManager": {"licensing": {"token": "abc123"}},
                "x": ["-----BEGIN RSA PRIVATE KEY-----"],
            }
        },
        {"values": {"driver": {"enabled": True}, "licensingConfig": {"secretName": ""}}},
    ),
    (
        gpu_rules.operator_chart_pinned,
        shapes.HELM_RELEASE,
        {"chart": "gpu-operator", "version": ">=v26.0.0"},
        {"chart": "gpu-operator", "version": "v26.7.0"},
    ),
]


@pytest.mark.parametrize(
    ("rule", "resource_type", "bad", "good"),
    RESOURCE_CASES,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(RESOURCE_CASES)],
)
def test_resource_rule_flags_the_violation_and_passes_the_compliant(
    rule: Any, resource_type: str, bad: dict[str, Any], good: dict[str, Any]
) -> None:
    assert rule(resource_type, bad), "the violating resource must be reported"
    assert rule(resource_type, good) == []


def test_secret_values_are_found_by_key_and_by_content() -> None:
    messages = gpu_rules.helm_values_without_secrets(shapes.HELM_RELEASE, RESOURCE_CASES[7][2])
    assert messages == [
        "values.vgpuManager.licensing.token looks like a secret (by its key)",
        "values.x[0] looks like a secret (a PEM private key)",
    ]


def test_vm_devices_must_be_permitted_by_the_stack() -> None:
    patch = StackResource(
        "kubernetes:kubevirt.io/v1:KubeVirtPatch",
        {
            "spec": {
                "configuration": {
                    "permittedHostDevices": {"pciHostDevices": [{"resourceName": "nvidia.com/AD102GL_L40S"}]}
                }
            }
        },
        "urn:patch",
    )
    good = StackResource(shapes.VIRTUAL_MACHINE, kubevirt_vm("u1.2xlarge"), "urn:good")
    bad = StackResource(
        shapes.VIRTUAL_MACHINE, kubevirt_vm("u1.2xlarge", device="nvidia.com/H100_94GB"), "urn:bad"
    )
    assert stack_rules.vm_devices_permitted([patch, good, bad]) == [
        ("urn:bad", "GPU nvidia.com/H100_94GB is not in the stack's KubeVirt permittedHostDevices")
    ]
    assert (
        stack_rules.vm_devices_permitted([good, bad]) == []
    )  # no KubeVirt config in the stack: not applicable


def test_gpu_namespaces_need_a_quota() -> None:
    workload = StackResource(DEPLOYMENT, deployment({"nvidia.com/gpu": 1}, **PLACED), "urn:w")
    quota = StackResource(
        shapes.RESOURCE_QUOTA,
        {"metadata": {"namespace": "ml"}, "spec": {"hard": {"requests.nvidia.com/gpu": "2"}}},
        "urn:q",
    )
    assert stack_rules.gpu_namespaces_have_quota([workload]) == [
        ("urn:w", "namespace ml has no ResourceQuota on requests.nvidia.com/gpu")
    ]
    assert stack_rules.gpu_namespaces_have_quota([workload, quota]) == []


def test_stack_gpu_quota_counts_vms_and_node_groups_as_the_platform_runs_them() -> None:
    vm = StackResource(shapes.VM_INSTANCE, vm_instance("u1.4xlarge", gpus=2), "urn:vm")
    cluster = StackResource(
        shapes.KUBERNETES_APP,
        {"spec": {"nodeGroups": {"g": {"maxReplicas": 3, "gpus": [{"name": "nvidia.com/AD102GL_L40S"}]}}}},
        "urn:k",
    )
    steady, peak = stack_rules.stack_gpu_counts([vm, cluster])
    assert (steady["L40S"], peak["L40S"]) == (5, 8)  # 2 + 3 nodes; a roll-out adds 3 more
    assert stack_rules.stack_within_quota([vm, cluster], {"L40S": 4}) == [
        "the stack may hold 5 L40S GPUs but its quota is 4"
    ]
    assert stack_rules.stack_within_quota([vm, cluster], {"L40S": 5, "A100": 0}) == []
    assert stack_rules.rollouts_within_quota([vm, cluster], {"L40S": 5}) == [
        "a node-group roll-out can hold 8 L40S GPUs at once but the quota is 5: "
        "roll-outs will wait for GPUs and go one node at a time"
    ]


def test_a_quota_gives_unlisted_models_zero() -> None:
    vm = StackResource(shapes.VM_INSTANCE, vm_instance("u1.4xlarge", gpus=2), "urn:vm")
    assert stack_rules.stack_within_quota([vm], {"A100": 4}) == [
        "the stack may hold 2 L40S GPUs but its quota is 0 (L40S is not in the quota, so it gets 0)"
    ]


# --- the CrossGuard wiring -----------------------------------------------------------------


def _violations(policy: Any, args: Any) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


def test_each_policy_has_a_name_description_and_enforcement_level() -> None:
    names = [p.name for p in gpu_policies.POLICIES]
    assert len(names) == len(set(names)) == 13
    levels = {p.name: p.enforcement_level for p in gpu_policies.POLICIES}
    assert levels["gpu-vm-vcpu-per-gpu"] == EnforcementLevel.ADVISORY
    assert levels["gpu-requests-in-limits"] == EnforcementLevel.MANDATORY
    assert all(p.description for p in gpu_policies.POLICIES)


def test_resource_policy_reports_through_crossguard_with_its_config() -> None:
    policy = next(p for p in gpu_policies.POLICIES if p.name == "gpu-vm-vcpu-per-gpu")
    args = ResourceValidationArgs(
        shapes.VM_INSTANCE, vm_instance("u1.2xlarge", gpus=2), "urn:vm", "vm", None, None, {}
    )
    assert _violations(policy, args) == [("u1.2xlarge gives 4 vCPU per GPU; 8-16 is recommended", None)]
    relaxed = ResourceValidationArgs(
        shapes.VM_INSTANCE,
        vm_instance("u1.2xlarge", gpus=2),
        "urn:vm",
        "vm",
        None,
        None,
        {"minVcpuPerGpu": 4},
    )
    assert _violations(policy, relaxed) == []


def test_stack_quota_policy_reads_its_config() -> None:
    policy = next(p for p in gpu_policies.POLICIES if p.name == "stack-gpu-quota")

    class Resource:
        resource_type = shapes.VM_INSTANCE
        props = vm_instance("u1.4xlarge", gpus=2)
        urn = "urn:vm"

    args = StackValidationArgs([Resource()], {"quota": {"L40S": 1}})  # type: ignore[list-item]
    assert _violations(policy, args) == [("the stack may hold 2 L40S GPUs but its quota is 1", None)]
    with pytest.raises(_NotApplicableError) as raised:  # no quota: no limit, the policy does not apply
        _violations(policy, StackValidationArgs([Resource()], {}))  # type: ignore[list-item]
    assert getattr(raised.value, "reason", None) == "no quota configured"


# --- our own stacks comply -------------------------------------------------------------------


def _example_resources() -> Iterator[Any]:
    for stack in discover(PROJECT_DIR, examples=True):
        run = run_stack(PROJECT_DIR, stack)
        resources = [r for r in run.resources if r.custom and not r.read and r.type.startswith("kubernetes:")]
        yield pytest.param(stack, resources, run.failure, id=stack)


def _crossguard(resources: list[Any], config: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Every policy of the pack over ``resources`` through pulumi_policy, by policy name."""
    found: dict[str, list[str]] = {}
    stack = [PolicyResource(r.type, r.inputs, r.urn, r.name, None, None, None, [], {}) for r in resources]
    for policy in gpu_policies.POLICIES:
        settings = config.get(policy.name, {})

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            found.setdefault(name, []).append(f"{(urn or '').rsplit('::', 1)[-1]}: {message}")

        if isinstance(policy, ResourceValidationPolicy):
            for r in stack:
                args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, None, None, settings)
                policy.validate(args, report)
        else:
            with contextlib.suppress(_NotApplicableError):  # e.g. no quota configured
                policy.validate(StackValidationArgs(stack, settings), report)  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize(("stack", "resources", "failure"), list(_example_resources()))
def test_every_example_stack_complies_with_the_pack(stack: str, resources: list[Any], failure: Any) -> None:
    """Every policy, through the CrossGuard wiring, with the stack's own quota and platform."""
    assert failure is None, f"{stack} does not render, so the pack cannot check it: {failure}"
    config = stack_config(stack)
    settings: dict[str, Any] = {}
    if config.get("quota") is not None:
        platform = (config.get("platform") or {}).get("profile", "hikube")
        settings = {"quota": config["quota"], "platform": platform}
    found = _crossguard(resources, {"stack-gpu-quota": settings, "stack-gpu-quota-rollouts": settings})
    # Roll-outs past the quota are advice the stack itself warns about (test_policy_shapes checks it).
    found.pop("stack-gpu-quota-rollouts", None)
    assert found == {}
