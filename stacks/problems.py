"""Config problems: one message per problem, each with its config path.

Paths read like ``pulumi config set --path`` keys: ``hikube-gpu:vms.ws-1.gpus.H200``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
from pydantic import BaseModel, ValidationError

NAMESPACE = "hikube-gpu"

Severity = Literal["error", "warning"]

# Keys people copy from Hikube's docs or older Cozystack versions, and what to do instead.
KEY_HINTS: dict[str, str] = {
    "running": (
        "VMs have no 'running' field (Cozystack ignores it, KubeVirt deprecates it); "
        "use runStrategy: Halted or Always"
    ),
    "diskSize": ("node groups take ephemeralStorage (rendered as diskSize on the cozystack-1.4 profile)"),
    "plugins": (
        "Hikube's concepts page shows plugins.gpu-operator, which the platform ignores; "
        "the GPU Operator is addons.gpuOperator (on by default when a node group has GPUs)"
    ),
    "systemDisk": (
        "'systemDisk' belonged to the legacy VirtualMachine app (removed in Cozystack v1.0); "
        "use disk: {image, size}"
    ),
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) in a stack's configuration."""

    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def config_path(*parts: str | int) -> str:
    """``config_path("vms", "ws-1", "gpus", 0)`` → ``hikube-gpu:vms.ws-1.gpus[0]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return f"{NAMESPACE}:{text}"


class ConfigError(pulumi.RunError):
    """The stack's configuration is invalid; Pulumi prints the message without a traceback."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = sorted(p for p in problems if p.severity == "error")
        self.warnings = sorted(p for p in problems if p.severity == "warning")
        count = len(self.problems)
        lines = [f"invalid stack configuration ({count} problem{'s' * (count != 1)}):"]
        lines += [f"  {p}" for p in self.problems]
        if self.warnings:
            lines.append("and warnings:")
            lines += [f"  {p}" for p in self.warnings]
        super().__init__("\n".join(lines))


def _known_keys(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """Every camelCase key of ``model`` and the models nested in it (for did-you-mean)."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for nested in _nested_models(field.annotation):
            keys |= _known_keys(nested, seen)
    return keys


def _nested_models(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _nested_models(arg)


def _message(error: Any, known: set[str]) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if key in KEY_HINTS:
            return f"unknown key: {KEY_HINTS[key]}"
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
        return f"unknown key{f'; did you mean {close[0]!r}?' if close else ''}"
    if kind == "enum" and loc and loc[-1] == "[key]":
        return f"{error['input']!r} is not offered; choose {_choices(error['ctx']['expected'])}"
    if kind in ("enum", "literal_error"):
        return f"{error['input']!r} is not allowed; choose {_choices(error['ctx']['expected'])}"
    if kind == "missing":
        return "required"
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _choices(expected: str) -> str:
    return expected.replace("'", "").replace(" or ", ", ")


def from_validation_error(error: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Turn pydantic's errors into problems.

    Only names, enum values and keys are quoted back; free-form values (SSH keys,
    cloud-init, kubeconfig) never are, since they may be secrets.
    """
    known = _known_keys(model)
    problems = []
    for item in error.errors():
        loc = [part for part in item["loc"] if part != "[key]"]
        problems.append(Problem(config_path(*loc), _message(item, known)))
    return problems
