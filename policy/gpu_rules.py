"""GPU guardrails on one resource: its type and properties in, violation messages out.

They hold for any Pulumi program that deploys NVIDIA GPUs on Kubernetes/KubeVirt, not
only hikube-gpu's. ``gpu_policies`` wires them into Pulumi CrossGuard; tests call them
directly. Self-contained on purpose (a policy pack runs in its own virtualenv): the GPU
facts come from ``catalog_tables``, generated from the project's catalog.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import catalog_tables as facts
from secret_values import secret_like
from shapes import (
    GPU_RESOURCE,
    RESOURCE_QUOTA,
    containers,
    get,
    gpu_amounts,
    helm_chart,
    is_gpu_operator,
    pinned_by_reference,
    pod_spec,
    vm_eviction,
    vm_gpus,
    vm_instance_type,
    vm_vcpus,
)

GPU_TAINT = "nvidia.com/gpu"
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")


def gpu_limits(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """GPU containers ask in ``limits``, and ``requests`` (when set) equal ``limits``."""
    spec = pod_spec(resource_type, props)
    if spec is None:
        return []
    problems = []
    for container in containers(spec):
        resources = container.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        for name in sorted(set(limits) | set(requests)):
            if not GPU_RESOURCE.match(str(name)):
                continue
            where = f"container {container.get('name', '?')}: {name}"
            if name not in limits:
                problems.append(f"{where} is only requested; GPUs must be set in resources.limits")
            elif name in requests and str(requests[name]) != str(limits[name]):
                problems.append(
                    f"{where} requests {requests[name]} but limits {limits[name]}; they must be equal"
                )
    return problems


def gpu_toleration(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """GPU pods tolerate the ``nvidia.com/gpu`` taint GPU nodes commonly carry."""
    spec = pod_spec(resource_type, props)
    if spec is None or not gpu_amounts(spec):
        return []
    for toleration in spec.get("tolerations") or []:
        key, operator = toleration.get("key"), toleration.get("operator", "Equal")
        if (key == GPU_TAINT and operator == "Exists") or (key is None and operator == "Exists"):
            return []
    return [f"the pod requests GPUs but does not tolerate the {GPU_TAINT} taint (operator Exists)"]


def gpu_placement(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """GPU pods are pinned to GPU nodes (a nodeSelector or a required node affinity)."""
    spec = pod_spec(resource_type, props)
    if spec is None or not gpu_amounts(spec):
        return []
    required = get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    if spec.get("nodeSelector") or required:
        return []
    return ["the pod requests GPUs but has no nodeSelector or required node affinity for GPU nodes"]


def gpu_vm_safety(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """GPU VMs: no instance type of a series that forbids GPUs (o1), no LiveMigrate eviction."""
    if not vm_gpus(resource_type, props):
        return []
    problems = []
    kind = vm_instance_type(resource_type, props) or ""
    reason = facts.NO_GPU_SERIES.get(kind.split(".", 1)[0])
    if reason:
        problems.append(f"instance type {kind}: {reason}")
    eviction = vm_eviction(resource_type, props)
    if eviction is not None and eviction not in facts.EVICTION_STRATEGIES:
        problems.append(
            f"evictionStrategy {eviction}: GPU passthrough VMs cannot migrate, so drains would hang; "
            f"use {', '.join(facts.EVICTION_STRATEGIES)}"
        )
    return problems


def vcpu_per_gpu(
    resource_type: str,
    props: Mapping[str, Any],
    low: int = facts.MIN_VCPU_PER_GPU,
    high: int = facts.MAX_VCPU_PER_GPU,
) -> list[str]:
    """Advice: 8-16 vCPU per GPU (Hikube's sizing guidance)."""
    gpus = len(vm_gpus(resource_type, props))
    sized = vm_vcpus(resource_type, props)
    if not gpus or sized is None:
        return []
    source, vcpus = sized
    per_gpu = vcpus / gpus
    if low <= per_gpu <= high:
        return []
    return [f"{source} gives {per_gpu:g} vCPU per GPU; {low}-{high} is recommended"]


def helm_values_without_secrets(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Helm values end up in the release Secret and the state in clear: no secrets in them."""
    chart = helm_chart(resource_type, props)
    return [] if chart is None else list(secret_like(chart.values))


def operator_chart_pinned(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The GPU Operator chart is pinned to an exact version (no range, no 'latest', not unset)."""
    chart = helm_chart(resource_type, props)
    if chart is None or not is_gpu_operator(chart.chart) or pinned_by_reference(chart.chart):
        return []
    if EXACT_VERSION.match(chart.version):
        return []
    return [
        f"chart {chart.chart} version {chart.version or '(unset)'} is not an exact version: "
        f"Helm would install whatever release matches; pin one, e.g. v26.7.0"
    ]


def gpu_quota_uses_requests(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A ResourceQuota limits GPUs as ``requests.<resource>``: the only form Kubernetes enforces."""
    if resource_type != RESOURCE_QUOTA:
        return []
    problems = []
    for key in get(props, "spec", "hard") or {}:
        name = str(key).removeprefix("limits.")
        if GPU_RESOURCE.match(name):
            problems.append(
                f"spec.hard {key}: Kubernetes ignores quotas on extended resources unless they are "
                f"written requests.<resource>; write requests.{name}"
            )
    return problems
