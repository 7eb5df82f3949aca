"""Sizing problems shared by GPU node groups and raw GPU VMs, as stack ``Problem``s.

The facts and messages live in ``components.catalog.instance_types`` (``gpu_memory_problem``,
``vcpu_advice``); this only gives them a config path and a severity.
"""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.instance_types import gpu_memory_problem, vcpu_advice
from stacks.problems import Problem


def gpu_size_problems(
    path: str, *, label: str, vcpu: int, memory_bytes: int, gpus: int, series: str
) -> Iterator[Problem]:
    """An error below 4Gi of memory; a warning outside 8-16 vCPU per GPU, naming a type that fits."""
    memory = gpu_memory_problem(label, memory_bytes)
    if memory:
        yield Problem(path, memory)
    advice = vcpu_advice(label, vcpu, gpus, series)
    if advice:
        yield Problem(path, advice, "warning")
