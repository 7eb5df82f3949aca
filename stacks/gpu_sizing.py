"""Sizing advice shared by GPU VMs and GPU node groups: memory for the driver, vCPU per GPU."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.instance_types import (
    MAX_VCPU_PER_GPU,
    MIN_GPU_VM_MEMORY,
    MIN_VCPU_PER_GPU,
    recommended_for,
)
from components.catalog.quantity import format_gib
from stacks.problems import Problem


def gpu_size_problems(
    path: str, *, label: str, vcpu: int, memory_bytes: int, gpus: int, series: str
) -> Iterator[Problem]:
    """An error below 4Gi of memory; a warning outside 8-16 vCPU per GPU, naming a type that fits."""
    if memory_bytes < MIN_GPU_VM_MEMORY:
        yield Problem(
            path, f"{label} has {format_gib(memory_bytes)} of memory; the NVIDIA driver needs at least 4Gi"
        )
    per_gpu = vcpu / gpus
    if not MIN_VCPU_PER_GPU <= per_gpu <= MAX_VCPU_PER_GPU:
        fit = recommended_for(gpus, series) or recommended_for(gpus, "u1")
        advice = f"; {fit.name} would fit {gpus} GPU{'s' * (gpus != 1)}" if fit else ""
        yield Problem(
            path,
            f"{label} gives {per_gpu:g} vCPU per GPU; Hikube recommends "
            f"{MIN_VCPU_PER_GPU}-{MAX_VCPU_PER_GPU}{advice}",
            "warning",
        )
