"""What happens to each secret config value: kept a Pulumi secret, used only in checks, or refused.

A value may be a secret where it can stay one end to end (SSH keys, cloud-init, kubeconfigs,
workload ``env`` values and ``args``) or where it is only compared (``quota``); anything else
(names, counts, sizes, images, ports) would land in plain fields of the deployed objects and
is refused with a config error. The table in ``docs/secrets.md`` mirrors ``KEPT``, ``CHECKED``
and ``BECOMES``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from components.catalog.gpus import GPU_MODELS
from components.models.vm import ENCRYPTED_PLACEHOLDER
from stacks.loading.problems import ConfigError, Problem, config_path
from stacks.loading.pulumi_config import Secrets, kubeconfig_problem, leaves, with_ambient_defaults
from stacks.loading.secret_paths import (
    AMBIENT_ALWAYS,
    AMBIENT_NAMESPACE,
    CHECKED,
    KEPT,
    MIN_HIDDEN,
    SECRET_TEXT,
    Leaf,
    Pattern,
    Redactor,
    always_secret,
    matches,
    texts,
)

if TYPE_CHECKING:
    from stacks.validation.validate import ValidStack

__all__ = ["CHECKED", "KEPT", "SECRET_TEXT", "Prepared", "matches", "prepare", "redact", "validate_prepared"]

UNKNOWN_QUOTA = 2**31 - 1
"""Offline stand-in for a quota that cannot be decrypted: no check fails on it."""

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
AMBIENT_TARGET = "the provider's target (namespace or context)"
"""What a secret ``kubernetes:namespace`` or ``kubernetes:context`` becomes, for its message."""


def _any(path: Leaf, patterns: Iterable[Pattern]) -> bool:
    return any(matches(path, pattern) for pattern in patterns)


def becomes(path: Leaf) -> str:
    """What the value at ``path`` turns into, for a refusal message."""
    return next((what for pattern, what in BECOMES if matches(path, pattern)), PLAIN_FIELD)


def _refusal(where: str, what: str) -> Problem:
    return Problem(
        where,
        f"stored as a secret, but it becomes {what}, which cannot be secret; "
        "store it with `pulumi config set` (no --secret)",
    )


@dataclass
class Prepared:
    """The raw config ready for validation, and what the secrets did to it."""

    raw: dict[str, Any]
    refused: list[Problem] = field(default_factory=list)
    """Problems found before validation (secrets that cannot stay secret, a kubeconfig that is
    not text), reported instead of what validation says at their paths and at ``covered``."""
    covered: set[str] = field(default_factory=set)
    """Further config paths whose validation problems a refusal replaces (``platform.namespace``
    filled from a refused ``kubernetes:namespace``)."""
    warnings: list[Problem] = field(default_factory=list)
    hidden: list[tuple[str, str]] = field(default_factory=list)
    """(config path, text) of every known secret value: no message may show it (``redact``)."""
    secret_quota: bool = False
    before: list[Problem] = field(default_factory=list)
    """Problems found before validation (``hikube-gpu:import``), reported with its own."""

    def hide(self, where: str, value: Any) -> None:
        """No message may show ``value`` (the value at ``where``), however it is spelled."""
        self.hidden += [(where, text) for text in texts(value)]


def _get(raw: Any, path: Leaf) -> Any:
    for key in path:
        raw = raw[key]
    return raw


def _set(raw: Any, path: Leaf, value: Any) -> None:
    for key in path[:-1]:
        raw = raw[key]
    raw[path[-1]] = value


def prepare(raw: dict[str, Any], secrets: Secrets, ambient: Mapping[str, str] | None = None) -> Prepared:
    """Wrap kept secrets in ``SecretStr``, stand in for quotas unknown offline, refuse the rest;
    then fill in the ``kubernetes:*`` provider config (``ambient``) under the same rules. Every
    secret value, stored as one or in a field that always is (``stacks.loading.secret_paths``), is hidden."""
    kind = str(raw.get("kind", "tenant"))
    kept, checked = KEPT.get(kind, ()), CHECKED.get(kind, ())
    out = Prepared(_copy(raw))
    for path, value in leaves(raw):
        if always_secret(path):
            out.hide(config_path(*path), value)
    for path in sorted(secrets.leaves, key=str):
        value = _get(out.raw, path)
        where = config_path(*path)
        unknown = value == ENCRYPTED_PLACEHOLDER
        if not unknown and (path[0] not in secrets.inferred or _any(path, (*kept, *checked))):
            out.hide(where, value)  # not a value deployed in plain text, which the preview shows anyway
        if _any(path, kept):
            if isinstance(value, str):
                _set(out.raw, path, SecretStr(value))
        elif _any(path, checked):
            out.secret_quota = True
            if unknown:
                _set(out.raw, path, UNKNOWN_QUOTA if path[1:] else dict.fromkeys(GPU_MODELS, UNKNOWN_QUOTA))
                out.warnings.append(Problem(where, "can't check offline: the value is a secret", "warning"))
        elif path[0] in secrets.inferred:
            continue  # only the key is known to hold a secret: one warning below, not an error per value
        else:
            out.refused.append(_refusal(where, becomes(path)))
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
    _check_kubeconfig(out)
    _fill_ambient(out, dict(ambient or {}), secrets.ambient)
    return out


def _check_kubeconfig(out: Prepared) -> None:
    """``hikube-gpu:kubeconfig`` must be text (``stacks.loading.pulumi_config.kubeconfig_problem``)."""
    kubeconfig = out.raw.get("kubeconfig")
    text = kubeconfig.get_secret_value() if isinstance(kubeconfig, SecretStr) else kubeconfig
    if isinstance(text, str) and (problem := kubeconfig_problem(text)) is not None:
        # upstream: pulumi/pulumi sdk/go/common/resource/config/plaintext.go 256-268 Plaintext.marshalText
        # upstream: (a list, number or true/false reaches the program as its JSON text)
        out.refused.append(Problem(config_path("kubeconfig"), problem))


def _fill_ambient(out: Prepared, ambient: dict[str, str], secret: frozenset[str]) -> None:
    """``kubernetes:kubeconfig`` is always a secret and must be text; a secret
    ``kubernetes:namespace`` or ``kubernetes:context`` is refused, like ``platform.*``."""
    platform = out.raw.get("platform")
    for key, value in sorted(ambient.items()):
        where = f"{AMBIENT_NAMESPACE}:{key}"
        if key in AMBIENT_ALWAYS or key in secret:
            out.hide(where, value)
        if key in AMBIENT_ALWAYS:
            if (problem := kubeconfig_problem(value)) is not None:
                # upstream: pulumi/pulumi sdk/go/common/resource/config/plaintext.go 256-268
                out.refused.append(Problem(where, problem))
        elif key in secret:
            out.refused.append(_refusal(where, AMBIENT_TARGET))
            if not (isinstance(platform, dict) and key in platform):
                out.covered.add(config_path("platform", key))
    out.raw = with_ambient_defaults(out.raw, ambient)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _related(one: str, other: str) -> bool:
    """One config path is the other, or inside it (``a.b`` and ``a.b.c`` or ``a.b[0]``)."""
    return _inside(one, other) or _inside(other, one)


def _inside(path: str, place: str) -> bool:
    """``path`` is ``place`` or a path inside it."""
    return path == place or path.startswith((f"{place}.", f"{place}["))


def redact(problems: Sequence[Problem], hidden: Sequence[tuple[str, str]]) -> list[Problem]:
    """``problems`` with every hidden text replaced by ``[secret]``: long ones anywhere, short
    ones (a quota of 4, ``true``) as whole words in messages about their place or a place that
    holds it (``stacks.loading.secret_paths.Redactor``)."""
    hide = Redactor(text for _, text in hidden)
    short = [(path, text) for path, text in hidden if len(text.strip()) < MIN_HIDDEN]  # the rest go anyway
    out = []
    for problem in problems:
        nearby = [text for path, text in short if _related(path, problem.path)]
        out.append(Problem(problem.path, hide(problem.message, nearby), problem.severity))
    return out


def validate_prepared(prepared: Prepared) -> ValidStack:
    """Validate a prepared config (the program and the plan engine alike), with refused secrets
    reported instead of the problems their stand-in values caused; every message redacted."""
    from stacks.validation.validate import validate

    replaced = {p.path for p in prepared.refused} | prepared.covered
    early = prepared.refused + prepared.before
    try:
        valid = validate(prepared.raw)
    except ConfigError as error:
        problems = [p for p in error.problems if not any(_inside(p.path, r) for r in replaced)] + early
        raise ConfigError(redact(problems + error.warnings + prepared.warnings, prepared.hidden)) from None
    if early:
        raise ConfigError(redact(early + valid.warnings + prepared.warnings, prepared.hidden))
    return valid
