"""``GpuOperator``: NVIDIA's GPU Operator on a GPU host cluster, and the mode of each GPU node."""

from collections.abc import Mapping
from types import MappingProxyType

import pulumi

from components.checks import raise_for_errors
from components.checks.gpu_operator import check_operator
from components.inputs import InputArg
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs
from components.plan.platform import plan_operator
from components.plan.types import OPERATOR_TYPE
from components.registration import plan_scope, register_plan
from components.resolve.names import (
    node_patch_resource,
    operator_release_resource,
)

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
    INPUTS = MappingProxyType[str, InputArg]({})
    """No arg takes Outputs: each one shapes the resources or the outputs."""
    SECRET_OUTPUTS = frozenset[str]()

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
        scope, parent = plan_scope()
        planned, outputs = plan_operator(scope, name, args, nodes, parent=parent, provider="")
        registered = register_plan(self, planned)  # exactly the plan: one code path
        self.release = registered[operator_release_resource(name)]
        self.nodes: dict[str, pulumi.CustomResource] = {
            node: registered[node_patch_resource(name, node)] for node in sorted(nodes)
        }
        self.namespace = pulumi.Output.from_input(outputs["namespace"])
        self.chart_version = pulumi.Output.from_input(outputs["chartVersion"])
        self.sandbox_workloads = pulumi.Output.from_input(outputs["sandboxWorkloads"])
        self.register_outputs(
            {
                "namespace": self.namespace,
                "chartVersion": self.chart_version,
                "sandboxWorkloads": self.sandbox_workloads,
            }
        )
