"""Platform API profiles: what differs between Hikube (Cozystack v1.1) and Cozystack ≥ 1.4.

Builders and rules read these facts here, in one place, instead of branching on the
profile name themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

# Cozystack v1.1.2 vm-instance values.schema.json, instanceProfile enum.
_V1_1_INSTANCE_PROFILES = frozenset(
    {
        "alpine", "centos.7", "centos.7.desktop", "centos.stream10", "centos.stream10.desktop",
        "centos.stream8", "centos.stream8.desktop", "centos.stream8.dpdk", "centos.stream9",
        "centos.stream9.desktop", "centos.stream9.dpdk", "cirros", "fedora", "fedora.arm64",
        "opensuse.leap", "opensuse.tumbleweed", "rhel.10", "rhel.10.arm64", "rhel.7",
        "rhel.7.desktop", "rhel.8", "rhel.8.desktop", "rhel.8.dpdk", "rhel.9", "rhel.9.arm64",
        "rhel.9.desktop", "rhel.9.dpdk", "rhel.9.realtime", "sles", "ubuntu", "windows.10",
        "windows.10.virtio", "windows.11", "windows.11.virtio", "windows.2k16",
        "windows.2k16.virtio", "windows.2k19", "windows.2k19.virtio", "windows.2k22",
        "windows.2k22.virtio", "windows.2k25", "windows.2k25.virtio", "",
    }
)  # fmt: skip


@dataclass(frozen=True)
class PlatformProfile:
    name: str
    cozystack_version: str
    instance_profiles: frozenset[str] | None
    """Allowed ``instanceProfile`` values; None = any (the platform lists them at run time)."""
    storage_classes: frozenset[str]


PROFILES: dict[str, PlatformProfile] = {
    "hikube": PlatformProfile(
        name="hikube",
        cozystack_version="v1.1.2",
        instance_profiles=_V1_1_INSTANCE_PROFILES,
        storage_classes=frozenset({"replicated", "local"}),
    ),
    "cozystack-1.4": PlatformProfile(
        name="cozystack-1.4",
        cozystack_version="v1.4+",
        instance_profiles=None,
        storage_classes=frozenset({"replicated", "local"}),
    ),
}

# Cozystack app name limits (Helm release name ≤ 53 minus the chart's prefix).
MAX_NAME_LENGTH = {"VMInstance": 41, "VMDisk": 45, "Kubernetes": 42}

# Hikube golden images (cozy-public/vm-image-<name>) and their documented minimum disk
# sizes in GiB (None: Hikube documents no minimum).
GOLDEN_IMAGE_MIN_GIB: dict[str, int | None] = {
    **{f"almalinux-{v}": 11 for v in (8, 9, 10)},
    **{f"rocky-{v}": 11 for v in (8, 9, 10)},
    **{f"centos-stream-{v}": 11 for v in (9, 10)},
    **{f"cloudlinux-{v}": 11 for v in (8, 9)},
    **{f"oracle-{v}": 40 for v in (8, 9, 10)},
    **{f"debian-{v}": 4 for v in (11, 12, 13)},
    "ubuntu-2204": 4,
    "ubuntu-2404": 4,
    "opensuse-156": None,
    "opensuse-160": None,
    "talos-112": None,
}
