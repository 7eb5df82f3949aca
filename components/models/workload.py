"""Arguments of a GPU workload in a tenant cluster (``…workloads.<name>``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PlainValidator, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from components.catalog.gpus import GpuModelName
from components.models.base import (
    KubeCount,
    KubeCountOrZero,
    Memory,
    Name,
    PodGpuCount,
    Port,
    Quantity,
    StrictModel,
)

WorkloadKind = Literal["Deployment", "Job", "StatefulSet"]

DEFAULT_NAMESPACE = "gpu-workloads"
DEFAULT_USER = 1000


def _text(value: object) -> str | SecretStr:
    """Text, or text the stack stored as a secret (``SecretStr``, set by ``stacks.validation.secrets``)."""
    if isinstance(value, str | SecretStr):
        return value
    raise PydanticCustomError("string_type", "Input should be a valid string")


MaybeSecret = Annotated[str | SecretStr, PlainValidator(_text)]
"""Plain text, or a secret the workload's object registers as a Pulumi secret."""


def reveal(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class Volume(StrictModel):
    """A persistent volume per StatefulSet pod."""

    size: Quantity
    """Requested size, e.g. ``100Gi``. Required."""
    mount_path: str = Field(default="/data", pattern=r"^/\S*$")
    """Where the container sees it. Default ``/data``."""
    storage_class: str | None = None
    """Storage class in the tenant cluster. Default: the cluster's default (``replicated``)."""


class GpuWorkloadArgs(StrictModel):
    """A Deployment, Job or StatefulSet whose pods request GPUs through ``resources.limits``."""

    kind: WorkloadKind = "Deployment"
    """``Deployment`` (serving), ``Job`` (batch, training) or ``StatefulSet``. Default ``Deployment``."""
    image: str = Field(min_length=1, pattern=r"^\S+$")
    """Container image, pinned by tag or digest. Required."""
    gpus: dict[GpuModelName, PodGpuCount] = Field(min_length=1, max_length=1)
    """GPUs per pod (1-112), one model: ``{A100: 1}`` (MIG groups: instances of ``migProfile``). Required."""
    mig_profile: str | None = None
    """MIG instance to request on MIG groups, e.g. ``1g.10gb``. Default: the group's profile
    when it has only one."""
    node_group: Name | None = None
    """Pin the pods to one node group. Default: any group that carries the model."""
    namespace: Name = DEFAULT_NAMESPACE
    """Namespace in the tenant cluster, created with a GPU ResourceQuota. Default ``gpu-workloads``."""
    replicas: KubeCount = 1
    """Pods (Deployment, StatefulSet) or parallel pods (Job), 1 to 2^31-1. Default 1."""
    completions: KubeCount | None = None
    """Job only: successful pods needed, 1 to 2^31-1. Default: ``replicas``."""
    backoff_limit: KubeCountOrZero = 2
    """Job only: retries before the Job fails, 0 to 2^31-1. Default 2."""
    command: list[str] = Field(default_factory=list)
    """Container entrypoint. Default: the image's."""
    args: list[MaybeSecret] = Field(default_factory=list)
    """Container arguments; one stored with ``--secret`` stays a Pulumi secret. Default: the image's."""
    env: dict[str, MaybeSecret] = Field(default_factory=dict)
    """Environment variables; a value stored with ``--secret`` stays a Pulumi secret (values
    kept in a Kubernetes Secret belong in ``envFromSecrets``). Default: none."""
    env_from_secrets: list[Name] = Field(default_factory=list)
    """Secrets in the workload's namespace whose keys become environment variables
    (e.g. an ``HF_TOKEN``); created outside this stack. Default: none."""
    shm_size: Memory | None = None
    """Size of ``/dev/shm`` (a memory-backed volume; counts against ``memory``), for PyTorch
    data loaders and NCCL. Default: the runtime's 64Mi."""
    ports: list[Port] = Field(default_factory=list)
    """TCP ports; a ClusterIP Service exposes them. Default: none."""
    cpu: Quantity | None = None
    """CPU per pod (request = limit). Default: none (no CPU request or limit)."""
    memory: Memory | None = None
    """Memory per pod (request = limit). Default: none (no memory request or limit)."""
    run_as_root: bool = False
    """Run as root for images that need it. Default false: user 1000, non-root enforced."""
    volume: Volume | None = None
    """StatefulSet only: a persistent volume per pod. Default: none."""

    @model_validator(mode="after")
    def _kind_fields(self) -> GpuWorkloadArgs:
        only = {"completions": "Job", "backoff_limit": "Job", "volume": "StatefulSet"}
        for field, kind in only.items():
            if field in self.model_fields_set and self.kind != kind:
                key = type(self).model_fields[field].alias or field
                raise ValueError(f"{key} is only for kind {kind}")
        return self

    @property
    def model(self) -> GpuModelName:
        return next(iter(self.gpus))

    @property
    def gpus_per_pod(self) -> int:
        return next(iter(self.gpus.values()))
