"""The GPU models Hikube offers: one table, everything GPU-related derives from it.

Facts and their sources: docs/reference/catalog.md; the PCI IDs and MIG profiles are checked
against the vendored pci.ids and mig-manager defaults (tests/upstream/SOURCES.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

NVIDIA_PCI_VENDOR = "10DE"


class GpuModelName(StrEnum):
    """The GPU models a stack may ask for (Hikube's offer)."""

    L40S = "L40S"
    A100 = "A100"
    H100 = "H100"


MIG_COMPUTE_SLICES = 7
MIG_MEMORY_SLICES = 8


@dataclass(frozen=True)
class MigProfile:
    """A MIG instance type: ``name`` as in ``nvidia.com/mig-<name>``, ``per_gpu`` = most per GPU.

    ``memory_slices`` counts eighths of the GPU's memory; the compute slices (sevenths)
    are the number before ``g``.
    """

    name: str
    per_gpu: int
    memory_slices: int

    @property
    def compute_slices(self) -> int:
        return int(self.name.split("g.", 1)[0])


@dataclass(frozen=True)
class GpuModel:
    """One row of the GPU table."""

    model: GpuModelName
    architecture: str
    memory_gb: int
    memory_type: str
    int8_tops: int
    use_case: str
    pci_device_id: str
    pci_ids_name: str
    hikube_resource_name: str
    gfd_product: str
    mig_profiles: tuple[MigProfile, ...]
    kubevirt_vgpu: bool
    note: str = ""

    @property
    def pci_vendor_selector(self) -> str:
        """``10DE:26B9``: the KubeVirt ``permittedHostDevices`` selector."""
        return f"{NVIDIA_PCI_VENDOR}:{self.pci_device_id}"

    @property
    def upstream_resource_name(self) -> str:
        """The name NVIDIA's sandbox device plugin publishes by default (from pci.ids)."""
        return sandbox_plugin_resource_name(self.pci_ids_name)

    @property
    def mig_capable(self) -> bool:
        return bool(self.mig_profiles)

    def mig_profile(self, name: str) -> MigProfile | None:
        return next((p for p in self.mig_profiles if p.name == name), None)

    @property
    def nfd_pci_device(self) -> tuple[str, str]:
        """(vendor, device) as node-feature-discovery reports them: ``("10de", "26b9")``."""
        return NVIDIA_PCI_VENDOR.lower(), self.pci_device_id.lower()


def sandbox_plugin_resource_name(pci_ids_name: str) -> str:
    """Apply kubevirt-gpu-device-plugin's naming rule to a pci.ids device name.

    Upper-case; ``/`` and ``.`` become ``_``; whitespace runs become ``_``; characters
    other than ``[A-Za-z0-9_.]`` are dropped: ``AD102GL [L40S]`` → ``nvidia.com/AD102GL_L40S``.
    """
    name = pci_ids_name.upper().replace("/", "_").replace(".", "_")
    name = re.sub(r"\s+", "_", name)
    name = re.sub(r"[^A-Za-z0-9_.]", "", name)
    return f"nvidia.com/{name}"


GPU_MODELS: dict[GpuModelName, GpuModel] = {
    GpuModelName.L40S: GpuModel(
        model=GpuModelName.L40S,
        architecture="Ada Lovelace",
        memory_gb=48,
        memory_type="GDDR6",
        int8_tops=362,
        use_case="Inference, development, prototyping",
        pci_device_id="26B9",
        pci_ids_name="AD102GL [L40S]",
        hikube_resource_name="nvidia.com/AD102GL_L40S",
        gfd_product="NVIDIA-L40S",
        mig_profiles=(),
        kubevirt_vgpu=False,
    ),
    GpuModelName.A100: GpuModel(
        model=GpuModelName.A100,
        architecture="Ampere",
        memory_gb=80,
        memory_type="HBM2e",
        int8_tops=312,
        use_case="ML training, fine-tuning",
        pci_device_id="20B5",
        pci_ids_name="GA100 [A100 PCIe 80GB]",
        hikube_resource_name="nvidia.com/GA100_A100_PCIE_80GB",
        gfd_product="NVIDIA-A100-80GB-PCIe",
        mig_profiles=(
            MigProfile("1g.10gb", 7, 1),
            MigProfile("1g.20gb", 4, 2),
            MigProfile("2g.20gb", 3, 2),
            MigProfile("3g.40gb", 2, 4),
            MigProfile("4g.40gb", 1, 4),
            MigProfile("7g.80gb", 1, 8),
        ),
        kubevirt_vgpu=True,
    ),
    GpuModelName.H100: GpuModel(
        model=GpuModelName.H100,
        architecture="Hopper",
        # Hikube documents 80 GB HBM3; the resource name and PCI ID (10DE:2321, H100 NVL)
        # say 94 GB. We keep Hikube's figure for capacity and say so in the note.
        memory_gb=80,
        memory_type="HBM3",
        int8_tops=1979,
        use_case="LLM, exascale computing, distributed training",
        pci_device_id="2321",
        pci_ids_name="GH100 [H100L 94GB]",
        hikube_resource_name="nvidia.com/H100_94GB",
        gfd_product="NVIDIA-H100-NVL",
        mig_profiles=(
            MigProfile("1g.12gb", 7, 1),
            MigProfile("1g.24gb", 4, 2),
            MigProfile("2g.24gb", 3, 2),
            MigProfile("3g.47gb", 2, 4),
            MigProfile("4g.47gb", 1, 4),
            MigProfile("7g.94gb", 1, 8),
        ),
        kubevirt_vgpu=True,
        note=(
            "Hikube documents 80 GB HBM3, but its resource name says 94 GB and 10DE:2321 "
            "is the H100 NVL (94 GB); Hikube's name is an alias of the plugin's "
            "nvidia.com/GH100_H100L_94GB."
        ),
    ),
}

OFFERED_MODELS: tuple[str, ...] = tuple(m.value for m in GPU_MODELS)


def gpu(model: GpuModelName | str) -> GpuModel:
    """Look up one model; raises ``KeyError`` for a model that is not offered."""
    return GPU_MODELS[GpuModelName(model)]
