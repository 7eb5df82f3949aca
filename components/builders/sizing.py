"""How big a GPU VM is: its instance type, or explicit resources, or the default type."""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.instance_types import default_for, instance_type
from components.catalog.quantity import parse_quantity
from components.models.vm import GpuVirtualMachineArgs


@dataclass(frozen=True)
class Size:
    label: str
    """The instance type name, or ``<cpu> vCPU / <memory>`` for explicit resources."""
    vcpu: int
    memory_bytes: int
    instance_type: str | None


def resolve_size(vm: GpuVirtualMachineArgs) -> Size | None:
    """The VM's size; None when no instance type is set and no default fits its GPUs."""
    if vm.resources is not None:
        memory = int(parse_quantity(vm.resources.memory))
        label = f"{vm.resources.cpu} vCPU / {vm.resources.memory}"
        return Size(label, vm.resources.cpu, memory, None)
    chosen = instance_type(vm.instance_type) if vm.instance_type else default_for(vm.gpu_count)
    if chosen is None:
        return None
    return Size(chosen.name, chosen.vcpu, chosen.memory_bytes, chosen.name)
