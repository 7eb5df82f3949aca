"""The stack configuration: every ``hikube-gpu:*`` key, validated as a whole.

``parse(raw)`` takes the plain dict of config keys (without the ``hikube-gpu:`` prefix)
and returns a ``TenantStack``, or raises ``ConfigError`` listing every structural
problem with its config path. ``stacks.validation.validate`` adds the semantic rules.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError

from components.catalog.gpus import GpuModelName
from components.models.base import Name, NotBoolean, StrictModel
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.gpu_operator import GpuOperatorArgs, Node, NodeName
from components.models.kubevirt import KubeVirtArgs, KubeVirtGpuVmArgs
from components.models.vm import GpuVirtualMachineArgs
from stacks.loading.limits import MAX_STACK_OBJECTS
from stacks.loading.problems import ConfigError, Problem, config_path, from_validation_error

Profile = Literal["hikube", "cozystack-1.4", "cozystack-1.6"]

MAX_QUOTA = 2**53 - 1
"""JSON numbers are exact up to 2^53-1; a GPU quota never comes near it."""
QuotaCount = Annotated[int, Field(ge=0, le=MAX_QUOTA), NotBoolean]


def _api_server(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or value != value.strip():
        raise ValueError(
            "not an API server URL: write it as the kubeconfig does, e.g. https://api.example:6443"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL holds credentials; name the server only (https://host:port)")
    if parts.query or parts.fragment:
        raise ValueError("an API server URL has no query or fragment")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError("the port is not a number from 0 to 65535") from None
    return value


ApiServer = Annotated[str, AfterValidator(_api_server)]
"""An API server URL as a kubeconfig's ``clusters[].cluster.server`` names it."""


class Platform(StrictModel):
    """Where the stack deploys (``hikube-gpu:platform``)."""

    profile: Profile = "hikube"
    """Platform API profile: ``hikube`` (Cozystack v1.1), ``cozystack-1.4`` (v1.4 and v1.5) or
    ``cozystack-1.6`` (v1.6 and later). Default ``hikube``."""
    namespace: Name | None = None
    """Tenant namespace, e.g. ``tenant-acme`` (platform stacks: the raw VMs' namespace).
    Default: ``kubernetes:namespace`` (tenant stacks require one of them)."""
    context: str | None = None
    """kubeconfig context. Default: the kubeconfig's current context."""
    api_server: ApiServer | None = None
    """The cluster this stack belongs to: its API server URL as the kubeconfig names it, e.g.
    ``https://api.hikube.example:6443``. ``pulumi preview``, ``pulumi up``, ``hikube-gpu
    up`` and ``doctor`` refuse to run when the credential they use reaches another server.
    Default: none (a warning says how to record it)."""


class TenantStack(StrictModel):
    """A ``tenant`` stack: GPU VMs and GPU Kubernetes clusters in a customer's tenant namespace."""

    kind: Literal["tenant"] = "tenant"
    """Stack kind: ``tenant`` or ``platform``. Default ``tenant``."""
    platform: Platform = Platform()
    """Target platform and namespace."""
    kubeconfig: SecretStr | None = None
    """Tenant kubeconfig (set it with ``--secret``). Default: ``kubernetes:kubeconfig``, then KUBECONFIG."""
    quota: dict[GpuModelName, QuotaCount] | None = None
    """GPUs this stack may claim, per model (0 to 2^53-1); unlisted models get 0. Default: no limit."""
    vms: dict[Name, GpuVirtualMachineArgs] = Field(default_factory=dict)
    """GPU virtual machines by name. Default: none."""
    clusters: dict[Name, GpuKubernetesClusterArgs] = Field(default_factory=dict)
    """GPU Kubernetes clusters (with their node groups and workloads) by name. Default: none."""


class PlatformStack(StrictModel):
    """A ``platform`` stack: how a GPU host cluster exposes its GPUs (operator, KubeVirt, nodes)."""

    kind: Literal["platform"]
    """Stack kind (``platform``). Required for platform stacks."""
    platform: Platform = Platform()
    """Host cluster access (``context``) and the raw VMs' default namespace."""
    kubeconfig: SecretStr | None = None
    """Host cluster kubeconfig (set it with ``--secret``).
    Default: ``kubernetes:kubeconfig``, then KUBECONFIG."""
    gpu_operator: GpuOperatorArgs = GpuOperatorArgs()
    """The NVIDIA GPU Operator release. Default: chart v26.7.0, container workloads."""
    kubevirt: KubeVirtArgs | None = None
    """GPUs KubeVirt may pass through to VMs. Default: KubeVirt is left alone."""
    nodes: dict[NodeName, Node] = Field(default_factory=dict)
    """GPU nodes by name: their workload mode and, for container nodes, sharing and MIG layout.
    Default: none (every node runs ``gpuOperator.defaultWorkload``)."""
    vms: dict[Name, KubeVirtGpuVmArgs] = Field(default_factory=dict)
    """Raw KubeVirt GPU VMs by name (clusters without Cozystack apps). Default: none."""


Stack = TenantStack | PlatformStack


def parse(raw: dict[str, object]) -> Stack:
    """Structural validation (types, unknown keys, enums) for the stack's kind; raises ``ConfigError``."""
    kind = raw.get("kind", "tenant")
    model: type[TenantStack] | type[PlatformStack]
    if kind == "platform":
        model = PlatformStack
    elif kind == "tenant":
        model = TenantStack
    else:
        raise ConfigError(
            [Problem(config_path("kind"), f"{kind!r} is not a stack kind; choose tenant, platform")]
        )
    _check_size(raw)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(from_validation_error(error, model)) from None


def _entries(value: object) -> int:
    return len(value) if isinstance(value, dict) else 0


def stack_objects(raw: dict[str, object]) -> dict[str, int]:
    """Objects the raw config names, by top-level key: VMs, nodes, and clusters with their
    node groups and workloads."""
    clusters = raw.get("clusters")
    inside = sum(
        _entries(cluster.get("nodeGroups")) + _entries(cluster.get("workloads"))
        for cluster in (clusters.values() if isinstance(clusters, dict) else ())
        if isinstance(cluster, dict)
    )
    return {
        "vms": _entries(raw.get("vms")),
        "nodes": _entries(raw.get("nodes")),
        "clusters": _entries(clusters) + inside,
    }


def _check_size(raw: dict[str, object]) -> None:
    """Refuse a stack past ``MAX_STACK_OBJECTS`` before validating it (docs/limits.md); the
    problem sits at the key that names the most."""
    counts = stack_objects(raw)
    total = sum(counts.values())
    if total > MAX_STACK_OBJECTS:
        key = max(counts, key=lambda name: counts[name])
        raise ConfigError(
            [
                Problem(
                    config_path(key),
                    f"the stack names {total:,} VMs, clusters, node groups, workloads and nodes; "
                    f"a stack has at most {MAX_STACK_OBJECTS:,} (docs/limits.md); split it into stacks",
                )
            ]
        )
