"""One problem of a component's args, and the error a component raises for its problems."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


def prop(*parts: str | int) -> str:
    """``prop("dataDisks", "scratch", "size")`` → ``dataDisks.scratch.size``; ints are ``[i]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True, order=True)
class Issue:
    """A problem of ``args`` at ``path`` (camelCase property path; empty: the object itself)."""

    path: str
    message: str
    severity: Severity = "error"

    def below(self, *parts: str | int) -> Issue:
        """This issue as seen from a parent whose args hold these args at ``parts``."""
        return Issue(Issue(self.path, "").under(prop(*parts)), self.message, self.severity)

    def under(self, prefix: str) -> str:
        """The full path below ``prefix`` (a config path such as ``hikube-gpu:vms.ws-1``)."""
        if not self.path:
            return prefix
        return prefix + (self.path if self.path.startswith("[") else f".{self.path}")


def raise_for_errors(component: str, name: str, issues: Iterable[Issue]) -> None:
    """Raise ``pulumi.InputPropertiesError`` naming every error's property; warnings pass."""
    errors = sorted(i for i in issues if i.severity == "error")
    if not errors:
        return
    from components.errors import InvalidArgs  # here: the stack rules check args without Pulumi

    raise InvalidArgs(
        f"{component} {name!r} has invalid args",
        [{"property_path": e.path, "reason": e.message} for e in errors],
    )
