"""KubeVirt cluster instance types offered on Hikube (notes: hikube-cozystack.md §7).

u1, m1, cx1 and o1 are upstream ``common-instancetypes`` (tests cross-check them against
the reference copy); s1 is Hikube-specific.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from components.catalog.quantity import GIB, MIB, format_gib


@dataclass(frozen=True)
class Series:
    """A family of instance types (the part before the dot)."""

    name: str
    description: str
    gpu_allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpu: int
    memory_bytes: int

    @property
    def series(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / GIB


SERIES: dict[str, Series] = {
    "u1": Series("u1", "universal, 1:4 vCPU:memory, shared CPU", gpu_allowed=True),
    "s1": Series("s1", "shared/burstable, 1:2 vCPU:memory (Hikube)", gpu_allowed=True),
    "m1": Series("m1", "memory-intensive, 1:8 vCPU:memory, 2Mi hugepages", gpu_allowed=True),
    "cx1": Series(
        "cx1", "compute-exclusive, 1:2 vCPU:memory, dedicated CPU, 2Mi hugepages", gpu_allowed=True
    ),
    "o1": Series(
        "o1",
        "overcommitted memory, 1:4 vCPU:memory",
        gpu_allowed=False,
        reason=(
            "o1 overcommits memory, and VFIO passthrough pins all guest RAM "
            "('cannot limit locked memory'); use the u1 type of the same size"
        ),
    ),
}

_SIZES: dict[str, list[tuple[str, int, int]]] = {
    "u1": [
        ("nano", 1, 512 * MIB),
        ("micro", 1, 1 * GIB),
        ("small", 1, 2 * GIB),
        ("medium", 1, 4 * GIB),
        ("2xmedium", 2, 4 * GIB),
        ("large", 2, 8 * GIB),
        ("xlarge", 4, 16 * GIB),
        ("2xlarge", 8, 32 * GIB),
        ("4xlarge", 16, 64 * GIB),
        ("8xlarge", 32, 128 * GIB),
    ],
    "s1": [
        ("small", 1, 2 * GIB),
        ("medium", 2, 4 * GIB),
        ("large", 4, 8 * GIB),
        ("xlarge", 8, 16 * GIB),
        ("3large", 12, 24 * GIB),
        ("2xlarge", 16, 32 * GIB),
        ("3xlarge", 24, 48 * GIB),
        ("4xlarge", 32, 64 * GIB),
        ("8xlarge", 64, 128 * GIB),
    ],
    "m1": [
        ("large", 2, 16 * GIB),
        ("xlarge", 4, 32 * GIB),
        ("2xlarge", 8, 64 * GIB),
        ("4xlarge", 16, 128 * GIB),
        ("8xlarge", 32, 256 * GIB),
    ],
    "cx1": [
        ("medium", 1, 2 * GIB),
        ("large", 2, 4 * GIB),
        ("xlarge", 4, 8 * GIB),
        ("2xlarge", 8, 16 * GIB),
        ("4xlarge", 16, 32 * GIB),
        ("8xlarge", 32, 64 * GIB),
    ],
    "o1": [
        ("nano", 1, 512 * MIB),
        ("micro", 1, 1 * GIB),
        ("small", 1, 2 * GIB),
        ("medium", 1, 4 * GIB),
        ("large", 2, 8 * GIB),
        ("xlarge", 4, 16 * GIB),
        ("2xlarge", 8, 32 * GIB),
        ("4xlarge", 16, 64 * GIB),
        ("8xlarge", 32, 128 * GIB),
    ],
}

INSTANCE_TYPES: dict[str, InstanceType] = {
    f"{series}.{size}": InstanceType(f"{series}.{size}", vcpu, memory)
    for series, sizes in _SIZES.items()
    for size, vcpu, memory in sizes
}

# Hikube's sizing advice for GPU VMs and GPU nodes.
MIN_VCPU_PER_GPU = 8
MAX_VCPU_PER_GPU = 16
MIN_GPU_VM_MEMORY = 4 * GIB  # "NVIDIA driver requires at least 4 GiB RAM"


def instance_type(name: str) -> InstanceType | None:
    return INSTANCE_TYPES.get(name)


@cache
def _sorted_series(series: str) -> tuple[InstanceType, ...]:
    types = [t for t in INSTANCE_TYPES.values() if t.series == series]
    return tuple(sorted(types, key=lambda t: (t.vcpu, t.memory_bytes)))


def in_series(series: str) -> list[InstanceType]:
    """Instance types of one series, smallest first (by vCPU, then memory)."""
    return list(_sorted_series(series))


def recommended_for(gpu_count: int, series: str = "u1") -> InstanceType | None:
    """The smallest type of ``series`` giving 8-16 vCPU per GPU, or None if none fits."""
    for candidate in in_series(series):
        if MIN_VCPU_PER_GPU * gpu_count <= candidate.vcpu <= MAX_VCPU_PER_GPU * gpu_count:
            return candidate
    return None


def default_for(gpu_count: int) -> InstanceType | None:
    """The default for a GPU VM: the smallest u1 type with at least 8 vCPU per GPU."""
    for candidate in _sorted_series("u1"):
        if candidate.vcpu >= MIN_VCPU_PER_GPU * gpu_count:
            return candidate
    return None


HIKUBE_GPU_SERIES: dict[str, str] = {"u1": "u1", "s1": "s1", "m1": "m1", "cx1": "cx1"}
"""Series a Hikube GPU VM or GPU node may use, each to the series whose sizes it has."""
RAW_GPU_SERIES: dict[str, str] = {"u1": "u1", "d1": "u1"}
"""Series a raw KubeVirt GPU VM may use: universal, or dedicated CPUs with u1's sizes."""


@dataclass(frozen=True)
class Resolution:
    """The instance type a VM or node group runs on, or why there is none."""

    chosen: InstanceType | None
    problem: str = ""


def _choices(series: dict[str, str]) -> str:
    names = list(series)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def resolve_instance_type(
    requested: str | None,
    gpu_count: int,
    *,
    series: dict[str, str] = HIKUBE_GPU_SERIES,
    per: str = "",
    remedy: str = "set instanceType",
    without_gpus: str | None = None,
) -> Resolution:
    """THE instance-type resolver (Hikube VMs, node groups, raw KubeVirt VMs): ``requested``
    when it is a known type of an allowed ``series`` that may host GPUs, else the default
    (``without_gpus`` for a GPU-less group, the smallest u1 type with 8 vCPU per GPU);
    ``Resolution.problem`` says why there is none (``per``: " per node" for node groups)."""
    if requested is not None:
        prefix, _, size = requested.partition(".")
        known = SERIES.get(prefix)
        if gpu_count and known is not None and not known.gpu_allowed:
            return Resolution(None, f"{requested!r} cannot host GPUs: {known.reason}")
        sizes_of = series.get(prefix) if gpu_count else prefix
        chosen = instance_type(f"{sizes_of}.{size}") if sizes_of else None
        if chosen is None:
            hint = "; gn1 types embed their own GPU, use u1 plus gpus" if prefix == "gn1" else ""
            return Resolution(
                None,
                f"unknown instance type {requested!r}; choose a {_choices(series)} type "
                f"(e.g. u1.2xlarge){hint}",
            )
        return Resolution(InstanceType(requested, chosen.vcpu, chosen.memory_bytes))
    if not gpu_count and without_gpus is not None:
        return Resolution(instance_type(without_gpus))
    default = default_for(gpu_count)
    if default is None:
        largest = in_series("u1")[-1]
        return Resolution(
            None,
            f"required for {gpu_count} GPUs{per}: no u1 type has {MIN_VCPU_PER_GPU} vCPU per GPU "
            f"(the largest, {largest.name}, has {largest.vcpu}); {remedy}",
        )
    return Resolution(default)


def gpu_memory_problem(label: str, memory_bytes: int) -> str:
    """Why a GPU VM or node of this size cannot load the NVIDIA driver; empty when it can."""
    if memory_bytes >= MIN_GPU_VM_MEMORY:
        return ""
    return f"{label} has {format_gib(memory_bytes)} of memory; the NVIDIA driver needs at least 4Gi"


def vcpu_advice(label: str, vcpu: int, gpus: int, series: str) -> str:
    """Hikube's 8-16 vCPU per GPU advice when ``label`` is outside it (naming a type that
    fits); empty when it is inside."""
    per_gpu = vcpu / gpus
    if MIN_VCPU_PER_GPU <= per_gpu <= MAX_VCPU_PER_GPU:
        return ""
    fit = recommended_for(gpus, series) or recommended_for(gpus, "u1")
    advice = f"; {fit.name} would fit {gpus} GPU{'s' * (gpus != 1)}" if fit else ""
    return (
        f"{label} gives {per_gpu:g} vCPU per GPU; Hikube recommends "
        f"{MIN_VCPU_PER_GPU}-{MAX_VCPU_PER_GPU}{advice}"
    )
