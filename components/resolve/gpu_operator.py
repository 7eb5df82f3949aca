"""What the GPU Operator's config implies: the workloads in use, sandbox workloads, vGPU."""

from __future__ import annotations

from components.catalog.gpu_operator import VM_WORKLOADS
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs


def workloads_in_use(args: GpuOperatorArgs, nodes: dict[str, NodeArgs]) -> set[str]:
    return {args.default_workload, *(node.workload for node in nodes.values())}


def sandbox_enabled(args: GpuOperatorArgs, nodes: dict[str, NodeArgs]) -> bool:
    """``sandboxWorkloads.enabled``: as set, else on when any node runs VMs."""
    if args.sandbox_workloads is not None:
        return args.sandbox_workloads
    return bool(workloads_in_use(args, nodes) & set(VM_WORKLOADS))


def uses_vgpu(args: GpuOperatorArgs, nodes: dict[str, NodeArgs]) -> bool:
    return "vm-vgpu" in workloads_in_use(args, nodes)
