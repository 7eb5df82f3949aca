"""Where GPU facts sit in the resources a Pulumi program registers (any program, not only ours).

One place knows each resource shape: pod templates, KubeVirt VMs (VirtualMachine,
VirtualMachineInstance, VirtualMachinePool), Cozystack VMInstances, and Helm charts
(helm.sh/v3 Release and Chart, helm.sh/v4 Chart, Flux HelmRelease).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import catalog_tables as facts

GPU_RESOURCE = re.compile(r"^nvidia\.com/")
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
VIRTUAL_MACHINE_INSTANCE = "kubernetes:kubevirt.io/v1:VirtualMachineInstance"
VIRTUAL_MACHINE_POOLS = tuple(
    f"kubernetes:pool.kubevirt.io/{v}:VirtualMachinePool" for v in ("v1alpha1", "v1beta1")
)  # newer KubeVirt releases serve v1beta1 too, with the same spec
KUBERNETES_APP = "kubernetes:apps.cozystack.io/v1alpha1:Kubernetes"
KUBEVIRT_TYPES = ("kubernetes:kubevirt.io/v1:KubeVirt", "kubernetes:kubevirt.io/v1:KubeVirtPatch")
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V3 = "kubernetes:helm.sh/v3:Chart"
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"
FLUX_HELM_RELEASES = tuple(
    f"kubernetes:helm.toolkit.fluxcd.io/{v}:HelmRelease" for v in ("v2", "v2beta2", "v2beta1")
)
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
MASKED = ("", "[secret]", "[computed]")
"""Values that are not clear text: empty, or how Pulumi shows secrets and unknowns."""


def get(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]…``, or None where a step is missing or not a mapping."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def mappings(value: Any) -> Iterator[Mapping[str, Any]]:
    """The mappings of a list (anything else: none)."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, Mapping))


def count(value: Any, default: int = 0) -> int:
    """A whole number from an int or a digit string; ``default`` for anything else."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else default


# --- pods ------------------------------------------------------------------------------------


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec of a workload resource, or None for anything else."""
    path = WORKLOAD_TYPES.get(resource_type)
    spec = get(props, *path) if path else None
    return spec if isinstance(spec, Mapping) else None


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers"):
        yield from mappings(spec.get(key))


def gpu_amounts(spec: Mapping[str, Any]) -> dict[str, int]:
    """GPU resources the pod asks for (limits, else requests), summed over containers."""
    totals: dict[str, int] = {}
    for container in containers(spec):
        resources = container.get("resources") or {}
        asked = {**(resources.get("requests") or {}), **(resources.get("limits") or {})}
        for name, amount in asked.items():
            if GPU_RESOURCE.match(str(name)):
                totals[str(name)] = totals.get(str(name), 0) + count(amount)
    return totals


def namespace(props: Mapping[str, Any]) -> str:
    return str(get(props, "metadata", "namespace") or "default")


# --- virtual machines ------------------------------------------------------------------------


@dataclass(frozen=True)
class VmShape:
    """Where a KubeVirt kind keeps its VMI spec (domain, evictionStrategy), type and replicas."""

    vmi_spec: tuple[str, ...]
    instance_type: tuple[str, ...] | None = None
    replicas: tuple[str, ...] | None = None


_POOL_VM = ("spec", "virtualMachineTemplate", "spec")
VM_SHAPES = {
    VIRTUAL_MACHINE: VmShape(("spec", "template", "spec"), ("spec", "instancetype", "name")),
    VIRTUAL_MACHINE_INSTANCE: VmShape(("spec",)),
    **{
        pool: VmShape(
            (*_POOL_VM, "template", "spec"), (*_POOL_VM, "instancetype", "name"), ("spec", "replicas")
        )
        for pool in VIRTUAL_MACHINE_POOLS
    },
}


def vmi_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    shape = VM_SHAPES.get(resource_type)
    spec = get(props, *shape.vmi_spec) if shape else None
    return spec if isinstance(spec, Mapping) else None


def vm_gpus(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Device names of one VM's GPUs: ``gpus`` entries, and NVIDIA devices under ``hostDevices``."""
    if resource_type == VM_INSTANCE:
        return [str(g.get("name")) for g in mappings(get(props, "spec", "gpus")) if g.get("name")]
    devices = get(vmi_spec(resource_type, props), "domain", "devices")
    gpus = [str(g["deviceName"]) for g in mappings(get(devices, "gpus")) if g.get("deviceName")]
    hosts = [str(h.get("deviceName")) for h in mappings(get(devices, "hostDevices"))]
    return gpus + [name for name in hosts if GPU_RESOURCE.match(name)]


def vm_replicas(resource_type: str, props: Mapping[str, Any]) -> int:
    """VMs the resource stands for: a pool's ``replicas`` (KubeVirt's default 1), else 1."""
    shape = VM_SHAPES.get(resource_type)
    if shape is None or shape.replicas is None:
        return 1
    return count(get(props, *shape.replicas), default=1)


def vm_instance_type(resource_type: str, props: Mapping[str, Any]) -> str | None:
    if resource_type == VM_INSTANCE:
        return get(props, "spec", "instanceType") or None
    shape = VM_SHAPES.get(resource_type)
    if shape is None or shape.instance_type is None:
        return None
    return get(props, *shape.instance_type) or None


def vm_vcpus(resource_type: str, props: Mapping[str, Any]) -> tuple[str, int] | None:
    """(what sized it, vCPUs): the instance type's, else ``domain.cpu`` sockets × cores × threads."""
    kind = vm_instance_type(resource_type, props)
    if kind is not None:
        return (kind, facts.VCPU[kind]) if kind in facts.VCPU else None
    cpu = get(vmi_spec(resource_type, props), "domain", "cpu")
    if not isinstance(cpu, Mapping):
        return None
    vcpus = 1
    for key in ("sockets", "cores", "threads"):
        vcpus *= count(cpu.get(key), default=1)
    return "domain.cpu", vcpus


def vm_eviction(resource_type: str, props: Mapping[str, Any]) -> str | None:
    """The VM's own ``evictionStrategy`` (None: it inherits the KubeVirt CR's)."""
    return get(vmi_spec(resource_type, props), "evictionStrategy") or None


# --- Helm charts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HelmChart:
    """What a chart-deploying resource asks for; empty strings where it says nothing."""

    chart: str
    version: str
    values: Any


def helm_chart(resource_type: str, props: Mapping[str, Any]) -> HelmChart | None:
    """The chart of a helm.sh/v3 Release or Chart, helm.sh/v4 Chart or Flux HelmRelease."""
    if resource_type in (HELM_RELEASE, HELM_CHART_V4, HELM_CHART_V3):
        version = props.get("version") or get(props, "fetchOpts", "version")  # v3 Chart: fetchOpts
        return HelmChart(str(props.get("chart") or ""), str(version or ""), props.get("values"))
    if resource_type in FLUX_HELM_RELEASES:
        spec = get(props, "spec", "chart", "spec")
        chart, version = get(spec, "chart"), get(spec, "version")
        return HelmChart(str(chart or ""), str(version or ""), get(props, "spec", "values"))
    return None


def is_gpu_operator(chart: str) -> bool:
    """``gpu-operator``, ``nvidia/gpu-operator``, ``oci://…/gpu-operator``, ``…/gpu-operator-v26.7.0.tgz``."""
    name = chart.rstrip("/").rsplit("/", 1)[-1]
    return name == facts.GPU_OPERATOR_CHART or (
        name.startswith(facts.GPU_OPERATOR_CHART + "-") and name.endswith(".tgz")
    )


def pinned_by_reference(chart: str) -> bool:
    """A chart archive, a local directory or a digest fixes the chart whatever ``version`` says."""
    return chart.endswith(".tgz") or chart.startswith((".", "/", "file://")) or "@sha256:" in chart
