"""One planned resource, and the URNs of a stack (the scope every plan is made in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.builders.manifest import Manifest, SecretPath

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE = "pulumi:providers:kubernetes"


def resource_type(api_version: str, kind: str, suffix: str = "") -> str:
    """pulumi-kubernetes' type token: ``kubernetes:core/v1:Secret``, ``kubernetes:apps/v1:Deployment``."""
    return f"kubernetes:{'core/v1' if api_version == 'v1' else api_version}:{kind}{suffix}"


@dataclass(frozen=True)
class Scope:
    """The stack and project URNs are made in."""

    stack: str
    project: str

    @property
    def root(self) -> str:
        """The URN of the stack's root resource (``pulumi:pulumi:Stack``)."""
        return self.urn("", STACK_TYPE, f"{self.project}-{self.stack}")

    def urn(self, parent: str, type_: str, name: str) -> str:
        """A URN as the Pulumi engine forms it: ancestor types joined by ``$``, the root stack left out."""
        parent_type = parent.split("::")[2] if parent else ""
        if parent_type and parent_type != STACK_TYPE:
            type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"


@dataclass(frozen=True)
class Planned:
    """One resource the program registers (or reads), with its options and clear inputs."""

    urn: str
    type: str
    name: str
    parent: str
    """The parent's URN (empty for the root stack)."""
    custom: bool
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """The inputs as the provider receives them (secret values in clear, see ``secret_paths``)."""
    secret_paths: tuple[SecretPath, ...] = ()
    """Paths in ``inputs`` registered as Pulumi secrets."""
    provider: str = ""
    """The URN of the provider that manages it (empty for components and providers)."""
    protect: bool = False
    dependencies: tuple[str, ...] = ()
    """URNs it waits for (``depends_on`` expanded to custom resources, and implicit inputs)."""
    read_id: str = ""
    """The id of an existing object read with ``.get`` (it is not managed)."""
    import_id: str = ""
    """The id ``pulumi up`` imports (``hikube-gpu:import``)."""
    aliases: tuple[str, ...] = ()
    manifest: Manifest | None = None
    """The builder's object, for Kubernetes objects built from a ``Manifest``."""


def child(scope: Scope, parent: str, type_: str, name: str, **options: Any) -> Planned:
    return Planned(scope.urn(parent, type_, name), type_, name, parent, **options)


def component(
    scope: Scope, parent: str, type_: str, name: str, dependencies: tuple[str, ...] = ()
) -> Planned:
    return child(scope, parent, type_, name, custom=False, dependencies=tuple(sorted(dependencies)))


def manifest_inputs(manifest: Manifest) -> dict[str, Any]:
    """A ``Manifest`` as pulumi-kubernetes' inputs (typed classes and ``CustomResource`` alike)."""
    return {
        "apiVersion": manifest.api_version,
        "kind": manifest.kind,
        "metadata": manifest.metadata,
        **manifest.body,
    }


def object_resource(
    scope: Scope,
    parent: str,
    name: str,
    manifest: Manifest,
    provider: str,
    *,
    protect: bool = False,
    dependencies: tuple[str, ...] = (),
    suffix: str = "",
) -> Planned:
    """A Kubernetes object built from ``manifest`` (``suffix``: ``Patch`` for a patch)."""
    return child(
        scope,
        parent,
        resource_type(manifest.api_version, manifest.kind, suffix),
        name,
        custom=True,
        inputs=manifest_inputs(manifest),
        secret_paths=manifest.secret_paths,
        provider=provider,
        protect=protect,
        dependencies=tuple(sorted(dependencies)),
        manifest=manifest,
    )


def read(
    scope: Scope,
    parent: str,
    api_version: str,
    kind: str,
    name: str,
    *,
    read_id: str,
    provider: str,
    dependencies: tuple[str, ...] = (),
) -> Planned:
    """An existing object read with ``<Kind>.get`` (never created, updated or deleted)."""
    return child(
        scope,
        parent,
        resource_type(api_version, kind),
        name,
        custom=True,
        inputs={"id": read_id},
        provider=provider,
        dependencies=tuple(sorted(dependencies)),
        read_id=read_id,
    )


def custom_children(resources: list[Planned], component_urn: str) -> tuple[str, ...]:
    """The custom resources under a component: what ``depends_on=[component]`` waits for."""
    below = {component_urn}
    found = []
    for resource in resources:  # parents come before their children
        if resource.parent in below:
            below.add(resource.urn)
            if resource.custom:
                found.append(resource.urn)
    return tuple(found)
