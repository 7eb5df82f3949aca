"""How the stack's Kubernetes providers get their credential (docs/deploying.md).

The credential is not part of the provider's identity: pulumi-kubernetes diffs every provider
input (``DiffConfig``), and an explicit provider that shows an update makes
``pulumi preview --expect-no-changes`` fail. So a stack without ``hikube-gpu:kubeconfig``
registers the same inputs whichever kubeconfig the run uses: a read-only one for previews and
drift checks, the write one for ``pulumi up``. The plan gives a provider the stack's own
kubeconfig as a secret input, else the ambient one (``stacks.program.plan``, ``AMBIENT_KUBECONFIG``).
"""

from __future__ import annotations

from stacks.validation.config import TenantStack


def guest_context_prefix(stack: TenantStack) -> str:
    """The prefix of the kubeconfig contexts of the stack's GPU Kubernetes clusters
    (``Tenant.guest_contexts``): the stack's own context when it names one (several stacks
    share a kubeconfig then), else its namespace."""
    prefix = stack.platform.context or stack.platform.namespace
    if prefix is None:  # rules reject a tenant stack without a namespace
        raise ValueError("tenant namespace missing")
    return prefix
