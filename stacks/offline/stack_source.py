"""A stack file at one revision as the diff reads it (with this revision's code, whatever
the code at that revision does): its config by full key, or a one-line reason why it cannot
be read that never quotes the file, and the secret texts that no message may show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stacks.offline.stack_file import _UniqueKeyLoader  # the loader the program reads stacks with

SECRET_KEYS = frozenset({"secure", "kubeconfig", "sshKeys", "cloudInit", "env", "args"})
"""Values under these keys are secrets wherever they sit (``secure:`` ciphertexts, and the
values that stay secret, see docs/secrets.md); no message of the diff shows them."""
MIN_HIDDEN = 8
"""Secret texts (or lines of them) at least this long are hidden from messages; shorter ones
(``"1"``) would hide ordinary words and cannot identify a credential."""
HIDDEN = "[secret]"


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
    secrets: frozenset[str] = field(default_factory=frozenset)


def yaml_problem(error: yaml.YAMLError) -> str:
    """What is wrong and where, without the quoted line PyYAML adds (it may hold a secret)."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return f"{where}{error.problem or error.context or 'not valid YAML'}"
    return type(error).__name__


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader subclass


def read_project(project_dir: Path) -> str:
    """The project's name: the namespace of config keys written without one."""
    try:
        document = _load(project_dir / "Pulumi.yaml")
    except FileNotFoundError:
        raise StackSourceError("there is no Pulumi.yaml") from None
    except yaml.YAMLError as error:
        raise StackSourceError(f"Pulumi.yaml is not valid YAML ({yaml_problem(error)})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StackSourceError(f"Pulumi.yaml cannot be read ({type(error).__name__})") from None
    name = document.get("name") if isinstance(document, dict) else None
    return str(name or project_dir.name)


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


class _Unreadable(Exception):
    """Why a stack file cannot be read (one line, never its text)."""


def _config(path: Path) -> dict[Any, Any]:
    """The ``config:`` mapping of a stack file; ``_Unreadable`` or ``FileNotFoundError``."""
    try:
        document = _load(path)
    except yaml.YAMLError as error:
        raise _Unreadable(f"{path.name} is not valid YAML: {yaml_problem(error)}") from None
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nested too deep
        raise _Unreadable(f"{path.name} cannot be read ({type(error).__name__})") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise _Unreadable(f"{path.name} must be a mapping with 'config:', not {_kind(document)}")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise _Unreadable(f"'config:' of {path.name} must be a mapping, not {_kind(config)}")
    return config


def read_stack(project_dir: Path, project: str, stack: str) -> StackSource:
    """``Pulumi.<stack>.yaml``: its config, or why it cannot be read."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    try:
        config = _config(path)
        full = {(str(key) if ":" in str(key) else f"{project}:{key}"): value for key, value in config.items()}
        try:
            texts = {text for key, value in full.items() for text in _secret_texts(value, _is_secret(key))}
        except RecursionError:
            raise _Unreadable(f"{path.name} cannot be read (RecursionError)") from None
    except FileNotFoundError:
        return StackSource(project)
    except _Unreadable as error:
        return StackSource(project, error=str(error))
    return StackSource(project, full, secrets=frozenset(texts))


def _is_secret(key: object) -> bool:
    return str(key).rpartition(":")[2] in SECRET_KEYS


def _secret_texts(value: Any, secret: bool) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _secret_texts(item, secret or _is_secret(key))
    elif isinstance(value, list):
        for item in value:
            yield from _secret_texts(item, secret)
    elif secret and value is not None:
        yield str(value)


def redact(text: str, secrets: frozenset[str]) -> str:
    """``text`` with every secret (and every line of a multi-line one) replaced by ``[secret]``."""
    pieces = {piece.strip() for secret in secrets for piece in (secret, *secret.splitlines())}
    for piece in sorted((p for p in pieces if len(p) >= MIN_HIDDEN), key=len, reverse=True):
        text = text.replace(piece, HIDDEN)
    return text


def one_line(text: str) -> str:
    """``text`` on one line (a message listing several problems)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
