"""Semantic rules over a structurally valid stack: platform limits, quota, sizing advice.

Each rule yields ``Problem``s with the config path they concern; errors stop the stack,
warnings are printed by ``pulumi preview`` / ``pulumi up`` and by the offline preview.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from components.catalog.gpus import GPU_MODELS
from components.catalog.platform import PROFILES
from components.catalog.quota import quota_limit
from components.checks.vm import check_vm
from components.models.vm import GpuVirtualMachineArgs
from stacks.loading.problems import Problem, config_path
from stacks.validation.cluster_rules import check_cluster
from stacks.validation.config import TenantStack


def check_tenant(stack: TenantStack) -> list[Problem]:
    """Every semantic problem of a tenant stack, errors and warnings."""
    problems = list(_platform(stack))
    for name, vm in stack.vms.items():
        problems += _vm(stack, name, vm)
    profile = PROFILES[stack.platform.profile]
    for name, cluster in stack.clusters.items():
        problems += check_cluster(profile, name, cluster)
    problems += _quota(stack)
    return problems


def _platform(stack: TenantStack) -> Iterator[Problem]:
    if stack.platform.namespace is None:
        yield Problem(
            config_path("platform", "namespace"),
            "required: the tenant namespace to deploy into (e.g. tenant-acme); "
            "set hikube-gpu:platform.namespace or kubernetes:namespace",
        )


def _vm(stack: TenantStack, name: str, vm: GpuVirtualMachineArgs) -> Iterator[Problem]:
    """The VM's own checks (``components.checks.vm``, the ones ``GpuVirtualMachine`` runs), at
    its config path."""
    where = config_path("vms", name)
    for issue in check_vm(name, vm, PROFILES[stack.platform.profile]):
        yield Problem(issue.under(where), issue.message, issue.severity)


def _quota(stack: TenantStack) -> Iterator[Problem]:
    """VM GPUs plus node-group GPUs as the platform runs them, per model, against the quota.

    Past the quota at ``steady_max`` nodes (the platform starts a group with two) is an
    error; past it only during a roll-out's surge is a warning (the roll-out goes slower).
    """
    if stack.quota is None:
        return
    app = PROFILES[stack.platform.profile].kubernetes
    steady: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    users: dict[str, list[str]] = {}
    for name, vm in stack.vms.items():
        for model, count in vm.gpus.items():
            steady[model.value] += count
            peak[model.value] += count
            users.setdefault(model.value, []).append(f"{name}: {count}")
    for cluster_name, cluster in stack.clusters.items():
        for group_name, group in cluster.node_groups.items():
            scale = app.node_group_scale(group.min_replicas, group.max_replicas)
            for model, count in group.gpus.items():
                steady[model.value] += count * scale.steady_max
                peak[model.value] += count * scale.peak
                nodes = f"{scale.steady_max}" + (
                    f" (maxReplicas {group.max_replicas})" if scale.steady_max != group.max_replicas else ""
                )
                users.setdefault(model.value, []).append(f"{cluster_name}/{group_name}: {nodes}×{count}")
    for model in GPU_MODELS:
        allowed = quota_limit(stack.quota, model)
        path = config_path("quota", model.value)
        if steady[model.value] > allowed:
            yield Problem(
                path,
                f"the stack asks for {steady[model.value]} {model.value} GPUs "
                f"({', '.join(users[model.value])}) but its quota is {allowed}",
            )
        elif peak[model.value] > allowed:
            yield Problem(
                path,
                f"a node-group roll-out can hold {peak[model.value]} {model.value} GPUs at once "
                f"(the platform adds up to maxReplicas new nodes before removing old ones) but the quota "
                f"is {allowed}: roll-outs will wait for GPUs and go one node at a time",
                "warning",
            )
