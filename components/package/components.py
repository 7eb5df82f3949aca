"""The components as Pulumi's component provider host serves them (``provider/``), for
TypeScript, Go, C#, Java and YAML programs.

Each is the Python component of the same name with typed dict args (``typed_args``) and the
host's type token ``hikube-gpu:index:<Class>``; an alias from the Python program's token
(``hikube-gpu:vm:GpuVirtualMachine`` …) keeps the resources of a program that moves to the
package. The args go to the Python component as they come (a map of python names, Outputs
where its ``INPUTS`` take them); it validates them with the same pydantic models and
component checks, and every problem is a ``pulumi.InputPropertiesError`` naming the property.
The context the Python components take as keywords comes as inputs too (``CONTEXT``).
"""

import typing
from typing import Any, NotRequired, Required

import pulumi

from components import gpu_kubernetes_cluster as cluster_module
from components import gpu_node_group as node_group_module
from components import gpu_operator as operator_module
from components import gpu_virtual_machine as vm_module
from components import gpu_workload as workload_module
from components import kubevirt_gpu_passthrough as passthrough_module
from components import kubevirt_gpu_vm as raw_vm_module
from components.checks.issues import Issue, raise_for_errors
from components.inputs import validated
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.cluster import ResourceNaming as ClusterNaming
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs
from components.models.kubevirt import KubeVirtArgs, KubeVirtGpuVmArgs
from components.models.kubevirt import ResourceNaming as KubeVirtNaming
from components.models.node_group import NodeGroupArgs
from components.models.placement import GroupPlacementInput
from components.models.vm import GpuVirtualMachineArgs
from components.models.workload import GpuWorkloadArgs
from components.package.typed_args import typed_dict
from components.tenant import Tenant

PACKAGE = "hikube-gpu"

CONTEXT = {
    "namespace": "The tenant namespace the component's objects go into (``tenant-acme``).",
    "platform": "The platform profile: ``hikube`` (Cozystack v1.1.2, the default) or ``cozystack-1.4``.",
    "group": "The node group's name in its cluster. Default: the resource name.",
    "placement": "The node groups the workload may run on (e.g. what ``GpuNodeGroup``s publish).",
    "object_name": "The name of the workload's Kubernetes objects. Default: the resource name.",
    "nodes": "The workload mode of each GPU node, by node name. Default: none.",
    "operator_manages_vgpu": "The GPU Operator manages vGPU devices (KubeVirt only permits them).",
    "resource_naming": "How GPUs are named: a node group's cluster's ``resourceNaming`` (``generic``, "
    "the default, or ``per-model``); a raw VM's KubeVirt passthrough's (``hikube``, the default, "
    "or ``upstream``).",
}
"""What the args the Python components take as keywords mean, for the schema's descriptions."""


def token(component: str) -> str:
    """The type token the host gives a component: ``hikube-gpu:index:<Class>``."""
    return f"{PACKAGE}:index:{component}"


def _tenant(values: dict[str, Any], component: str, name: str) -> Tenant:
    try:
        return Tenant(values.pop("namespace", None), values.pop("platform", None) or "hikube")
    except ValueError as error:
        path = "platform" if "platform" in str(error) else "namespace"
        raise_for_errors(component, name, [Issue(path, str(error))])
        raise


def _choice(value: Any, choices: Any, component: str, name: str) -> Any:
    """``value`` if it is one of the Literal ``choices`` (default: the first), else an error."""
    allowed = typing.get_args(choices)
    if value is None:
        return allowed[0]
    if value not in allowed:
        raise_for_errors(
            component, name, [Issue("resourceNaming", f"{value!r}: choose {', '.join(allowed)}")]
        )
    return value


def _aliased(opts: pulumi.ResourceOptions | None, old_type: str) -> pulumi.ResourceOptions:
    """``opts`` plus an alias from the Python program's token, so moving keeps the resources."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=old_type)]))


def _args(component: type[pulumi.ComponentResource], model: type[Any], **extra: Any) -> type:
    """Set ``component.__init__``'s ``args`` annotation (what the host analyses) and return it;
    the component's ``INPUTS`` take ``pulumi.Input``s."""
    inputs = getattr(component, "INPUTS", {})
    made = typed_dict(model, extra, name=f"{component.__name__}Args", inputs=inputs)
    component.__init__.__annotations__["args"] = made
    return made


PlacementArgs = typed_dict(GroupPlacementInput, inputs=GroupPlacementInput.model_fields)
"""A workload's ``placement`` item; each of its fields may be an Output (a node group's output)."""


class GpuVirtualMachine(vm_module.GpuVirtualMachine):
    """A Hikube VMInstance with PCI-passthrough GPUs and its VMDisks, in ``namespace``."""

    TYPE = token("GpuVirtualMachine")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        tenant = _tenant(values, "GpuVirtualMachine", name)
        super().__init__(name, values, _aliased(opts, vm_module.TYPE), tenant=tenant)


class GpuKubernetesCluster(cluster_module.GpuKubernetesCluster):
    """A managed Kubernetes cluster with GPU node groups, the GPU Operator and GPU workloads."""

    TYPE = token("GpuKubernetesCluster")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        tenant = _tenant(values, "GpuKubernetesCluster", name)
        super().__init__(name, values, _aliased(opts, cluster_module.TYPE), tenant=tenant)


class GpuNodeGroup(node_group_module.GpuNodeGroup):
    """One node group of a GPU Kubernetes cluster: its spec and where its GPUs are."""

    TYPE = token("GpuNodeGroup")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        group = values.pop("group", None) or name
        platform = _tenant({"namespace": "-", "platform": values.pop("platform", None)}, "GpuNodeGroup", name)
        naming = _choice(values.pop("resource_naming", None), ClusterNaming, "GpuNodeGroup", name)
        model, issues = validated(NodeGroupArgs, values)
        raise_for_errors("GpuNodeGroup", name, issues)
        assert model is not None
        super().__init__(
            name,
            model,
            _aliased(opts, node_group_module.TYPE),
            group=group,
            platform=platform.platform,
            resource_naming=naming,
        )


class GpuWorkload(workload_module.GpuWorkload):
    """A Deployment, Job or StatefulSet requesting GPUs, placed on ``placement`` (the node
    groups' role, GPUs and sharing, e.g. from ``GpuNodeGroup``)."""

    TYPE = token("GpuWorkload")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        placement = values.pop("placement", None)
        object_name = values.pop("object_name", None)
        super().__init__(
            name,
            values,
            _aliased(opts, workload_module.TYPE),
            node_groups=[] if placement is None else placement,
            object_name=object_name,
        )


class GpuOperator(operator_module.GpuOperator):
    """NVIDIA's GPU Operator on a GPU host cluster, and the workload mode of each GPU node."""

    TYPE = token("GpuOperator")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        nodes: dict[str, NodeArgs] = {}
        issues: list[Issue] = []
        for node, spec in (values.pop("nodes", None) or {}).items():
            parsed, problems = validated(NodeArgs, spec, "nodes", node)
            issues += problems
            if parsed is not None:
                nodes[node] = parsed
        model, problems = validated(GpuOperatorArgs, values)
        raise_for_errors("GpuOperator", name, issues + problems)
        assert model is not None
        super().__init__(name, model, _aliased(opts, operator_module.TYPE), nodes=nodes)


class KubeVirtGpuPassthrough(passthrough_module.KubeVirtGpuPassthrough):
    """Permits the catalog's GPUs in the cluster's existing KubeVirt CR (a forced patch)."""

    TYPE = token("KubeVirtGpuPassthrough")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        vgpu = bool(values.pop("operator_manages_vgpu", None))
        model, issues = validated(KubeVirtArgs, values)
        raise_for_errors("KubeVirtGpuPassthrough", name, issues)
        assert model is not None
        super().__init__(name, model, _aliased(opts, passthrough_module.TYPE), operator_manages_vgpu=vgpu)


class KubeVirtGpuVirtualMachine(raw_vm_module.KubeVirtGpuVirtualMachine):
    """A raw KubeVirt VirtualMachine with GPUs and its cloud-init Secret, in ``namespace``."""

    TYPE = token("KubeVirtGpuVirtualMachine")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        naming = _choice(
            values.pop("resource_naming", None), KubeVirtNaming, "KubeVirtGpuVirtualMachine", name
        )
        super().__init__(name, values, _aliased(opts, raw_vm_module.TYPE), naming=naming)


_PLATFORM = NotRequired[str]
_args(GpuVirtualMachine, GpuVirtualMachineArgs, namespace=Required[str], platform=_PLATFORM)
_args(GpuKubernetesCluster, GpuKubernetesClusterArgs, namespace=Required[str], platform=_PLATFORM)
_args(
    GpuNodeGroup, NodeGroupArgs, group=NotRequired[str], platform=_PLATFORM, resource_naming=NotRequired[str]
)
_args(
    GpuWorkload,
    GpuWorkloadArgs,
    placement=Required[list[PlacementArgs]],  # type: ignore[valid-type]
    object_name=NotRequired[str],
)
_args(GpuOperator, GpuOperatorArgs, nodes=NotRequired[dict[str, typed_dict(NodeArgs)]])  # type: ignore[misc]
_args(KubeVirtGpuPassthrough, KubeVirtArgs, operator_manages_vgpu=NotRequired[bool])
_args(KubeVirtGpuVirtualMachine, KubeVirtGpuVmArgs, resource_naming=NotRequired[str])

COMPONENTS: list[type[pulumi.ComponentResource]] = [
    GpuVirtualMachine,
    GpuKubernetesCluster,
    GpuNodeGroup,
    GpuWorkload,
    GpuOperator,
    KubeVirtGpuPassthrough,
    KubeVirtGpuVirtualMachine,
]

# The host reads output descriptions from the source of the class that declares the outputs:
# point it at the Python component's class (same name), where they are written once.
for _served in COMPONENTS:
    _served.__module__ = _served.__mro__[1].__module__
