"""Arguments of KubeVirt GPU passthrough (``hikube-gpu:kubevirt``) and raw KubeVirt GPU VMs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from components.catalog.gpus import GpuModelName
from components.models.base import GpuCount, Name, Quantity, StrictModel
from components.models.vm import NvidiaDriver, RunStrategy, SshKey, UserData

ResourceNaming = Literal["hikube", "upstream"]


class VgpuProfile(StrictModel):
    """A vGPU type KubeVirt may hand to VMs (``mediatedDevices``)."""

    model: GpuModelName
    """The GPU it is carved from. Required."""
    type: str = Field(pattern=r"^\S.*\S$")
    """The mdev type name as the node shows it (``mdev_type/name``), e.g. ``NVIDIA A100D-40C``. Required."""


class KubeVirtArgs(StrictModel):
    """Which GPUs KubeVirt may give to VMs, patched into the existing ``KubeVirt`` CR."""

    version: str
    """KubeVirt minor version of the cluster, e.g. ``1.9`` (gates differ by version). Required."""
    namespace: Name = "cozy-kubevirt"
    """Namespace of the KubeVirt CR. Default ``cozy-kubevirt`` (Cozystack)."""
    name: Name = "kubevirt"
    """Name of the KubeVirt CR. Default ``kubevirt``."""
    gpus: list[GpuModelName] = Field(min_length=1)
    """GPU models to permit for PCI passthrough. Required."""
    resource_naming: ResourceNaming = "hikube"
    """``hikube`` (Hikube's names, e.g. ``nvidia.com/H100_94GB``) or ``upstream`` (the names the
    sandbox device plugin derives from pci.ids). Default ``hikube``."""
    vgpu_profiles: list[VgpuProfile] = Field(default_factory=list)
    """vGPU types to permit (``mediatedDevices``). Default: none."""
    feature_gates: list[str] = Field(default_factory=list)
    """Feature gates the cluster already enables. The patch owns the whole list, so name
    them all; the gates GPUs need are added. Default: none (the list is left alone unless a
    gate is needed)."""

    @field_validator("gpus")
    @classmethod
    def _unique(cls, value: list[GpuModelName]) -> list[GpuModelName]:
        if len(set(value)) != len(value):
            raise ValueError("lists a model twice")
        return value


class RawDisk(StrictModel):
    """The VM's root disk, imported by CDI into a DataVolume."""

    url: str = Field(
        default="https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img",
        pattern=r"^https?://\S+$",
    )
    """Image to import. Default: Ubuntu 24.04 cloud image."""
    size: Quantity = "50Gi"
    """Disk size. Default ``50Gi``."""
    storage_class: str | None = None
    """Storage class. Default: the cluster's default."""


class KubeVirtGpuVmArgs(StrictModel):
    """A ``kubevirt.io/v1`` VirtualMachine with passed-through GPUs, for clusters without Cozystack apps."""

    namespace: Name | None = None
    """Namespace. Default: ``hikube-gpu:platform.namespace``."""
    instance_type: str | None = None
    """A u1 or d1 cluster instance type. Default: the smallest u1 type with 8 vCPU per GPU."""
    preference: str = "ubuntu"
    """Cluster preference (guest OS defaults). Default ``ubuntu``."""
    gpus: dict[GpuModelName, GpuCount] = Field(min_length=1)
    """GPUs by model (1-16 each): ``{L40S: 1}``. Required."""
    run_strategy: RunStrategy = "Always"
    """``Always``, ``Halted``, ``Manual``, ``RerunOnFailure`` or ``Once``. Default ``Always``."""
    eviction_strategy: str = "None"
    """On node drain: ``None`` (stop), ``LiveMigrateIfPossible`` or ``External``. Default ``None``."""
    cpu_model: str | None = "host-passthrough"
    """Guest CPU model; ``host-passthrough`` gives OVMF the address bits large-BAR GPUs need.
    Default ``host-passthrough``."""
    disk: RawDisk = RawDisk()
    """Root disk. Default: Ubuntu 24.04, 50Gi."""
    ssh_keys: list[SshKey] = Field(default_factory=list)
    """SSH public keys (secret). Default: none."""
    cloud_init: UserData | None = None
    """Your cloud-init user data (secret). Default: none."""
    nvidia_driver: NvidiaDriver = NvidiaDriver()
    """Guest driver installed by cloud-init. Default: on, 580 server branch."""

    @property
    def gpu_count(self) -> int:
        return sum(self.gpus.values())

    @property
    def secrets(self) -> list[SecretStr]:
        return [*self.ssh_keys, *([self.cloud_init] if self.cloud_init else [])]
