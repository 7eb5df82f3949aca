"""``pulumi up`` registers the stack's plan: the stack level of ``stacks.program.plan`` (its provider,
its components, the reads of existing objects) and the stack outputs, secrets as Pulumi secrets.

The plan is made by pure code; this module only turns each entry into its Pulumi resource, so
the offline tools and ``pulumi up`` share one code path (each component registers its own
children from its plan, ``components.registration.register_plan``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.builders.manifest import replace_at_paths
from components.gpu_kubernetes_cluster import GpuKubernetesCluster
from components.gpu_operator import GpuOperator
from components.gpu_virtual_machine import GpuVirtualMachine
from components.kubevirt_gpu_passthrough import KubeVirtGpuPassthrough
from components.kubevirt_gpu_vm import KubeVirtGpuVirtualMachine
from components.plan.resources import PROVIDER_TYPE, Planned
from components.provider_settings import INPUT_NAMES
from components.registration import register_plan_child
from stacks.program.plan import PlannedComponent, StackPlan

COMPONENTS: Mapping[str, Callable[..., pulumi.ComponentResource]] = {
    cls.TYPE: cls
    for cls in (
        GpuVirtualMachine,
        GpuKubernetesCluster,
        GpuOperator,
        KubeVirtGpuPassthrough,
        KubeVirtGpuVirtualMachine,
    )
}
"""Each component the stack level registers, by its type token."""

_KEYWORDS = {name: keyword for keyword, name in INPUT_NAMES.items()}


def provider_arguments(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """``k8s.Provider``'s keyword arguments for a planned provider's registered inputs (the
    behaviour flags from JSON text back to booleans, under their SDK names)."""
    arguments = {}
    for key, value in inputs.items():
        if key in _KEYWORDS:
            arguments[_KEYWORDS[key]] = value == "true"
        else:
            arguments[key] = value
    return arguments


def _provider(resource: Planned) -> k8s.Provider:
    inputs = replace_at_paths(dict(resource.inputs), resource.secret_paths, pulumi.Output.secret)[0]
    return k8s.Provider(resource.name, **provider_arguments(inputs))


def register(stack_plan: StackPlan) -> dict[str, pulumi.Resource]:
    """Register the stack level of ``stack_plan`` in its order and export its outputs (the
    paths of ``secret_outputs`` as Pulumi secrets); the registered resources by URN."""
    registered: dict[str, pulumi.Resource] = {}
    providers: dict[str, pulumi.ProviderResource] = {}
    for entry in stack_plan.level:
        if isinstance(entry, PlannedComponent):
            options = pulumi.ResourceOptions(
                provider=providers[entry.provider],
                depends_on=[registered[urn] for urn in entry.after] or None,
            )
            resource = entry.resource
            registered[resource.urn] = COMPONENTS[resource.type](
                resource.name, entry.args, options, **entry.keywords
            )
        elif entry.type == PROVIDER_TYPE:
            registered[entry.urn] = providers[entry.urn] = _provider(entry)
        else:
            options = pulumi.ResourceOptions(provider=providers[entry.provider])
            registered[entry.urn] = register_plan_child(entry, options)
    outputs = replace_at_paths(stack_plan.outputs, stack_plan.secret_outputs, pulumi.Output.secret)[0]
    for key, value in outputs.items():
        pulumi.export(key, value)
    return registered
