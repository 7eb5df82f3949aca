"""GPU capacity of a stack: GPUs per model, GPU memory, INT8 TOPS, against the quota."""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.gpus import GPU_MODELS, GpuModelName
from stacks.config import TenantStack


@dataclass(frozen=True)
class CapacityRow:
    model: str
    gpus: int
    memory_gb: int
    int8_tops: int
    quota: int | None


def capacity(stack: TenantStack) -> list[CapacityRow]:
    """One row per offered model (catalog order), VM GPUs counted."""
    rows = []
    for key, model in GPU_MODELS.items():
        count = sum(vm.gpus.get(key, 0) for vm in stack.vms.values())
        quota = None if stack.quota is None else stack.quota.get(GpuModelName(key), 0)
        rows.append(CapacityRow(key.value, count, count * model.memory_gb, count * model.int8_tops, quota))
    return rows


def as_output(rows: list[CapacityRow]) -> dict[str, dict[str, int]]:
    """The ``gpuCapacity`` stack output."""
    out = {}
    for row in rows:
        entry = {"gpus": row.gpus, "memoryGB": row.memory_gb, "int8Tops": row.int8_tops}
        if row.quota is not None:
            entry["quota"] = row.quota
        out[row.model] = entry
    return out
