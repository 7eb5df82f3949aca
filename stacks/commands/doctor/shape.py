"""Typed reading of untrusted API answers: a value of the wrong type is ``Malformed``, never a guess.

Kubernetes leaves out empty fields, so an absent key reads as its empty value (``{}``, ``[]``,
the default). Anything else that is not of the expected type (``null`` included: the API
server never sends it for the fields read here) raises ``Malformed`` with the request path and
where in the answer it is, so a check says "can't tell" instead of building a verdict on it.
Messages name the type found, never the value (an answer may hold a secret).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports this module for --help: no kubernetes client at start-up
    from stacks.commands.doctor.reader import Fetched

_ABSENT: Any = object()


_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "a number"),
    (float, "a number"),
    (str, "a string"),
    (list, "a list"),
    (dict, "an object"),
)


def kind_of(value: Any) -> str:
    """``null``, ``a string``, ``an object``… (never the value itself)."""
    if value is _ABSENT:
        return "missing"
    if value is None:
        return "null"
    return next((name for kind, name in _KINDS if isinstance(value, kind)), type(value).__name__)


class Malformed(Exception):
    """An answer that is not of the shape a check reads (``source``: the request path)."""

    def __init__(self, source: str, where: str, expected: str, found: Any) -> None:
        self.source = source
        self.where = where or "the answer"
        super().__init__(f"{self.where} is {kind_of(found)}, expected {expected} (answer of {source})")


Key = str | int


def where_of(keys: tuple[Key, ...]) -> str:
    """``items[2].metadata.name`` for ``("items", 2, "metadata", "name")``."""
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


@dataclass(frozen=True)
class Json:
    """A value of an answer, with where it came from (``source``: the path read, ``keys``:
    the field, ``where`` as text: ``items[2].metadata.name``)."""

    value: Any
    source: str
    keys: tuple[Key, ...] = ()

    @property
    def where(self) -> str:
        return where_of(self.keys)

    @staticmethod
    def of(fetched: Fetched) -> Json:
        return Json(fetched.body, fetched.path)

    def malformed(self, expected: str) -> Malformed:
        return Malformed(self.source, self.where, expected, self.value)

    @property
    def present(self) -> bool:
        return self.value is not _ABSENT

    def at(self, key: str) -> Json:
        """The field ``key`` of this object (absent keys read as absent, see the module doc)."""
        if not isinstance(self.value, dict):
            raise self.malformed("an object")
        return Json(self.value.get(key, _ABSENT), self.source, (*self.keys, key))

    def as_object(self) -> Json:
        if not isinstance(self.value, dict):
            raise self.malformed("an object")
        return self

    def object(self, key: str) -> Json:
        """The object at ``key``; ``{}`` when absent."""
        found = self.at(key)
        return Json({}, found.source, found.keys) if not found.present else found.as_object()

    def array(self, key: str, *, required: bool = False) -> list[Json]:
        """The items of the list at ``key``; ``[]`` when absent (unless ``required``)."""
        found = self.at(key)
        if not found.present and not required:
            return []
        if not isinstance(found.value, list):
            raise found.malformed("a list")
        return [Json(item, found.source, (*found.keys, index)) for index, item in enumerate(found.value)]

    def objects(self, key: str, *, required: bool = False) -> list[Json]:
        """The list at ``key``, each item an object."""
        return [item.as_object() for item in self.array(key, required=required)]

    def text(self, key: str, default: str | None = None) -> str | None:
        """The string at ``key``; ``default`` when absent."""
        found = self.at(key)
        if not found.present:
            return default
        if not isinstance(found.value, str):
            raise found.malformed("a string")
        return found.value

    def need_text(self, key: str) -> str:
        """The string at ``key``, which must be there."""
        found = self.text(key)
        if found is None:
            raise self.at(key).malformed("a string")
        return found

    def number(self, key: str, default: int | None = None) -> int | None:
        found = self.at(key)
        if not found.present:
            return default
        if isinstance(found.value, bool) or not isinstance(found.value, int):
            raise found.malformed("an integer")
        return found.value

    def flag(self, key: str, default: bool = False) -> bool:
        found = self.at(key)
        if not found.present:
            return default
        if not isinstance(found.value, bool):
            raise found.malformed("a boolean")
        return found.value

    def texts(self, key: str) -> list[str]:
        """The list of strings at ``key``; ``[]`` when absent."""
        values = []
        for item in self.array(key):
            if not isinstance(item.value, str):
                raise item.malformed("a string")
            values.append(item.value)
        return values

    def strings(self, key: str) -> dict[str, str]:
        """The string-to-string map at ``key`` (labels, allocatable); ``{}`` when absent."""
        found = self.object(key)
        for name, value in found.value.items():
            if not isinstance(value, str):
                raise found.at(name).malformed("a string")
        return dict(found.value)

    @property
    def name(self) -> str:
        """``metadata.name``, which every object has."""
        return self.object("metadata").need_text("name")


def items(fetched: Fetched) -> list[Json]:
    """The items of a list answer (``items`` must be there, each an object)."""
    return Json.of(fetched).objects("items", required=True)
