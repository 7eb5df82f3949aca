"""The stack configuration: every ``hikube-gpu:*`` key, validated as a whole.

``parse(raw)`` takes the plain dict of config keys (without the ``hikube-gpu:`` prefix)
and returns a ``TenantStack``, or raises ``ConfigError`` listing every structural
problem with its config path. ``stacks.validate`` adds the semantic rules.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, SecretStr, ValidationError

from components.catalog.gpus import GpuModelName
from components.models.base import Name, StrictModel
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.vm import GpuVirtualMachineArgs
from stacks.problems import ConfigError, Problem, config_path, from_validation_error

Profile = Literal["hikube", "cozystack-1.4"]


class Platform(StrictModel):
    """Where the stack deploys (``hikube-gpu:platform``)."""

    profile: Profile = "hikube"
    """Platform API profile: ``hikube`` (Cozystack v1.1) or ``cozystack-1.4``. Default ``hikube``."""
    namespace: Name | None = None
    """Tenant namespace, e.g. ``tenant-acme``. Default: ``kubernetes:namespace`` (required in one of them)."""
    context: str | None = None
    """kubeconfig context. Default: the kubeconfig's current context."""


class TenantStack(StrictModel):
    """A ``tenant`` stack: GPU VMs and GPU Kubernetes clusters in a customer's tenant namespace."""

    kind: Literal["tenant"] = "tenant"
    """Stack kind. Only ``tenant`` is implemented so far. Default ``tenant``."""
    platform: Platform = Platform()
    """Target platform and namespace."""
    kubeconfig: SecretStr | None = None
    """Tenant kubeconfig (set it with ``--secret``). Default: ``kubernetes:kubeconfig``, then KUBECONFIG."""
    quota: dict[GpuModelName, NonNegativeInt] | None = None
    """GPUs this stack may claim, per model; unlisted models get 0. Default: no limit."""
    vms: dict[Name, GpuVirtualMachineArgs] = Field(default_factory=dict)
    """GPU virtual machines by name. Default: none."""
    clusters: dict[Name, GpuKubernetesClusterArgs] = Field(default_factory=dict)
    """GPU Kubernetes clusters (with their node groups and workloads) by name. Default: none."""


def parse(raw: dict[str, object]) -> TenantStack:
    """Structural validation (types, unknown keys, enums); raises ``ConfigError``."""
    if raw.get("kind") == "platform":
        raise ConfigError(
            [Problem(config_path("kind"), "'platform' stacks are not implemented yet; use 'tenant'")]
        )
    try:
        return TenantStack.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(from_validation_error(error, TenantStack)) from None
