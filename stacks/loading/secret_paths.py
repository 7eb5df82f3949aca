"""Which config values are secrets: the one place every surface asks (``docs/secrets.md``).

A value is a secret when it was stored as one (``secure:`` in a stack file; under the Pulumi
CLI, a key marked secret, narrowed by ``stacks.loading.pulumi_config.secret_leaves``), or when
it sits in a field that is always registered as a Pulumi secret (``ALWAYS``: kubeconfigs, SSH
keys, cloud-init), stored encrypted or not. The program hides both from its messages
(``stacks.validation.secrets``); ``config`` masks both
(``stacks.loading.customer_defaults.origins``); the diff hides both from what renderers say
(``stacks.commands.diff.stack_source``). No Pulumi or pydantic import: the fast commands
(``config``, ``diff``, ``changed``, ``list``) use it too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

Leaf = tuple[str | int, ...]
"""Where a value sits inside a config key's value: ``("a", "env", "TOKEN")``, ``("sshKeys", 0)``;
with the key first, a config path: ``("vms", "a", "sshKeys", 0)``."""
Pattern = tuple[str, ...]
"""A config path with ``*`` for any one key or list index."""

SECRET_TEXT = "[secret]"
"""What every surface shows in place of a secret value."""

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
"""Values that may be stored as secrets and stay Pulumi secrets wherever they land (by stack kind)."""

CHECKED: dict[str, tuple[Pattern, ...]] = {"tenant": (("quota",), ("quota", "*")), "platform": ()}
"""Values that may be stored as secrets but are only compared against, never deployed."""

ALWAYS: tuple[Pattern, ...] = (("kubeconfig",), ("vms", "*", "sshKeys"), ("vms", "*", "cloudInit"))
"""``hikube-gpu`` fields registered as Pulumi secrets even when stored in plain text, in both
stack kinds: every value at or under them is a secret."""
AMBIENT_NAMESPACE = "kubernetes"
AMBIENT_ALWAYS = frozenset({"kubeconfig"})
"""``kubernetes:*`` keys that are always secret (the provider's credential)."""

MIN_HIDDEN = 8
"""Secret texts (and lines of them) at least this long are hidden from every message; shorter
ones (``"1"``, ``true``) only from messages about their own place, where they would be quoted:
anywhere else they would hide ordinary words and cannot identify a credential."""


def matches(path: Leaf, pattern: Pattern) -> bool:
    """``path`` is one of the paths ``pattern`` names."""
    return len(path) == len(pattern) and all(
        p == "*" or p == str(k) for k, p in zip(path, pattern, strict=True)
    )


def under(path: Leaf, patterns: Iterable[Pattern]) -> bool:
    """``path`` is at or under a path one of ``patterns`` names."""
    return any(len(path) >= len(p) and matches(path[: len(p)], p) for p in patterns)


def always_secret(path: Leaf) -> bool:
    """The ``hikube-gpu`` value at ``path`` (key first) is a secret however it is stored."""
    return under(path, ALWAYS)


def always_secret_key(full_key: str, leaf: Leaf, project: str) -> bool:
    """The value at ``leaf`` of the full config key (``hikube-gpu:vms``, ``kubernetes:kubeconfig``)
    is a secret however it is stored; ``project`` is the namespace of the program's keys."""
    namespace, _, key = full_key.partition(":")
    if namespace == AMBIENT_NAMESPACE:
        return key in AMBIENT_ALWAYS
    return namespace == project and always_secret((key, *leaf))


def is_secure(value: Any) -> bool:
    """``value`` is a ``{secure: <ciphertext>}`` of a stack file."""
    return isinstance(value, dict) and set(value) == {"secure"}


def _masked(value: Any) -> Any:
    """A secret's shape kept (lists and map keys), every scalar ``[secret]``."""
    if isinstance(value, dict) and not is_secure(value):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return SECRET_TEXT


def masked(full_key: str, value: Any, project: str, at: Leaf = ()) -> Any:
    """A key's value as written in a stack or defaults file, every secret ``[secret]``: each
    ``secure:`` value, and everything in a field that is always secret."""
    if is_secure(value):
        return SECRET_TEXT
    if always_secret_key(full_key, at, project):
        return _masked(value)
    if isinstance(value, dict):
        return {key: masked(full_key, item, project, (*at, str(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(full_key, item, project, (*at, index)) for index, item in enumerate(value)]
    return value


def texts(value: Any) -> Iterator[str]:
    """Every way a message could spell the scalars of ``value`` (``5``, ``true``, ``True``)."""
    if is_secure(value):
        yield from texts(value["secure"])
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)
    elif isinstance(value, str):
        yield value
    elif value is not None:
        yield str(value)
        yield json.dumps(value)


def secret_texts(full_key: str, value: Any, project: str, at: Leaf = ()) -> Iterator[str]:
    """The texts of the secrets ``masked`` hides in a key's value as written in a file (the
    ciphertext of each ``secure:`` value included)."""
    if is_secure(value) or always_secret_key(full_key, at, project):
        yield from texts(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from secret_texts(full_key, item, project, (*at, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_texts(full_key, item, project, (*at, index))


class Redactor:
    """Replaces secrets in messages by ``[secret]``: each of ``everywhere`` at least ``MIN_HIDDEN``
    long wherever it occurs (with ``lines``, each such line of a multi-line one too); shorter
    ones only when a message is about their place (``nearby``), as whole words."""

    def __init__(self, everywhere: Iterable[str], *, lines: bool = False) -> None:
        pieces = set()
        for text in everywhere:
            pieces |= {piece.strip() for piece in (text, *(text.splitlines() if lines else ()))}
        self.by_head: dict[str, list[str]] = {}
        """Long secrets by their first ``MIN_HIDDEN`` characters: a message is searched for
        those it can contain only (thousands of SSH keys, thousands of warnings)."""
        for piece in pieces:
            if len(piece) >= MIN_HIDDEN:
                self.by_head.setdefault(piece[:MIN_HIDDEN], []).append(piece)

    def __call__(self, text: str, nearby: Iterable[str] = ()) -> str:
        heads = {text[i : i + MIN_HIDDEN] for i in range(len(text) - MIN_HIDDEN + 1)} & self.by_head.keys()
        found = [piece for head in heads for piece in self.by_head[head]]
        for piece in sorted(found, key=len, reverse=True):
            text = text.replace(piece, SECRET_TEXT)
        words = sorted({word for word in nearby if word}, key=len, reverse=True)
        if words:
            alternatives = "|".join(re.escape(word) for word in words)
            text = re.sub(rf"(?<![\w./-])(?:{alternatives})(?![\w./-])", SECRET_TEXT, text)
        return text
