"""GPU capacity of a stack: GPUs per model (VMs, node groups min–max–peak), memory, INT8 TOPS, quota.

Node groups count as the platform really runs them (``KubernetesApp.node_group_scale``): on
Cozystack before v1.6 a group starts with two nodes and a roll-out surges by ``maxReplicas``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.catalog.gpus import GPU_MODELS, GpuModelName
from components.catalog.platform import PROFILES
from components.catalog.quota import quota_limit
from stacks.validation.config import TenantStack


@dataclass(frozen=True)
class CapacityRow:
    model: str
    vm_gpus: int
    node_min: int
    node_max: int
    """Outside roll-outs, with the platform's start size (``max(start, maxReplicas)`` nodes)."""
    node_peak: int
    """During a roll-out (``node_max`` plus the surge)."""
    memory_gb: int
    int8_tops: int
    quota: int | None

    @property
    def gpus(self) -> int:
        """The most GPUs the stack may hold: its VMs plus every node group at its peak."""
        return self.vm_gpus + self.node_peak


def capacity(stack: TenantStack) -> list[CapacityRow]:
    """One row per offered model (catalog order); memory and TOPS at the most GPUs."""
    app = PROFILES[stack.platform.profile].kubernetes
    groups = [g for c in stack.clusters.values() for g in c.node_groups.values() if g.gpus]
    scales = [(g, app.node_group_scale(g.min_replicas, g.max_replicas)) for g in groups]
    rows = []
    for key, model in GPU_MODELS.items():
        vm_gpus = sum(vm.gpus.get(key, 0) for vm in stack.vms.values())
        node_min = sum(g.gpus.get(key, 0) * s.min_replicas for g, s in scales)
        node_max = sum(g.gpus.get(key, 0) * s.steady_max for g, s in scales)
        node_peak = sum(g.gpus.get(key, 0) * s.peak for g, s in scales)
        most = vm_gpus + node_peak
        quota = None if stack.quota is None else quota_limit(stack.quota, GpuModelName(key))
        rows.append(
            CapacityRow(
                key.value,
                vm_gpus,
                node_min,
                node_max,
                node_peak,
                most * model.memory_gb,
                most * model.int8_tops,
                quota,
            )
        )
    return rows


def capacity_outputs(
    rows: list[CapacityRow], secret_quota: bool = False
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The ``gpuCapacity`` stack output as plain values, and the paths (model, ``quota``) that
    are secrets: a quota stored as a secret, with ``quotaSecret: true`` so that tables can say so."""
    out: dict[str, Any] = {}
    secrets: list[tuple[str, str]] = []
    for row in rows:
        entry: dict[str, Any] = {
            "vmGpus": row.vm_gpus,
            "nodeGroupGpus": {"min": row.node_min, "max": row.node_max, "peak": row.node_peak},
            "gpus": row.gpus,
            "memoryGB": row.memory_gb,
            "int8Tops": row.int8_tops,
        }
        if row.quota is not None:
            entry["quota"] = row.quota
            if secret_quota:
                entry["quotaSecret"] = True
                secrets.append((row.model, "quota"))
        out[row.model] = entry
    return out, secrets
