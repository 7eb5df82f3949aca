"""How the stack's Kubernetes providers get their credential (docs/deploying.md).

The credential is not part of the provider's identity: pulumi-kubernetes diffs every provider
input (``DiffConfig``), and an explicit provider that shows an update makes
``pulumi preview --expect-no-changes`` fail. So a stack without ``hikube-gpu:kubeconfig``
registers the same inputs whichever kubeconfig the run uses: a read-only one for previews and
drift checks, the write one for ``pulumi up``.
"""

from __future__ import annotations

import pulumi
from pydantic import SecretStr

AMBIENT_KUBECONFIG = ""
"""The ``kubeconfig`` input that makes the provider load the kubeconfig of the process running
Pulumi (``KUBECONFIG``, else ``~/.kube/config``) when it starts. ``None`` would not do: the
Python SDK then records the ``KUBECONFIG`` *path* as the input, and another path (another
machine, another credential file) diffs the provider."""


def kubeconfig_input(kubeconfig: SecretStr | None) -> pulumi.Input[str]:
    """The stack's own kubeconfig as a Pulumi secret, else the ambient one (``""``)."""
    if kubeconfig is None:
        return AMBIENT_KUBECONFIG
    return pulumi.Output.secret(kubeconfig.get_secret_value())
