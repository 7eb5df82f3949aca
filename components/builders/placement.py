"""Where a GPU workload runs and which resource its pods request.

Shared by the validation rules and the workload builder, so both agree on the
eligible node groups, the resource name and the capacity a node offers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.builders.gpu_sharing import GENERIC_RESOURCE, mig_layout, model_sharing
from components.builders.names import gpu_role, role_label
from components.catalog.gpus import gpu
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.sharing import Sharing
from components.models.workload import GpuWorkloadArgs


def eligible_groups(cluster: GpuKubernetesClusterArgs, workload: GpuWorkloadArgs) -> list[str]:
    """Node groups (sorted) whose nodes carry the workload's model, or the pinned group."""
    names = sorted(n for n, g in cluster.node_groups.items() if workload.model in g.gpus)
    if workload.node_group is not None:
        return [n for n in names if n == workload.node_group]
    return names


def sharing_of(cluster: GpuKubernetesClusterArgs, workload: GpuWorkloadArgs) -> Sharing:
    return model_sharing(cluster).get(workload.model, Sharing())


def mig_profile(cluster: GpuKubernetesClusterArgs, workload: GpuWorkloadArgs) -> str | None:
    """The MIG instance the pods ask for (MIG-shared models only): explicit, or the only one."""
    sharing = sharing_of(cluster, workload)
    if sharing.mig is None:
        return None
    if workload.mig_profile is not None:
        return workload.mig_profile
    layout = mig_layout(workload.model, sharing.mig)
    return next(iter(layout)) if len(layout) == 1 else None


def resource_name(cluster: GpuKubernetesClusterArgs, workload: GpuWorkloadArgs) -> str:
    """``nvidia.com/gpu`` / ``nvidia.com/mig-<profile>`` (generic) or the catalog's name (per-model)."""
    if cluster.resource_naming == "per-model":
        return gpu(workload.model).hikube_resource_name
    profile = mig_profile(cluster, workload)
    return f"nvidia.com/mig-{profile}" if profile else GENERIC_RESOURCE


def per_node(cluster: GpuKubernetesClusterArgs, group: str, workload: GpuWorkloadArgs) -> int:
    """How many of the workload's resource one node of ``group`` offers."""
    gpus = cluster.node_groups[group].gpus.get(workload.model, 0)
    sharing = sharing_of(cluster, workload)
    if sharing.mig is not None:
        profile = mig_profile(cluster, workload)
        return gpus * mig_layout(workload.model, sharing.mig).get(profile or "", 0)
    return gpus * sharing.replicas


def scheduling(cluster: GpuKubernetesClusterArgs, workload: GpuWorkloadArgs) -> dict[str, Any]:
    """Pod spec fields that keep the pods on the eligible groups (by their GPU roles).

    One group: a ``nodeSelector``; several: a required node affinity with one term per group.
    """
    groups = eligible_groups(cluster, workload)
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


def demand(cluster: GpuKubernetesClusterArgs, workload: GpuWorkloadArgs) -> Demand:
    return Demand(resource_name(cluster, workload), workload.gpus_per_pod, workload.replicas)
