"""Arguments of a GPU virtual machine (``hikube-gpu:vms.<name>``).

Each field documents its default. Rules that need the whole stack (quota) or the
platform profile live in ``stacks.validation.rules``; this module only checks what one VM says.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, model_validator

from components.catalog.gpus import GpuModelName
from components.models.base import GpuCount, Memory, Name, Port, Quantity, StrictModel, VcpuCount
from components.models.user_data import cloud_config_problem

ENCRYPTED_PLACEHOLDER = "[encrypted]"
"""Stands for a ``secure:`` config value that only the Pulumi CLI can decrypt."""

SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)

RunStrategy = Literal["Always", "Halted", "Manual", "RerunOnFailure", "Once"]


def _ssh_key(value: SecretStr) -> SecretStr:
    key = value.get_secret_value()
    if key == ENCRYPTED_PLACEHOLDER:
        return value
    if key.split(" ", 1)[0] not in SSH_KEY_TYPES or len(key.split()) < 2:
        # The key itself is never echoed: it is a secret.
        raise ValueError(
            "not an OpenSSH public key: expected '<type> <base64> [comment]' with type one of "
            + ", ".join(SSH_KEY_TYPES)
        )
    return value


SshKey = Annotated[SecretStr, AfterValidator(_ssh_key)]


def _user_data(value: SecretStr) -> SecretStr:
    problem = cloud_config_problem(value.get_secret_value())
    if problem:
        raise ValueError(problem)
    return value


UserData = Annotated[SecretStr, AfterValidator(_user_data)]


def _branch(value: object) -> object:
    """``pulumi config set --path … 580`` stores a number; a branch is text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class DiskSource(StrictModel):
    """What every VMDisk has: a source (golden image or HTTP URL, not both), class and bus."""

    image: str | None = None
    """Hikube golden image name (``ubuntu-2404``, ``rocky-9``…). Default: none."""
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    """HTTP(S) URL of a qcow2/raw image imported by CDI. Default: none."""
    storage_class: Name = "replicated"
    """``replicated`` (survives a node loss) or ``local``. Default ``replicated``."""
    bus: Literal["virtio", "sata", "scsi"] | None = None
    """Disk bus. Default: the instance profile's choice (virtio)."""

    @model_validator(mode="after")
    def _at_most_one_source(self) -> DiskSource:
        if self.image is not None and self.url is not None:
            raise ValueError("set either image or url, not both")
        return self


DEFAULT_IMAGE = "ubuntu-2404"


class SystemDisk(DiskSource):
    """The boot disk, a ``VMDisk`` named ``<vm>-system``; its image is ``ubuntu-2404`` unless
    ``image`` or ``url`` says otherwise (so ``disk: {size: 100Gi}`` keeps the default image)."""

    size: Quantity = "50Gi"
    """Disk size; it can grow later but never shrink. Default ``50Gi``."""
    protect: bool = False
    """Refuse to delete the disk (Pulumi ``protect``). Default ``false`` for the boot disk."""

    @model_validator(mode="before")
    @classmethod
    def _default_image(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("image") is None and data.get("url") is None:
            return {**data, "image": DEFAULT_IMAGE}
        return data


class DataDisk(DiskSource):
    """An extra disk, a ``VMDisk`` named ``<vm>-<disk>``; blank unless image/url is set."""

    size: Quantity
    """Disk size (required)."""
    protect: bool = True
    """Refuse to delete the disk (Pulumi ``protect``). Default ``true``: data survives mistakes."""


class Resources(StrictModel):
    """Explicit CPU and memory, instead of an instance type."""

    cpu: VcpuCount
    """vCPU count, 1-1024 (required)."""
    memory: Memory
    """Memory, e.g. ``32Gi`` (required)."""
    sockets: VcpuCount = 1
    """CPU sockets, 1-1024. Default 1."""


DEFAULT_EXTERNAL_PORTS = (22,)


class External(StrictModel):
    """Expose the VM outside the cluster (a LoadBalancer Service)."""

    method: Literal["PortList", "WholeIP"] = "PortList"
    """``PortList`` forwards ``ports``; ``WholeIP`` gives the VM a whole public IP. Default ``PortList``."""
    ports: list[Port] | None = None
    """TCP ports to forward with ``PortList`` (and that the guest firewall admits). Default ``[22]``."""
    guest_firewall: bool | None = None
    """An nftables firewall in the guest that admits only ``ports`` from outside. Default: on
    with ``PortList`` where the platform does not restrict ports itself (the ``hikube``
    profile, Cozystack v1.1), off elsewhere and with ``WholeIP``; ``true``/``false`` force it."""

    @property
    def admitted_ports(self) -> tuple[int, ...]:
        """``ports`` or the default ``[22]``, sorted and without duplicates."""
        return tuple(sorted(set(self.ports or DEFAULT_EXTERNAL_PORTS)))


class NvidiaDriver(StrictModel):
    """The NVIDIA datacenter driver installed in the guest by cloud-init."""

    install: bool = True
    """Install the driver at first boot. Default ``true``; set ``false`` for images that have one."""
    version: Annotated[str, BeforeValidator(_branch, json_schema_input_type=str | int)] = Field(
        default="580", pattern=r"^[0-9]{3}$"
    )
    """Driver branch (Ubuntu ``nvidia-driver-<version>-server``). Default ``580`` (LTS branch)."""
    kernel_modules: Literal["open", "proprietary"] = "open"
    """``open`` (NVIDIA's recommendation from Turing on) or ``proprietary``. Default ``open``."""


class GpuVirtualMachineArgs(StrictModel):
    """One GPU virtual machine: a ``VMInstance`` with PCI-passthrough GPUs and its disks."""

    gpus: dict[GpuModelName, GpuCount] = Field(min_length=1)
    """GPUs by model, 1-16 each, e.g. ``{L40S: 1}``; ``{A100: 2}`` attaches two A100 (required)."""
    instance_type: str | None = None
    """KubeVirt instance type. Default: the smallest u1 type with 8 vCPU per GPU."""
    resources: Resources | None = None
    """Explicit cpu/memory instead of ``instanceType`` (mutually exclusive). Default: none."""
    instance_profile: str = "ubuntu"
    """KubeVirt preference (OS profile). Default ``ubuntu``."""
    run_strategy: RunStrategy = "Always"
    """``Always``, ``Halted`` (stopped), ``Manual``, ``RerunOnFailure``, ``Once``. Default ``Always``."""
    disk: SystemDisk = SystemDisk(image=DEFAULT_IMAGE)
    """The boot disk. Default ``{image: ubuntu-2404, size: 50Gi, storageClass: replicated}``."""
    data_disks: dict[Name, DataDisk] = Field(default_factory=dict)
    """Extra disks by name. Default: none."""
    ssh_keys: list[SshKey] = Field(default_factory=list)
    """OpenSSH public keys (Pulumi secrets). Default: none."""
    cloud_init: UserData | None = None
    """Your cloud-init user data, merged with the driver installer (a Pulumi secret). Default: none."""
    cloud_init_seed: str = ""
    """Changing it re-runs cloud-init (new SMBIOS UUID). Default ``""``."""
    external: External | None = None
    """Public access. Default: none (cluster-internal only)."""
    nvidia_driver: NvidiaDriver = NvidiaDriver()
    """Guest driver installation. Default: install the 580 open datacenter driver."""
    cpu_model: str = ""
    """libvirt CPU model (``host-passthrough`` helps large-BAR GPUs under EFI). Default ``""``."""
    subnets: list[Name] = Field(default_factory=list)
    """Extra tenant subnets to attach. Default: none."""

    @property
    def gpu_count(self) -> int:
        return sum(self.gpus.values())
