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


_LEGACY_PRESETS = ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")
_SIZED_PRESETS = tuple(
    f"{series}.{size}"
    for series in ("t1", "c1", "s1", "u1", "m1")
    for size in ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge")
)

# Addons of the Kubernetes app: name → whether it has an ``enabled`` switch.
_V1_1_ADDONS = {
    "certManager": True, "cilium": False, "coredns": False, "fluxcd": True, "gatewayAPI": True,
    "gpuOperator": True, "ingressNginx": True, "monitoringAgents": True, "velero": True,
    "verticalPodAutoscaler": False,
}  # fmt: skip
_V1_4_ADDONS = {
    **{k: v for k, v in _V1_1_ADDONS.items() if k != "fluxcd"},
    "hami": True,
    "ouroboros": True,
}


@dataclass(frozen=True)
class KubernetesApp:
    """What the platform's ``Kubernetes`` app accepts (its ``values.schema.json``)."""

    versions: tuple[str, ...]
    default_version: str
    node_disk_field: str
    """``ephemeralStorage`` (Cozystack v1.1) or ``diskSize`` (v1.4+)."""
    merges_default_node_group: bool
    """True when the chart deep-merges its default ``md0`` group into ``nodeGroups``."""
    addons: dict[str, bool]
    presets: frozenset[str]
    default_presets: dict[str, str]
    """Default ``resourcesPreset`` per control-plane component."""
    gpu_operator_chart: str
    """Version of NVIDIA's chart inside the platform's ``cozy-gpu-operator`` wrapper."""


@dataclass(frozen=True)
class PlatformProfile:
    name: str
    cozystack_version: str
    instance_profiles: frozenset[str] | None
    """Allowed ``instanceProfile`` values; None = any (the platform lists them at run time)."""
    storage_classes: frozenset[str]
    kubernetes: KubernetesApp


PROFILES: dict[str, PlatformProfile] = {
    "hikube": PlatformProfile(
        name="hikube",
        cozystack_version="v1.1.2",
        instance_profiles=_V1_1_INSTANCE_PROFILES,
        storage_classes=frozenset({"replicated", "local"}),
        kubernetes=KubernetesApp(
            versions=("v1.35", "v1.34", "v1.33", "v1.32", "v1.31", "v1.30"),
            default_version="v1.35",
            node_disk_field="ephemeralStorage",
            merges_default_node_group=True,
            addons=_V1_1_ADDONS,
            presets=frozenset(_LEGACY_PRESETS),
            default_presets={
                "apiServer": "large",
                "controllerManager": "micro",
                "scheduler": "micro",
                "konnectivity": "micro",
            },
            gpu_operator_chart="v25.3.0",
        ),
    ),
    "cozystack-1.4": PlatformProfile(
        name="cozystack-1.4",
        cozystack_version="v1.4+",
        instance_profiles=None,
        storage_classes=frozenset({"replicated", "local"}),
        kubernetes=KubernetesApp(
            versions=("v1.35", "v1.34", "v1.33", "v1.32", "v1.31"),
            default_version="v1.35",
            node_disk_field="diskSize",
            merges_default_node_group=False,
            addons=_V1_4_ADDONS,
            presets=frozenset(_LEGACY_PRESETS + _SIZED_PRESETS),
            default_presets={
                "apiServer": "c1.medium",
                "controllerManager": "t1.micro",
                "scheduler": "t1.micro",
                "konnectivity": "t1.micro",
            },
            gpu_operator_chart="v26.3.1",
        ),
    ),
}

# The node group the v1.1 chart adds unless ``nodeGroups`` defines ``md0`` (its values.yaml).
DEFAULT_NODE_GROUP = "md0"


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
