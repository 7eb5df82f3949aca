"""What each cluster offers and asks for, as plain data (the ``clusters`` stack output)."""

from __future__ import annotations

from typing import Any

from components.builders.node_group import effective_node_groups
from components.catalog.platform import KubernetesApp
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.node_group import NodeGroupArgs
from components.resolve.instance_types import node_instance_type
from components.resolve.names import kubeconfig_secret_name
from components.resolve.placement import demand, eligible_groups
from components.resolve.sharing import mig_layout


def describe_sharing(group: NodeGroupArgs) -> str:
    """``none``, ``timeSlicing x4``, ``mps x2`` or ``mig 1g.10gb x2 + 3g.40gb``."""
    sharing = group.sharing
    if sharing.mig is not None and len(group.gpus) == 1:
        layout = mig_layout(next(iter(group.gpus)), sharing.mig)
        return "mig " + " + ".join(f"{p} x{n}" if n > 1 else p for p, n in layout.items())
    if sharing.kind in ("timeSlicing", "mps"):
        return f"{sharing.kind} x{sharing.replicas}"
    return "none"


def summarize(cluster: GpuKubernetesClusterArgs, name: str, app: KubernetesApp) -> dict[str, Any]:
    groups = {}
    for group_name, group in effective_node_groups(cluster, app).items():
        scale = app.node_group_scale(group.min_replicas, group.max_replicas)
        groups[group_name] = {
            "instanceType": node_instance_type(group) or "",
            "gpusPerNode": {model.value: count for model, count in group.gpus.items()},
            "minReplicas": group.min_replicas,
            "maxReplicas": group.max_replicas,
            "platformNodes": {"start": scale.start, "max": scale.steady_max, "peak": scale.peak},
            "sharing": describe_sharing(group),
        }
    workloads = {}
    for workload_name in sorted(cluster.workloads):
        workload = cluster.workloads[workload_name]
        need = demand(cluster, workload)
        workloads[workload_name] = {
            "kind": workload.kind,
            "namespace": workload.namespace,
            "gpuResource": need.resource,
            "perPod": need.per_pod,
            "pods": need.pods,
            "nodeGroups": eligible_groups(cluster, workload),
        }
    return {
        "kubeconfigSecret": kubeconfig_secret_name(name),
        "resourceNaming": cluster.resource_naming,
        "nodeGroups": groups,
        "workloads": workloads,
    }
