"""Where tenant components go: the namespace and the platform (not user args, so not in them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.catalog.platform import PROFILES, PlatformProfile
from components.resolve.names import guest_context


@dataclass(frozen=True)
class Tenant:
    """A tenant namespace on a platform profile (``hikube``: Cozystack v1.1.2; ``cozystack-1.4``)."""

    namespace: Any
    """The tenant namespace the apps go into (``tenant-acme``): text, or a ``pulumi.Input[str]``
    (an Output is checked once it is known, see ``components.inputs``)."""
    platform: str = "hikube"
    """A key of ``components.catalog.platform.PROFILES``."""
    guest_contexts: str | None = None
    """How each ``GpuKubernetesCluster`` reaches its own cluster. ``None`` (the component
    library's default): it reads the cluster's admin kubeconfig Secret into its provider, so that
    admin credential is kept, encrypted, in the state. A prefix (the stack program's): its
    provider loads the kubeconfig of the process running Pulumi with the context
    ``<prefix>/<cluster>`` (``names.guest_context``), so no credential is a provider input or
    in the state, and a preview can hold a read-only one (docs/deploying.md)."""

    def __post_init__(self) -> None:
        if self.platform not in PROFILES:
            raise ValueError(f"unknown platform {self.platform!r}; choose {', '.join(sorted(PROFILES))}")
        if self.namespace is None or self.namespace == "":
            raise ValueError("namespace is required")

    @property
    def profile(self) -> PlatformProfile:
        return PROFILES[self.platform]

    def guest_context(self, cluster: str) -> str | None:
        """The context of ``cluster``'s own provider, or None when it reads the admin Secret."""
        return None if self.guest_contexts is None else guest_context(self.guest_contexts, cluster)
