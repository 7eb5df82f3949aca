"""One identity per object: every URN and Kubernetes object a stack makes, checked before
anything is registered.

``identities(stack)`` predicts, from the validated config alone, what the program
registers (Pulumi URNs, Kubernetes objects) and what the platform derives from it
(Cozystack's HelmReleases, VirtualMachines, DataVolumes, Secrets …; the GPU Operator's
ConfigMaps; raw VMs' DataVolumes). ``check_identities`` turns each clash into one
problem that names both config paths. Names come from ``components.resolve.names``,
the same functions the components use; ``tests/test_identities.py`` checks the
prediction against what the offline engine records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from components.builders.gpu_operator_release import RELEASE_NAME, config_maps
from components.builders.gpu_sharing import plan_sharing
from components.builders.manifest import COZYSTACK_APPS
from components.builders.node_group import effective_node_groups
from components.builders.workload import API_VERSIONS, has_service
from components.builders.workload_namespace import workload_namespaces
from components.catalog.platform import PROFILES, KubernetesApp
from components.models.cluster import GpuKubernetesClusterArgs
from components.plan.types import (
    CLUSTER_TYPE,
    NODE_GROUP_TYPE,
    OPERATOR_TYPE,
    PASSTHROUGH_TYPE,
    RAW_VM_TYPE,
    VM_TYPE,
    WORKLOAD_TYPE,
)
from components.resolve.names import (
    COZYSTACK_KUBERNETES_OBJECTS,
    COZYSTACK_NODE_GROUP_OBJECTS,
    HOST_PROVIDER,
    OPERATOR_COMPONENT,
    PASSTHROUGH_COMPONENT,
    SYSTEM_DISK,
    TENANT_OPERATOR_NAMESPACE,
    TENANT_PROVIDER,
    VM_DISK_OBJECTS,
    VM_INSTANCE_OBJECTS,
    cloud_init_secret_name,
    cluster_app_resource,
    cluster_provider_resource,
    cluster_release_name,
    data_disk_name,
    derived_name,
    disk_release_name,
    namespace_resource,
    node_group_resource,
    node_patch_resource,
    node_read_resource,
    operator_namespace_resource,
    operator_release_resource,
    passthrough_patch_resource,
    quota_name,
    quota_resource,
    raw_vm_resource,
    raw_vm_secret_resource,
    root_volume_name,
    system_disk_name,
    vm_disk_resource,
    vm_instance_resource,
    vm_namespace_read_resource,
    vm_release_name,
    workload_object_resource,
    workload_resource,
)
from stacks.loading.problems import Problem, config_path
from stacks.validation.config import PlatformStack, Stack, TenantStack

PROVIDER_TYPE = "pulumi:providers:kubernetes"
HELM_RELEASE_API = "helm.sh/v3"
"""A ``helm.v3.Release`` as an object: the release ``<namespace>/<name>`` Helm stores."""

Path = tuple[str, ...]


@dataclass(frozen=True)
class Identity:
    """One thing that must be unique in the stack.

    ``kind`` ``urn``: ``key`` is (type chain, resource name); the URN adds stack and project.
    ``kind`` ``object``: ``key`` is (cluster, API group, kind, namespace, name), ``cluster``
    empty for the stack's own target and a tenant cluster's name for objects inside it.
    """

    kind: Literal["urn", "object"]
    key: tuple[str, ...]
    path: Path
    """Config path (parts) of what makes it."""
    label: str
    """``VMDisk lab-scratch``, ``Pulumi resource ml-vllm (…)``."""
    made_by: str = ""
    """Who makes it when not the program: ``Cozystack, for Kubernetes ml``."""

    @property
    def registered(self) -> bool:
        """The program registers it (not the platform deriving it)."""
        return not self.made_by

    def described(self) -> str:
        return f"{self.label} ({self.made_by})" if self.made_by else self.label


def resource_type(api_version: str, kind: str) -> str:
    """pulumi-kubernetes' type token: ``kubernetes:core/v1:Secret``, ``kubernetes:apps/v1:Deployment``."""
    return f"kubernetes:{'core/v1' if api_version == 'v1' else api_version}:{kind}"


def child(parent_type: str, api_version: str, kind: str) -> str:
    """The type chain of a Kubernetes resource under a component (``$``-joined, as in URNs)."""
    return f"{parent_type}${resource_type(api_version, kind)}"


def api_group(api_version: str) -> str:
    """``apps/v1`` → ``apps``; ``v1`` → ``""`` (versions of one kind are the same object)."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def urn(type_chain: str, name: str, path: Path) -> Identity:
    return Identity("urn", (type_chain, name), path, f"Pulumi resource {name} ({type_chain})")


def obj(
    api_version: str,
    kind: str,
    namespace: str,
    name: str,
    path: Path,
    *,
    cluster: str = "",
    made_by: str = "",
) -> Identity:
    where = f" in cluster {cluster}" if cluster else ""
    return Identity(
        "object",
        (cluster, api_group(api_version), kind, namespace, name),
        path,
        f"{kind} {name}{where}",
        made_by,
    )


def identities(stack: Stack) -> list[Identity]:
    """Every URN and Kubernetes object of a stack that passed the rules."""
    if isinstance(stack, TenantStack):
        return list(_tenant(stack))
    return list(_platform(stack))


def _tenant(stack: TenantStack) -> Iterator[Identity]:
    namespace = stack.platform.namespace or ""
    yield urn(PROVIDER_TYPE, TENANT_PROVIDER, ("platform",))
    for name in sorted(stack.vms):
        yield from _vm(stack, name, namespace)
    for name in sorted(stack.clusters):
        yield from _cluster(stack, name, stack.clusters[name], namespace)


def _vm(stack: TenantStack, vm: str, namespace: str) -> Iterator[Identity]:
    args = stack.vms[vm]
    path: Path = ("vms", vm)
    yield urn(VM_TYPE, vm, path)
    disks = [(SYSTEM_DISK, system_disk_name(vm), (*path, "disk"))]
    disks += [(d, data_disk_name(vm, d), (*path, "dataDisks", d)) for d in sorted(args.data_disks)]
    for key, disk, disk_path in disks:
        yield urn(child(VM_TYPE, COZYSTACK_APPS, "VMDisk"), vm_disk_resource(vm, key), disk_path)
        yield obj(COZYSTACK_APPS, "VMDisk", namespace, disk, disk_path)
        for api_version, kind in VM_DISK_OBJECTS:
            made_by = f"Cozystack, for VMDisk {disk}"
            yield obj(api_version, kind, namespace, disk_release_name(disk), disk_path, made_by=made_by)
    yield urn(child(VM_TYPE, COZYSTACK_APPS, "VMInstance"), vm_instance_resource(vm), path)
    yield obj(COZYSTACK_APPS, "VMInstance", namespace, vm, path)
    for api_version, kind, suffix in VM_INSTANCE_OBJECTS:
        name = derived_name(vm_release_name(vm), suffix)
        yield obj(api_version, kind, namespace, name, path, made_by=f"Cozystack, for VMInstance {vm}")


def _cluster(
    stack: TenantStack, name: str, args: GpuKubernetesClusterArgs, namespace: str
) -> Iterator[Identity]:
    path: Path = ("clusters", name)
    made_by = f"Cozystack, for Kubernetes {name}"
    release = cluster_release_name(name)
    yield urn(CLUSTER_TYPE, name, path)
    app = PROFILES[stack.platform.profile].kubernetes
    for group in effective_node_groups(args, app):
        group_path = (*path, "nodeGroups", group) if group in args.node_groups else path
        yield urn(f"{CLUSTER_TYPE}${NODE_GROUP_TYPE}", node_group_resource(name, group), group_path)
        for api_version, kind in COZYSTACK_NODE_GROUP_OBJECTS:
            made = f"{made_by}, node group {group}"
            yield obj(api_version, kind, namespace, derived_name(release, group), group_path, made_by=made)
    yield urn(child(CLUSTER_TYPE, COZYSTACK_APPS, "Kubernetes"), cluster_app_resource(name), path)
    yield obj(COZYSTACK_APPS, "Kubernetes", namespace, name, path)
    for api_version, kind, suffix in COZYSTACK_KUBERNETES_OBJECTS:
        yield obj(api_version, kind, namespace, derived_name(release, suffix), path, made_by=made_by)
    yield urn(f"{CLUSTER_TYPE}${PROVIDER_TYPE}", cluster_provider_resource(name), path)
    yield from _inside(name, args, app, path)


def _namespace_path(path: Path, args: GpuKubernetesClusterArgs, namespace: str) -> Path:
    """Where a workload namespace comes from: the first workload in it (its ``namespace`` key if set)."""
    workload = next(w for w in sorted(args.workloads) if args.workloads[w].namespace == namespace)
    given = "namespace" in args.workloads[workload].model_fields_set
    return (*path, "workloads", workload, *(("namespace",) if given else ()))


def _inside(name: str, args: GpuKubernetesClusterArgs, app: KubernetesApp, path: Path) -> Iterator[Identity]:
    """What the cluster's own provider makes inside it (its namespaces are its own)."""
    for ns in workload_namespaces(args):
        ns_path = _namespace_path(path, args, ns)
        yield urn(child(CLUSTER_TYPE, "v1", "Namespace"), namespace_resource(name, ns), ns_path)
        yield urn(child(CLUSTER_TYPE, "v1", "ResourceQuota"), quota_resource(name, ns), ns_path)
        yield obj("v1", "Namespace", "", ns, ns_path, cluster=name)
        yield obj("v1", "ResourceQuota", ns, quota_name(ns), ns_path, cluster=name)
    for workload in sorted(args.workloads):
        spec = args.workloads[workload]
        workload_path = (*path, "workloads", workload)
        component = workload_resource(name, workload)
        chain = f"{CLUSTER_TYPE}${WORKLOAD_TYPE}"
        yield urn(chain, component, workload_path)
        kinds = [(API_VERSIONS[spec.kind], spec.kind)] + ([("v1", "Service")] if has_service(spec) else [])
        for api_version, kind in kinds:
            resource = workload_object_resource(component, kind)
            yield urn(child(chain, api_version, kind), resource, workload_path)
            yield obj(api_version, kind, spec.namespace, workload, workload_path, cluster=name)
    if args.gpu_operator_enabled:
        plan = plan_sharing(args, app.gpu_operator_mig_strategy)
        made_by = "the GPU Operator's chart"
        for config_map in plan.config_maps.names:
            yield obj(
                "v1", "ConfigMap", TENANT_OPERATOR_NAMESPACE, config_map, path, cluster=name, made_by=made_by
            )


def _platform(stack: PlatformStack) -> Iterator[Identity]:
    yield urn(PROVIDER_TYPE, HOST_PROVIDER, ("platform",))
    operator = stack.gpu_operator
    op_path: Path = ("gpuOperator",)
    yield urn(OPERATOR_TYPE, OPERATOR_COMPONENT, op_path)
    namespace_resource_name = operator_namespace_resource(OPERATOR_COMPONENT)
    yield urn(child(OPERATOR_TYPE, "v1", "Namespace"), namespace_resource_name, op_path)
    yield obj("v1", "Namespace", "", operator.namespace, op_path)
    release = operator_release_resource(OPERATOR_COMPONENT)
    yield urn(child(OPERATOR_TYPE, HELM_RELEASE_API, "Release"), release, op_path)
    yield obj(HELM_RELEASE_API, "Release", operator.namespace, RELEASE_NAME, op_path)
    maps = config_maps(operator)
    chart = "the GPU Operator's chart"
    for data, name, key in (
        (maps.plugin_data, maps.plugin_name, "sharingConfigs"),
        (maps.mig_data, maps.mig_name, "migConfigs"),
    ):
        if data:
            yield obj("v1", "ConfigMap", operator.namespace, name, (*op_path, key), made_by=chart)
    for node in sorted(stack.nodes):
        node_path = ("nodes", node)
        patch = node_patch_resource(OPERATOR_COMPONENT, node)
        yield urn(child(OPERATOR_TYPE, "v1", "NodePatch"), patch, node_path)
        yield urn(child(OPERATOR_TYPE, "v1", "Node"), node_read_resource(OPERATOR_COMPONENT, node), node_path)
        yield obj("v1", "Node", "", node, node_path)
    if stack.kubevirt is not None:
        kubevirt = stack.kubevirt
        patch = passthrough_patch_resource(PASSTHROUGH_COMPONENT)
        yield urn(PASSTHROUGH_TYPE, PASSTHROUGH_COMPONENT, ("kubevirt",))
        yield urn(child(PASSTHROUGH_TYPE, "kubevirt.io/v1", "KubeVirtPatch"), patch, ("kubevirt",))
        yield obj("kubevirt.io/v1", "KubeVirt", kubevirt.namespace, kubevirt.name, ("kubevirt",))
    read: set[str] = set()
    for vm in sorted(stack.vms):
        namespace = _raw_vm_namespace(stack, vm)
        if namespace not in read:  # each namespace is read once, before its VMs
            read.add(namespace)
            yield urn(resource_type("v1", "Namespace"), vm_namespace_read_resource(namespace), ("vms", vm))
        yield from _raw_vm(stack, vm)


def _raw_vm_namespace(stack: PlatformStack, vm: str) -> str:
    return stack.vms[vm].namespace or stack.platform.namespace or ""


def _raw_vm(stack: PlatformStack, vm: str) -> Iterator[Identity]:
    path: Path = ("vms", vm)
    namespace = _raw_vm_namespace(stack, vm)
    yield urn(RAW_VM_TYPE, vm, path)
    yield urn(child(RAW_VM_TYPE, "v1", "Secret"), raw_vm_secret_resource(vm), path)
    yield urn(child(RAW_VM_TYPE, "kubevirt.io/v1", "VirtualMachine"), raw_vm_resource(vm), path)
    yield obj("v1", "Secret", namespace, cloud_init_secret_name(vm), path)
    yield obj("kubevirt.io/v1", "VirtualMachine", namespace, vm, path)
    kubevirt = f"KubeVirt, for VirtualMachine {vm}"
    root = root_volume_name(vm)
    yield obj("kubevirt.io/v1", "VirtualMachineInstance", namespace, vm, path, made_by=kubevirt)
    yield obj("cdi.kubevirt.io/v1beta1", "DataVolume", namespace, root, path, made_by=kubevirt)
    yield obj("v1", "PersistentVolumeClaim", namespace, root, path, made_by=f"CDI, for DataVolume {root}")


def check_identities(found: list[Identity]) -> list[Problem]:
    """One error per pair of config paths that make the same URN or Kubernetes object.

    The problem goes to the later path (in config order), naming the earlier one.
    """
    first: dict[tuple[str, tuple[str, ...]], Identity] = {}
    reported: set[tuple[Path, Path]] = set()
    problems = []
    for identity in sorted(found, key=lambda i: i.path):  # stable: a path keeps its own order
        earlier = first.setdefault((identity.kind, identity.key), identity)
        if earlier is identity or (earlier.path, identity.path) in reported:
            continue
        reported.add((earlier.path, identity.path))
        problems.append(
            Problem(
                config_path(*identity.path),
                f"{identity.described()} is also made by {config_path(*earlier.path)}"
                f"{f' ({earlier.made_by})' if earlier.made_by else ''}; rename one",
            )
        )
    return problems
