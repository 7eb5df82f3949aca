"""Platform API profiles: what differs between Hikube (Cozystack v1.1), Cozystack v1.4–v1.5 and
Cozystack v1.6 and later.

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
# Cozystack v1.6.0 ``packages/apps/kubernetes/values.schema.json`` ``addons``: fluxcd is still
# there (``main`` dropped it after v1.6).
_V1_6_ADDONS = {**_V1_4_ADDONS, "fluxcd": True}

# Node-group keys of the Kubernetes app's values schema at each profile's first tag; doctor tells
# the profiles apart by them (v1.6.0 added maxUnhealthy and nodeStartupTimeout).
_V1_1_NODE_GROUP_KEYS = frozenset(
    {"ephemeralStorage", "gpus", "instanceType", "maxReplicas", "minReplicas", "resources", "roles"}
)
_V1_4_NODE_GROUP_KEYS = frozenset(
    {"diskSize", "gpus", "instanceType", "kubelet", "maxReplicas", "minReplicas", "resources", "roles"}
    | {"storageClass"}
)
_V1_6_NODE_GROUP_KEYS = _V1_4_NODE_GROUP_KEYS | {"maxUnhealthy", "nodeStartupTimeout"}


@dataclass(frozen=True)
class WorkerOs:
    """The OS of a tenant cluster's worker VMs, and what it leaves to the GPU Operator inside."""

    name: str
    bootstrap: str
    """The Cluster API bootstrap template the chart gives each node group (how tests tell the
    OS from the chart's templates)."""
    operator_driver: bool
    """Whether the GPU Operator's driver container can install the NVIDIA driver on a worker.
    On Talos it cannot: the operator pulls ``<driver image>:<version>-<os ID><VERSION_ID>``
    (gpu-operator v26.3.1 ``controllers/object_controls.go:3355-3358``, ``state_manager.go:656-682``:
    ``…-talosv1.13.6``), a tag NVIDIA does not publish (NVIDIA/gpu-operator#647, #2731); the driver
    comes from the OS image's system extensions, and Cozystack's own Talos values switch the
    driver container off (v1.6.0 ``packages/system/gpu-operator/examples/values-native-talos.yaml:30-34``)."""
    operator_toolkit: bool
    """Whether the GPU Operator's container-toolkit DaemonSet may rewrite the worker's containerd
    configuration. Not on Talos, which owns that configuration and whose NVIDIA extension registers
    the runtime (same ``values-native-talos.yaml:30-34``)."""


UBUNTU = WorkerOs("Ubuntu", "KubeadmConfigTemplate", operator_driver=True, operator_toolkit=True)
TALOS = WorkerOs("Talos", "TalosConfigTemplate", operator_driver=False, operator_toolkit=False)


@dataclass(frozen=True)
class NodeGroupScale:
    """Nodes of one group: as configured, and as the platform really runs them."""

    min_replicas: int
    max_replicas: int
    start: int
    """Nodes right after the group is created or the cluster's release is upgraded."""
    steady_max: int
    """Most nodes outside roll-outs: ``max(start, maxReplicas)``."""
    peak: int
    """Most nodes during a roll-out: ``steady_max`` plus the surge."""

    @property
    def starts_above_min(self) -> bool:
        """The platform runs more nodes than ``minReplicas`` whatever the load."""
        return self.start > self.min_replicas


@dataclass(frozen=True)
class KubernetesApp:
    """What the platform's ``Kubernetes`` app accepts (its ``values.schema.json``)."""

    versions: tuple[str, ...]
    default_version: str
    node_disk_field: str
    """``ephemeralStorage`` (Cozystack v1.1) or ``diskSize`` (v1.4+)."""
    node_group_keys: frozenset[str]
    """The node-group properties of the app's values schema (how doctor recognises the release)."""
    merges_default_node_group: bool
    """True when the chart deep-merges its default ``md0`` group into ``nodeGroups``."""
    addons: dict[str, bool]
    presets: frozenset[str]
    default_presets: dict[str, str]
    """Default ``resourcesPreset`` per control-plane component."""
    gpu_operator_chart: str
    """Version of NVIDIA's chart inside the platform's ``cozy-gpu-operator`` wrapper."""
    gpu_operator_mig_strategy: str
    """The wrapped chart's default ``mig.strategy``: it becomes the device plugin's
    ``MIG_STRATEGY`` and beats every per-config ``flags.migStrategy`` (P4)."""
    node_group_start_replicas: int | None
    """Nodes the chart sets on every render of a node group: ``replicas: 2`` in the
    MachineDeployment before Cozystack v1.6 (cozystack v1.1.2
    ``packages/apps/kubernetes/templates/cluster.yaml:303``; still in v1.4.0 and v1.5.4; removed
    in v1.6.0 for cozystack#3231). None: the group starts at ``minReplicas`` (P2): from v1.6.0 the
    chart leaves ``spec.replicas`` out and Cluster API seeds it from the min-size annotation
    (v1.6.0 ``cluster.yaml:731``, ``752-774``)."""
    rollout_surge_is_max_replicas: bool
    """A roll-out adds up to ``maxReplicas`` new nodes before old ones go (``maxSurge:
    maxReplicas``, ``cluster.yaml:306``; unchanged in v1.6.0)."""
    workers: WorkerOs
    """Ubuntu (kubeadm) workers up to Cozystack v1.5; Talos from v1.6.0 (``cluster.yaml:97-104``
    boots ``openstack-amd64.raw.xz`` of the ``talos.schematicID`` image, bootstrapped by a
    ``TalosConfigTemplate``, ``:793-798``)."""
    loads_gpu_kernel_modules: bool
    """Whether the worker configuration the chart applies loads kernel modules (what NVIDIA's Talos
    extensions need: they ship the modules but load none). False on every version read: at
    v1.6.0 the machine config of ``templates/talos/talos-reconcile-job.yaml:341-448`` has no
    ``kernel.modules`` and the values no setting for it (cozystack#3563); its default schematic is
    vanilla (``values.yaml:287``, ``:294``)."""
    autoscaler_knows_gpus: bool
    """Whether the autoscaler's scale-from-zero template has the group's GPUs and role labels.
    False on every Cozystack version read: only cpu/memory capacity annotations
    (``cluster.yaml:288-300``), so a GPU group at 0 nodes may never scale up for GPU pods (P8)."""

    def node_group_scale(self, min_replicas: int, max_replicas: int) -> NodeGroupScale:
        """What a node group really runs on this platform, from what its config asks."""
        start = self.node_group_start_replicas
        start = min_replicas if start is None else start
        steady = max(start, max_replicas)
        surge = max_replicas if self.rollout_surge_is_max_replicas else 0
        return NodeGroupScale(min_replicas, max_replicas, start, steady, steady + surge)


@dataclass(frozen=True)
class PlatformProfile:
    name: str
    cozystack_version: str
    """The releases it is written for, as messages show them."""
    releases: tuple[tuple[int, int], tuple[int, int] | None]
    """First and last Cozystack minor it fits; last None: every later one too."""
    instance_profiles: frozenset[str] | None
    """Allowed ``instanceProfile`` values; None = any (the platform lists them at run time)."""
    storage_classes: frozenset[str]
    kubernetes: KubernetesApp
    port_list_filters: bool
    """Whether ``externalMethod: PortList`` restricts an external VM to ``externalPorts`` (P3).
    False on Cozystack v1.1: ``packages/apps/vm-instance/templates/service.yaml:9-12`` (v1.1.2)
    sets ``networking.cozystack.io/wholeIP: "true"`` on every external VM, so every guest port
    is public. Conditional on ``externalMethod`` from commit 80631bc91 (first in v1.4.0)."""


PROFILES: dict[str, PlatformProfile] = {
    "hikube": PlatformProfile(
        name="hikube",
        cozystack_version="v1.1.2",
        releases=((1, 1), (1, 1)),
        instance_profiles=_V1_1_INSTANCE_PROFILES,
        storage_classes=frozenset({"replicated", "local"}),
        kubernetes=KubernetesApp(
            versions=("v1.35", "v1.34", "v1.33", "v1.32", "v1.31", "v1.30"),
            default_version="v1.35",
            node_disk_field="ephemeralStorage",
            node_group_keys=_V1_1_NODE_GROUP_KEYS,
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
            gpu_operator_mig_strategy="single",
            node_group_start_replicas=2,
            rollout_surge_is_max_replicas=True,
            workers=UBUNTU,
            loads_gpu_kernel_modules=False,
            autoscaler_knows_gpus=False,
        ),
        port_list_filters=False,
    ),
    "cozystack-1.4": PlatformProfile(
        name="cozystack-1.4",
        cozystack_version="v1.4-v1.5",
        releases=((1, 4), (1, 5)),
        instance_profiles=None,
        storage_classes=frozenset({"replicated", "local"}),
        kubernetes=KubernetesApp(
            versions=("v1.35", "v1.34", "v1.33", "v1.32", "v1.31"),
            default_version="v1.35",
            node_disk_field="diskSize",
            node_group_keys=_V1_4_NODE_GROUP_KEYS,
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
            gpu_operator_mig_strategy="single",
            # The profile covers v1.4 and v1.5, which still hard-code two nodes.
            node_group_start_replicas=2,
            rollout_surge_is_max_replicas=True,
            workers=UBUNTU,
            loads_gpu_kernel_modules=False,
            autoscaler_knows_gpus=False,
        ),
        port_list_filters=True,
    ),
    # Read at cozystack v1.6.0 (764e3041): packages/apps/kubernetes/values.schema.json (versions,
    # presets, add-ons, node-group keys), values.yaml:95 (``nodeGroups: {}``; md0 only when no
    # group is given, templates/_helpers.tpl:120-138), templates/cluster.yaml (no ``replicas``
    # 752-774, ``maxSurge: maxReplicas`` 777, cpu/memory capacity annotations only 739-748),
    # packages/system/gpu-operator/charts/gpu-operator (Chart.yaml v26.3.1, values.yaml:115-116
    # ``mig.strategy: single``), packages/apps/vm-instance (no instanceProfile enum;
    # templates/service.yaml:12 wholeIP only for WholeIP); Talos workers (cluster.yaml:97-104,
    # templates/talos/talos-reconcile-job.yaml).
    "cozystack-1.6": PlatformProfile(
        name="cozystack-1.6",
        cozystack_version="v1.6+",
        releases=((1, 6), None),
        instance_profiles=None,
        storage_classes=frozenset({"replicated", "local"}),
        kubernetes=KubernetesApp(
            versions=("v1.35", "v1.34", "v1.33", "v1.32", "v1.31"),
            default_version="v1.35",
            node_disk_field="diskSize",
            node_group_keys=_V1_6_NODE_GROUP_KEYS,
            merges_default_node_group=False,
            addons=_V1_6_ADDONS,
            presets=frozenset(_LEGACY_PRESETS + _SIZED_PRESETS),
            default_presets={
                "apiServer": "c1.medium",
                "controllerManager": "t1.micro",
                "scheduler": "t1.micro",
                "konnectivity": "t1.micro",
            },
            gpu_operator_chart="v26.3.1",
            gpu_operator_mig_strategy="single",
            node_group_start_replicas=None,
            rollout_surge_is_max_replicas=True,
            workers=TALOS,
            loads_gpu_kernel_modules=False,
            autoscaler_knows_gpus=False,
        ),
        port_list_filters=True,
    ),
}

# The node group the v1.1 chart adds unless ``nodeGroups`` defines ``md0`` (its values.yaml).
DEFAULT_NODE_GROUP = "md0"

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
