"""Plans of the host components: ``GpuOperator``, ``KubeVirtGpuPassthrough`` and
``KubeVirtGpuVirtualMachine``. Types and names are the components' own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from components.builders.gpu_operator_release import (
    build_node_patch,
    build_operator_namespace,
    build_operator_release,
)
from components.builders.kubevirt_patch import build_kubevirt_patch, permitted_resource_name
from components.builders.kubevirt_vm import build_cloud_init_secret, build_kubevirt_vm
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs
from components.models.kubevirt import KubeVirtArgs, KubeVirtGpuVmArgs, ResourceNaming
from components.plan.resources import Planned, Scope, child, component, object_resource, read
from components.plan.types import OPERATOR_TYPE, PASSTHROUGH_TYPE, RAW_VM_TYPE
from components.resolve.gpu_operator import sandbox_enabled
from components.resolve.names import (
    node_patch_resource,
    node_read_resource,
    operator_namespace_resource,
    operator_release_resource,
    passthrough_patch_resource,
    raw_vm_resource,
    raw_vm_secret_resource,
)

HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
RELEASE_TIMEOUT_SECONDS = 1200
"""The driver container compiles or downloads a driver per node: allow 20 minutes."""
FORCE = {"pulumi.com/patchForce": "true"}

Outputs = dict[str, Any]


def plan_operator(
    scope: Scope,
    name: str,
    args: GpuOperatorArgs,
    nodes: Mapping[str, NodeArgs],
    *,
    parent: str,
    provider: str,
) -> tuple[list[Planned], Outputs]:
    """``GpuOperator``: its namespace, the chart's ``helm.v3.Release``, and per node a read of
    the Node and a label patch (after the release)."""
    operator = component(scope, parent, OPERATOR_TYPE, name)
    namespace = object_resource(
        scope, operator.urn, operator_namespace_resource(name), build_operator_namespace(args), provider
    )
    chart = build_operator_release(args, dict(nodes))
    release = child(
        scope,
        operator.urn,
        HELM_RELEASE_TYPE,
        operator_release_resource(name),
        custom=True,
        inputs={
            "chart": chart.chart,
            "compat": "true",
            "createNamespace": False,
            "name": chart.name,
            "namespace": chart.namespace,
            "repositoryOpts": {"repo": chart.repository},
            "timeout": RELEASE_TIMEOUT_SECONDS,
            "values": chart.values,
            "version": chart.version,
        },
        provider=provider,
        dependencies=(namespace.urn,),
    )
    planned = [operator, namespace, release]
    for node in sorted(nodes):
        patch = replace(build_node_patch(node, nodes[node]), annotations=dict(FORCE))
        existing = read(
            scope, operator.urn, "v1", "Node", node_read_resource(name, node), read_id=node, provider=provider
        )
        patch_resource = node_patch_resource(name, node)
        after = (release.urn, existing.urn)
        planned += [
            existing,
            object_resource(
                scope, operator.urn, patch_resource, patch, provider, dependencies=after, suffix="Patch"
            ),
        ]
    outputs = {
        "namespace": args.namespace,
        "chartVersion": chart.version,
        "sandboxWorkloads": sandbox_enabled(args, dict(nodes)),
    }
    return planned, outputs


def plan_passthrough(
    scope: Scope, name: str, args: KubeVirtArgs, parent: str, provider: str, *, operator_manages_vgpu: bool
) -> tuple[list[Planned], Outputs]:
    """``KubeVirtGpuPassthrough``: a forced server-side-apply patch of the KubeVirt CR."""
    passthrough = component(scope, parent, PASSTHROUGH_TYPE, name)
    patch = build_kubevirt_patch(args, operator_manages_vgpu)
    planned_patch = object_resource(
        scope, passthrough.urn, passthrough_patch_resource(name), patch, provider, suffix="Patch"
    )
    # the patch's metadata names the object and forces the fields it sets (no labels)
    metadata = {"name": patch.name, "namespace": patch.namespace, "annotations": dict(FORCE)}
    inputs = {
        "apiVersion": patch.api_version,
        "kind": patch.kind,
        "metadata": metadata,
        "spec": patch.body["spec"],
    }
    planned = [passthrough, replace(planned_patch, inputs=inputs)]
    outputs = {
        "permittedGpus": {m.value: permitted_resource_name(m, args.resource_naming) for m in args.gpus}
    }
    return planned, outputs


def plan_raw_vm(
    scope: Scope,
    name: str,
    args: KubeVirtGpuVmArgs,
    parent: str,
    provider: str,
    *,
    namespace: str,
    naming: ResourceNaming,
    dependencies: tuple[str, ...],
) -> tuple[list[Planned], Outputs]:
    """``KubeVirtGpuVirtualMachine``: its cloud-init Secret, then the VirtualMachine."""
    vm = component(scope, parent, RAW_VM_TYPE, name, dependencies)
    secret = object_resource(
        scope,
        vm.urn,
        raw_vm_secret_resource(name),
        build_cloud_init_secret(name, namespace, args),
        provider,
        dependencies=dependencies,
    )
    manifest = build_kubevirt_vm(name, namespace, args, naming)
    machine = object_resource(
        scope, vm.urn, raw_vm_resource(name), manifest, provider, dependencies=(secret.urn, *dependencies)
    )
    devices = manifest.body["spec"]["template"]["spec"]["domain"]["devices"]["gpus"]
    outputs = {
        "gpus": [device["deviceName"] for device in devices],
        "instanceType": manifest.body["spec"]["instancetype"]["name"],
    }
    return [vm, secret, machine], outputs
