"""NVIDIA's GPU Operator chart: where it lives, the versions this project knows, their keys.

Facts: docs/concepts/workload-modes.md; the values files of the versions
below are vendored in tests/upstream (tests check every emitted key against them).
"""

from __future__ import annotations

from dataclasses import dataclass

CHART = "gpu-operator"
REPOSITORY = "https://helm.ngc.nvidia.com/nvidia"
DEFAULT_NAMESPACE = "gpu-operator"
WORKLOAD_LABEL = "nvidia.com/gpu.workload.config"
WORKLOADS = ("container", "vm-passthrough", "vm-vgpu")
VM_WORKLOADS = ("vm-passthrough", "vm-vgpu")


@dataclass(frozen=True)
class ChartVersion:
    version: str
    sandbox_mode: bool
    """Has ``sandboxWorkloads.mode`` (kubevirt | kata), new in 26.3."""


CHART_VERSIONS: dict[str, ChartVersion] = {
    "v25.10.1": ChartVersion("v25.10.1", sandbox_mode=False),
    "v26.3.1": ChartVersion("v26.3.1", sandbox_mode=True),
    "v26.7.0": ChartVersion("v26.7.0", sandbox_mode=True),
}
DEFAULT_VERSION = "v26.7.0"


def major(version: str) -> int:
    """``v26.7.0`` → 26 (the year-based major of the chart)."""
    return int(version.lstrip("v").split(".", 1)[0])


# Built-in MIG layouts of the mig-manager's default ConfigMap (every MIG-capable GPU has them).
BUILTIN_MIG_CONFIGS = ("all-disabled", "all-enabled", "all-balanced")
