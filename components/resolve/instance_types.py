"""The instance type a node group or a raw KubeVirt VM runs on (``resolve_instance_type`` of the catalog)."""

from __future__ import annotations

from components.catalog.instance_types import RAW_GPU_SERIES, Resolution, resolve_instance_type
from components.models.kubevirt import KubeVirtGpuVmArgs
from components.models.node_group import NodeGroupArgs

NON_GPU_INSTANCE_TYPE = "u1.medium"


def node_type_resolution(group: NodeGroupArgs) -> Resolution:
    """The group's VM type (``resolve_instance_type``): its own, else u1.medium without GPUs,
    else the smallest u1 type with 8 vCPU per GPU."""
    return resolve_instance_type(
        group.instance_type, group.gpu_count, per=" per node", without_gpus=NON_GPU_INSTANCE_TYPE
    )


def node_instance_type(group: NodeGroupArgs) -> str | None:
    """The group's VM type name; None when ``node_type_resolution`` reports a problem."""
    chosen = node_type_resolution(group).chosen
    return chosen.name if chosen else None


def vm_type_resolution(vm: KubeVirtGpuVmArgs) -> Resolution:
    """The VM's cluster instancetype (``resolve_instance_type`` over u1 and d1)."""
    return resolve_instance_type(vm.instance_type, vm.gpu_count, series=RAW_GPU_SERIES)


def vm_instance_type(vm: KubeVirtGpuVmArgs) -> str | None:
    chosen = vm_type_resolution(vm).chosen
    return chosen.name if chosen else None
