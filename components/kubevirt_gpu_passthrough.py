"""``KubeVirtGpuPassthrough``: permit the catalog's GPUs in the cluster's existing KubeVirt CR."""

import pulumi
import pulumi_kubernetes as k8s

from components.builders.kubevirt_patch import build_kubevirt_patch, permitted_resource_name
from components.builders.names import passthrough_patch_resource
from components.checks import raise_for_errors
from components.checks.kubevirt import check_passthrough
from components.models.kubevirt import KubeVirtArgs
from components.plan.types import PASSTHROUGH_TYPE

TYPE = PASSTHROUGH_TYPE


class KubeVirtGpuPassthrough(pulumi.ComponentResource):
    """``<name>-patch``: a server-side-apply patch (forced: it owns the fields it sets) of
    ``spec.configuration`` in the KubeVirt CR, through the host cluster's provider of ``opts``.
    ``operator_manages_vgpu``: the GPU Operator runs vGPU nodes (the patch then leaves
    mediated devices to it). Invalid args raise ``pulumi.InputPropertiesError``."""

    permitted: pulumi.Output[dict[str, str]]
    """The permitted host-device resource name of each GPU model."""

    TYPE = TYPE

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
        patch = build_kubevirt_patch(args, operator_manages_vgpu)
        self.patch = k8s.apiextensions.CustomResourcePatch(
            passthrough_patch_resource(name),
            api_version=patch.api_version,
            kind=patch.kind,
            metadata={
                "name": patch.name,
                "namespace": patch.namespace,
                "annotations": {"pulumi.com/patchForce": "true"},
            },
            spec=patch.body["spec"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.permitted = pulumi.Output.from_input(
            {model.value: permitted_resource_name(model, args.resource_naming) for model in args.gpus}
        )
        self.register_outputs({"permittedGpus": self.permitted})
