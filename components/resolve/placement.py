"""Where a GPU workload runs and which resource its pods request.

Shared by the validation rules and the workload builder, so both agree on the
eligible node groups, the resource name and the capacity a node offers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from components.catalog.gpus import GpuModelName, gpu
from components.models.cluster import GpuKubernetesClusterArgs, ResourceNaming
from components.models.sharing import Sharing
from components.models.workload import GpuWorkloadArgs
from components.resolve.names import gpu_role, role_label
from components.resolve.sharing import GENERIC_RESOURCE, mig_layout


@dataclass(frozen=True)
class GroupPlacement:
    """What a workload needs to know of one node group, as plain data (``GpuNodeGroup.placement``)."""

    group: str
    """The group's name in its cluster (``nodeGroup`` of a workload pins it)."""
    gpus: Mapping[GpuModelName, int]
    """GPUs per node, by model."""
    sharing: Sharing = field(default_factory=Sharing)
    """How the group's GPUs are shared."""
    resource_naming: ResourceNaming = "generic"
    """The cluster's device-plugin naming (``generic``: ``nvidia.com/gpu``)."""

    @property
    def role(self) -> str:
        """The GPU role (``gpu-<group>``); its label ``node-role.kubernetes.io/<role>``."""
        return gpu_role(self.group)

    @property
    def node_selector(self) -> dict[str, str]:
        return {role_label(self.role): ""}


Where: TypeAlias = GpuKubernetesClusterArgs | Sequence[GroupPlacement]
"""A cluster's args, or the placement data of the node groups a workload may use."""


def group_placements(where: Where) -> list[GroupPlacement]:
    """The placement data of each node group (the cluster's order)."""
    if not isinstance(where, GpuKubernetesClusterArgs):
        return list(where)
    return [
        GroupPlacement(name, dict(group.gpus), group.sharing, where.resource_naming)
        for name, group in where.node_groups.items()
    ]


def eligible_groups(where: Where, workload: GpuWorkloadArgs) -> list[str]:
    """Node groups (sorted) whose nodes carry the workload's model, or the pinned group."""
    names = sorted(g.group for g in group_placements(where) if workload.model in g.gpus)
    if workload.node_group is not None:
        return [n for n in names if n == workload.node_group]
    return names


def model_sharing(where: Where, model: GpuModelName) -> Sharing:
    """How ``model`` is shared in the cluster: as the first group that shares it alone (the
    operator picks the sharing per model, by its PCI ID: ``gpu_sharing``)."""
    for group in group_placements(where):
        if group.sharing.kind != "none" and set(group.gpus) == {model}:
            return group.sharing
    return Sharing()


def sharing_of(where: Where, workload: GpuWorkloadArgs) -> Sharing:
    """How the workload's model is shared."""
    return model_sharing(where, workload.model)


def mig_profile(where: Where, workload: GpuWorkloadArgs) -> str | None:
    """The MIG instance the pods ask for (MIG-shared models only): explicit, or the only one."""
    sharing = sharing_of(where, workload)
    if sharing.mig is None:
        return None
    if workload.mig_profile is not None:
        return workload.mig_profile
    layout = mig_layout(workload.model, sharing.mig)
    return next(iter(layout)) if len(layout) == 1 else None


def resource_name(where: Where, workload: GpuWorkloadArgs) -> str:
    """``nvidia.com/gpu`` / ``nvidia.com/mig-<profile>`` (generic) or the catalog's name (per-model)."""
    groups = group_placements(where)
    if groups and groups[0].resource_naming == "per-model":
        return gpu(workload.model).hikube_resource_name
    profile = mig_profile(where, workload)
    return f"nvidia.com/mig-{profile}" if profile else GENERIC_RESOURCE


def advertised(placement: GroupPlacement, model: GpuModelName, sharing: Sharing) -> dict[str, int]:
    """What the device plugin of one node of the group publishes for its ``model`` GPUs:
    ``nvidia.com/mig-<profile>`` per MIG instance (strategy ``mixed``, ``chart_mig_strategy``),
    ``nvidia.com/gpu`` times the replicas for time-slicing and MPS, else one per GPU under
    the name pods request (``resource_name``: generic, or the catalog's per-model name)."""
    gpus = placement.gpus.get(model, 0)
    if sharing.mig is not None:
        return {f"nvidia.com/mig-{p}": gpus * n for p, n in mig_layout(model, sharing.mig).items()}
    if sharing.kind == "none" and placement.resource_naming == "per-model":
        return {gpu(model).hikube_resource_name: gpus}
    return {GENERIC_RESOURCE: gpus * sharing.replicas}


def node_resources(where: Where, group: str) -> dict[str, int]:
    """The GPU resources one node of ``group`` publishes (``status.allocatable``), all models."""
    placement = next(g for g in group_placements(where) if g.group == group)
    total: dict[str, int] = {}
    for model in placement.gpus:
        for name, count in advertised(placement, model, model_sharing(where, model)).items():
            total[name] = total.get(name, 0) + count
    return dict(sorted(total.items()))


def per_node(where: Where, group: str, workload: GpuWorkloadArgs) -> int:
    """How many of the workload's resource one node of ``group`` offers (of its model's GPUs)."""
    placement = next(g for g in group_placements(where) if g.group == group)
    offered = advertised(placement, workload.model, sharing_of(where, workload))
    return offered.get(resource_name(where, workload), 0)


def scheduling(where: Where, workload: GpuWorkloadArgs) -> dict[str, Any]:
    """Pod spec fields that keep the pods on the eligible groups (by their GPU roles).

    One group: a ``nodeSelector``; several: a required node affinity with one term per group.
    """
    groups = eligible_groups(where, workload)
    if len(groups) == 1:
        return {"nodeSelector": {role_label(gpu_role(groups[0])): ""}}
    terms = [{"matchExpressions": [{"key": role_label(gpu_role(g)), "operator": "Exists"}]} for g in groups]
    return {
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
        }
    }


@dataclass(frozen=True)
class Demand:
    """What a workload asks for at most: ``pods`` × ``per_pod`` of ``resource``."""

    resource: str
    per_pod: int
    pods: int

    @property
    def total(self) -> int:
        return self.per_pod * self.pods


def demand(where: Where, workload: GpuWorkloadArgs) -> Demand:
    return Demand(resource_name(where, workload), workload.gpus_per_pod, workload.replicas)
