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
        self.outputs: dict[str, Any] = {
            "role": gpu_role(group) if args.gpus else "",
            "nodeSelector": {role_label(gpu_role(group)): ""} if args.gpus else {},
            "instanceType": self.spec["instanceType"],
            "gpusPerNode": {model.value: count for model, count in args.gpus.items()},
            "minGpus": args.min_replicas * gpus_per_node,
            "maxGpus": args.max_replicas * gpus_per_node,
            "sharing": args.sharing.kind,
        }
        self.register_outputs(self.outputs)  # plain values: cheaper for the engine than Outputs

    @property
    def role(self) -> pulumi.Output[str]:
        """The GPU role (``node-role.kubernetes.io/<role>``); empty for groups without GPUs."""
        return pulumi.Output.from_input(self.outputs["role"])

    @property
    def node_selector(self) -> pulumi.Output[dict[str, str]]:
        """A ``nodeSelector`` that keeps pods on this group's nodes."""
        return pulumi.Output.from_input(self.outputs["nodeSelector"])

    @property
    def max_gpus(self) -> pulumi.Output[int]:
        return pulumi.Output.from_input(self.outputs["maxGpus"])
