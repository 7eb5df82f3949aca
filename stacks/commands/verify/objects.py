"""Small readers of Kubernetes objects shared by verify's checks (all raise ``Malformed``)."""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.quantity import parse_quantity
from stacks.commands.doctor.reader import MAX_MESSAGE
from stacks.commands.doctor.shape import Json


@dataclass(frozen=True)
class Condition:
    status: str
    reason: str
    message: str

    @property
    def true(self) -> bool:
        return self.status == "True"

    def text(self) -> str:
        """``InstallFailed: <message>`` (the message cut to a line's length)."""
        message = " ".join(self.message.split())
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        return ": ".join(part for part in (self.reason, message) if part) or f"status {self.status}"


def condition(obj: Json, kind: str) -> Condition | None:
    """The ``status.conditions`` entry of type ``kind``, if any."""
    for entry in obj.object("status").objects("conditions"):
        if entry.text("type") == kind:
            return Condition(
                entry.need_text("status"), entry.text("reason", "") or "", entry.text("message", "") or ""
            )
    return None


def labels(obj: Json) -> dict[str, str]:
    return obj.object("metadata").strings("labels")


def count(obj: Json, resources: dict[str, str], name: str) -> int:
    """An integer amount of ``name`` in a resource list (``allocatable``); 0 when absent."""
    text = resources.get(name)
    if text is None:
        return 0
    try:
        amount = parse_quantity(text)
    except ValueError:
        raise obj.malformed(f"a quantity for {name}") from None
    if amount.denominator != 1:
        raise obj.malformed(f"a whole number of {name}")
    return int(amount)


def node_ready(node: Json) -> bool:
    found = condition(node, "Ready")
    return found is not None and found.true
