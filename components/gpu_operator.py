"""``GpuOperator``: NVIDIA's GPU Operator on a GPU host cluster, and the mode of each GPU node."""

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.builders.gpu_operator_release import (
    build_node_patch,
    build_operator_namespace,
    build_operator_release,
    sandbox_enabled,
)
from components.builders.names import (
    node_patch_resource,
    node_read_resource,
    operator_namespace_resource,
    operator_release_resource,
)
from components.checks import raise_for_errors
from components.checks.gpu_operator import check_operator
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs
from components.plan.types import OPERATOR_TYPE
from components.registration import register_manifest

TYPE = OPERATOR_TYPE
RELEASE_TIMEOUT_SECONDS = 1200
"""The driver container compiles or downloads a driver per node: allow 20 minutes."""
FORCE = {"pulumi.com/patchForce": "true"}


class GpuOperator(pulumi.ComponentResource):
    """``<name>-namespace`` (privileged), ``<name>-release`` (``helm.v3.Release``: the chart
    relies on hooks) and one ``<name>-node-<node>`` label patch per node of ``nodes`` (each
    read first), through the host cluster's Kubernetes provider of ``opts``. Invalid args or
    node modes raise ``pulumi.InputPropertiesError`` (``nodes.<node>`` for a node)."""

    namespace: pulumi.Output[str]
    """The operator's namespace."""
    chart_version: pulumi.Output[str]
    """The gpu-operator chart version."""
    sandbox_workloads: pulumi.Output[bool]
    """Whether the operator runs the VM (sandbox) stack on some nodes."""

    TYPE = TYPE

    def __init__(
        self,
        name: str,
        args: GpuOperatorArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        nodes: Mapping[str, NodeArgs] | None = None,
    ) -> None:
        nodes = dict(nodes or {})
        raise_for_errors("GpuOperator", name, check_operator(args, nodes))
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = register_manifest(
            operator_namespace_resource(name), build_operator_namespace(args), child
        )
        chart = build_operator_release(args, nodes)
        self.release = k8s.helm.v3.Release(
            operator_release_resource(name),
            name=chart.name,
            namespace=chart.namespace,
            chart=chart.chart,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            values=chart.values,
            create_namespace=False,
            timeout=RELEASE_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace])),
        )
        self.nodes: dict[str, k8s.core.v1.NodePatch] = {}
        for node in sorted(nodes):
            patch = build_node_patch(node, nodes[node])
            # A NodePatch creates the Node when it is missing (server-side apply, no existence
            # check; pulumi-kubernetes#2194): read it first, so a typo fails instead (P9).
            existing = k8s.core.v1.Node.get(node_read_resource(name, node), node, opts=child)
            self.nodes[node] = k8s.core.v1.NodePatch(
                node_patch_resource(name, node),
                metadata={"name": patch.name, "labels": patch.labels, "annotations": dict(FORCE)},
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=[self.release, existing])
                ),
            )
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.chart_version = pulumi.Output.from_input(chart.version)
        self.sandbox_workloads = pulumi.Output.from_input(sandbox_enabled(args, nodes))
        self.register_outputs(
            {
                "namespace": self.namespace,
                "chartVersion": self.chart_version,
                "sandboxWorkloads": self.sandbox_workloads,
            }
        )
