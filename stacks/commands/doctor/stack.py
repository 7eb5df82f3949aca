"""The validated stack as the offline preview reads it (stack file → config keys → rules)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stacks.commands.preview.planned import validate_file
from stacks.loading.problems import NAMESPACE
from stacks.loading.stack_file import load_stack_file
from stacks.validation.config import Stack


@dataclass(frozen=True)
class StackInput:
    stack: Stack
    kubeconfig: str | None
    """The kubeconfig config value (``[encrypted]`` for a Pulumi secret), if set."""
    kubeconfig_key: str
    """``hikube-gpu:kubeconfig`` or ``kubernetes:kubeconfig``: where it came from."""


def read_stack(project_dir: Path, stack: str, config_file: Path | None) -> StackInput:
    """Raises ``StackFileError`` (unreadable file) or ``ConfigError`` (invalid config). The
    config is read and validated as ``preview`` reads it (``stacks.commands.preview.planned.validate_file``):
    the same secrets refused (a secret quota accepted), the same adoption, the same messages, no
    secret in them."""
    file = load_stack_file(project_dir, stack, config_file)
    valid = validate_file(file).valid
    has_own = f"{NAMESPACE}:kubeconfig" in file.config
    key = f"{NAMESPACE}:kubeconfig" if has_own else "kubernetes:kubeconfig"
    secret = valid.stack.kubeconfig
    return StackInput(valid.stack, secret.get_secret_value() if secret else None, key)
