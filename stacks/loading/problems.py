"""Config problems: one message per problem, each with its config path.

Paths read like ``pulumi config set --path`` keys: ``hikube-gpu:vms.ws-1.gpus.H200``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from components.checks.issues import Severity, prop

NAMESPACE = "hikube-gpu"


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
    return f"{NAMESPACE}:{prop(*parts)}"


class ConfigError(Exception):
    """The stack's configuration is invalid. The Pulumi program raises it as a ``pulumi.RunError``
    (``stacks.program.main.ConfigRunError``), which Pulumi prints without a traceback; this module
    does not import Pulumi, so validating a stack does not load the Pulumi runtime."""

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


MAP_HINTS: dict[str, str] = {
    "vms": "`vms` is a map keyed by VM name: `vms: {ws-1: {gpus: {L40S: 1}}}`",
    "clusters": "`clusters` is a map keyed by cluster name: `clusters: {train: {nodeGroups: {…}}}`",
    "nodeGroups": "`nodeGroups` is a map keyed by node group name: `nodeGroups: {gpu: {gpus: {A100: 1}}}`",
    "workloads": (
        "`workloads` is a map keyed by workload name: `workloads: {serve: {image: …, gpus: {L40S: 1}}}`"
    ),
    "dataDisks": "`dataDisks` is a map keyed by disk name: `dataDisks: {data: {size: 100Gi}}`",
    "nodes": "`nodes` is a map keyed by node name: `nodes: {gpu-node-1: {workload: container}}`",
    "gpus": "GPUs are counted by model: `gpus: {L40S: 1}`",
    "quota": "the quota counts GPUs by model: `quota: {A100: 4}`",
    "env": "`env` maps variable names to values: `env: {LOG_LEVEL: info}`",
    "layout": "a MIG layout counts instances by profile: `layout: {1g.10gb: 2}`",
}
"""Hints for a map given as something else, by the key that expects the map."""

SCALAR_TYPES = frozenset(
    {"string_type", "int_type", "bool_type", "float_type", "int_parsing", "bool_parsing"}
)


def describe(value: Any) -> str:
    """What kind of value was given, without showing it (it may be a secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return "text"


def _cli_path(loc: Sequence[Any]) -> str:
    """``loc`` as a ``pulumi config set --path`` key, dotted names in brackets."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "." in str(part):
            text += f'["{part}"]'
        else:
            text += f".{part}" if text else str(part)
    return text


def _split_key(loc: Sequence[Any], value: dict[Any, Any]) -> str | None:
    """A hint when ``--path`` split a dotted map key (``1g.10gb`` → ``{1g: {10gb: …}}``)."""
    inner, tail = value, [str(loc[-1])]
    while isinstance(inner, dict) and len(inner) == 1:
        key, inner = next(iter(inner.items()))
        tail.append(str(key))
    if len(tail) < 2 or isinstance(inner, dict | list):
        return None
    key = ".".join(tail)
    return (
        f"`pulumi config set --path` read the dots of {key!r} as nesting; write the key in brackets: "
        f"pulumi config set --path '{_cli_path([*loc[:-1], key])}' <value>"
    )


def _models(
    model: type[BaseModel], seen: dict[str, type[BaseModel]] | None = None
) -> dict[str, type[BaseModel]]:
    """``model`` and every model nested in it, by class name."""
    seen = seen if seen is not None else {}
    if model.__name__ not in seen:
        seen[model.__name__] = model
        for field in model.model_fields.values():
            for nested in _nested_models(field.annotation):
                _models(nested, seen)
    return seen


def _settings(error: Any, models: dict[str, type[BaseModel]]) -> str:
    """A map of settings was expected (pydantic names the model class: not for users)."""
    key = str(error["loc"][-1]) if error["loc"] else "these"
    nested = models.get(str((error.get("ctx") or {}).get("class_name")))
    fields = ", ".join(f.alias or n for n, f in nested.model_fields.items()) if nested else ""
    return f"expected a map of {key} settings, got {describe(error['input'])}" + (
        f" (keys: {fields})" if fields else ""
    )


def _shape(error: Any, known: set[str], models: dict[str, type[BaseModel]]) -> str | None:
    """A message for a value of the wrong shape or type, or None."""
    kind, loc, given = error["type"], error["loc"], error.get("input")
    if kind == "model_type":
        return _settings(error, models)
    if kind == "dict_type":
        hint = MAP_HINTS.get(str(loc[-1]) if loc else "", "write it as `key: value` pairs")
        return f"expected a map, got {describe(given)}; {hint}"
    if kind == "list_type":
        return (
            f"expected a list, got {describe(given)}: `[a, b]` in the stack file, "
            f"`{_cli_path(loc)}[0]` with --path"
        )
    if kind in SCALAR_TYPES and isinstance(given, dict) and loc and str(loc[-1]) not in known:
        return _split_key(loc, given)
    if kind == "string_type" and isinstance(given, bool | int | float):
        return (
            f"expected text, got {describe(given)} ({str(given).lower()}): `pulumi config set --path` stores "
            "digits and true/false as such; add `--type string` (or quote it in the stack file)"
        )
    return None


def _message(error: Any, known: set[str], models: dict[str, type[BaseModel]] | None = None) -> str:
    kind = error["type"]
    loc = error["loc"]
    shape = _shape(error, known, models or {})
    if shape is not None:
        return shape
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]), known)
    if kind == "enum" and loc and loc[-1] == "[key]":
        return f"{error['input']!r} is not offered; choose {_choices(error['ctx']['expected'])}"
    if kind in ("enum", "literal_error"):
        return f"{error['input']!r} is not allowed; choose {_choices(error['ctx']['expected'])}"
    if kind == "missing":
        return "required"
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _unknown_key(key: str, known: set[str]) -> str:
    if key in KEY_HINTS:
        return f"unknown key: {KEY_HINTS[key]}"
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return f"unknown key{f'; did you mean {close[0]!r}?' if close else ''}"


def _choices(expected: str) -> str:
    return expected.replace("'", "").replace(" or ", ", ")


def from_validation_error(error: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Turn pydantic's errors into problems.

    Only names, enum values and keys are quoted back; free-form values (SSH keys,
    cloud-init, kubeconfig) never are, since they may be secrets.
    """
    known = _known_keys(model)
    models = _models(model)
    problems = []
    for item in error.errors():
        loc = [part for part in item["loc"] if part != "[key]"]
        problems.append(Problem(config_path(*loc), _message(item, known, models)))
    return problems
