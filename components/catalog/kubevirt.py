"""KubeVirt facts for GPU passthrough: versions, feature gates, instance types for raw VMs.

Facts: docs/concepts/kubevirt-patch.md; the schema fragments are vendored in tests/upstream/kubevirt.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSIONS = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9")
GPU_GATE_GA = (1, 4)
"""From KubeVirt 1.4 the ``GPU`` gate is GA: ``gpus[]`` work without it, listing it only warns."""
MDEV_CONFIGURATION_FIELD = (1, 8)
"""From 1.8, ``mediatedDevicesConfiguration.enabled`` replaces ``DisableMDEVConfiguration``."""


def parse_version(text: str) -> tuple[int, int] | None:
    """``"1.9"``, ``"v1.9.0"`` → ``(1, 9)``; None when it is not a version."""
    parts = text.strip().lstrip("v").split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        return None
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True)
class FeatureGate:
    name: str
    since: tuple[int, int] = (1, 0)
    ga: tuple[int, int] | None = None
    note: str = ""


FEATURE_GATES: dict[str, FeatureGate] = {
    gate.name: gate
    for gate in (
        FeatureGate("GPU", ga=GPU_GATE_GA, note="GA: gpus[] need no gate"),
        FeatureGate("HostDevices", note="only for domain.devices.hostDevices"),
        FeatureGate("DisableMDEVConfiguration", note="deprecated in 1.8: mediatedDevicesConfiguration"),
        FeatureGate("GPUsWithDRA", since=(1, 6)),
        FeatureGate("HostDevicesWithDRA", since=(1, 6)),
        FeatureGate("VGPULiveMigration", since=(1, 8)),
        FeatureGate("HotplugVolumes"),
        FeatureGate("ExpandDisks"),
        FeatureGate("LiveMigration"),
        FeatureGate("CPUManager"),
        FeatureGate("Snapshot"),
        FeatureGate("VMExport"),
        FeatureGate("AutoResourceLimitsGate"),
        FeatureGate("DataVolumes"),
        FeatureGate("Sidecar"),
        FeatureGate("NUMA"),
    )
}

RAW_VM_SERIES = ("u1", "d1")
"""Instance types a raw GPU VM may use: universal, or dedicated CPUs (same sizes as u1)."""
EVICTION_STRATEGIES = ("None", "LiveMigrateIfPossible", "External")
"""GPU passthrough VMs cannot live-migrate, so ``LiveMigrate`` would block every drain."""
