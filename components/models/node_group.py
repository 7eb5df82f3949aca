"""Arguments of one node group of a GPU Kubernetes cluster (``…nodeGroups.<name>``)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from components.catalog.gpus import GpuModelName
from components.models.base import GpuCount, NodeCount, Quantity, StrictModel
from components.models.sharing import Sharing

_ROLE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def _role(value: str) -> str:
    if not _ROLE.match(value):
        raise ValueError(
            f"{value!r} is not a valid role: it becomes the label node-role.kubernetes.io/{value}, "
            "so use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )
    return value


Role = Annotated[str, AfterValidator(_role)]


class NodeGroupArgs(StrictModel):
    """A group of identical worker VMs, scaled by the cluster autoscaler between min and max."""

    instance_type: str | None = None
    """Worker VM type. Default: for GPU groups the smallest u1 type with 8 vCPU per GPU
    (``u1.2xlarge`` for one GPU), otherwise ``u1.medium``."""
    gpus: dict[GpuModelName, GpuCount] = Field(default_factory=dict)
    """GPUs passed through to each node, by model (1-16 each): ``{A100: 1}``. Default: none."""
    min_replicas: NodeCount = 0
    """Fewest nodes, 0-5000. Default 0 (the autoscaler adds nodes when pods wait)."""
    max_replicas: NodeCount = 10
    """Most nodes (0-5000); the stack's GPU quota counts GPU groups at this size. Default 10."""
    ephemeral_storage: Quantity = "20Gi"
    """Each node's disk for kubelet and images (``diskSize`` on Cozystack ≥ 1.4). Default ``20Gi``."""
    roles: list[Role] = Field(default_factory=list)
    """Extra roles (``node-role.kubernetes.io/<role>`` labels). GPU groups always get
    ``gpu-<group>`` too. Default: none (``md0`` gets ``ingress-nginx``)."""
    sharing: Sharing = Sharing()
    """How pods share this group's GPUs. Default: whole GPUs, no sharing."""

    @property
    def gpu_count(self) -> int:
        return sum(self.gpus.values())
