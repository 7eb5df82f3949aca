"""Shared pieces of the argument models: strict camelCase models and common field types."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from components.catalog.quantity import GIB, parse_quantity

DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MAX = 63

MAX_QUANTITY = 2**63 - 1
"""Kubernetes refuses quantities past 2^63-1 (in bytes for sizes, in cores for CPU)."""
MAX_INT32 = 2**31 - 1
"""Kubernetes counts (replicas, completions, backoffLimit) are 32-bit integers."""
MAX_GPUS_PER_MACHINE = 16
"""No server carries more than 16 GPUs (8 on every host in the catalog): a bound on nonsense only."""
MAX_MIG_INSTANCES = 7
"""A MIG-capable GPU splits into at most 7 instances (NVIDIA MIG user guide)."""
MAX_NODES_PER_CLUSTER = 5000
"""Kubernetes supports at most 5,000 nodes per cluster ("Considerations for large clusters")."""
MAX_VCPUS = 1024
"""More vCPUs than any host has: a bound on nonsense only."""


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
    """A positive quantity of at most ``MAX_QUANTITY`` (a size or CPU of 0 or less means nothing)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("not a Kubernetes quantity (e.g. 100Gi, 512Mi, 8)")
    amount = parse_quantity(value)
    if amount <= 0:
        raise ValueError(f"{value} is not more than 0")
    if amount > MAX_QUANTITY:
        raise ValueError("larger than Kubernetes allows for a quantity (2^63-1)")
    return str(value)


def _memory(value: object) -> str:
    """A quantity; a bare number under 1Gi is bytes, which no memory setting means."""
    text = _quantity(value)
    if text.strip().replace(".", "", 1).isdigit() and parse_quantity(text) < GIB:
        raise ValueError(f"{text} has no unit, so it means {text} bytes; add one, e.g. {text}Gi")
    return text


def _not_boolean(value: object) -> object:
    """Counts and ports are whole numbers: a YAML ``true``/``false`` (``yes``/``no``/``on``/``off``
    in YAML 1.1) is a boolean, which Python would take as 1 or 0."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {str(value).lower()} (a YAML boolean)")
    return value


NotBoolean = BeforeValidator(_not_boolean)
"""For every integer field: refuses ``true``/``false`` before pydantic would read them as 1/0."""


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a TCP/UDP port (1-65535)")
    return value


Name = Annotated[str, AfterValidator(_dns1035)]
"""A DNS-1035 label (Cozystack app and disk names)."""

Quantity = Annotated[str, BeforeValidator(_quantity, json_schema_input_type=str | int)]
"""A Kubernetes quantity, kept as written (``100Gi``)."""

Memory = Annotated[str, BeforeValidator(_memory, json_schema_input_type=str | int)]
"""A memory quantity (``32Gi``): like ``Quantity``, but a small bare number is refused."""

Port = Annotated[int, NotBoolean, AfterValidator(_port)]


GpuCount = Annotated[int, Field(gt=0, le=MAX_GPUS_PER_MACHINE), NotBoolean]
"""GPUs of one model in one VM or node: 1 to ``MAX_GPUS_PER_MACHINE`` (16)."""

PodGpuCount = Annotated[int, Field(gt=0, le=MAX_GPUS_PER_MACHINE * MAX_MIG_INSTANCES), NotBoolean]
"""GPUs (or MIG instances) per pod: 1 to 112 (16 GPUs of 7 instances)."""

MigInstances = Annotated[int, Field(gt=0, le=MAX_MIG_INSTANCES), NotBoolean]
"""MIG instances of one profile per GPU: 1 to 7."""

KubeCount = Annotated[int, Field(gt=0, le=MAX_INT32), NotBoolean]
"""A Kubernetes count of at least 1 (replicas, completions): at most 2^31-1."""

KubeCountOrZero = Annotated[int, Field(ge=0, le=MAX_INT32), NotBoolean]
"""A Kubernetes count that may be 0 (backoffLimit): at most 2^31-1."""

NodeCount = Annotated[int, Field(ge=0, le=MAX_NODES_PER_CLUSTER), NotBoolean]
"""Nodes of a node group: 0 to ``MAX_NODES_PER_CLUSTER`` (5,000)."""

VcpuCount = Annotated[int, Field(gt=0, le=MAX_VCPUS), NotBoolean]
"""vCPUs or sockets of a VM: 1 to ``MAX_VCPUS`` (1,024)."""
