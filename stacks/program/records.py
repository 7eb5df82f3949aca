"""What a run registers, as plain records: the offline engine (Pulumi's mock runtime) and the
plan (``stacks.program.plan``, no Pulumi runtime) both produce an ``OfflineRun`` of ``Registered``.

Secret values are masked (``mask``): nothing downstream (tree, rendered files, logs) sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECRET_MASK = "[secret]"
UNKNOWN_MASK = "[computed]"


def offline_id(name: str) -> str:
    """The id an offline run gives a created resource (a provider reference is ``<urn>::<id>``)."""
    return f"{name}-offline-id"


def provider_reference(urn: str) -> str:
    """How a resource names its provider offline: ``<provider urn>::<id>``."""
    return f"{urn}::{offline_id(urn.rsplit('::', 1)[-1])}"


@dataclass(frozen=True)
class Registered:
    """One resource as the engine saw it: identity, options, masked inputs."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    provider: str
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]
    read: bool = False
    """An existing object the program reads (``Resource.get``), not one it manages."""
    masked: tuple[str, ...] = ()
    """Paths of the secret values masked in ``inputs`` (``spec.sshKeys``), sorted."""
    imported: str = ""
    """The id of an existing object ``pulumi up`` would import (``hikube-gpu:import``)."""


@dataclass
class OfflineRun:
    stack: str
    project: str
    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failure: Exception | None = None
    """The program's clean failure (e.g. an invalid config), if it stopped with one."""

    def custom_resources(self) -> list[Registered]:
        return [r for r in self.resources if r.custom]


def mask(value: Any) -> Any:
    """A secret value with its JSON type and shape kept, so a rendered file stays valid.

    A string becomes ``[secret]``; a list keeps its length and a map its keys (keys name
    fields, they are not secret), each element masked; ``null`` stays ``null``. A number
    becomes ``0`` and a bool ``false``: no in-band marker fits those types, so the masked
    paths are listed apart (``Registered.masked``, the ``# masked secrets:`` line of a
    rendered file), and a zero there is never mistaken for the real value.
    """
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return 0
    return None if value is None else SECRET_MASK
