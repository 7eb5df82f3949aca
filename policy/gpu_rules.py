"""GPU guardrails as plain functions: a resource's type and properties in, violations out.

They hold for any Pulumi program that deploys NVIDIA GPUs on Kubernetes/KubeVirt, not
only hikube-gpu's. ``gpu_policies`` wires them into Pulumi CrossGuard; tests call them
directly. Self-contained on purpose (a policy pack runs in its own virtualenv).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

GPU_RESOURCE = re.compile(r"^nvidia\.com/")
GPU_TAINT = "nvidia.com/gpu"
WORKLOAD_TYPES = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
VM_INSTANCE = "kubernetes:apps.cozystack.io/v1alpha1:VMInstance"
VIRTUAL_MACHINE = "kubernetes:kubevirt.io/v1:VirtualMachine"
KUBERNETES_APP = "kubernetes:apps.cozystack.io/v1alpha1:Kubernetes"
KUBEVIRT_TYPES = ("kubernetes:kubevirt.io/v1:KubeVirt", "kubernetes:kubevirt.io/v1:KubeVirtPatch")
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"

# vCPU per size of the KubeVirt/Hikube instance-type series (common-instancetypes v1.7.0;
# s1 is Hikube's). Cross-checked against hikube-gpu's catalog by the tests.
_SIZES = {"nano": 1, "micro": 1, "small": 1, "medium": 1, "2xmedium": 2, "large": 2, "xlarge": 4}
_SIZES |= {"2xlarge": 8, "4xlarge": 16, "8xlarge": 32}
VCPU = {
    f"{series}.{size}": vcpu for series in ("u1", "o1", "d1", "m1", "cx1") for size, vcpu in _SIZES.items()
}
VCPU |= {
    "s1.small": 1, "s1.medium": 2, "s1.large": 4, "s1.xlarge": 8, "s1.3large": 12,
    "s1.2xlarge": 16, "s1.3xlarge": 24, "s1.4xlarge": 32, "s1.8xlarge": 64,
}  # fmt: skip

MODELS = ("L40S", "A100", "H100")
SECRET_KEY = re.compile(r"(pass(word)?|secret|token|api[-_]?key|private[-_]?key|credential)", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abpr]-|"
    r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.)"
)
MASKED = ("", "[secret]", "[computed]")


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec of a workload resource, or None for anything else."""
    path = WORKLOAD_TYPES.get(resource_type)
    spec = _get(props, *path) if path else None
    return spec if isinstance(spec, Mapping) else None


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if isinstance(container, Mapping):
                yield container


def gpu_amounts(spec: Mapping[str, Any]) -> dict[str, int]:
    """GPU resources the pod asks for (limits, else requests), summed over containers."""
    totals: Counter[str] = Counter()
    for container in _containers(spec):
        resources = container.get("resources") or {}
        asked = {**(resources.get("requests") or {}), **(resources.get("limits") or {})}
        for name, amount in asked.items():
            if GPU_RESOURCE.match(str(name)):
                totals[str(name)] += int(amount) if str(amount).isdigit() else 0
    return dict(totals)


def gpu_limits(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """GPU containers ask in ``limits``, and ``requests`` (when set) equal ``limits``."""
    spec = pod_spec(resource_type, props)
    if spec is None:
        return []
    problems = []
    for container in _containers(spec):
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
    required = _get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    if spec.get("nodeSelector") or required:
        return []
    return ["the pod requests GPUs but has no nodeSelector or required node affinity for GPU nodes"]


def vm_gpus(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The device names of a VM's GPUs (Cozystack VMInstance or KubeVirt VirtualMachine)."""
    if resource_type == VM_INSTANCE:
        return [str(g.get("name")) for g in _get(props, "spec", "gpus") or [] if isinstance(g, Mapping)]
    if resource_type == VIRTUAL_MACHINE:
        devices = _get(props, "spec", "template", "spec", "domain", "devices", "gpus") or []
        return [str(g.get("deviceName")) for g in devices if isinstance(g, Mapping) and g.get("deviceName")]
    return []


def vm_instance_type(resource_type: str, props: Mapping[str, Any]) -> str | None:
    if resource_type == VM_INSTANCE:
        return _get(props, "spec", "instanceType") or None
    if resource_type == VIRTUAL_MACHINE:
        return _get(props, "spec", "instancetype", "name") or None
    return None


def gpu_vm_safety(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """GPU VMs: no memory overcommit (o1: VFIO pins all guest RAM), no LiveMigrate eviction."""
    if not vm_gpus(resource_type, props):
        return []
    problems = []
    kind = vm_instance_type(resource_type, props) or ""
    if kind.startswith("o1."):
        problems.append(f"instance type {kind} overcommits memory, which VFIO passthrough cannot do")
    eviction = _get(props, "spec", "template", "spec", "evictionStrategy")
    if eviction == "LiveMigrate":
        problems.append(
            "evictionStrategy LiveMigrate: GPU passthrough VMs cannot migrate, so drains would hang"
        )
    return problems


def vcpu_per_gpu(resource_type: str, props: Mapping[str, Any], low: int = 8, high: int = 16) -> list[str]:
    """Advice: 8-16 vCPU per GPU (Hikube's sizing guidance)."""
    gpus = len(vm_gpus(resource_type, props))
    kind = vm_instance_type(resource_type, props)
    if not gpus or kind is None or kind not in VCPU:
        return []
    per_gpu = VCPU[kind] / gpus
    if low <= per_gpu <= high:
        return []
    return [f"{kind} gives {per_gpu:g} vCPU per GPU; {low}-{high} is recommended"]


def _secret_like(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if SECRET_KEY.search(str(key)) and isinstance(item, str) and item not in MASKED:
                yield f"values.{child} looks like a secret (by its key)"
            else:
                yield from _secret_like(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_like(item, f"{path}[{index}]")
    elif isinstance(value, str) and SECRET_VALUE.search(value):
        yield f"values.{path} looks like a secret (by its content)"


def helm_values_without_secrets(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Helm values end up in the release Secret and the state in clear: no secrets in them."""
    if resource_type != HELM_RELEASE:
        return []
    return list(_secret_like(props.get("values") or {}, ""))


EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")


def operator_chart_pinned(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The GPU Operator chart is pinned to an exact version (no range, no 'latest')."""
    if resource_type != HELM_RELEASE or "gpu-operator" not in str(props.get("chart", "")):
        return []
    version = str(props.get("version") or "")
    if EXACT_VERSION.match(version):
        return []
    return [f"chart {props.get('chart')} version {version or '(unset)'} is not pinned to an exact version"]


@dataclass(frozen=True)
class StackResource:
    resource_type: str
    props: Mapping[str, Any]
    urn: str


def permitted_devices(resources: Iterable[StackResource]) -> set[str] | None:
    """Resource names the stack's KubeVirt CR (or patch) permits; None if it has none."""
    found: set[str] | None = None
    for resource in resources:
        if resource.resource_type not in KUBEVIRT_TYPES:
            continue
        devices = _get(resource.props, "spec", "configuration", "permittedHostDevices") or {}
        for key in ("pciHostDevices", "mediatedDevices"):
            for entry in devices.get(key) or []:
                found = (found or set()) | {str(entry.get("resourceName"))}
    return found


def vm_devices_permitted(resources: list[StackResource]) -> list[tuple[str, str]]:
    """(urn, message) for each VM GPU that the stack's KubeVirt configuration does not permit."""
    permitted = permitted_devices(resources)
    if permitted is None:
        return []
    return [
        (r.urn, f"GPU {device} is not in the stack's KubeVirt permittedHostDevices")
        for r in resources
        for device in sorted(set(vm_gpus(r.resource_type, r.props)))
        if device not in permitted
    ]


def gpu_namespaces_have_quota(resources: list[StackResource]) -> list[tuple[str, str]]:
    """Every namespace with GPU workloads has a ResourceQuota on the GPU resources they use."""
    quotas: dict[str, set[str]] = {}
    for r in resources:
        if r.resource_type == RESOURCE_QUOTA:
            namespace = _get(r.props, "metadata", "namespace") or "default"
            hard = _get(r.props, "spec", "hard") or {}
            quotas.setdefault(namespace, set()).update(k.removeprefix("requests.") for k in hard)
    problems = []
    for r in resources:
        spec = pod_spec(r.resource_type, r.props)
        if spec is None:
            continue
        namespace = _get(r.props, "metadata", "namespace") or "default"
        for name in sorted(gpu_amounts(spec)):
            if name not in quotas.get(namespace, set()):
                problems.append((r.urn, f"namespace {namespace} has no ResourceQuota on requests.{name}"))
    return problems


def model_of(device: str) -> str | None:
    """The offered model a GPU resource name stands for (``nvidia.com/GA100_A100_PCIE_80GB`` → A100)."""
    return next((m for m in MODELS if m in device.upper()), None)


def stack_gpu_counts(resources: list[StackResource]) -> Counter[str]:
    """GPUs the stack may hold, by model: VM GPUs plus node groups at maxReplicas."""
    counts: Counter[str] = Counter()
    for r in resources:
        for device in vm_gpus(r.resource_type, r.props):
            counts[model_of(device) or device] += 1
        if r.resource_type == KUBERNETES_APP:
            for group in (_get(r.props, "spec", "nodeGroups") or {}).values():
                for entry in group.get("gpus") or []:
                    name = str(entry.get("name"))
                    counts[model_of(name) or name] += int(group.get("maxReplicas") or 0)
    return counts


def stack_within_quota(resources: list[StackResource], quota: Mapping[str, int]) -> list[str]:
    """The stack's GPUs per model stay within ``quota`` (models not listed: no limit)."""
    counts = stack_gpu_counts(resources)
    return [
        f"the stack may hold {counts[model]} {model} GPUs but the quota is {limit}"
        for model, limit in sorted(quota.items())
        if counts[model] > limit
    ]
