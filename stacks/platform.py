"""The ``platform`` blueprint: the host provider, the GPU Operator with node modes, the
KubeVirt passthrough patch and raw KubeVirt GPU VMs."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.builders.gpu_operator_release import uses_vgpu
from components.builders.names import (
    HOST_PROVIDER,
    OPERATOR_COMPONENT,
    PASSTHROUGH_COMPONENT,
    vm_namespace_read_resource,
)
from components.gpu_operator import GpuOperator
from components.kubevirt_gpu_passthrough import KubeVirtGpuPassthrough
from components.kubevirt_gpu_vm import KubeVirtGpuVirtualMachine
from components.provider_settings import provider_flags
from stacks.config import PlatformStack
from stacks.credentials import kubeconfig_input

PROVIDER_NAME = HOST_PROVIDER


def host_provider(stack: PlatformStack) -> k8s.Provider:
    """An explicit provider for the host cluster, with server-side apply, which the Node and
    KubeVirt patches require. The credential is the stack's kubeconfig, else the ambient one
    (``stacks.credentials``); every behaviour flag is stated (``components.provider_settings``)."""
    return k8s.Provider(
        PROVIDER_NAME,
        kubeconfig=kubeconfig_input(stack.kubeconfig),
        context=stack.platform.context,
        **provider_flags(server_side_apply=True),
    )


def deploy(stack: PlatformStack) -> None:
    """Register every resource of a validated platform stack and export its outputs."""
    provider = host_provider(stack)
    with_provider = pulumi.ResourceOptions(provider=provider)
    operator = GpuOperator(OPERATOR_COMPONENT, stack.gpu_operator, with_provider, nodes=stack.nodes)
    passthrough = None
    if stack.kubevirt is not None:
        passthrough = KubeVirtGpuPassthrough(
            PASSTHROUGH_COMPONENT,
            stack.kubevirt,
            with_provider,
            operator_manages_vgpu=uses_vgpu(stack.gpu_operator, stack.nodes),
        )
    namespaces = {name: vm.namespace or stack.platform.namespace or "" for name, vm in stack.vms.items()}
    # Raw VMs go into namespaces the stack does not own: read each one first, so a missing
    # namespace fails before the VM's Secret is attempted (P5), and destroy never deletes it.
    existing = {
        ns: k8s.core.v1.Namespace.get(
            vm_namespace_read_resource(ns), ns, opts=pulumi.ResourceOptions(provider=provider)
        )
        for ns in sorted(set(namespaces.values()))
    }
    vms = {}
    for name in sorted(stack.vms):
        vm = stack.vms[name]
        naming = stack.kubevirt.resource_naming if stack.kubevirt else "hikube"
        after = [existing[namespaces[name]], *([passthrough] if passthrough else [])]
        vms[name] = KubeVirtGpuVirtualMachine(
            name,
            vm,
            pulumi.ResourceOptions(provider=provider, depends_on=after),
            namespace=namespaces[name],
            naming=naming,
        )
    pulumi.export(
        "gpuOperator",
        {
            "namespace": operator.namespace,
            "chartVersion": operator.chart_version,
            "defaultWorkload": stack.gpu_operator.default_workload,
            "sandboxWorkloads": operator.sandbox_workloads,
        },
    )
    pulumi.export("nodes", {name: node.workload for name, node in sorted(stack.nodes.items())})
    if passthrough is not None:
        pulumi.export("permittedGpus", passthrough.permitted)
    pulumi.export(
        "vms", {name: {"gpus": vm.gpus, "instanceType": vm.instance_type} for name, vm in vms.items()}
    )
