"""Secret-looking Helm values: by key, by environment-variable name, by well-known token shape.

Helm values end up in clear text in the release Secret, in Helm's history and in the
Pulumi state, so a secret belongs in a Kubernetes Secret the chart references by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from shapes import MASKED

SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential)", re.IGNORECASE
)
NOT_A_SECRET_KEY = re.compile(
    r"((name|ref|file|path|env|dir|mount\w*|enabled|ttl|timeout|expir\w*|length|policy|type|mode|version)$"
    r"|^existing)",
    re.IGNORECASE,
)
"""Keys that name a secret kept elsewhere (``secretName``, ``existingSecret``, ``tokenFile``)
or say something about one (``tokenTTL``, ``passwordLength``, ``secretType``)."""
TOKEN_SHAPES = {
    "a PEM private key": r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----",
    "an AWS access key ID": r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
    "a GitHub token": r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
    "a GitLab token": r"\bglpat-[A-Za-z0-9_-]{20,}",
    "a Slack token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    "a JWT": r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "an NGC API key": r"\bnvapi-[A-Za-z0-9_-]{32,}",
}
_SHAPES = [(what, re.compile(pattern)) for what, pattern in TOKEN_SHAPES.items()]


def secret_name(key: str) -> bool:
    """A key or variable name that holds a secret itself (not a reference to one)."""
    return bool(SECRET_KEY.search(key)) and not NOT_A_SECRET_KEY.search(key)


def clear_value(value: Any) -> bool:
    """A value in clear text: a non-empty string that is not masked, or a number (not a bool)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or (isinstance(value, str) and value not in MASKED)


def token_shape(text: str) -> str | None:
    """What well-known credential ``text`` contains, if any."""
    return next((what for what, shape in _SHAPES if shape.search(text)), None)


def secret_like(value: Any, path: str = "values") -> Iterator[str]:
    """One message per secret-looking value under ``path``."""
    if isinstance(value, Mapping):
        variable = value.get("name")
        if isinstance(variable, str) and secret_name(variable) and clear_value(value.get("value")):
            yield f"{path} ({variable}) looks like a secret (an environment variable set in clear)"
            return
        for key, item in value.items():
            child = f"{path}.{key}"
            if secret_name(str(key)) and clear_value(item):
                yield f"{child} looks like a secret (by its key)"
            else:
                yield from secret_like(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_like(item, f"{path}[{index}]")
    elif isinstance(value, str) and (what := token_shape(value)):
        yield f"{path} looks like a secret ({what})"
