"""One entry of a Kubernetes app's ``nodeGroups``: always complete, so no chart default leaks in."""

from __future__ import annotations

from typing import Any

from components.builders.vm_instance import gpu_entries
from components.catalog.platform import DEFAULT_NODE_GROUP, KubernetesApp
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.node_group import NodeGroupArgs
from components.resolve.instance_types import NON_GPU_INSTANCE_TYPE, node_instance_type
from components.resolve.names import gpu_role

PLATFORM_DEFAULT_GROUP = NodeGroupArgs(
    instance_type=NON_GPU_INSTANCE_TYPE,
    min_replicas=0,
    max_replicas=10,
    ephemeral_storage="20Gi",
    roles=["ingress-nginx"],
)
"""The ``md0`` group Cozystack v1.1 merges into every cluster (its chart's values.yaml)."""


def node_roles(name: str, group: NodeGroupArgs) -> list[str]:
    """The GPU role first (GPU groups), then the configured roles, without repeats."""
    roles = [gpu_role(name)] if group.gpus else []
    return roles + [role for role in group.roles if role not in roles]


def effective_node_groups(cluster: GpuKubernetesClusterArgs, app: KubernetesApp) -> dict[str, NodeGroupArgs]:
    """The groups the platform will run, by name: the configured ones, plus ``md0`` where the
    platform adds it on its own (so the rendered spec shows it)."""
    groups = dict(cluster.node_groups)
    if app.merges_default_node_group and DEFAULT_NODE_GROUP not in groups:
        groups[DEFAULT_NODE_GROUP] = PLATFORM_DEFAULT_GROUP
    return dict(sorted(groups.items()))


def build_node_group(name: str, group: NodeGroupArgs, app: KubernetesApp) -> dict[str, Any]:
    """The ``nodeGroups.<name>`` object. ``resources``, ``roles`` and ``gpus`` are always present:
    the v1.1 schema requires ``resources`` and the chart would otherwise merge its defaults."""
    instance_type = node_instance_type(group)
    if instance_type is None:  # rules reject this before any builder runs
        raise ValueError(f"node group {name!r} has no instance type")
    return {
        "minReplicas": group.min_replicas,
        "maxReplicas": group.max_replicas,
        "instanceType": instance_type,
        app.node_disk_field: group.ephemeral_storage,
        "roles": node_roles(name, group),
        "resources": {},
        "gpus": gpu_entries(group.gpus),
    }
