"""A stack file at one revision as the diff reads it (with this revision's code, whatever
the code at that revision does): its config by full key, or a one-line reason why it cannot
be read that never quotes the file, and the secret texts that no message may show.

Files are read as the program reads them (``yaml_subset``: the Pulumi CLI's YAML subset,
bounded in size, depth and alias expansion, messages with a line and no value)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from stacks.loading import yaml_subset
from stacks.loading.config_keys import KeyClash, namespaced
from stacks.loading.limits import MAX_FILE_BYTES, LimitError
from stacks.loading.secret_paths import Redactor, secret_texts
from stacks.loading.stack_list import StackNameError, stack_file_path


class StackSourceError(Exception):
    """``Pulumi.yaml`` of a revision cannot be read (a one-line reason)."""


@dataclass(frozen=True)
class StackSource:
    """One stack file at one revision."""

    project: str
    config: dict[str, Any] | None = None
    """Full key (``hikube-gpu:quota``) → value as written (``secure:`` kept); None: no such
    stack here, or it cannot be read (``error``)."""
    error: str | None = None
    origin: StackSource | None = None
    """The stack file's own config, when ``config`` is it merged with its defaults file."""

    @cached_property
    def secrets(self) -> frozenset[str]:
        """The texts of the file's secrets (``stacks.loading.secret_paths.secret_texts``): no message shows
        them. Found when a message needs hiding, not before (a fleet's diff reads thousands)."""
        own = config_secrets(self.config or {}, self.project)
        return own | self.origin.secrets if self.origin is not None else own


class _Unreadable(Exception):
    """Why a file cannot be read: its name, the line when known, never its text."""


def _read(path: Path) -> bytes:
    """The file's bytes; ``FileNotFoundError`` or ``_Unreadable``."""
    try:
        with path.open("rb") as file:
            return file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise _Unreadable(f"{path.name}: cannot be read ({error.strerror or type(error).__name__})") from None


def _parse(file_name: str, data: bytes) -> Any:
    """The value of a file's bytes; ``_Unreadable`` naming the file (and the line) when invalid."""
    try:
        return yaml_subset.load(data)
    except LimitError as error:
        where = f"{file_name}:{error.line}:{error.column}" if error.line is not None else file_name
        raise _Unreadable(f"{where}: {error}") from None


def _load(path: Path) -> Any:
    """The file's value; ``FileNotFoundError`` or ``_Unreadable``."""
    return _parse(path.name, _read(path))


def read_project(project_dir: Path) -> str:
    """The project's name: the namespace of config keys written without one."""
    try:
        document = _load(project_dir / "Pulumi.yaml")
    except FileNotFoundError:
        raise StackSourceError("there is no Pulumi.yaml") from None
    except _Unreadable as error:
        raise StackSourceError(str(error)) from None
    name = document.get("name") if isinstance(document, dict) else None
    return str(name or project_dir.name)


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def _config(file_name: str, document: Any) -> dict[Any, Any]:
    """The ``config:`` mapping of a stack file's value; ``_Unreadable`` when it has none."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise _Unreadable(f"{file_name} must be a mapping with 'config:', not {_kind(document)}")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise _Unreadable(f"'config:' of {file_name} must be a mapping, not {_kind(config)}")
    return config


def read_stack(project_dir: Path, project: str, stack: str) -> StackSource:
    """``Pulumi.<stack>.yaml``: its config, or why it cannot be read."""
    try:
        path = stack_file_path(project_dir, stack)
    except StackNameError as error:
        return StackSource(project, error=str(error))
    return read_stack_file(path, project)


def read_stack_file(path: Path, project: str, memo: Memo | None = None) -> StackSource:
    """A stack file's config, or why it cannot be read (no config: there is no such file)."""
    try:
        data = _read(path)
    except FileNotFoundError:
        return StackSource(project)
    except _Unreadable as error:
        return StackSource(project, error=str(error))
    return parse_stack(project, path.name, data, memo)


Memo = dict[tuple[str, str, bytes], StackSource]
"""Stack files already parsed, by (project, file name, bytes): a file that is the same at both
revisions is parsed once."""


def parse_stack(project: str, file_name: str, data: bytes | None, memo: Memo | None = None) -> StackSource:
    """``read_stack`` on a stack file's bytes (None: there is no such file)."""
    if data is None:
        return StackSource(project)
    if memo is not None and (project, file_name, data) in memo:
        return memo[project, file_name, data]
    try:
        config = _config(file_name, _parse(file_name, data))
        source = StackSource(project, namespaced(config, project))
    except _Unreadable as error:
        source = StackSource(project, error=str(error))
    except KeyClash as error:
        source = StackSource(project, error=f"{file_name}: {error}")
    if memo is not None:
        memo[project, file_name, data] = source
    return source


def config_secrets(config: dict[str, Any], project: str) -> frozenset[str]:
    """The texts of every secret in a config by full key, as written (``secure:`` kept)."""
    return frozenset(text for key, value in config.items() for text in secret_texts(key, value, project))


def redact(text: str, secrets: frozenset[str]) -> str:
    """``text`` with every secret (and every line of a multi-line one) replaced by ``[secret]``."""
    return Redactor(secrets, lines=True)(text)


def one_line(text: str) -> str:
    """``text`` on one line (a message listing several problems)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
