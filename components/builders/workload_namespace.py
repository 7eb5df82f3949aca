"""A namespace per workload group, with a ResourceQuota sized to what its workloads ask for."""

from __future__ import annotations

from collections import Counter

from components.builders.manifest import MANAGED_BY, Manifest
from components.models.cluster import GpuKubernetesClusterArgs
from components.resolve.names import quota_name
from components.resolve.placement import demand


def namespace_demand(cluster: GpuKubernetesClusterArgs, namespace: str) -> dict[str, int]:
    """GPU resources the namespace's workloads ask for at most, by resource name (sorted)."""
    totals: Counter[str] = Counter()
    for workload in cluster.workloads.values():
        if workload.namespace == namespace:
            need = demand(cluster, workload)
            totals[need.resource] += need.total
    return dict(sorted(totals.items()))


def build_namespace(cluster: GpuKubernetesClusterArgs, namespace: str) -> list[Manifest]:
    """The Namespace (Pod Security ``restricted`` unless a workload runs as root) and its quota."""
    as_root = any(w.run_as_root for w in cluster.workloads.values() if w.namespace == namespace)
    level = "baseline" if as_root else "restricted"
    labels = {**MANAGED_BY, "pod-security.kubernetes.io/enforce": level}
    hard = {
        f"requests.{resource}": str(count) for resource, count in namespace_demand(cluster, namespace).items()
    }
    return [
        Manifest("v1", "Namespace", namespace, "", labels, {}),
        Manifest(
            "v1",
            "ResourceQuota",
            quota_name(namespace),
            namespace,
            dict(MANAGED_BY),
            {"spec": {"hard": hard}},
        ),
    ]


def workload_namespaces(cluster: GpuKubernetesClusterArgs) -> list[str]:
    return sorted({w.namespace for w in cluster.workloads.values()})
