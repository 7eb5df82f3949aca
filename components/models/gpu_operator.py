"""Arguments of the NVIDIA GPU Operator on a GPU host cluster (``hikube-gpu:gpuOperator``).

Only settings that exist in every chart version this project knows; each documents its
default. Rules that need the nodes or KubeVirt settings live in ``stacks.validation.platform_rules``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from components.catalog.gpu_operator import DEFAULT_NAMESPACE, DEFAULT_VERSION
from components.catalog.gpus import GpuModelName
from components.models.base import MigInstances, Name, StrictModel
from components.models.sharing import Mps, Sharing, TimeSlicing

Workload = Literal["container", "vm-passthrough", "vm-vgpu"]


class Driver(StrictModel):
    enabled: bool = True
    """Install the NVIDIA driver on container nodes (VM nodes never get one). Default true."""
    version: str | None = None
    """Driver version (a branch such as ``580`` with ``usePrecompiled``). Default: the chart's."""
    use_precompiled: bool = False
    """Use precompiled driver images. Default false."""
    kernel_module_type: Literal["auto", "open", "proprietary"] = "auto"
    """Kernel modules. Default ``auto`` (open on Turing and newer)."""


class SharingConfig(StrictModel):
    """A named device-plugin config for container nodes: time-slicing or MPS."""

    time_slicing: TimeSlicing | None = None
    """Time-slicing. Default: off."""
    mps: Mps | None = None
    """CUDA MPS. Default: off."""

    @model_validator(mode="after")
    def _exactly_one(self) -> SharingConfig:
        if (self.time_slicing is None) == (self.mps is None):
            raise ValueError("set exactly one of timeSlicing and mps")
        return self

    def as_sharing(self) -> Sharing:
        return Sharing(time_slicing=self.time_slicing, mps=self.mps)


class DcgmExporter(StrictModel):
    enabled: bool = True
    """Export GPU metrics of container nodes. Default true."""
    service_monitor: bool = False
    """Create a Prometheus ServiceMonitor (skipped by the operator without the CRD). Default false."""


class VgpuManager(StrictModel):
    """NVIDIA vGPU host driver for ``vm-vgpu`` nodes; its image is licensed and private."""

    enabled: bool = False
    """Deploy the vGPU manager. Default false (on when a node or the default is ``vm-vgpu``)."""
    repository: str = ""
    """Registry path of your vGPU manager image, e.g. ``registry.example.com/nvidia``. Required for vGPU."""
    image: str = "vgpu-manager"
    """Image name. Default ``vgpu-manager``."""
    version: str = ""
    """Image tag (the vGPU host driver version). Required for vGPU."""


class GpuOperatorArgs(StrictModel):
    """The ``nvidia/gpu-operator`` Helm release and how it treats each GPU node."""

    version: str = DEFAULT_VERSION
    """Chart version, pinned. Default ``v26.7.0``."""
    namespace: Name = DEFAULT_NAMESPACE
    """Namespace of the release (created, Pod Security ``privileged``). Default ``gpu-operator``."""
    default_workload: Workload = "container"
    """What nodes without a ``hikube-gpu:nodes`` entry run: ``container`` (pods),
    ``vm-passthrough`` or ``vm-vgpu`` (KubeVirt VMs). Default ``container``."""
    sandbox_workloads: bool | None = None
    """Enable VM workloads (``sandboxWorkloads.enabled``). Default: on when the default or
    any node runs VMs."""
    driver: Driver = Driver()
    """Driver container for container nodes. Default: enabled, chart version."""
    toolkit: bool = True
    """NVIDIA container toolkit on container nodes. Default true."""
    device_plugin: bool = True
    """Device plugin (``nvidia.com/gpu``) on container nodes. Default true."""
    sharing_configs: dict[Name, SharingConfig] = Field(default_factory=dict)
    """Named time-slicing/MPS configs; a container node picks one in ``hikube-gpu:nodes``. Default: none."""
    mig_strategy: Literal["none", "single", "mixed"] = "single"
    """How MIG instances are advertised on container nodes. Default ``single`` (the chart's)."""
    mig_manager: bool = True
    """MIG manager on MIG-capable container nodes. Default true."""
    mig_configs: dict[Name, dict[GpuModelName, dict[str, MigInstances]]] = Field(default_factory=dict)
    """Custom MIG layouts by name, per model (1-7 instances of a profile): ``{half: {A100:
    {3g.40gb: 2}}}``. They replace the built-in layouts (``all-disabled`` stays).
    Default: none (built-ins such as ``all-1g.10gb``)."""
    dcgm_exporter: DcgmExporter = DcgmExporter()
    """GPU metrics. Default: on, no ServiceMonitor."""
    nfd: bool = True
    """Deploy node-feature-discovery (off if the cluster already runs it). Default true."""
    vfio_manager: bool = True
    """Bind GPUs of VM nodes to vfio-pci. Default true."""
    sandbox_device_plugin: bool = True
    """Publish VM nodes' GPUs to KubeVirt. Default true."""
    vgpu_manager: VgpuManager = VgpuManager()
    """vGPU host driver. Default: off."""
    vgpu_device_manager: bool | None = None
    """Create vGPU devices on ``vm-vgpu`` nodes. Default: on when vGPU is used."""
    cdi: bool = True
    """Container Device Interface. Default true."""


_NODE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def _node_name(value: str) -> str:
    if not _NODE_NAME.match(value):
        raise ValueError(f"{value!r} is not a node name (lower-case letters, digits, '-' and '.')")
    return value


NodeName = Annotated[str, AfterValidator(_node_name)]


def _shorthand(value: object) -> object:
    """``gpu-node-1: vm-passthrough`` means ``{workload: vm-passthrough}``."""
    return {"workload": value} if isinstance(value, str) else value


class NodeArgs(StrictModel):
    """How one GPU node is used; nodes not listed run the operator's ``defaultWorkload``."""

    workload: Workload
    """``container``, ``vm-passthrough`` or ``vm-vgpu`` (label ``nvidia.com/gpu.workload.config``).
    Required."""
    sharing: Name | None = None
    """Container nodes: a ``gpuOperator.sharingConfigs`` entry (label ``nvidia.com/device-plugin.config``).
    Default: none (whole GPUs)."""
    mig: str | None = None
    """Container nodes: a MIG layout, built in (``all-1g.10gb``, ``all-balanced``…) or from
    ``gpuOperator.migConfigs`` (label ``nvidia.com/mig.config``).
    Default: the operator's (``all-disabled``)."""


Node = Annotated[NodeArgs, BeforeValidator(_shorthand, json_schema_input_type=NodeArgs | Workload)]
