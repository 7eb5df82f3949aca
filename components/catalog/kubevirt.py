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
    """From this version the feature is always on: KubeVirt ignores the gate and warns."""
    deprecated: tuple[int, int] | None = None
    """From this version the gate is deprecated (KubeVirt warns; it goes away later)."""
    note: str = ""


_FEATUREGATE = "kubevirt/kubevirt {tag} pkg/virt-config/featuregate/inactive.go:{line}"

GATE_STATE_SOURCES: dict[str, str] = {
    "GPU": "kubevirt/kubevirt v1.4.0 pkg/virt-config/deprecation/feature-gates.go:88; "
    + _FEATUREGATE.format(tag="v1.6.3", line=108),
    "LiveMigration": "kubevirt/kubevirt v1.0.0 pkg/virt-config/feature-gates.go:75-80; "
    + _FEATUREGATE.format(tag="v1.6.3", line=101),
    "NUMA": "kubevirt/kubevirt v1.4.0 pkg/virt-config/deprecation/feature-gates.go:86; "
    + _FEATUREGATE.format(tag="v1.6.3", line=106),
    "AutoResourceLimitsGate": _FEATUREGATE.format(tag="v1.5.0", line=104)
    + "; "
    + _FEATUREGATE.format(tag="v1.6.3", line=117),
    "VMExport": _FEATUREGATE.format(tag="v1.9.0", line=212),
    "ExpandDisks": _FEATUREGATE.format(tag="v1.9.0", line=227),
    "HotplugVolumes": _FEATUREGATE.format(tag="v1.9.0", line=230),
    "DisableMDEVConfiguration": _FEATUREGATE.format(tag="v1.9.0", line=226),
}
"""Where KubeVirt registers each gate as GA or deprecated (the first tag that does, then the
tag Cozystack v1.1.2 deploys, 1.6.3). KubeVirt's warning for such a gate: "feature gate <name>
is deprecated (feature state is "General Availability"), therefore it can be safely removed
and is redundant" (v1.6.3 ``pkg/virt-config/featuregate/feature-gates.go:47-48``, returned by
the KubeVirt CR's admission webhook, ``pkg/virt-operator/webhooks/kubevirt-update-admitter.go:116-119``)."""

FEATURE_GATES: dict[str, FeatureGate] = {
    gate.name: gate
    for gate in (
        FeatureGate("GPU", ga=GPU_GATE_GA, note="GA: gpus[] need no gate"),
        FeatureGate("HostDevices", note="only for domain.devices.hostDevices"),
        FeatureGate(
            "DisableMDEVConfiguration",
            deprecated=MDEV_CONFIGURATION_FIELD,
            note="deprecated in 1.8: mediatedDevicesConfiguration",
        ),
        FeatureGate("GPUsWithDRA", since=(1, 6)),
        FeatureGate("HostDevicesWithDRA", since=(1, 6)),
        FeatureGate("VGPULiveMigration", since=(1, 8)),
        FeatureGate("HotplugVolumes", deprecated=(1, 9), note="replaced by DeclarativeHotplugVolumes"),
        FeatureGate("ExpandDisks", ga=(1, 9)),
        FeatureGate("LiveMigration", ga=(1, 0)),
        FeatureGate("CPUManager"),
        FeatureGate("Snapshot"),
        FeatureGate("VMExport", ga=(1, 9)),
        FeatureGate("AutoResourceLimitsGate", ga=(1, 5)),
        FeatureGate("DataVolumes"),
        FeatureGate("Sidecar"),
        FeatureGate("NUMA", ga=(1, 4)),
    )
}

RAW_VM_SERIES = ("u1", "d1")
"""Instance types a raw GPU VM may use: universal, or dedicated CPUs (same sizes as u1)."""
EVICTION_STRATEGIES = ("None", "LiveMigrateIfPossible", "External")
"""GPU passthrough VMs cannot live-migrate, so ``LiveMigrate`` would block every drain."""
