"""Kubernetes resource quantities (``100Gi``, ``500M``, ``8``) as exact numbers."""

from __future__ import annotations

import re
from fractions import Fraction

KIB = 1024
MIB = 1024**2
GIB = 1024**3
TIB = 1024**4

_SUFFIXES: dict[str, Fraction] = {
    "": Fraction(1),
    "m": Fraction(1, 1000),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(KIB),
    "Mi": Fraction(MIB),
    "Gi": Fraction(GIB),
    "Ti": Fraction(TIB),
    "Pi": Fraction(1024**5),
    "Ei": Fraction(1024**6),
}

_QUANTITY = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?|\.[0-9]+)(?P<suffix>[KMGTPE]i|[mkMGTPE])?$")


def parse_quantity(value: str | int) -> Fraction:
    """Parse a quantity; raises ``ValueError`` with a readable message when invalid."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Fraction(value)
    match = _QUANTITY.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 100Gi, 512Mi, 8)")
    return Fraction(match["number"]) * _SUFFIXES[match["suffix"] or ""]


def format_gib(value: Fraction | int) -> str:
    """``34359738368`` → ``32Gi`` (for messages)."""
    gib = Fraction(value) / GIB
    return f"{gib.numerator}Gi" if gib.denominator == 1 else f"{float(gib):.2f}Gi"
