"""Config keys as the Pulumi CLI reads a stack file: a key without a namespace is the project's.

Pulumi's ``LoadProjectStackBytes`` rewrites ``config:`` before it parses a single key
(``stackConfigNamespacedWithProject``, pulumi/pulumi v3.259.0
``sdk/go/common/workspace/loaders.go`` lines 61-89, vendored in ``tests/upstream/pulumi``): a
key with no ``:`` becomes ``<project name>:<key>``, so ``vms:`` in ``Pulumi.<stack>.yaml`` is
``hikube-gpu:vms``. A file with both spellings of one key gives Pulumi a map with one key twice,
of which it keeps whichever its map iteration meets last; we refuse such a file instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KeyClash(ValueError):
    """Two keys of one ``config:`` mapping name the same namespaced key."""


def full_key(key: str, project: str) -> str:
    """``key`` with the project's namespace when it has none (``vms`` → ``hikube-gpu:vms``)."""
    return key if ":" in key else f"{project}:{key}"


def namespaced(config: Mapping[Any, Any], project: str) -> dict[str, Any]:
    """``config`` by full key; ``KeyClash`` when ``vms`` and ``hikube-gpu:vms`` are both there."""
    full: dict[str, Any] = {}
    written: dict[str, str] = {}
    for raw, value in config.items():
        key = full_key(str(raw), project)
        if key in full:
            raise KeyClash(
                f"{written[key]!r} and {str(raw)!r} are one key, {key!r} (Pulumi gives a key without a "
                "namespace the project's); keep one of them"
            )
        full[key], written[key] = value, str(raw)
    return full
