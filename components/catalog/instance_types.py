"""KubeVirt cluster instance types offered on Hikube (notes: hikube-cozystack.md §7).

u1, m1, cx1 and o1 are upstream ``common-instancetypes`` (tests cross-check them against
the reference copy); s1 is Hikube-specific.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.quantity import GIB, MIB


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


def in_series(series: str) -> list[InstanceType]:
    """Instance types of one series, smallest first (by vCPU, then memory)."""
    types = [t for t in INSTANCE_TYPES.values() if t.series == series]
    return sorted(types, key=lambda t: (t.vcpu, t.memory_bytes))


def recommended_for(gpu_count: int, series: str = "u1") -> InstanceType | None:
    """The smallest type of ``series`` giving 8-16 vCPU per GPU, or None if none fits."""
    for candidate in in_series(series):
        if MIN_VCPU_PER_GPU * gpu_count <= candidate.vcpu <= MAX_VCPU_PER_GPU * gpu_count:
            return candidate
    return None


def default_for(gpu_count: int) -> InstanceType | None:
    """The default for a GPU VM: the smallest u1 type with at least 8 vCPU per GPU."""
    for candidate in in_series("u1"):
        if candidate.vcpu >= MIN_VCPU_PER_GPU * gpu_count:
            return candidate
    return None
