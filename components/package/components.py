"""The components as Pulumi's component provider host serves them (``provider/``), for
TypeScript, Go, C#, Java and YAML programs.

Each is the Python component of the same name with typed dict args (``typed_args``) and the
host's type token ``hikube-gpu:index:<Class>``; an alias from the Python program's token
(``hikube-gpu:vm:GpuVirtualMachine`` …) keeps the resources of a program that moves to the
package. Args are validated by the same pydantic models and component checks; every problem
is a ``pulumi.InputPropertiesError`` naming the property.
"""

import re
import typing
from typing import Any, NotRequired, Required, TypedDict, TypeVar

import pulumi
from pydantic import BaseModel, ValidationError

from components import gpu_kubernetes_cluster as cluster_module
from components import gpu_node_group as node_group_module
from components import gpu_operator as operator_module
from components import gpu_virtual_machine as vm_module
from components import gpu_workload as workload_module
from components import kubevirt_gpu_passthrough as passthrough_module
from components import kubevirt_gpu_vm as raw_vm_module
from components.builders.placement import GroupPlacement
from components.catalog.gpus import GpuModelName
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.cluster import ResourceNaming as ClusterNaming
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs
from components.models.kubevirt import KubeVirtArgs, KubeVirtGpuVmArgs
from components.models.kubevirt import ResourceNaming as KubeVirtNaming
from components.models.node_group import NodeGroupArgs
from components.models.sharing import Sharing
from components.models.vm import GpuVirtualMachineArgs
from components.models.workload import GpuWorkloadArgs
from components.package.typed_args import typed_dict
from components.tenant import Tenant

PACKAGE = "hikube-gpu"
M = TypeVar("M", bound=BaseModel)


def token(component: str) -> str:
    """The type token the host gives a component: ``hikube-gpu:index:<Class>``."""
    return f"{PACKAGE}:index:{component}"


def _invalid(component: str, name: str, errors: list[tuple[str, str]]) -> pulumi.InputPropertiesError:
    lines = [f"{component} {name!r} has invalid args:", *(f"  {path}: {reason}" for path, reason in errors)]
    details = [{"property_path": path, "reason": reason} for path, reason in errors]
    return pulumi.InputPropertiesError("\n".join(lines), details)  # type: ignore[arg-type]


def _camel(part: str | int) -> str:
    """A pydantic error location part as the schema names it (the host passes python names)."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), part) if isinstance(part, str) else str(part)


def _validated(model: type[M], values: dict[str, Any], component: str, name: str) -> M:
    """``values`` as ``model``, or an ``InputPropertiesError`` per pydantic error (camelCase paths)."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        found = [
            (".".join(_camel(part) for part in e["loc"]), e["msg"].removeprefix("Value error, "))
            for e in error.errors()
        ]
        raise _invalid(component, name, found) from None


def _tenant(values: dict[str, Any], component: str, name: str) -> Tenant:
    try:
        return Tenant(values.pop("namespace", "") or "", values.pop("platform", None) or "hikube")
    except ValueError as error:
        path = "platform" if "platform" in str(error) else "namespace"
        raise _invalid(component, name, [(path, str(error))]) from None


def _choice(value: Any, choices: Any, component: str, name: str) -> Any:
    """``value`` if it is one of the Literal ``choices`` (default: the first), else an error."""
    allowed = typing.get_args(choices)
    if value is None:
        return allowed[0]
    if value not in allowed:
        raise _invalid(component, name, [("resourceNaming", f"{value!r}: choose {', '.join(allowed)}")])
    return value


def _aliased(opts: pulumi.ResourceOptions | None, old_type: str) -> pulumi.ResourceOptions:
    """``opts`` plus an alias from the Python program's token, so moving keeps the resources."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=old_type)]))


def _args(component: type[pulumi.ComponentResource], model: type[BaseModel], **extra: Any) -> type:
    """Set ``component.__init__``'s ``args`` annotation (what the host analyses) and return it."""
    made = typed_dict(model, extra, name=f"{component.__name__}Args")
    component.__init__.__annotations__["args"] = made
    return made


SharingInput = typed_dict(Sharing)


class GroupPlacementInput(TypedDict):
    """One node group a workload may run on: what a ``GpuNodeGroup`` publishes."""

    group: str
    """The node group's name in its cluster (its nodes carry the role ``gpu-<group>``)."""
    gpus: dict[str, int]
    """GPUs per node, by model (``{"L40S": 1}``)."""
    sharing: NotRequired[SharingInput]  # type: ignore[valid-type]
    """How the group's GPUs are shared (as the node group's ``sharing``). Default: not shared."""
    resource_naming: NotRequired[str]
    """The cluster's ``resourceNaming``: ``generic`` (default) or ``per-model``."""


class GpuVirtualMachine(vm_module.GpuVirtualMachine):
    """A Hikube VMInstance with PCI-passthrough GPUs and its VMDisks, in ``namespace``."""

    TYPE = token("GpuVirtualMachine")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        tenant = _tenant(values, "GpuVirtualMachine", name)
        model = _validated(GpuVirtualMachineArgs, values, "GpuVirtualMachine", name)
        super().__init__(name, model, _aliased(opts, vm_module.TYPE), tenant=tenant)


class GpuKubernetesCluster(cluster_module.GpuKubernetesCluster):
    """A managed Kubernetes cluster with GPU node groups, the GPU Operator and GPU workloads."""

    TYPE = token("GpuKubernetesCluster")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        tenant = _tenant(values, "GpuKubernetesCluster", name)
        model = _validated(GpuKubernetesClusterArgs, values, "GpuKubernetesCluster", name)
        super().__init__(name, model, _aliased(opts, cluster_module.TYPE), tenant=tenant)


class GpuNodeGroup(node_group_module.GpuNodeGroup):
    """One node group of a GPU Kubernetes cluster: its spec and where its GPUs are."""

    TYPE = token("GpuNodeGroup")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        group = values.pop("group", None) or name
        platform = _tenant({"namespace": "-", "platform": values.pop("platform", None)}, "GpuNodeGroup", name)
        naming = _choice(values.pop("resource_naming", None), ClusterNaming, "GpuNodeGroup", name)
        model = _validated(NodeGroupArgs, values, "GpuNodeGroup", name)
        super().__init__(
            name,
            model,
            _aliased(opts, node_group_module.TYPE),
            group=group,
            platform=platform.platform,
            resource_naming=naming,
        )


def _placement(value: dict[str, Any], component: str, name: str) -> GroupPlacement:
    sharing = _validated(Sharing, dict(value.get("sharing") or {}), component, name)
    gpus = {GpuModelName(model): int(count) for model, count in (value.get("gpus") or {}).items()}
    naming = _choice(value.get("resource_naming"), ClusterNaming, component, name)
    return GroupPlacement(str(value["group"]), gpus, sharing, naming)


class GpuWorkload(workload_module.GpuWorkload):
    """A Deployment, Job or StatefulSet requesting GPUs, placed on ``placement`` (the node
    groups' role, GPUs and sharing, e.g. from ``GpuNodeGroup``)."""

    TYPE = token("GpuWorkload")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        groups = [_placement(p, "GpuWorkload", name) for p in values.pop("placement", None) or []]
        object_name = values.pop("object_name", None)
        model = _validated(GpuWorkloadArgs, values, "GpuWorkload", name)
        super().__init__(
            name, model, _aliased(opts, workload_module.TYPE), node_groups=groups, object_name=object_name
        )


class GpuOperator(operator_module.GpuOperator):
    """NVIDIA's GPU Operator on a GPU host cluster, and the workload mode of each GPU node."""

    TYPE = token("GpuOperator")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        raw_nodes = values.pop("nodes", None) or {}
        nodes = {
            node: _validated(NodeArgs, dict(spec), "GpuOperator", name) for node, spec in raw_nodes.items()
        }
        model = _validated(GpuOperatorArgs, values, "GpuOperator", name)
        super().__init__(name, model, _aliased(opts, operator_module.TYPE), nodes=nodes)


class KubeVirtGpuPassthrough(passthrough_module.KubeVirtGpuPassthrough):
    """Permits the catalog's GPUs in the cluster's existing KubeVirt CR (a forced patch)."""

    TYPE = token("KubeVirtGpuPassthrough")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        vgpu = bool(values.pop("operator_manages_vgpu", None))
        model = _validated(KubeVirtArgs, values, "KubeVirtGpuPassthrough", name)
        super().__init__(name, model, _aliased(opts, passthrough_module.TYPE), operator_manages_vgpu=vgpu)


class KubeVirtGpuVirtualMachine(raw_vm_module.KubeVirtGpuVirtualMachine):
    """A raw KubeVirt VirtualMachine with GPUs and its cloud-init Secret, in ``namespace``."""

    TYPE = token("KubeVirtGpuVirtualMachine")

    def __init__(self, name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        values = dict(args)
        naming = _choice(
            values.pop("resource_naming", None), KubeVirtNaming, "KubeVirtGpuVirtualMachine", name
        )
        model = _validated(KubeVirtGpuVmArgs, values, "KubeVirtGpuVirtualMachine", name)
        if model.namespace is None:
            raise _invalid("KubeVirtGpuVirtualMachine", name, [("namespace", "required")])
        super().__init__(
            name, model, _aliased(opts, raw_vm_module.TYPE), namespace=model.namespace, naming=naming
        )


_PLATFORM = NotRequired[str]
_args(GpuVirtualMachine, GpuVirtualMachineArgs, namespace=Required[str], platform=_PLATFORM)
_args(GpuKubernetesCluster, GpuKubernetesClusterArgs, namespace=Required[str], platform=_PLATFORM)
_args(
    GpuNodeGroup, NodeGroupArgs, group=NotRequired[str], platform=_PLATFORM, resource_naming=NotRequired[str]
)
_args(
    GpuWorkload, GpuWorkloadArgs, placement=Required[list[GroupPlacementInput]], object_name=NotRequired[str]
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
