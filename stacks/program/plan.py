"""The plan of a stack: everything the program registers, and its outputs, as plain data.

``plan(stack, scope)`` is a pure function of the validated stack (no Pulumi import): the
root stack, the stack's provider and each component's resources (``components.plan``), with
their options (provider, parent, protect, dependencies, reads, imports) and inputs, secret
paths marked. Its ``level`` is what the stack registers itself (the provider, the reads, the
components with their args); ``pulumi up`` registers exactly that and exports ``outputs``
(``stacks.program.registration``). ``as_run`` masks the secrets and returns the ``OfflineRun`` the
offline preview, render and diff consume; ``tests/test_plan.py`` proves it equals what the
program registers under Pulumi's mock runtime.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.builders.manifest import SecretPath, replace_at_paths
from components.catalog.platform import PROFILES
from components.plan.platform import plan_operator, plan_passthrough, plan_raw_vm
from components.plan.resources import PROVIDER_TYPE, STACK_TYPE, Planned, Scope, custom_children, read
from components.plan.tenant import plan_cluster, plan_vm
from components.provider_settings import AMBIENT_KUBECONFIG, registered_flags
from components.resolve.gpu_operator import uses_vgpu
from components.resolve.names import (
    HOST_PROVIDER,
    OPERATOR_COMPONENT,
    PASSTHROUGH_COMPONENT,
    TENANT_PROVIDER,
    vm_namespace_read_resource,
)
from components.tenant import Tenant
from stacks.program.capacity import capacity, capacity_outputs
from stacks.program.cluster_summary import summarize
from stacks.program.credentials import guest_context_prefix
from stacks.program.records import OfflineRun, Registered, mask, provider_reference
from stacks.validation.config import PlatformStack, Stack, TenantStack


@dataclass(frozen=True)
class PlannedComponent:
    """A component the stack registers: its planned entry (type, name, URN), the args and
    keyword arguments it is constructed with, its provider, and the stack-level resources it
    is registered after (``opts.depends_on``), by URN."""

    resource: Planned
    args: Any
    """The component's validated args model (``components.models``)."""
    provider: str
    keywords: Mapping[str, Any] = field(default_factory=dict)
    after: tuple[str, ...] = ()


@dataclass
class StackPlan:
    """What a stack registers (parents before children) and its outputs (secrets in clear)."""

    scope: Scope
    resources: list[Planned]
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: tuple[SecretPath, ...] = ()
    """Paths in ``outputs`` exported as Pulumi secrets."""
    level: list[Planned | PlannedComponent] = field(default_factory=list)
    """What the stack registers itself, in order: its provider, the components (which register
    their children) and the reads of existing objects."""


def plan(
    stack: Stack, scope: Scope, *, secret_quota: bool = False, imported: frozenset[str] = frozenset()
) -> StackPlan:
    """The plan of a validated stack (``imported``: resource names adopted by ``hikube-gpu:import``)."""
    planned = (
        _tenant(stack, scope, secret_quota) if isinstance(stack, TenantStack) else _platform(stack, scope)
    )
    if imported:
        planned.resources = [_adopted(r) if r.name in imported else r for r in planned.resources]
    return planned


def _adopted(resource: Planned) -> Planned:
    """``import_=<namespace>/<name>`` (``stacks.validation.adoption``)."""
    from dataclasses import replace

    metadata = resource.inputs.get("metadata", {})
    return replace(resource, import_id=f"{metadata.get('namespace')}/{metadata.get('name')}")


def _root(scope: Scope) -> Planned:
    return Planned(scope.root, STACK_TYPE, f"{scope.project}-{scope.stack}", "", custom=False)


def _provider(
    scope: Scope, name: str, kubeconfig: Any, *, server_side: bool, context: str | None, namespace: str | None
) -> Planned:
    """An explicit Kubernetes provider: its inputs as pulumi-kubernetes registers them (booleans
    as JSON text, unset ones left out), the stack's own kubeconfig a secret (else the ambient one,
    ``stacks.program.credentials``).

    The tenant provider applies client-side: Cozystack's apps API keeps no managedFields, so a
    forced server-side apply never removes a key the program stops sending; a three-way merge
    patch sends it as null (P7). The host provider applies server-side, which the Node and
    KubeVirt patches require. Every behaviour flag is stated (``components.provider_settings``)."""
    inputs: dict[str, Any] = registered_flags(server_side_apply=server_side)
    secret = kubeconfig is not None
    inputs["kubeconfig"] = kubeconfig.get_secret_value() if secret else AMBIENT_KUBECONFIG
    if context is not None:
        inputs["context"] = context
    if namespace is not None:
        inputs["namespace"] = namespace
    root = scope.root
    secret_paths: tuple[SecretPath, ...] = (("kubeconfig",),) if secret else ()
    return Planned(
        scope.urn(root, PROVIDER_TYPE, name), PROVIDER_TYPE, name, root, True, inputs, secret_paths
    )


def _tenant(stack: TenantStack, scope: Scope, secret_quota: bool) -> StackPlan:
    namespace = stack.platform.namespace
    if namespace is None:  # rules reject this before a plan is made
        raise ValueError("tenant namespace missing")
    root = _root(scope)
    provider = _provider(
        scope,
        TENANT_PROVIDER,
        stack.kubeconfig,
        server_side=False,
        context=stack.platform.context,
        namespace=namespace,
    )
    tenant = Tenant(namespace, stack.platform.profile, guest_contexts=guest_context_prefix(stack))
    resources = [root, provider]
    level: list[Planned | PlannedComponent] = [provider]
    keywords = {"tenant": tenant}
    vms = {}
    for name in sorted(stack.vms):
        args = stack.vms[name]
        planned, out = plan_vm(scope, name, args, tenant, parent=root.urn, provider=provider.urn)
        resources += planned
        level.append(PlannedComponent(planned[0], args, provider.urn, keywords))
        vms[name] = {"gpus": out["gpus"], "instanceType": out["instanceType"], "service": out["serviceName"]}
    for name in sorted(stack.clusters):
        cluster = stack.clusters[name]
        planned = plan_cluster(scope, name, cluster, tenant, parent=root.urn, provider=provider.urn)
        resources += planned
        level.append(PlannedComponent(planned[0], cluster, provider.urn, keywords))
    app = PROFILES[stack.platform.profile].kubernetes
    gpu_capacity, secrets = capacity_outputs(capacity(stack), secret_quota)
    outputs = {
        "namespace": namespace,
        "vms": vms,
        "clusters": {name: summarize(c, name, app) for name, c in sorted(stack.clusters.items())},
        "gpuCapacity": gpu_capacity,
    }
    secret_outputs = tuple(("gpuCapacity", *path) for path in secrets)
    return StackPlan(scope, resources, outputs, secret_outputs, level)


def _platform(stack: PlatformStack, scope: Scope) -> StackPlan:
    root = _root(scope)
    provider = _provider(
        scope,
        HOST_PROVIDER,
        stack.kubeconfig,
        server_side=True,
        context=stack.platform.context,
        namespace=None,
    )
    resources = [root, provider]
    level: list[Planned | PlannedComponent] = [provider]
    operator, operator_out = plan_operator(
        scope, OPERATOR_COMPONENT, stack.gpu_operator, stack.nodes, parent=root.urn, provider=provider.urn
    )
    resources += operator
    level.append(PlannedComponent(operator[0], stack.gpu_operator, provider.urn, {"nodes": stack.nodes}))
    outputs: dict[str, Any] = {
        "gpuOperator": {
            "namespace": operator_out["namespace"],
            "chartVersion": operator_out["chartVersion"],
            "defaultWorkload": stack.gpu_operator.default_workload,
            "sandboxWorkloads": operator_out["sandboxWorkloads"],
        },
        "nodes": {name: node.workload for name, node in sorted(stack.nodes.items())},
    }
    after_passthrough: tuple[str, ...] = ()
    passthrough_urn: tuple[str, ...] = ()
    if stack.kubevirt is not None:
        manages_vgpu = uses_vgpu(stack.gpu_operator, stack.nodes)
        passthrough, passthrough_out = plan_passthrough(
            scope,
            PASSTHROUGH_COMPONENT,
            stack.kubevirt,
            parent=root.urn,
            provider=provider.urn,
            operator_manages_vgpu=manages_vgpu,
        )
        resources += passthrough
        level.append(
            PlannedComponent(
                passthrough[0], stack.kubevirt, provider.urn, {"operator_manages_vgpu": manages_vgpu}
            )
        )
        after_passthrough = custom_children(passthrough, passthrough[0].urn)
        passthrough_urn = (passthrough[0].urn,)
        outputs["permittedGpus"] = passthrough_out["permittedGpus"]
    namespaces = {name: vm.namespace or stack.platform.namespace or "" for name, vm in stack.vms.items()}
    # Raw VMs go into namespaces the stack does not own: read each one first, so a missing
    # namespace fails before the VM's Secret is attempted (P5), and destroy never deletes it.
    existing = {}
    for ns in sorted(set(namespaces.values())):
        existing[ns] = read(
            scope,
            root.urn,
            "v1",
            "Namespace",
            vm_namespace_read_resource(ns),
            read_id=ns,
            provider=provider.urn,
        )
        resources.append(existing[ns])
        level.append(existing[ns])
    vms = {}
    naming = stack.kubevirt.resource_naming if stack.kubevirt else "hikube"
    for name in sorted(stack.vms):
        planned, out = plan_raw_vm(
            scope,
            name,
            stack.vms[name],
            root.urn,
            provider.urn,
            namespace=namespaces[name],
            naming=naming,
            dependencies=(existing[namespaces[name]].urn, *after_passthrough),
        )
        resources += planned
        level.append(
            PlannedComponent(
                planned[0],
                stack.vms[name],
                provider.urn,
                {"namespace": namespaces[name], "naming": naming},
                after=(existing[namespaces[name]].urn, *passthrough_urn),
            )
        )
        vms[name] = out
    outputs["vms"] = vms
    return StackPlan(scope, resources, outputs, (), level)


# --- the plan as the offline engine records it ------------------------------------------


def wire(value: Any) -> Any:
    """A plain value as it comes back from Pulumi's wire format: enums as their values,
    whole floats as ints, tuples as lists."""
    if isinstance(value, Mapping):
        return {str(key): wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [wire(item) for item in value]
    if isinstance(value, enum.Enum):
        return wire(value.value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _path_text(path: SecretPath) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


def masked(value: Mapping[str, Any], paths: Iterable[SecretPath]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``value`` (on the wire) with the value at each path masked (``records.mask``), and the
    masked paths as text (``spec.env[0].value``); paths that lead nowhere are skipped."""
    out, found = replace_at_paths(wire(dict(value)), paths, mask)
    return out, tuple(sorted(_path_text(path) for path in found))


def recorded(resource: Planned) -> Registered:
    """One planned resource as the offline engine records it (secrets masked)."""
    inputs, masked_paths = masked(resource.inputs, resource.secret_paths)
    return Registered(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        parent=resource.parent,
        custom=resource.custom,
        protect=resource.protect,
        provider=provider_reference(resource.provider) if resource.provider else "",
        dependencies=tuple(sorted(resource.dependencies)),
        inputs=inputs,
        read=bool(resource.read_id),
        masked=masked_paths,
        imported=resource.import_id,
    )


def as_run(stack_plan: StackPlan, warnings: Iterable[str] = ()) -> OfflineRun:
    """The plan as an ``OfflineRun`` (sorted by URN, as the engine's), secrets masked."""
    outputs, _ = masked(stack_plan.outputs, stack_plan.secret_outputs)
    run = OfflineRun(
        stack=stack_plan.scope.stack,
        project=stack_plan.scope.project,
        resources=sorted((recorded(r) for r in stack_plan.resources), key=lambda r: r.urn),
        outputs=outputs,
        warnings=list(warnings),
    )
    return run
