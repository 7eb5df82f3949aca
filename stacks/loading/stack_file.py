"""Read a stack's config the way the Pulumi CLI would hand it to the program, without the CLI.

Project defaults from ``Pulumi.yaml``'s ``config:`` block are merged under the stack file's
values. ``secure:`` values cannot be decrypted offline: they become ``[encrypted]`` and
their keys are marked secret. ``secure_leaves`` tells which leaves of a key are secret
(the Pulumi CLI only says which top-level keys contain one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.models.vm import ENCRYPTED_PLACEHOLDER
from stacks.loading import customer_defaults, yaml_subset
from stacks.loading.config_keys import KeyClash, full_key, namespaced
from stacks.loading.limits import MAX_FILE_BYTES, LimitError
from stacks.loading.secret_paths import Leaf, is_secure
from stacks.loading.stack_list import StackNameError, stack_file_path


class StackFileError(Exception):
    """The stack or project file is missing, not valid YAML, outside the accepted subset or
    past a limit (``docs/limits.md``); the message names the file and, when known, the line."""


@dataclass(frozen=True)
class StackConfigFile:
    project: str
    stack: str
    config: dict[str, str]
    """Full key (``hikube-gpu:vms``) → value as the CLI passes it (JSON text for objects)."""
    secret_keys: list[str] = field(default_factory=list)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; the Pulumi CLI refuses them, and so do we.

    Kept for callers that still load YAML with PyYAML; stack files are read by ``_yaml``."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml(path: Path) -> Any:
    """The file's value, read like the Pulumi CLI reads it (``stacks.loading.yaml_subset``)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such file") from None
    except OSError as error:
        raise StackFileError(f"{path}: cannot be read ({error.strerror or type(error).__name__})") from None
    try:
        return yaml_subset.load(data)
    except LimitError as error:
        where = f"{path}, line {error.line}, column {error.column}" if error.line is not None else str(path)
        raise StackFileError(f"{where}: {error}") from None


def _secure_leaves(value: Any, at: Leaf = ()) -> list[Leaf]:
    if is_secure(value):
        return [at]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _secure_leaves(item, (*at, str(key)))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _secure_leaves(item, (*at, index))]
    return []


def _decrypt_offline(value: Any) -> tuple[Any, bool]:
    """Replace every ``{secure: …}`` by the placeholder; report whether any was found."""
    if isinstance(value, dict):
        if is_secure(value):
            return ENCRYPTED_PLACEHOLDER, True
        found = False
        out = {}
        for key, item in value.items():
            out[key], secret = _decrypt_offline(item)
            found |= secret
        return out, found
    if isinstance(value, list):
        pairs = [_decrypt_offline(item) for item in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def _project_defaults(project_file: dict[str, Any], project: str) -> dict[str, Any]:
    """``config:`` of Pulumi.yaml: ``key: {default|value: …}`` or ``ns:key: value``."""
    defaults = {}
    config = project_file.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError("Pulumi.yaml: 'config:' must be a mapping")
    for key, spec in config.items():
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            defaults[full_key(str(key), project)] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict) or "type" not in spec:
            defaults[full_key(str(key), project)] = spec
    return defaults


def _stack_values(path: Path, project: str) -> dict[str, Any]:
    """The stack file's ``config:`` by full key (``vms`` is ``<project>:vms``, as Pulumi reads it:
    ``stacks.loading.config_keys``), values as written (``secure:`` kept)."""
    document = _yaml(path) or {}
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError(f"{path}: expected a mapping with a 'config:' mapping")
    try:
        return namespaced(document.get("config") or {}, project)
    except KeyClash as error:
        raise StackFileError(f"{path}: {error}") from None


def _project(project_dir: Path) -> tuple[dict[str, Any], str]:
    """``Pulumi.yaml`` and the project's name."""
    project_file = _yaml(project_dir / "Pulumi.yaml") or {}
    if not isinstance(project_file, dict):
        raise StackFileError(f"{project_dir / 'Pulumi.yaml'}: expected a mapping")
    return project_file, str(project_file.get("name", "")) or project_dir.name


def _stack_path(project_dir: Path, project_file: dict[str, Any], stack: str) -> Path:
    """``Pulumi.<stack>.yaml`` in the project's ``stackConfigDir`` (default: the project folder),
    or in ``examples/stacks/`` for an example (``stacks.loading.stack_list``)."""
    try:
        return stack_file_path(project_dir, stack)
    except StackNameError as error:
        raise StackFileError(str(error)) from None


def secure_leaves(project_dir: Path, stack: str) -> dict[str, list[Leaf]]:
    """Full key → the leaves of its value written as ``secure:`` in the stack file (keys
    without one are left out). Raises ``StackFileError`` when a file is missing or invalid."""
    project_file, project = _project(project_dir)
    values = _stack_values(_stack_path(project_dir, project_file, stack), project)
    return {key: leaves for key, value in values.items() if (leaves := _secure_leaves(value))}


def load_stack_file(project_dir: Path, stack: str, config_file: Path | None = None) -> StackConfigFile:
    """The config of ``stack`` (``Pulumi.<stack>.yaml`` unless ``config_file`` is given)."""
    project_file, project = _project(project_dir)
    path = config_file or _stack_path(project_dir, project_file, stack)
    try:  # the customer's defaults file, if the stack names one (stacks.loading.customer_defaults)
        stack_values = customer_defaults.apply(project_dir, project, _stack_values(path, project))
    except customer_defaults.DefaultsError as error:
        raise StackFileError(f"{path}: {error}") from None
    values = {**_project_defaults(project_file, project), **stack_values}
    config: dict[str, str] = {}
    secret_keys = []
    for key in sorted(values):
        plain, secret = _decrypt_offline(values[key])
        config[key] = customer_defaults.as_cli_value(plain)
        if secret:
            secret_keys.append(key)
    return StackConfigFile(project, stack, config, secret_keys)
