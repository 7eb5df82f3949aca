"""The CrossGuard policies of the hikube-gpu pack, built on the plain checks of ``gpu_rules``
(one resource) and ``stack_rules`` (the whole stack). docs/policy-pack.md describes each.

Every policy's enforcement level can be changed in the pack's config
(``{"gpu-vm-vcpu-per-gpu": "mandatory"}``); some take settings (below).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import catalog_tables as facts
import gpu_rules
import stack_rules
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
StackCheck = Callable[[list[stack_rules.StackResource]], list[tuple[str, str]]]


def _resource_policy(
    name: str, description: str, check: Check, level: EnforcementLevel
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(args.resource_type, args.props):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=level
    )


def _stack_resources(args: StackValidationArgs) -> list[stack_rules.StackResource]:
    return [stack_rules.StackResource(r.resource_type, r.props, r.urn) for r in args.resources]


def _stack_policy(name: str, description: str, check: StackCheck) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for urn, message in check(_stack_resources(args)):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=MANDATORY
    )


def _vcpu_validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config()
    low = int(config.get("minVcpuPerGpu", facts.MIN_VCPU_PER_GPU))
    high = int(config.get("maxVcpuPerGpu", facts.MAX_VCPU_PER_GPU))
    for message in gpu_rules.vcpu_per_gpu(args.resource_type, args.props, low, high):
        report_violation(message, None)


QuotaCheck = Callable[[list[stack_rules.StackResource], Mapping[str, int], str], list[str]]


def _quota_policy(name: str, description: str, check: QuotaCheck, level: EnforcementLevel) -> Policy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config()
        quota = config.get("quota")
        if quota is None:
            args.not_applicable("no quota configured")
            return
        platform = str(config.get("platform") or facts.DEFAULT_PLATFORM)
        for message in check(_stack_resources(args), quota, platform):
            report_violation(message, None)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=PolicyConfigSchema(
            properties={
                "quota": {
                    "type": "object",
                    "description": 'GPUs per model, e.g. {"L40S": 4, "A100": 2}; unlisted models get 0. '
                    "Unset: no limit.",
                    "additionalProperties": {"type": "integer", "minimum": 0},
                },
                "platform": {
                    "type": "string",
                    "description": "Cozystack profile that sizes node groups (start size, roll-out surge).",
                    "enum": list(facts.NODE_GROUP_START_REPLICAS),
                    "default": facts.DEFAULT_PLATFORM,
                },
            }
        ),
    )


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
                "minVcpuPerGpu": {"type": "integer", "minimum": 1, "default": facts.MIN_VCPU_PER_GPU},
                "maxVcpuPerGpu": {"type": "integer", "minimum": 1, "default": facts.MAX_VCPU_PER_GPU},
            }
        ),
    ),
    _resource_policy(
        "helm-values-without-secrets",
        "Helm values (Release, Chart v3/v4, Flux HelmRelease) hold no secret-looking values: "
        "they land in clear in the release.",
        gpu_rules.helm_values_without_secrets,
        MANDATORY,
    ),
    _resource_policy(
        "gpu-operator-chart-pinned",
        "The NVIDIA GPU Operator chart is pinned to an exact version.",
        gpu_rules.operator_chart_pinned,
        MANDATORY,
    ),
    _resource_policy(
        "gpu-quota-uses-requests-prefix",
        "ResourceQuotas limit GPUs as requests.<resource>, the only form Kubernetes enforces.",
        gpu_rules.gpu_quota_uses_requests,
        MANDATORY,
    ),
    _stack_policy(
        "vm-gpu-devices-permitted",
        "Every VM GPU deviceName is permitted by the stack's KubeVirt configuration, "
        "with the PCI selector of that GPU.",
        stack_rules.vm_devices_permitted,
    ),
    _stack_policy(
        "gpu-namespaces-have-quota",
        "Every namespace with GPU workloads has a ResourceQuota on their GPU resources.",
        stack_rules.gpu_namespaces_have_quota,
    ),
    _stack_policy(
        "kubevirt-no-live-migrate-with-gpus",
        "The KubeVirt CR does not make LiveMigrate the cluster-wide eviction where GPU VMs run.",
        stack_rules.cluster_eviction_spares_gpu_vms,
    ),
    _quota_policy(
        "stack-gpu-quota",
        "The stack's GPUs (VMs, pools, node groups as the platform runs them) stay within a per-model quota.",
        stack_rules.stack_within_quota,
        MANDATORY,
    ),
    _quota_policy(
        "stack-gpu-quota-rollouts",
        "Node-group roll-outs (which add up to maxReplicas nodes first) stay within the quota.",
        stack_rules.rollouts_within_quota,
        ADVISORY,
    ),
]
