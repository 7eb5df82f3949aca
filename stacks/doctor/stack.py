"""The validated stack as the offline preview reads it (stack file → config keys → rules)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.config import Stack
from stacks.offline.stack_file import load_stack_file
from stacks.problems import NAMESPACE
from stacks.pulumi_config import AMBIENT_KEYS, decode, with_ambient_defaults
from stacks.validate import validate


@dataclass(frozen=True)
class StackInput:
    stack: Stack
    kubeconfig: str | None
    """The kubeconfig config value (``[encrypted]`` for a Pulumi secret), if set."""
    kubeconfig_key: str
    """``hikube-gpu:kubeconfig`` or ``kubernetes:kubeconfig``: where it came from."""


def read_stack(project_dir: Path, stack: str, config_file: Path | None) -> StackInput:
    """Raises ``StackFileError`` (unreadable file) or ``ConfigError`` (invalid config)."""
    file = load_stack_file(project_dir, stack, config_file)
    raw: dict[str, Any] = {}
    ambient: dict[str, str] = {}
    for full_key, value in file.config.items():
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE and key:
            raw[key] = decode(key, value)
        elif namespace == "kubernetes" and key in AMBIENT_KEYS and value:
            ambient[key] = value
    key = f"{NAMESPACE}:kubeconfig" if "kubeconfig" in raw else "kubernetes:kubeconfig"
    valid = validate(with_ambient_defaults(raw, ambient))
    secret = valid.stack.kubeconfig
    return StackInput(valid.stack, secret.get_secret_value() if secret else None, key)
