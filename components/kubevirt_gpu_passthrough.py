"""``KubeVirtGpuPassthrough``: permit the catalog's GPUs in the cluster's existing KubeVirt CR."""

from types import MappingProxyType

import pulumi

from components.checks import raise_for_errors
from components.checks.kubevirt import check_passthrough
from components.inputs import InputArg
from components.models.kubevirt import KubeVirtArgs
from components.plan.platform import plan_passthrough
from components.plan.types import PASSTHROUGH_TYPE
from components.registration import plan_scope, register_plan
from components.resolve.names import passthrough_patch_resource

TYPE = PASSTHROUGH_TYPE


class KubeVirtGpuPassthrough(pulumi.ComponentResource):
    """``<name>-patch``: a server-side-apply patch (forced: it owns the fields it sets) of
    ``spec.configuration`` in the KubeVirt CR, through the host cluster's provider of ``opts``.
    ``operator_manages_vgpu``: the GPU Operator runs vGPU nodes (the patch then leaves
    mediated devices to it). Invalid args raise ``pulumi.InputPropertiesError``."""

    permitted: pulumi.Output[dict[str, str]]
    """The permitted host-device resource name of each GPU model."""

    TYPE = TYPE
    INPUTS = MappingProxyType[str, InputArg]({})
    """No arg takes Outputs: each one shapes the resources or the outputs."""
    SECRET_OUTPUTS = frozenset[str]()

    def __init__(
        self,
        name: str,
        args: KubeVirtArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        operator_manages_vgpu: bool = False,
    ) -> None:
        issues = check_passthrough(args, operator_manages_vgpu=operator_manages_vgpu)
        raise_for_errors("KubeVirtGpuPassthrough", name, issues)
        super().__init__(self.TYPE, name, None, opts)
        scope, parent = plan_scope()
        planned, outputs = plan_passthrough(
            scope, name, args, parent, "", operator_manages_vgpu=operator_manages_vgpu
        )
        self.patch = register_plan(self, planned)[passthrough_patch_resource(name)]  # exactly the plan
        self.permitted = pulumi.Output.from_input(outputs["permittedGpus"])
        self.register_outputs({"permittedGpus": self.permitted})
