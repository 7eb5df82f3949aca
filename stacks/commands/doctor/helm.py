"""Read a Helm 3 release Secret (``sh.helm.release.v1.<name>.v<revision>``) without Helm."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from dataclasses import dataclass
from typing import Any

from stacks.commands.doctor.shape import Json

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Release:
    name: str
    revision: int
    status: str
    chart_version: str | None
    """From the release record (``chart.metadata.version``); None when it cannot be decoded."""


def decode_release(secret: Json) -> Release:
    """Labels give name/revision/status; ``data.release`` is base64(base64(gzip(JSON)))
    (raises ``Malformed`` for labels or data of the wrong type)."""
    labels = secret.object("metadata").strings("labels")
    revision = labels.get("version", "0")
    return Release(
        name=labels.get("name", ""),
        revision=int(revision) if revision.isdigit() else 0,
        status=labels.get("status", ""),
        chart_version=_chart_version(secret.object("data").text("release")),
    )


def _chart_version(encoded: Any) -> str | None:
    if not isinstance(encoded, str):
        return None
    try:
        record = base64.b64decode(base64.b64decode(encoded))
        if record[:2] == GZIP_MAGIC:
            record = gzip.decompress(record)
        version = json.loads(record)["chart"]["metadata"]["version"]
    except (binascii.Error, ValueError, OSError, KeyError, TypeError):
        return None
    return version if isinstance(version, str) else None


def current(secrets: list[Json]) -> Release | None:
    """The newest revision (Helm keeps older ones as ``superseded``)."""
    releases = [decode_release(s) for s in secrets]
    return max(releases, key=lambda r: r.revision, default=None)
