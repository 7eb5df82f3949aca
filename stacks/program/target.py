"""A stack runs only against its own cluster: ``hikube-gpu:platform.apiServer`` (docs/deploying.md).

Without its own kubeconfig, a stack's provider loads the kubeconfig of the process running
Pulumi (``kubeconfig: ""``, ``stacks.program.credentials``), and pulumi-kubernetes's guard that
replaces a provider whose cluster changed cannot fire for an empty kubeconfig (v4.32.0
``provider/pkg/provider/provider.go`` 551–559 compare the active clusters only when both old and
new kubeconfig name one; ``util.go`` 202–204 find none in an empty one). So an ``up`` run with a
kubeconfig for another cluster would deploy there. ``check`` finds the server the provider will
reach (``stacks.program.kubeconfig_loader``, client-go's own rules) and refuses a run that would reach
another server than the stack names, before anything is registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.resolve.names import guest_context
from stacks.loading.problems import Problem, config_path
from stacks.program.credentials import guest_context_prefix
from stacks.program.kubeconfig_loader import Environment, KubeconfigError, Reached, load, reached, same_server
from stacks.validation.config import Stack, TenantStack

API_SERVER_PATH = config_path("platform", "apiServer")


class WrongCluster(Exception):
    """The run's credential reaches another API server than the stack's: nothing may be sent."""


@dataclass(frozen=True)
class Target:
    """Where a run goes: the server reached (or why none is), and the warnings to show."""

    reached: Reached | None
    warnings: list[Problem]


def record_command(server: str, stack_name: str) -> str:
    """The one command that records the cluster in the stack's file."""
    return f"pulumi config set --path hikube-gpu:platform.apiServer {server} --stack {stack_name}"


def check(stack: Stack, stack_name: str, env: Environment, kubeconfig: str | None = None) -> Target:
    """The server the stack's provider reaches in ``env`` with ``kubeconfig`` (the stack's own,
    decrypted, else the ambient one) and ``platform.context``; raises ``WrongCluster`` when it
    is not ``platform.apiServer``. A stack without ``apiServer`` gets a warning with the command
    that records the server reached; a run that reaches none gets a warning (its provider
    cannot write anything: pulumi-kubernetes fails every write of an unreachable cluster)."""
    wanted = stack.platform.api_server
    try:
        found = reached(kubeconfig or "", stack.platform.context, env)
    except KubeconfigError as error:
        why = f"this run's kubeconfig reaches no cluster ({error}): nothing can be deployed"
        if wanted is None:
            why += (
                "; name the stack's cluster with `pulumi config set --path hikube-gpu:platform.apiServer URL`"
            )
        return Target(None, [Problem(API_SERVER_PATH, why, "warning")])
    if wanted is None:
        message = (
            f"not set, so nothing stops a run with another cluster's kubeconfig from deploying there; "
            f"this run reaches {found.server} ({found.origin}). If that is this stack's cluster, "
            f"record it: {record_command(found.server, stack_name)}"
        )
        return Target(found, [Problem(API_SERVER_PATH, message, "warning")])
    if not same_server(found.server, wanted):
        raise WrongCluster(
            f"stack {stack_name!r} belongs to {wanted} ({API_SERVER_PATH}), but this run's "
            f"credential reaches {found.server} ({found.origin}); nothing was sent. Use the "
            f"kubeconfig (or context) of {wanted}, or fix {API_SERVER_PATH}."
        )
    return Target(found, [])


def missing_guest_contexts(stack: Stack, env: Environment) -> list[Problem]:
    """A warning per GPU Kubernetes cluster whose context the kubeconfig of the run lacks: its
    provider cannot reach it (pulumi-kubernetes previews the cluster's objects from their
    inputs, and fails to change them)."""
    if not isinstance(stack, TenantStack) or not stack.clusters:
        return []
    try:
        kubeconfig, origin = load(env)
    except KubeconfigError:
        return []  # ``check`` says so already
    prefix = guest_context_prefix(stack)
    warnings = []
    for cluster in sorted(stack.clusters):
        context = guest_context(prefix, cluster)
        if context not in kubeconfig.contexts:
            message = (
                f"{origin} has no context {context}, so this run cannot reach the cluster: its "
                "namespaces and workloads are previewed from their inputs and cannot be changed. For "
                "`up`, `hikube-gpu up` adds the cluster's admin context itself (`hikube-gpu "
                "guest-kubeconfig` writes it for `pulumi up`); for previews, give a read-only one "
                "(deploy/rbac/guest-preview-readonly.yaml). A new cluster has none until the first "
                "`up` has created it."
            )
            warnings.append(Problem(config_path("clusters", cluster), message, "warning"))
    return warnings
