"""The CrossGuard policies of the hikube-gpu pack, built on the plain checks of ``gpu_rules``.

Every policy's enforcement level can be changed in the pack's config
(``{"gpu-vm-vcpu-per-gpu": "mandatory"}``); some take settings (below).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gpu_rules
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

Check = Callable[[str, Mapping[str, Any]], list[str]]


def _resource_policy(
    name: str, description: str, check: Check, level: EnforcementLevel
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(args.resource_type, args.props):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=level
    )


def _stack_resources(args: StackValidationArgs) -> list[gpu_rules.StackResource]:
    return [gpu_rules.StackResource(r.resource_type, r.props, r.urn) for r in args.resources]


def _vcpu_validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config()
    low, high = int(config.get("minVcpuPerGpu", 8)), int(config.get("maxVcpuPerGpu", 16))
    for message in gpu_rules.vcpu_per_gpu(args.resource_type, args.props, low, high):
        report_violation(message, None)


def _devices_validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for urn, message in gpu_rules.vm_devices_permitted(_stack_resources(args)):
        report_violation(message, urn)


def _quota_ns_validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for urn, message in gpu_rules.gpu_namespaces_have_quota(_stack_resources(args)):
        report_violation(message, urn)


def _stack_quota_validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    quota = args.get_config().get("quota") or {}
    for message in gpu_rules.stack_within_quota(_stack_resources(args), quota):
        report_violation(message, None)


MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY

POLICIES: list[Policy] = [
    _resource_policy(
        "gpu-requests-in-limits",
        "GPU containers set GPUs in resources.limits, and requests equal limits.",
        gpu_rules.gpu_limits,
        MANDATORY,
    ),
    _resource_policy(
        "gpu-pods-tolerate-gpu-taint",
        "GPU pods tolerate the nvidia.com/gpu taint.",
        gpu_rules.gpu_toleration,
        ADVISORY,
    ),
    _resource_policy(
        "gpu-pods-pinned-to-gpu-nodes",
        "GPU pods have a nodeSelector or a required node affinity.",
        gpu_rules.gpu_placement,
        ADVISORY,
    ),
    _resource_policy(
        "gpu-vm-no-overcommit-no-live-migration",
        "GPU VMs use no o1 (memory overcommit) instance type and no LiveMigrate eviction.",
        gpu_rules.gpu_vm_safety,
        MANDATORY,
    ),
    ResourceValidationPolicy(
        name="gpu-vm-vcpu-per-gpu",
        description="GPU VMs have 8-16 vCPU per GPU (configurable).",
        validate=_vcpu_validate,
        enforcement_level=ADVISORY,
        config_schema=PolicyConfigSchema(
            properties={
                "minVcpuPerGpu": {"type": "integer", "minimum": 1, "default": 8},
                "maxVcpuPerGpu": {"type": "integer", "minimum": 1, "default": 16},
            }
        ),
    ),
    _resource_policy(
        "helm-values-without-secrets",
        "Helm release values hold no secret-looking values (they land in clear in the release).",
        gpu_rules.helm_values_without_secrets,
        MANDATORY,
    ),
    _resource_policy(
        "gpu-operator-chart-pinned",
        "The NVIDIA GPU Operator chart is pinned to an exact version.",
        gpu_rules.operator_chart_pinned,
        MANDATORY,
    ),
    StackValidationPolicy(
        name="vm-gpu-devices-permitted",
        description="Every VM GPU deviceName is permitted by the stack's KubeVirt configuration.",
        validate=_devices_validate,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="gpu-namespaces-have-quota",
        description="Every namespace with GPU workloads has a ResourceQuota on their GPU resources.",
        validate=_quota_ns_validate,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="stack-gpu-quota",
        description="The stack's GPUs (VMs, node groups at maxReplicas) stay within a per-model quota.",
        validate=_stack_quota_validate,
        enforcement_level=MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "quota": {
                    "type": "object",
                    "description": 'GPUs per model, e.g. {"L40S": 4, "A100": 2}; unlisted models: no limit.',
                    "additionalProperties": {"type": "integer", "minimum": 0},
                    "default": {},
                }
            }
        ),
    ),
]
