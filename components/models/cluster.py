"""Arguments of a GPU Kubernetes cluster (``hikube-gpu:clusters.<name>``).

Each field documents its default. Rules that need the platform profile or the whole
stack (versions, quota) live in ``stacks.validation.cluster_rules``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.models.base import KubeCount, Name, StrictModel
from components.models.node_group import NodeGroupArgs
from components.models.workload import GpuWorkloadArgs

ResourceNaming = Literal["generic", "per-model"]


class ControlPlane(StrictModel):
    """The managed control plane (Kamaji). Presets are the platform's ``resourcesPreset`` names."""

    replicas: KubeCount = 2
    """API server replicas, 1 to 2^31-1. Default 2."""
    api_server: str | None = None
    """API server preset. Default: the platform's (``large`` on Hikube)."""
    controller_manager: str | None = None
    """Controller manager preset. Default: the platform's (``micro`` on Hikube)."""
    scheduler: str | None = None
    """Scheduler preset. Default: the platform's (``micro`` on Hikube)."""
    konnectivity: str | None = None
    """Konnectivity server preset. Default: the platform's (``micro`` on Hikube)."""


class Toggle(StrictModel):
    enabled: bool = False
    """Install the add-on. Default false."""


class IngressNginx(StrictModel):
    enabled: bool = False
    """Install ingress-nginx (runs on nodes with role ``ingress-nginx``). Default false."""
    expose_method: Literal["Proxied", "LoadBalancer"] = "Proxied"
    """``Proxied`` (through the tenant's ingress) or ``LoadBalancer``. Default ``Proxied``."""
    hosts: list[str] = Field(default_factory=list)
    """Domains routed to the cluster when Proxied. Default: none."""


class OperatorDriver(StrictModel):
    enabled: bool | None = None
    """Let the operator's driver container install the NVIDIA driver on GPU nodes; false: the
    nodes already have it. Default: true where workers run Ubuntu (Hikube, Cozystack v1.4–v1.5).
    Cozystack v1.6+ runs Talos workers, where the container cannot install it: set false once
    the platform gives its Talos GPU workers the driver (true, or leaving it out with GPU node
    groups, is refused there)."""
    version: str | None = None
    """Driver container version, e.g. ``570.124.06``. Default: the operator chart's. Not on
    Talos workers (Cozystack v1.6+), where no driver container runs."""


class DcgmExporter(StrictModel):
    enabled: bool = True
    """Export GPU metrics (DCGM). Default true."""
    service_monitor: bool = False
    """Create a Prometheus ServiceMonitor (needs the monitoring add-on's CRDs). Default false."""


class GpuOperatorAddon(StrictModel):
    """The platform's GPU Operator add-on, configured through typed values."""

    enabled: bool | None = None
    """Install the GPU Operator. Default: on when any node group has GPUs."""
    driver: OperatorDriver = OperatorDriver()
    """Driver container. Default: the platform's (enabled on Ubuntu workers), the chart's version."""
    dcgm_exporter: DcgmExporter = DcgmExporter()
    """GPU metrics. Default: exporter on, no ServiceMonitor."""


class Addons(StrictModel):
    """Add-ons of the Kubernetes app; every one is rendered explicitly."""

    gpu_operator: GpuOperatorAddon = GpuOperatorAddon()
    """NVIDIA GPU Operator. Default: on when any node group has GPUs."""
    ingress_nginx: IngressNginx = IngressNginx()
    """Ingress controller. Default: off."""
    cert_manager: Toggle = Toggle()
    """cert-manager. Default: off."""
    monitoring_agents: Toggle = Toggle()
    """Metrics and logs shipped to the tenant's monitoring. Default: off."""
    velero: Toggle = Toggle()
    """Backups. Default: off."""
    gateway_api: Toggle = Toggle()
    """Gateway API CRDs. Default: off."""
    fluxcd: Toggle | None = None
    """FluxCD (Hikube / Cozystack v1.1 only). Default: off."""


class GpuKubernetesClusterArgs(StrictModel):
    """A managed Kubernetes cluster with GPU node groups and the workloads that run on it."""

    version: str | None = None
    """Kubernetes minor version, e.g. ``v1.33``. Default: the platform's newest (``v1.35``)."""
    storage_class: Name = "replicated"
    """Default StorageClass inside the cluster. Default ``replicated``."""
    host: str = ""
    """External API hostname. Default: ``<name>.<tenant host>``."""
    control_plane: ControlPlane = ControlPlane()
    """Control plane size. Default: 2 replicas, the platform's presets."""
    node_groups: dict[Name, NodeGroupArgs] = Field(default_factory=dict)
    """Node groups by name. ``md0`` is the platform's system group; when you leave it out
    on Hikube it is rendered with the platform's defaults. Default: none."""
    addons: Addons = Addons()
    """Add-ons. Default: the GPU Operator when a group has GPUs, nothing else."""
    resource_naming: ResourceNaming = "generic"
    """How pods name GPUs: ``generic`` (``nvidia.com/gpu``, or ``nvidia.com/mig-<profile>``, plus
    a node selector) or ``per-model`` (the catalog's name, e.g. ``nvidia.com/AD102GL_L40S``).
    Default ``generic``."""
    workloads: dict[Name, GpuWorkloadArgs] = Field(default_factory=dict)
    """GPU workloads in the cluster by name. Default: none."""

    @property
    def has_gpus(self) -> bool:
        return any(group.gpus for group in self.node_groups.values())

    @property
    def gpu_operator_enabled(self) -> bool:
        enabled = self.addons.gpu_operator.enabled
        return self.has_gpus if enabled is None else enabled
