"""``GpuNodeGroup``: one node group of a GPU Kubernetes cluster, as a unit with its own outputs.

The node group itself is part of the cluster's ``Kubernetes`` spec (Cozystack v1.1 has no
separate node-group object), so this component registers no Kubernetes object: it owns
the group's spec fragment and publishes what workloads need to find its nodes
(``placement``, which ``GpuWorkload`` takes).
"""

from types import MappingProxyType
from typing import Any

import pulumi

from components.builders.node_group import build_node_group
from components.catalog.platform import PROFILES
from components.checks import raise_for_errors
from components.checks.node_group import check_node_group
from components.inputs import InputArg
from components.models.cluster import ResourceNaming
from components.models.node_group import NodeGroupArgs
from components.outputs import publish
from components.plan.types import NODE_GROUP_TYPE
from components.resolve.placement import GroupPlacement

TYPE = NODE_GROUP_TYPE


class GpuNodeGroup(pulumi.ComponentResource):
    """Node group ``group`` of a cluster (default: the resource name); ``spec`` is its
    ``nodeGroups.<group>`` entry on ``platform``, ``placement`` what a ``GpuWorkload`` needs.
    Invalid args raise ``pulumi.InputPropertiesError``."""

    role: pulumi.Output[str]
    """The GPU role (``node-role.kubernetes.io/<role>``); empty for groups without GPUs."""
    node_selector: pulumi.Output[dict[str, str]]
    """A ``nodeSelector`` that keeps pods on this group's nodes (empty without GPUs)."""
    instance_type: pulumi.Output[str]
    """The nodes' instance type."""
    gpus_per_node: pulumi.Output[dict[str, int]]
    """GPUs per node, by model."""
    min_gpus: pulumi.Output[int]
    """GPUs at minReplicas."""
    max_gpus: pulumi.Output[int]
    """GPUs at maxReplicas."""
    sharing: pulumi.Output[str]
    """How the GPUs are shared: none, timeSlicing, mps or mig."""

    TYPE = TYPE
    INPUTS = MappingProxyType[str, InputArg]({})
    """No arg takes Outputs: each one shapes the resources or the outputs."""
    SECRET_OUTPUTS = frozenset[str]()

    def __init__(
        self,
        name: str,
        args: NodeGroupArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        group: str | None = None,
        platform: str = "hikube",
        resource_naming: ResourceNaming = "generic",
    ) -> None:
        raise_for_errors("GpuNodeGroup", name, check_node_group(args))
        super().__init__(self.TYPE, name, None, opts)
        group = group or name
        self.spec: dict[str, Any] = build_node_group(group, args, PROFILES[platform].kubernetes)
        self.placement = GroupPlacement(group, dict(args.gpus), args.sharing, resource_naming)
        gpus_per_node = args.gpu_count
        publish(
            self,
            {
                "role": self.placement.role if args.gpus else "",
                "node_selector": self.placement.node_selector if args.gpus else {},
                "instance_type": str(self.spec["instanceType"]),
                "gpus_per_node": {m.value: c for m, c in args.gpus.items()},
                "min_gpus": args.min_replicas * gpus_per_node,
                "max_gpus": args.max_replicas * gpus_per_node,
                "sharing": str(args.sharing.kind),
            },
        )
