"""Namespaces a stack must never own: it would create them, and ``pulumi destroy`` delete them.

Kubernetes' own (``default``, ``kube-system``, ``kube-public``, ``kube-node-lease`` and the
reserved ``kube-`` prefix) everywhere; inside a tenant cluster the ``cozy-`` namespaces the
platform's add-ons install into; on a host cluster also the platform's own: Cozystack's
``cozy-`` and ``tenant-`` namespaces, and KubeVirt's and CDI's default ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reserved:
    """Namespaces that belong to someone else: exact names and prefixes, and whose they are."""

    names: tuple[str, ...]
    prefixes: tuple[str, ...]
    owner: str
    source: str

    def holds(self, namespace: str) -> bool:
        return namespace in self.names or namespace.startswith(self.prefixes)


KUBERNETES = Reserved(
    ("default", "kube-system", "kube-public", "kube-node-lease"),
    ("kube-",),
    "Kubernetes",
    "kubernetes/apimachinery v0.34.0 pkg/apis/meta/v1/types.go:279-288, kubernetes/api v0.34.0 "
    "core/v1/types.go:28-32; the kube- prefix is reserved (kubernetes.io, Namespaces)",
)
COZYSTACK_ADDONS = Reserved(
    (),
    ("cozy-",),
    "the platform's add-ons",
    "cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/helmreleases/*.yaml (targetNamespace "
    "cozy-cilium, cozy-gpu-operator, …)",
)
COZYSTACK_HOST = Reserved(
    (),
    ("cozy-", "tenant-"),
    "Cozystack",
    "cozystack/cozystack v1.1.2 packages/core/platform/Makefile:2 (cozy-system), "
    "packages/core/platform/sources/gpu-operator.yaml:23 (cozy-gpu-operator), "
    "packages/apps/tenant/templates/_helpers.tpl:6-7 (tenant-*)",
)
KUBEVIRT = Reserved(
    ("kubevirt", "cdi"),
    (),
    "KubeVirt and CDI",
    "kubevirt/kubevirt v1.6.3 hack/config-default.sh:32,35",
)

IN_TENANT_CLUSTER = (KUBERNETES, COZYSTACK_ADDONS)
"""What a workload's namespace inside a tenant cluster must not be."""
ON_HOST_CLUSTER = (KUBERNETES, COZYSTACK_HOST, KUBEVIRT)
"""What a namespace the platform stack creates on the host cluster must not be."""


def owner_of(namespace: str, reserved: tuple[Reserved, ...]) -> Reserved | None:
    """Who ``namespace`` belongs to, or None when a stack may own it."""
    return next((r for r in reserved if r.holds(namespace)), None)
