"""``GpuNodeGroup``: one node group of a GPU Kubernetes cluster, as a unit with its own outputs.

The node group itself is part of the cluster's ``Kubernetes`` spec (Cozystack v1.1 has no
separate node-group object), so this component registers no Kubernetes object: it owns
the group's spec fragment and publishes what workloads need to find its nodes.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.builders.names import gpu_role, role_label
from components.builders.node_group import build_node_group
from components.catalog.platform import KubernetesApp
from components.models.node_group import NodeGroupArgs

TYPE = "hikube-gpu:k8s:GpuNodeGroup"


class GpuNodeGroup(pulumi.ComponentResource):
    """Node group ``group`` of a cluster; ``spec`` is its ``nodeGroups.<group>`` entry."""

    spec: dict[str, Any]

    def __init__(
        self,
        name: str,
        group: str,
        args: NodeGroupArgs,
        *,
        app: KubernetesApp,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        self.spec = build_node_group(group, args, app)
        gpus_per_node = args.gpu_count
        self.role = pulumi.Output.from_input(gpu_role(group) if args.gpus else "")
        self.node_selector = pulumi.Output.from_input({role_label(gpu_role(group)): ""} if args.gpus else {})
        self.instance_type = pulumi.Output.from_input(self.spec["instanceType"])
        self.gpus = pulumi.Output.from_input({model.value: count for model, count in args.gpus.items()})
        self.min_gpus = pulumi.Output.from_input(args.min_replicas * gpus_per_node)
        self.max_gpus = pulumi.Output.from_input(args.max_replicas * gpus_per_node)
        self.sharing = pulumi.Output.from_input(args.sharing.kind)
        self.register_outputs(
            {
                "role": self.role,
                "nodeSelector": self.node_selector,
                "instanceType": self.instance_type,
                "gpusPerNode": self.gpus,
                "minGpus": self.min_gpus,
                "maxGpus": self.max_gpus,
                "sharing": self.sharing,
            }
        )
