"""How big a GPU VM is: its instance type, or explicit resources, or the default type."""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.instance_types import resolve_instance_type
from components.catalog.quantity import parse_quantity
from components.models.vm import GpuVirtualMachineArgs

VM_REMEDY = "set instanceType or resources"


@dataclass(frozen=True)
class Size:
    label: str
    """The instance type name, or ``<cpu> vCPU / <memory>`` for explicit resources."""
    vcpu: int
    memory_bytes: int
    instance_type: str | None


def size_problem(vm: GpuVirtualMachineArgs) -> tuple[str, str] | None:
    """(field, message) when the VM has no valid size, else None (the one sizing check)."""
    if vm.instance_type is not None and vm.resources is not None:
        return (
            "resources",
            "instanceType and resources are mutually exclusive (KubeVirt rejects a VM that sets both)",
        )
    if vm.resources is not None:
        return None
    resolution = resolve_instance_type(vm.instance_type, vm.gpu_count, remedy=VM_REMEDY)
    return ("instanceType", resolution.problem) if resolution.problem else None


def resolve_size(vm: GpuVirtualMachineArgs) -> Size | None:
    """The VM's size; None when ``size_problem`` reports one."""
    if vm.instance_type is not None and vm.resources is not None:
        return None
    if vm.resources is not None:
        memory = int(parse_quantity(vm.resources.memory))
        label = f"{vm.resources.cpu} vCPU / {vm.resources.memory}"
        return Size(label, vm.resources.cpu, memory, None)
    chosen = resolve_instance_type(vm.instance_type, vm.gpu_count).chosen
    if chosen is None:  # size_problem says why
        return None
    return Size(chosen.name, chosen.vcpu, chosen.memory_bytes, chosen.name)
