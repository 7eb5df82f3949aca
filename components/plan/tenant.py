"""Plans of the tenant components: ``GpuVirtualMachine``, ``GpuKubernetesCluster`` (with its
``GpuNodeGroup``s and ``GpuWorkload``s). Types and names are the components' own."""

from __future__ import annotations

from typing import Any

from components.builders.kubernetes_cluster import build_kubernetes
from components.builders.node_group import effective_node_groups
from components.builders.vm_disk import build_vm_disk
from components.builders.vm_instance import build_vm_instance, gpu_entries
from components.builders.workload import build_workload
from components.builders.workload_namespace import build_namespace, workload_namespaces
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.vm import DataDisk, GpuVirtualMachineArgs, SystemDisk
from components.models.workload import GpuWorkloadArgs
from components.plan.resources import (
    PROVIDER_TYPE,
    Planned,
    Scope,
    child,
    component,
    object_resource,
    read,
)
from components.plan.types import CLUSTER_TYPE, NODE_GROUP_TYPE, VM_TYPE, WORKLOAD_TYPE
from components.provider_settings import AMBIENT_KUBECONFIG, GUEST_SERVER_SIDE_APPLY, registered_flags
from components.resolve.names import (
    SYSTEM_DISK,
    cluster_app_resource,
    cluster_provider_resource,
    data_disk_name,
    kubeconfig_resource,
    kubeconfig_secret_name,
    namespace_resource,
    node_group_resource,
    quota_resource,
    system_disk_name,
    vm_disk_resource,
    vm_instance_resource,
    vm_release_name,
    workload_object_resource,
    workload_resource,
)
from components.resolve.placement import GroupPlacement, eligible_groups, resource_name
from components.tenant import Tenant

Outputs = dict[str, Any]


def plan_vm(
    scope: Scope, name: str, args: GpuVirtualMachineArgs, tenant: Tenant, *, parent: str, provider: str
) -> tuple[list[Planned], Outputs]:
    """``GpuVirtualMachine``: its VMDisks (system, then data disks by name), then the VMInstance."""
    vm = component(scope, parent, VM_TYPE, name)
    namespace = tenant.namespace
    disks: list[tuple[str, str, SystemDisk | DataDisk]] = [(SYSTEM_DISK, system_disk_name(name), args.disk)]
    disks += [(key, data_disk_name(name, key), args.data_disks[key]) for key in sorted(args.data_disks)]
    planned = [vm]
    for key, disk_name, disk in disks:
        manifest = build_vm_disk(disk_name, namespace, name, disk)
        planned.append(
            object_resource(
                scope, vm.urn, vm_disk_resource(name, key), manifest, provider, protect=disk.protect
            )
        )
    instance = build_vm_instance(name, namespace, args, port_list_filters=tenant.profile.port_list_filters)
    after = tuple(p.urn for p in planned[1:])
    planned.append(
        object_resource(scope, vm.urn, vm_instance_resource(name), instance, provider, dependencies=after)
    )
    outputs = {
        "vmName": name,
        "namespace": namespace,
        "gpus": [g["name"] for g in gpu_entries(args.gpus)],
        "instanceType": str(instance.body["spec"]["instanceType"]),
        "serviceName": vm_release_name(name),
    }
    return planned, outputs


def plan_workload(
    scope: Scope,
    name: str,
    args: GpuWorkloadArgs,
    parent: str,
    provider: str,
    *,
    node_groups: list[GroupPlacement],
    object_name: str,
    dependencies: tuple[str, ...],
) -> tuple[list[Planned], Outputs]:
    """``GpuWorkload``: its Deployment, Job or StatefulSet (+ Service), after ``dependencies``."""
    workload = component(scope, parent, WORKLOAD_TYPE, name, dependencies)
    planned = [workload]
    for manifest in build_workload(object_name, node_groups, args):
        resource = workload_object_resource(name, manifest.kind)
        planned.append(
            object_resource(scope, workload.urn, resource, manifest, provider, dependencies=dependencies)
        )
    outputs = {
        "namespace": args.namespace,
        "gpuResource": resource_name(node_groups, args),
        "nodeGroups": eligible_groups(node_groups, args),
    }
    return planned, outputs


def plan_cluster(
    scope: Scope, name: str, args: GpuKubernetesClusterArgs, tenant: Tenant, *, parent: str, provider: str
) -> list[Planned]:
    """``GpuKubernetesCluster``: node groups, the Kubernetes app, its kubeconfig Secret (read,
    unless ``tenant.guest_contexts``), a provider inside it, then its workload namespaces and
    quotas and its workloads."""
    cluster = component(scope, parent, CLUSTER_TYPE, name)
    app = tenant.profile.kubernetes
    planned = [cluster]
    groups = effective_node_groups(args, app)
    for group in groups:
        planned.append(component(scope, cluster.urn, NODE_GROUP_TYPE, node_group_resource(name, group)))
    manifest = build_kubernetes(name, tenant.namespace, args, app)
    app_resource = object_resource(scope, cluster.urn, cluster_app_resource(name), manifest, provider)
    flags = registered_flags(server_side_apply=GUEST_SERVER_SIDE_APPLY)
    context = tenant.guest_context(name)
    if context is not None:  # the ambient kubeconfig's context for the cluster: no credential read
        inside = child(
            scope,
            cluster.urn,
            PROVIDER_TYPE,
            cluster_provider_resource(name),
            custom=True,
            inputs={"context": context, "kubeconfig": AMBIENT_KUBECONFIG, **flags},
            dependencies=(app_resource.urn,),
        )
        planned += [app_resource, inside]
    else:
        kubeconfig = read(
            scope,
            cluster.urn,
            "v1",
            "Secret",
            kubeconfig_resource(name),
            read_id=f"{tenant.namespace}/{kubeconfig_secret_name(name)}",
            provider=provider,
            dependencies=(app_resource.urn,),
        )
        inside = child(
            scope,
            cluster.urn,
            PROVIDER_TYPE,
            cluster_provider_resource(name),
            custom=True,
            inputs={"kubeconfig": "", **flags},  # the cluster's admin kubeconfig: unknown until it is Ready
            secret_paths=(("kubeconfig",),),
            dependencies=(kubeconfig.urn,),
        )
        planned += [app_resource, kubeconfig, inside]
    guards: dict[str, tuple[str, ...]] = {}
    for ns in workload_namespaces(args):
        namespace_manifest, quota_manifest = build_namespace(args, ns)
        created = object_resource(
            scope, cluster.urn, namespace_resource(name, ns), namespace_manifest, inside.urn
        )
        quota = object_resource(
            scope,
            cluster.urn,
            quota_resource(name, ns),
            quota_manifest,
            inside.urn,
            dependencies=(created.urn,),
        )
        planned += [created, quota]
        guards[ns] = (created.urn, quota.urn)
    placements = [
        GroupPlacement(group, dict(groups[group].gpus), groups[group].sharing, args.resource_naming)
        for group in args.node_groups
    ]
    for workload in sorted(args.workloads):
        spec = args.workloads[workload]
        resources, _ = plan_workload(
            scope,
            workload_resource(name, workload),
            spec,
            cluster.urn,
            inside.urn,
            node_groups=placements,
            object_name=workload,
            dependencies=guards[spec.namespace],
        )
        planned += resources
    return planned
