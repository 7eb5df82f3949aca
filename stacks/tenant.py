"""The ``tenant`` blueprint: the tenant provider, one GpuVirtualMachine per VM and one
GpuKubernetesCluster per cluster."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.builders.placement import resource_name
from components.catalog.platform import PROFILES
from components.gpu_kubernetes_cluster import GpuKubernetesCluster
from components.gpu_virtual_machine import GpuVirtualMachine
from stacks.capacity import as_output, capacity
from stacks.config import TenantStack

PROVIDER_NAME = "tenant"


def tenant_provider(stack: TenantStack) -> k8s.Provider:
    """An explicit provider for the tenant namespace; nothing relies on ambient defaults."""
    kubeconfig = pulumi.Output.secret(stack.kubeconfig.get_secret_value()) if stack.kubeconfig else None
    return k8s.Provider(
        PROVIDER_NAME,
        kubeconfig=kubeconfig,
        context=stack.platform.context,
        namespace=stack.platform.namespace,
    )


def deploy(stack: TenantStack) -> None:
    """Register every resource of a validated tenant stack and export its outputs."""
    namespace = stack.platform.namespace
    if namespace is None:  # rules reject this before deploy runs
        raise ValueError("tenant namespace missing")
    provider = tenant_provider(stack)
    vms = {
        name: GpuVirtualMachine(name, stack.vms[name], namespace=namespace, provider=provider)
        for name in sorted(stack.vms)
    }
    pulumi.export("namespace", namespace)
    pulumi.export(
        "vms",
        {
            name: {"gpus": vm.gpus, "instanceType": vm.instance_type, "service": vm.service_name}
            for name, vm in vms.items()
        },
    )
    app = PROFILES[stack.platform.profile].kubernetes
    clusters = {
        name: GpuKubernetesCluster(
            name, stack.clusters[name], namespace=namespace, provider=provider, app=app
        )
        for name in sorted(stack.clusters)
    }
    pulumi.export(
        "clusters",
        {
            name: {
                "kubeconfigSecret": cluster.kubeconfig_secret,
                "nodeGroups": sorted(cluster.node_groups),
                "workloads": {
                    workload: {
                        "namespace": spec.namespace,
                        "gpuResource": resource_name(stack.clusters[name], spec),
                    }
                    for workload, spec in sorted(stack.clusters[name].workloads.items())
                },
            }
            for name, cluster in clusters.items()
        },
    )
    pulumi.export("gpuCapacity", as_output(capacity(stack)))
