"""Register a builder's ``Manifest`` with pulumi-kubernetes, its secret fields as Pulumi secrets."""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.builders.manifest import Manifest, SecretPath, replace_at_paths
from components.inputs import each, item
from components.plan.resources import Planned, Scope


def _with_secrets(body: dict[str, Any], paths: tuple[SecretPath, ...]) -> dict[str, Any]:
    """``body`` with the value at each path (map keys, list positions) a Pulumi secret;
    paths that lead nowhere are skipped."""
    return replace_at_paths(body, paths, pulumi.Output.secret)[0]


def _fields(manifest: Manifest, later: pulumi.Output[Manifest] | None) -> tuple[Any, dict[str, Any]]:
    """``manifest``'s metadata and body (secrets marked), or the same fields of ``later`` (the
    manifest built once the args that hold Outputs are known; ``manifest`` is its stand-in)."""
    if later is None:
        return manifest.metadata, _with_secrets(manifest.body, manifest.secret_paths)
    body = later.apply(lambda known: _with_secrets(known.body, known.secret_paths))
    fields = {key: item(body, key) for key in manifest.body}
    return later.apply(lambda known: known.metadata), fields


def register_custom_resource(
    resource_name: str,
    manifest: Manifest,
    opts: pulumi.ResourceOptions,
    later: pulumi.Output[Manifest] | None = None,
) -> k8s.apiextensions.CustomResource:
    """A ``CustomResource`` for ``manifest`` (Cozystack apps and other non-core kinds)."""
    metadata, body = _fields(manifest, later)
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest.api_version,
        kind=manifest.kind,
        metadata=metadata,
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
    ("v1", "Node"): ("core.v1", "Node"),
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
    resource_name: str,
    manifest: Manifest,
    opts: pulumi.ResourceOptions,
    later: pulumi.Output[Manifest] | None = None,
) -> pulumi.CustomResource:
    """The typed pulumi-kubernetes resource for a core kind (so Pulumi awaits it the
    Kubernetes way: rollouts, endpoints), a ``CustomResource`` for anything else. With
    ``later``, the fields are ``later``'s (``manifest`` stands in for it: same kind, same keys)."""
    cls = _typed_class(manifest.api_version, manifest.kind)
    if cls is None:
        return register_custom_resource(resource_name, manifest, opts, later)
    metadata, body = _fields(manifest, later)
    # Typed classes take top-level fields as snake_case arguments (stringData → string_data).
    arguments = {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in body.items()}
    resource: pulumi.CustomResource = cls(resource_name, metadata=metadata, opts=opts, **arguments)
    return resource


OUTSIDE = "opts.depends_on"
"""Stands, in a component's planned dependencies, for the resources of its ``opts.depends_on``."""


def shape(resource: Planned) -> tuple[Any, ...]:
    """What makes a planned resource the resource it is, whatever its inputs hold."""
    manifest = resource.manifest
    kind = (
        None
        if manifest is None
        else (manifest.api_version, manifest.kind, manifest.name, tuple(manifest.body))
    )
    return (
        resource.urn,
        resource.type,
        resource.parent,
        resource.custom,
        resource.provider,
        resource.protect,
        resource.dependencies,
        bool(resource.read_id),
        resource.import_id,
        resource.aliases,
        kind,
    )


def same_shape(planned: Sequence[Planned], known: Sequence[Planned]) -> list[Planned]:
    """``known`` (planned once the Output args are known), when it plans the very resources
    ``planned`` (planned with their stand-ins) does; an error otherwise, which would mean an
    arg that takes Outputs shapes the resources after all."""
    if [shape(p) for p in planned] != [shape(k) for k in known]:
        raise RuntimeError("the args that hold Outputs changed which resources are planned")
    return list(known)


def register_plan(
    component: pulumi.ComponentResource,
    planned: Sequence[Planned],
    after: Sequence[pulumi.Resource] = (),
    later: pulumi.Output[Sequence[Planned]] | None = None,
) -> dict[str, pulumi.CustomResource]:
    """Register a component's planned Kubernetes objects (``components.plan``; ``planned[0]`` is
    the component itself) as its children, by resource name: each with its ``protect``, after
    the planned siblings it depends on, and after ``after`` when it depends on something
    outside the component (``opts.depends_on``). The provider comes from the component.
    ``later``: the plan once the args that hold Outputs are known (``components.inputs``);
    the children's inputs are then its."""
    own = planned[0].urn
    checked = None if later is None else later.apply(lambda plan: same_shape(planned, plan))
    known = each(checked, len(planned))
    registered: dict[str, pulumi.CustomResource] = {}
    by_name: dict[str, pulumi.CustomResource] = {}
    for index, resource in enumerate(planned[1:], start=1):
        if resource.parent != own:
            raise ValueError(f"{resource.name}: only a component's own children register here")
        inside: list[pulumi.Resource] = [registered[u] for u in resource.dependencies if u in registered]
        outside = list(after) if any(u not in registered for u in resource.dependencies) else []
        options = pulumi.ResourceOptions(parent=component, protect=resource.protect)
        if inside or outside:
            options = pulumi.ResourceOptions.merge(
                options, pulumi.ResourceOptions(depends_on=[*inside, *outside])
            )
        child = register_plan_child(resource, options, known[index])
        registered[resource.urn] = by_name[resource.name] = child
    return by_name


HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def register_plan_child(
    resource: Planned, options: pulumi.ResourceOptions, later: pulumi.Output[Planned] | None = None
) -> pulumi.CustomResource:
    """One planned Kubernetes resource: a read (``.get``), a Helm release, a patch, or an object.
    ``later``: the same resource planned once the args that hold Outputs are known."""
    inputs = resource.inputs
    if resource.read_id:
        api_version, _, kind = resource.type.removeprefix("kubernetes:").rpartition(":")
        cls = _typed_class("v1" if api_version == "core/v1" else api_version, kind)
        read_id = resource.read_id if later is None else later.apply(lambda known: known.read_id)
        got: pulumi.CustomResource = cls.get(resource.name, read_id, opts=options)
        return got
    if later is not None and resource.manifest is None:
        raise ValueError(f"{resource.name}: only objects and reads take args that hold Outputs")
    if resource.type == HELM_RELEASE:
        return k8s.helm.v3.Release(
            resource.name,
            name=inputs["name"],
            namespace=inputs["namespace"],
            chart=inputs["chart"],
            version=inputs["version"],
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=inputs["repositoryOpts"]["repo"]),
            values=inputs["values"],
            create_namespace=inputs["createNamespace"],
            timeout=inputs["timeout"],
            opts=options,
        )
    if resource.type == "kubernetes:core/v1:NodePatch":
        return k8s.core.v1.NodePatch(resource.name, metadata=inputs["metadata"], opts=options)
    if resource.type.endswith("Patch"):
        body = {key: value for key, value in inputs.items() if key not in ("apiVersion", "kind", "metadata")}
        return k8s.apiextensions.CustomResourcePatch(
            resource.name,
            api_version=inputs["apiVersion"],
            kind=inputs["kind"],
            metadata=inputs["metadata"],
            opts=options,
            **body,
        )
    if resource.manifest is None:
        raise ValueError(f"{resource.name}: a planned object without a manifest")
    stand_in = resource.manifest
    manifest: pulumi.Output[Manifest] | None = None
    if later is not None:
        manifest = later.apply(lambda known: known.manifest or stand_in)
    return register_manifest(resource.name, stand_in, options, manifest)


def plan_scope() -> tuple[Scope, str]:
    """The running stack's scope for a component's plan, and the parent to plan it under (the
    root stack: only the planned URNs' relations matter, the component registers the children)."""
    scope = Scope(pulumi.get_stack(), pulumi.get_project())
    return scope, scope.root
