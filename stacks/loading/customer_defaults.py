"""A customer's defaults: one file of config shared by its stacks, merged under each stack's config.

A stack names its defaults file with ``hikube-gpu:defaults: customers/<customer>.yaml`` (a path
relative to the project folder). The file is written like a stack file (``config:`` with full or
short keys) and may not hold ``secure:`` values: secrets stay in the encrypted stack files.

Merge rules (the stack file wins): maps merge key by key, at any depth; a list or a scalar of the
stack file replaces the default; ``null`` in the stack file deletes the default at that place.
The offline tools (``stacks.loading.stack_file``) and the program under ``pulumi up``
(``stacks.loading.pulumi_config``) both merge with ``apply``. No Pulumi import.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from stacks.loading import yaml_subset
from stacks.loading.config_keys import KeyClash, namespaced
from stacks.loading.limits import MAX_FILE_BYTES, LimitError
from stacks.loading.secret_paths import is_secure, masked
from stacks.loading.stack_list import inside

DEFAULTS_KEY = "defaults"
"""The config key (``hikube-gpu:defaults``) naming a stack's defaults file."""
STACK_FILE = "stack file"
PROJECT_FILE = "Pulumi.yaml"


class DefaultsError(ValueError):
    """The defaults file cannot be used; the message names the file and the value's place."""

    def problem(self, project: str) -> tuple[str, str]:
        """(config path, message) for a config problem: ``hikube-gpu:defaults`` and the reason."""
        key = f"{project}:{DEFAULTS_KEY}"
        return key, str(self).removeprefix(f"{key}: ")


def merge(under: Any, over: Any) -> Any:
    """``over`` on top of ``under``: maps merge, anything else replaces, ``None`` deletes."""
    if not isinstance(under, dict) or not isinstance(over, dict) or is_secure(over):
        return _without_nulls(over)
    merged = dict(under)
    for key, value in over.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(under[key], value) if key in under else _without_nulls(value)
    return merged


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value


def _secure_places(value: Any, at: str) -> Iterator[str]:
    if is_secure(value):
        yield at
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _secure_places(item, f"{at}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secure_places(item, f"{at}.{index}")


def defaults_path(
    project_dir: Path, name: Any, project: str, is_inside: Callable[[Path, Path], bool] = inside
) -> Path:
    """The defaults file a stack names, inside the project folder."""
    where = f"{project}:{DEFAULTS_KEY}"
    if not isinstance(name, str) or not name.strip():
        raise DefaultsError(f"{where}: expected the path of a defaults file, e.g. customers/acme.yaml")
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise DefaultsError(f"{where}: {name!r} must be a path inside the project folder")
    if not is_inside(project_dir, project_dir / relative):
        raise DefaultsError(
            f"{where}: {name!r} must be a path inside the project folder; "
            "it is a symlink that leads outside it"
        )
    return project_dir / relative


Opener = Callable[[Path], bytes]
"""Reads a file's bytes (at most ``MAX_FILE_BYTES + 1``); ``FileNotFoundError`` or ``OSError``."""


def read_file(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(MAX_FILE_BYTES + 1)


class Files(NamedTuple):
    """How to read files: from disk (``DISK``), or from a revision git holds (the diff)."""

    read: Opener = read_file
    is_folder: Callable[[Path], bool] = Path.is_dir
    inside: Callable[[Path, Path], bool] = inside
    """Whether a path is in the project folder once symlinks are followed."""


DISK = Files()


def read_defaults(
    project_dir: Path, name: Any, project: str, files: Files = DISK, *, shared: bool = False
) -> dict[str, Any]:
    """The defaults file's config by full key (``hikube-gpu:quota``); ``DefaultsError``. With
    ``shared``, the one parse of that content every caller gets (for a caller that never
    changes it: a fleet's diff reads each customer's file for 10 to 100 stacks)."""
    path = defaults_path(project_dir, name, project, files.inside)
    shown = str(name)
    if files.is_folder(path):
        # upstream: python/cpython Doc/library/functions.rst open(): a folder raises IsADirectoryError
        # upstream: (POSIX) or PermissionError (Windows), whose text names no config key
        raise DefaultsError(
            f"{project}:{DEFAULTS_KEY}: {shown!r} is a folder; name a defaults file in it, e.g. "
            f"{(Path(shown) / 'acme.yaml').as_posix()}"
        )
    try:
        data = files.read(path)
    except FileNotFoundError:
        raise DefaultsError(f"{project}:{DEFAULTS_KEY}: no such defaults file {shown!r}") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise DefaultsError(f"{project}:{DEFAULTS_KEY}: {shown!r} cannot be read ({reason})") from None
    values = _values(data, shown, project)
    return values if shared else copy.deepcopy(values)  # the parse is shared: callers get their own


@lru_cache(maxsize=256)
def _values(data: bytes, shown: str, project: str) -> dict[str, Any]:
    """``read_defaults`` once the file is read: parsed once per content (a fleet's stacks share
    their customer's file)."""
    try:
        document = yaml_subset.load(data)
    except LimitError as error:
        line = f", line {error.line}" if error.line is not None else ""
        raise DefaultsError(f"{shown}{line}: {error}") from None
    config = (document or {}).get("config") if isinstance(document or {}, dict) else None
    if not isinstance(config or {}, dict):
        raise DefaultsError(f"{shown}: expected a mapping with a 'config:' mapping")
    try:
        values = namespaced(config or {}, project)
    except KeyClash as error:
        raise DefaultsError(f"{shown}: {error}") from None
    if f"{project}:{DEFAULTS_KEY}" in values:
        raise DefaultsError(f"{shown}: a defaults file cannot name another defaults file")
    foreign = sorted(key for key in values if not key.startswith(f"{project}:"))
    if foreign:
        raise DefaultsError(f"{shown}: only {project}: keys may have defaults, not {', '.join(foreign)}")
    if f"{project}:kubeconfig" in values:
        raise DefaultsError(f"{shown}: a kubeconfig is a credential; keep it in the stack file, encrypted")
    secure = [place for key, value in values.items() for place in _secure_places(value, key)]
    if secure:
        raise DefaultsError(
            f"{shown}: {', '.join(secure)} is a secure: value; secrets stay in the encrypted stack "
            "file (pulumi config set --secret), not in a defaults file"
        )
    return values


def _merge_keys(defaults: dict[str, Any], stack: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for name, value in stack.items():
        if value is None and name in defaults:
            merged.pop(name)
        else:
            merged[name] = merge(defaults[name], value) if name in defaults else value
    return merged


def apply(
    project_dir: Path, project: str, values: dict[str, Any], files: Files = DISK, *, shared: bool = False
) -> dict[str, Any]:
    """``values`` (full key → value) merged over the defaults file they name, without the
    ``defaults`` key; ``values`` unchanged when they name none. With ``shared``, the merge may
    hold parts of the defaults' one parse (``read_defaults``): the caller must not change it."""
    key = f"{project}:{DEFAULTS_KEY}"
    if key not in values:
        return values
    stack = {k: v for k, v in values.items() if k != key}
    return _merge_keys(read_defaults(project_dir, values[key], project, files, shared=shared), stack)


def as_cli_value(value: Any) -> str:
    """A config value as the Pulumi CLI hands it to a program: text, or JSON text."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def apply_program(
    project_dir: Path, project: str, raw: dict[str, Any], decode: Callable[[str, Any], Any]
) -> dict[str, Any]:
    """The running program's config (short key → decoded value) merged over the defaults file
    it names: the defaults are decoded as if the CLI had passed them (``pulumi up``)."""
    if DEFAULTS_KEY not in raw:
        return raw
    defaults = read_defaults(project_dir, raw[DEFAULTS_KEY], project)
    short = {
        key.partition(":")[2]: decode(key.partition(":")[2], as_cli_value(v)) for key, v in defaults.items()
    }
    return _merge_keys(short, {k: v for k, v in raw.items() if k != DEFAULTS_KEY})


def leaves(value: Any, at: str) -> Iterator[tuple[str, Any]]:
    """Every scalar, list or ``secure:`` value in ``value`` with its dotted place."""
    if isinstance(value, dict) and value and not is_secure(value):
        for key, item in value.items():
            yield from leaves(item, f"{at}.{key}")
    else:
        yield at, value


def _has(value: Any, place: list[str]) -> bool:
    for part in place:
        if not isinstance(value, dict) or is_secure(value) or part not in value:
            return False
        value = value[part]
    return True


def origins(
    project_dir: Path, project: str, stack: dict[str, Any], project_defaults: dict[str, Any]
) -> list[tuple[str, Any, str]]:
    """Each value of the merged config: (place, value, where it comes from): the stack file,
    the defaults file, or Pulumi.yaml. Secrets are shown as ``[secret]``: ``secure:`` values,
    in lists too, and every value of a field that is always secret, wherever it comes from
    (``stacks.loading.secret_paths.masked``)."""
    merged = {**project_defaults, **apply(project_dir, project, stack)}
    source = stack.get(f"{project}:{DEFAULTS_KEY}")
    defaults = {} if source is None else read_defaults(project_dir, source, project)
    rows = []
    for key in sorted(merged):
        for place, value in leaves(masked(key, merged[key], project), key):
            parts = place[len(key) :].split(".")[1:]
            if key in stack and _has(stack[key], parts):
                where = STACK_FILE
            elif key in defaults:
                where = str(source)
            else:
                where = PROJECT_FILE
            rows.append((place, value, where))
    return rows
