"""GPU capacity of a stack: GPUs per model (VMs, node groups min–max), memory, INT8 TOPS, quota."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.catalog.gpus import GPU_MODELS, GpuModelName
from stacks.config import TenantStack


@dataclass(frozen=True)
class CapacityRow:
    model: str
    vm_gpus: int
    node_min: int
    node_max: int
    memory_gb: int
    int8_tops: int
    quota: int | None

    @property
    def gpus(self) -> int:
        """The most GPUs the stack may hold: its VMs plus every node group at maxReplicas."""
        return self.vm_gpus + self.node_max


def capacity(stack: TenantStack) -> list[CapacityRow]:
    """One row per offered model (catalog order); memory and TOPS at the most GPUs."""
    rows = []
    for key, model in GPU_MODELS.items():
        vm_gpus = sum(vm.gpus.get(key, 0) for vm in stack.vms.values())
        groups = [g for c in stack.clusters.values() for g in c.node_groups.values()]
        node_min = sum(g.gpus.get(key, 0) * g.min_replicas for g in groups)
        node_max = sum(g.gpus.get(key, 0) * g.max_replicas for g in groups)
        most = vm_gpus + node_max
        quota = None if stack.quota is None else stack.quota.get(GpuModelName(key), 0)
        rows.append(
            CapacityRow(
                key.value, vm_gpus, node_min, node_max, most * model.memory_gb, most * model.int8_tops, quota
            )
        )
    return rows


def as_output(rows: list[CapacityRow]) -> dict[str, dict[str, Any]]:
    """The ``gpuCapacity`` stack output."""
    out = {}
    for row in rows:
        entry: dict[str, Any] = {
            "vmGpus": row.vm_gpus,
            "nodeGroupGpus": {"min": row.node_min, "max": row.node_max},
            "gpus": row.gpus,
            "memoryGB": row.memory_gb,
            "int8Tops": row.int8_tops,
        }
        if row.quota is not None:
            entry["quota"] = row.quota
        out[row.model] = entry
    return out
