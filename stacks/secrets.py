"""What happens to each secret config value: kept a Pulumi secret, used only in checks, or refused.

A value may be a secret where it can stay one end to end (SSH keys, cloud-init, kubeconfigs,
workload ``env`` values and ``args``) or where it is only compared (``quota``); anything else
(names, counts, sizes, images, ports) would land in plain fields of the deployed objects and
is refused with a config error. The table in ``docs/secrets.md`` mirrors ``KEPT``, ``CHECKED``
and ``BECOMES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from components.catalog.gpus import GPU_MODELS
from components.models.vm import ENCRYPTED_PLACEHOLDER
from stacks.offline.stack_file import Leaf
from stacks.problems import ConfigError, Problem, config_path
from stacks.pulumi_config import Secrets

if TYPE_CHECKING:
    from stacks.validate import ValidStack

Pattern = tuple[str, ...]
"""A config path with ``*`` for any one key or list index."""

SECRET_TEXT = "[secret]"
UNKNOWN_QUOTA = 2**31 - 1
"""Offline stand-in for a quota that cannot be decrypted: no check fails on it."""

KEPT: dict[str, tuple[Pattern, ...]] = {
    "tenant": (
        ("kubeconfig",),
        ("vms", "*", "sshKeys", "*"),
        ("vms", "*", "cloudInit"),
        ("clusters", "*", "workloads", "*", "env", "*"),
        ("clusters", "*", "workloads", "*", "args", "*"),
    ),
    "platform": (("kubeconfig",), ("vms", "*", "sshKeys", "*"), ("vms", "*", "cloudInit")),
}
"""Values registered as Pulumi secrets wherever they land (by stack kind)."""

CHECKED: dict[str, tuple[Pattern, ...]] = {"tenant": (("quota",), ("quota", "*")), "platform": ()}
"""Values only compared against, never deployed; outputs that show them are secrets."""

BECOMES: tuple[tuple[Pattern, str], ...] = (
    (("kind",), "the stack's kind, which decides what is deployed"),
    (("platform", "*"), "the provider's target (profile, namespace or context)"),
    (("vms", "*", "external", "ports", "*"), "a LoadBalancer port (public anyway)"),
    (("clusters", "*", "workloads", "*", "ports", "*"), "a container and Service port"),
    (("vms", "*", "gpus", "*"), "the VM's GPU count"),
    (("vms", "*", "disk", "url"), "the disk's image URL in the VM's disk object"),
    (("vms", "*", "dataDisks", "*", "url"), "the disk's image URL in the VM's disk object"),
    (("clusters", "*", "workloads", "*", "image"), "the container image of the workload"),
    (("clusters", "*", "workloads", "*", "command", "*"), "the container command"),
    (("import", "*", "*"), "the name of a VM or cluster to import"),
)
"""What a refused secret becomes, for its message; anything else is ``PLAIN_FIELD``."""

PLAIN_FIELD = "a plain field of a deployed object (names, counts, sizes and images are never secret)"


def matches(path: Leaf, pattern: Pattern) -> bool:
    return len(path) == len(pattern) and all(
        p == "*" or p == str(k) for k, p in zip(path, pattern, strict=True)
    )


def _any(path: Leaf, patterns: Iterable[Pattern]) -> bool:
    return any(matches(path, pattern) for pattern in patterns)


def becomes(path: Leaf) -> str:
    """What the value at ``path`` turns into, for a refusal message."""
    return next((what for pattern, what in BECOMES if matches(path, pattern)), PLAIN_FIELD)


@dataclass
class Prepared:
    """The raw config ready for validation, and what the secrets did to it."""

    raw: dict[str, Any]
    refused: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    hidden: list[tuple[str, str]] = field(default_factory=list)
    """(config path, text) of decrypted secrets that messages at that path must not show."""
    secret_quota: bool = False
    before: list[Problem] = field(default_factory=list)
    """Problems found before validation (``hikube-gpu:import``), reported with its own."""


def _get(raw: Any, path: Leaf) -> Any:
    for key in path:
        raw = raw[key]
    return raw


def _set(raw: Any, path: Leaf, value: Any) -> None:
    for key in path[:-1]:
        raw = raw[key]
    raw[path[-1]] = value


def prepare(raw: dict[str, Any], secrets: Secrets) -> Prepared:
    """Wrap kept secrets in ``SecretStr``, stand in for quotas unknown offline, refuse the rest."""
    kind = str(raw.get("kind", "tenant"))
    kept, checked = KEPT.get(kind, ()), CHECKED.get(kind, ())
    out = Prepared(_copy(raw))
    for path in sorted(secrets.leaves, key=str):
        value = _get(out.raw, path)
        where = config_path(*path)
        unknown = value == ENCRYPTED_PLACEHOLDER
        if _any(path, kept):
            if isinstance(value, str):
                _set(out.raw, path, SecretStr(value))
        elif _any(path, checked):
            out.secret_quota = True
            if unknown:
                _set(out.raw, path, UNKNOWN_QUOTA if path[1:] else dict.fromkeys(GPU_MODELS, UNKNOWN_QUOTA))
                out.warnings.append(Problem(where, "can't check offline: the value is a secret", "warning"))
            else:
                out.hidden.append((where, str(value)))
        elif path[0] in secrets.inferred:
            continue  # only the key is known to hold a secret: one warning below, not an error per value
        else:
            if not unknown:
                out.hidden.append((where, str(value)))
            out.refused.append(
                Problem(
                    where,
                    f"stored as a secret, but it becomes {becomes(path)}, which cannot be secret; "
                    "store it with `pulumi config set` (no --secret)",
                )
            )
    for key in sorted(secrets.inferred):
        out.warnings.append(
            Problem(
                config_path(key),
                "Pulumi says this key holds a secret, but the stack file that tells which of its "
                "values are was not found: every value that can stay secret is kept secret, the "
                "others are deployed as plain values",
                "warning",
            )
        )
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


LONG_SECRET = 8
"""Secret texts at least this long are hidden from every message, shorter ones (a quota of
4) only from messages about their own path, where they would be quoted."""


def redact(problems: Sequence[Problem], hidden: Sequence[tuple[str, str]]) -> list[Problem]:
    """``problems`` with every whole-word occurrence of a hidden text replaced by ``[secret]``."""
    out = []
    for problem in problems:
        words = {text for path, text in hidden if text and (path == problem.path or len(text) >= LONG_SECRET)}
        message = problem.message
        if words:
            alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
            message = re.sub(rf"(?<![\w.])(?:{alternatives})(?![\w.])", SECRET_TEXT, message)
        out.append(Problem(problem.path, message, problem.severity))
    return out


def validate_prepared(prepared: Prepared) -> ValidStack:
    """Validate a prepared config (the program and the plan engine alike), with refused secrets
    reported instead of the problems their stand-in values caused; every message redacted."""
    from stacks.validate import validate

    refused = {p.path for p in prepared.refused}
    early = prepared.refused + prepared.before
    try:
        valid = validate(prepared.raw)
    except ConfigError as error:
        problems = [p for p in error.problems if p.path not in refused] + early
        raise ConfigError(redact(problems + error.warnings + prepared.warnings, prepared.hidden)) from None
    if early:
        raise ConfigError(redact(early + valid.warnings + prepared.warnings, prepared.hidden))
    return valid
