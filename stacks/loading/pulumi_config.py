"""Read the stack's ``hikube-gpu:*`` config, and which of its values are secrets.

Values come through Pulumi's public API (``pulumi.Config``, ``pulumi.runtime.is_config_secret``).
The Pulumi CLI decrypts the config and tells the program only which TOP-LEVEL keys are
secret or contain a secret (``PULUMI_CONFIG_SECRET_KEYS``); ``secret_leaves`` narrows that
down to the values that are secrets (see ``docs/secrets.md``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

from components.models.vm import ENCRYPTED_PLACEHOLDER
from stacks.loading import customer_defaults
from stacks.loading.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_INTEGER, LimitError
from stacks.loading.problems import NAMESPACE, ConfigError, Problem, config_path, describe
from stacks.loading.secret_paths import AMBIENT_NAMESPACE, Leaf
from stacks.loading.stack_file import StackFileError, secure_leaves

# Keys whose values are text even when they look like JSON (a kubeconfig may be JSON).
TEXT_KEYS = frozenset({"kubeconfig"})
AMBIENT_KEYS = ("kubeconfig", "context", "namespace")


def kubeconfig_problem(text: str) -> str | None:
    """Why ``text`` cannot be a kubeconfig, or None. The Pulumi CLI hands the program a list, a
    number or true/false written in a stack file as JSON text (pulumi/pulumi
    ``sdk/go/common/resource/config/plaintext.go`` 256-268, ``Plaintext.marshalText``: text as
    is, anything else ``json.Marshal``, called by ``Map.Decrypt``, ``map.go`` 62; the same at
    v3.259.0 and at commit 1b59498, past the v3.272.0 of ``.pulumi-version``), which would become
    the provider's kubeconfig. A kubeconfig is text: YAML, or JSON whose value is a map (a map
    written in the stack file arrives as the same text). The value is never quoted."""
    head = text.lstrip()[:1]
    if not head or head not in "[-0123456789tfn":
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None  # not JSON: YAML text
    if isinstance(value, dict | str):
        return None
    return (
        f"expected a kubeconfig (its YAML or JSON text), got {describe(value)}; "
        'store the text of the file: pulumi config set --secret <key> "$(cat kubeconfig.yaml)"'
    )


def _all_keys() -> set[str]:
    """Every config key the program was given.

    Pulumi has no public call that lists config keys. The CLI's keys are in the public
    ``get_config_env()`` (``PULUMI_CONFIG``); programs run by the Automation API inline, and
    the offline engine, set them with ``set_all_config``, which only fills the runtime's
    ``CONFIG`` context variable: reading it is the least private way to see those keys
    (a typo such as ``hikube-gpu:vm`` must be reported, not ignored).
    """
    from pulumi.runtime import config as runtime_config  # here: validating needs no Pulumi runtime

    return set(runtime_config.get_config_env()) | set(runtime_config.CONFIG.get())


def decode(key: str, value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; text that is not JSON stays
    text. JSON past the limits of ``stacks.loading.limits`` (size, depth, number range) raises
    ``ConfigError`` at ``hikube-gpu:<key>``, never a traceback (``docs/limits.md``)."""
    if key in TEXT_KEYS or not isinstance(value, str):
        return value
    if value[:1] in ("{", "[") or value in ("true", "false") or value.lstrip("-").isdigit():
        try:
            return bounded_json(value)
        except json.JSONDecodeError:
            return value
        except LimitError as error:
            raise ConfigError([Problem(config_path(key), str(error))]) from None
    return value


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_DEPTH = {"[": 1, "{": 1, "]": -1, "}": -1}


def _refuse_constant(name: str) -> Any:
    raise LimitError(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > len(str(MAX_INTEGER)) or abs(number := int(text)) > MAX_INTEGER:
        raise LimitError(f"an integer is out of range (at most {MAX_INTEGER:,} either side of 0)")
    return number


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise LimitError("a number is too large for a 64-bit float")
    return number


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise LimitError("a JSON object has the same key twice")
    return result


def bounded_json(text: str) -> Any:
    """``json.loads`` within the limits: size, nesting depth, 64-bit integers, finite floats."""
    if len(text) > MAX_FILE_BYTES:
        raise LimitError(f"the value has more than {MAX_FILE_BYTES:,} characters")
    brackets = _BRACKETS.findall(_STRINGS.sub("", text))
    if brackets and max(accumulate(_DEPTH[b] for b in brackets)) > MAX_DEPTH:
        raise LimitError(f"maps and lists nest deeper than {MAX_DEPTH} levels")
    return json.loads(
        text,
        parse_int=_integer,
        parse_float=_float,
        parse_constant=_refuse_constant,
        object_pairs_hook=_object,
    )


def read_stack_config() -> dict[str, Any]:
    """Every ``hikube-gpu:<key>`` as ``{key: value}`` (unknown keys included, for validation)."""
    import pulumi

    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    for full_key in sorted(_all_keys()):
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE and key:
            try:
                raw[key] = decode(key, config.get(key))
            except ConfigError as error:  # every key's problem at once
                problems += error.problems
    if problems:
        raise ConfigError(problems)
    return with_customer_defaults(raw)


def with_customer_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` merged over the customer defaults file it names (``hikube-gpu:defaults``, a path
    relative to the project folder; ``stacks.loading.customer_defaults``)."""
    import pulumi

    project_dir = Path(pulumi.runtime.get_root_directory() or Path.cwd())
    try:
        return customer_defaults.apply_program(project_dir, NAMESPACE, raw, decode)
    except customer_defaults.DefaultsError as error:
        raise ConfigError([Problem(*error.problem(NAMESPACE))]) from None


def read_ambient_kubernetes() -> dict[str, str]:
    """The ``kubernetes:kubeconfig|context|namespace`` provider config, where set."""
    import pulumi

    config = pulumi.Config(AMBIENT_NAMESPACE)
    ambient = {}
    for key in AMBIENT_KEYS:
        value = config.get(key)
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


@dataclass(frozen=True)
class Secrets:
    """The secret values of a stack's config, by path from the key: ``("vms", "a", "sshKeys", 0)``."""

    leaves: frozenset[Leaf]
    inferred: frozenset[str] = frozenset()
    """Secret keys whose secret values are not known exactly: every value of them counts."""
    ambient: frozenset[str] = frozenset()
    """The ``kubernetes:*`` provider keys (``AMBIENT_KEYS``) stored as secrets."""


def leaves(value: Any, at: Leaf = ()) -> Iterator[tuple[Leaf, Any]]:
    """Every scalar in ``value`` with its path (a scalar is its own leaf at ``at``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*at, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*at, index))
    else:
        yield at, value


FileLeaves = Callable[[], dict[str, list[Leaf]] | None]


def secret_leaves(raw: dict[str, Any], is_secret: Callable[[str], bool], file_leaves: FileLeaves) -> Secrets:
    """Which values of ``raw`` are secrets, given which top-level keys are.

    Exact when the offline reader left ``[encrypted]`` placeholders (each stands for one
    ``secure:`` value), or when the stack file's ``secure:`` markers fit the value; else
    every value of the key counts as a secret and the key is reported as ``inferred``.
    """
    exact: set[Leaf] = set()
    inferred: set[str] = set()
    markers: dict[str, list[Leaf]] | None = None
    for key in sorted(raw):
        if not is_secret(f"{NAMESPACE}:{key}"):
            continue
        found = dict(leaves(raw[key], (key,)))
        placeholders = {path for path, value in found.items() if value == ENCRYPTED_PLACEHOLDER}
        if placeholders:
            exact |= placeholders
            continue
        if markers is None:
            markers = file_leaves() or {}
        marked = {(key, *leaf) for leaf in markers.get(f"{NAMESPACE}:{key}", [])}
        if marked and marked <= set(found):
            exact |= marked
        else:
            exact |= set(found)
            inferred.add(key)
    ambient = frozenset(key for key in AMBIENT_KEYS if is_secret(f"{AMBIENT_NAMESPACE}:{key}"))
    return Secrets(frozenset(exact), frozenset(inferred), ambient)


def stack_file_leaves() -> dict[str, list[Leaf]] | None:
    """The ``secure:`` leaves of the running stack's ``Pulumi.<stack>.yaml``, or None when the
    project folder or the file cannot be found (e.g. ``pulumi up --config-file``)."""
    import pulumi

    root = pulumi.runtime.get_root_directory()
    if not root:
        return None
    try:
        return secure_leaves(Path(root), pulumi.get_stack())
    except StackFileError:
        return None


def read_secrets(raw: dict[str, Any]) -> Secrets:
    """The secret values of ``raw`` as the running program was given it."""
    import pulumi

    return secret_leaves(raw, pulumi.runtime.is_config_secret, stack_file_leaves)
