"""What a builder returns: one Kubernetes object as plain data, plus which parts are secret."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

COZYSTACK_APPS = "apps.cozystack.io/v1alpha1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "hikube-gpu"}

SecretPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Manifest:
    """A Kubernetes object. ``secret_paths`` name the fields to register as Pulumi secrets,
    as keys from ``body`` down, list positions as ints (``("spec", "env", 0, "value")``);
    an empty ``namespace`` means a cluster-scoped object."""

    api_version: str
    kind: str
    name: str
    namespace: str
    labels: dict[str, str]
    body: dict[str, Any]
    """Everything besides apiVersion, kind and metadata (for a Cozystack app: ``{"spec": …}``)."""
    secret_paths: tuple[SecretPath, ...] = field(default=())
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def metadata(self) -> dict[str, Any]:
        """Name, namespace (left out for cluster-scoped objects), labels, annotations if any."""
        metadata: dict[str, Any] = {"name": self.name}
        if self.namespace:
            metadata["namespace"] = self.namespace
        metadata["labels"] = dict(self.labels)
        if self.annotations:
            metadata["annotations"] = dict(self.annotations)
        return metadata

    def as_dict(self) -> dict[str, Any]:
        """The full object, secrets in clear: for tests and schema checks, never for output."""
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": self.metadata, **self.body}


def replace_at_paths(
    body: dict[str, Any], paths: Iterable[SecretPath], replace: Callable[[Any], Any]
) -> tuple[dict[str, Any], list[SecretPath]]:
    """A deep copy of ``body`` with the value at each path (map keys, list positions) replaced
    by ``replace(value)``, and the paths that led somewhere; paths that lead nowhere are skipped.
    Registration wraps secrets in Pulumi secrets with it, the plan masks them."""
    out = copy.deepcopy(body)
    found = []
    for path in paths:
        parent: Any = out
        for key in path[:-1]:
            parent = _child(parent, key)
        if _child(parent, path[-1]) is not None:
            parent[path[-1]] = replace(parent[path[-1]])
            found.append(path)
    return out, found


def _child(parent: Any, key: str | int) -> Any:
    if isinstance(parent, dict) and isinstance(key, str):
        return parent.get(key)
    if isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
        return parent[key]
    return None
