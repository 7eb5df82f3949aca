"""Read the stack's ``hikube-gpu:*`` config from the Pulumi runtime as one plain dict."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config

from stacks.problems import NAMESPACE

# Keys whose values are text even when they look like JSON (a kubeconfig may be JSON).
TEXT_KEYS = frozenset({"kubeconfig"})
AMBIENT_KEYS = ("kubeconfig", "context", "namespace")


def _all_keys() -> set[str]:
    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def decode(key: str, value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text."""
    if key in TEXT_KEYS or not isinstance(value, str):
        return value
    if value[:1] in ("{", "[") or value in ("true", "false") or value.lstrip("-").isdigit():
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def read_stack_config() -> dict[str, Any]:
    """Every ``hikube-gpu:<key>`` as ``{key: value}`` (unknown keys included, for validation)."""
    raw: dict[str, Any] = {}
    for full_key in sorted(_all_keys()):
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE and key:
            raw[key] = decode(key, runtime_config.get_config(full_key))
    return raw


def read_ambient_kubernetes() -> dict[str, str]:
    """The ``kubernetes:kubeconfig|context|namespace`` provider config, where set."""
    ambient = {}
    for key in AMBIENT_KEYS:
        value = runtime_config.get_config(f"kubernetes:{key}")
        if isinstance(value, str) and value:
            ambient[key] = value
    return ambient


def with_ambient_defaults(raw: dict[str, Any], ambient: dict[str, str]) -> dict[str, Any]:
    """Fill ``platform.namespace``/``context`` and ``kubeconfig`` from ``kubernetes:*`` config."""
    merged = dict(raw)
    platform = merged.get("platform", {})
    if isinstance(platform, dict):
        platform = dict(platform)
        for key in ("namespace", "context"):
            if key in ambient and key not in platform:
                platform[key] = ambient[key]
        if platform:
            merged["platform"] = platform
    if "kubeconfig" in ambient and "kubeconfig" not in merged:
        merged["kubeconfig"] = ambient["kubeconfig"]
    return merged
