"""Register a builder's ``Manifest`` with pulumi-kubernetes, its secret fields as Pulumi secrets."""

from __future__ import annotations

import copy
import importlib
import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.builders.manifest import Manifest, SecretPath


def _with_secrets(body: dict[str, Any], paths: tuple[SecretPath, ...]) -> dict[str, Any]:
    """``body`` with the value at each path (map keys, list positions) a Pulumi secret;
    paths that lead nowhere are skipped."""
    marked = copy.deepcopy(body)
    for path in paths:
        parent: Any = marked
        for key in path[:-1]:
            parent = _child(parent, key)
        if _child(parent, path[-1]) is not None:
            parent[path[-1]] = pulumi.Output.secret(parent[path[-1]])
    return marked


def _child(parent: Any, key: str | int) -> Any:
    if isinstance(parent, dict) and isinstance(key, str):
        return parent.get(key)
    if isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
        return parent[key]
    return None


def register_custom_resource(
    resource_name: str, manifest: Manifest, opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """A ``CustomResource`` for ``manifest`` (Cozystack apps and other non-core kinds)."""
    body = _with_secrets(manifest.body, manifest.secret_paths)
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest.api_version,
        kind=manifest.kind,
        metadata=manifest.metadata,
        opts=opts,
        **body,
    )


# (apiVersion, kind) → pulumi_kubernetes module and class. Looked up on first use: the
# generated modules are large (core/v1 alone takes ~0.35 s to import).
_TYPED: dict[tuple[str, str], tuple[str, str]] = {
    ("v1", "Namespace"): ("core.v1", "Namespace"),
    ("v1", "ResourceQuota"): ("core.v1", "ResourceQuota"),
    ("v1", "Service"): ("core.v1", "Service"),
    ("v1", "Secret"): ("core.v1", "Secret"),
    ("apps/v1", "Deployment"): ("apps.v1", "Deployment"),
    ("apps/v1", "StatefulSet"): ("apps.v1", "StatefulSet"),
    ("batch/v1", "Job"): ("batch.v1", "Job"),
}


def _typed_class(api_version: str, kind: str) -> Any:
    location = _TYPED.get((api_version, kind))
    if location is None:
        return None
    module = importlib.import_module(f"pulumi_kubernetes.{location[0]}")
    return getattr(module, location[1])


def register_manifest(
    resource_name: str, manifest: Manifest, opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    """The typed pulumi-kubernetes resource for a core kind (so Pulumi awaits it the
    Kubernetes way: rollouts, endpoints), a ``CustomResource`` for anything else."""
    cls = _typed_class(manifest.api_version, manifest.kind)
    if cls is None:
        return register_custom_resource(resource_name, manifest, opts)
    body = _with_secrets(manifest.body, manifest.secret_paths)
    # Typed classes take top-level fields as snake_case arguments (stringData → string_data).
    arguments = {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in body.items()}
    resource: pulumi.CustomResource = cls(resource_name, metadata=manifest.metadata, opts=opts, **arguments)
    return resource
