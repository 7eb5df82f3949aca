"""The ``tenant`` blueprint: the tenant provider, one GpuVirtualMachine per VM and one
GpuKubernetesCluster per cluster."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.builders.names import TENANT_PROVIDER
from components.catalog.platform import PROFILES
from components.gpu_kubernetes_cluster import GpuKubernetesCluster
from components.gpu_virtual_machine import GpuVirtualMachine
from components.provider_settings import provider_flags
from components.tenant import Tenant
from stacks.capacity import as_output, capacity
from stacks.cluster_summary import summarize
from stacks.config import TenantStack
from stacks.credentials import guest_context_prefix, kubeconfig_input

PROVIDER_NAME = TENANT_PROVIDER


def tenant_provider(stack: TenantStack) -> k8s.Provider:
    """An explicit provider for the tenant namespace, with client-side apply.

    Cozystack's apps API keeps no managedFields, so a forced server-side apply never removes
    a key the program stops sending; a three-way merge patch sends it as null (P7). The
    credential is the stack's kubeconfig, else the ambient one (``stacks.credentials``); every
    behaviour flag is stated (``components.provider_settings``).
    """
    return k8s.Provider(
        PROVIDER_NAME,
        kubeconfig=kubeconfig_input(stack.kubeconfig),
        context=stack.platform.context,
        namespace=stack.platform.namespace,
        **provider_flags(server_side_apply=False),
    )


def deploy(stack: TenantStack, secret_quota: bool = False) -> None:
    """Register every resource of a validated tenant stack and export its outputs
    (``secret_quota``: the quota was stored as a secret; its output is one too)."""
    namespace = stack.platform.namespace
    if namespace is None:  # rules reject this before deploy runs
        raise ValueError("tenant namespace missing")
    provider = tenant_provider(stack)
    tenant = Tenant(namespace, stack.platform.profile, guest_contexts=guest_context_prefix(stack))
    with_provider = pulumi.ResourceOptions(provider=provider)
    vms = {
        name: GpuVirtualMachine(name, stack.vms[name], with_provider, tenant=tenant)
        for name in sorted(stack.vms)
    }
    pulumi.export("namespace", namespace)
    pulumi.export(
        "vms",
        {
            name: {
                "gpus": vm.gpus,
                "instanceType": vm.instance_type,
                "service": vm.service_name,
            }
            for name, vm in vms.items()
        },
    )
    app = PROFILES[stack.platform.profile].kubernetes
    for name in sorted(stack.clusters):
        GpuKubernetesCluster(name, stack.clusters[name], with_provider, tenant=tenant)
    pulumi.export("clusters", {name: summarize(c, name, app) for name, c in sorted(stack.clusters.items())})
    pulumi.export("gpuCapacity", as_output(capacity(stack), secret_quota))
