"""Shared pieces of the argument models: strict camelCase models and common field types."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

from components.catalog.quantity import GIB, parse_quantity

DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MAX = 63


class StrictModel(BaseModel):
    """Config models: camelCase keys, unknown keys rejected, immutable once validated."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=False,
    )


def _dns1035(value: str) -> str:
    if len(value) > DNS_LABEL_MAX:
        raise ValueError(f"name is {len(value)} characters; a Kubernetes name has at most {DNS_LABEL_MAX}")
    if not DNS1035_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lower-case letters, digits and '-', "
            "starting with a letter and ending with a letter or digit"
        )
    return value


def _quantity(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 100Gi, 512Mi, 8)")
    parse_quantity(value)
    return str(value)


def _memory(value: object) -> str:
    """A quantity; a bare number under 1Gi is bytes, which no memory setting means."""
    text = _quantity(value)
    if text.strip().replace(".", "", 1).isdigit() and parse_quantity(text) < GIB:
        raise ValueError(f"{text} has no unit, so it means {text} bytes; add one, e.g. {text}Gi")
    return text


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a TCP/UDP port (1-65535)")
    return value


Name = Annotated[str, AfterValidator(_dns1035)]
"""A DNS-1035 label (Cozystack app and disk names)."""

Quantity = Annotated[str, BeforeValidator(_quantity)]
"""A Kubernetes quantity, kept as written (``100Gi``)."""

Memory = Annotated[str, BeforeValidator(_memory)]
"""A memory quantity (``32Gi``): like ``Quantity``, but a small bare number is refused."""

Port = Annotated[int, AfterValidator(_port)]
