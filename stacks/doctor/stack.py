"""The validated stack as the offline preview reads it (stack file → config keys → rules)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stacks.config import Stack
from stacks.offline.planned import ambient, read_config
from stacks.offline.stack_file import load_stack_file
from stacks.problems import NAMESPACE
from stacks.pulumi_config import secret_leaves
from stacks.secrets import prepare, validate_prepared


@dataclass(frozen=True)
class StackInput:
    stack: Stack
    kubeconfig: str | None
    """The kubeconfig config value (``[encrypted]`` for a Pulumi secret), if set."""
    kubeconfig_key: str
    """``hikube-gpu:kubeconfig`` or ``kubernetes:kubeconfig``: where it came from."""


def read_stack(project_dir: Path, stack: str, config_file: Path | None) -> StackInput:
    """Raises ``StackFileError`` (unreadable file) or ``ConfigError`` (invalid config). The
    config is read and validated as ``preview`` reads it (``stacks.offline.planned``): the same
    secrets refused, the same messages, no secret in them."""
    file = load_stack_file(project_dir, stack, config_file)
    raw = read_config(file)
    secrets = secret_leaves(raw, set(file.secret_keys).__contains__, lambda: None)
    valid = validate_prepared(prepare(raw, secrets, ambient(file)))
    key = f"{NAMESPACE}:kubeconfig" if "kubeconfig" in raw else "kubernetes:kubeconfig"
    secret = valid.stack.kubeconfig
    return StackInput(valid.stack, secret.get_secret_value() if secret else None, key)
