"""Typed, validated arguments of the components (pydantic, unknown keys rejected)."""

from components.models.base import DNS1035_LABEL, Name, Quantity, StrictModel
from components.models.vm import (
    ENCRYPTED_PLACEHOLDER,
    DataDisk,
    External,
    GpuVirtualMachineArgs,
    NvidiaDriver,
    Resources,
    SystemDisk,
)

__all__ = [
    "DNS1035_LABEL",
    "ENCRYPTED_PLACEHOLDER",
    "DataDisk",
    "External",
    "GpuVirtualMachineArgs",
    "Name",
    "NvidiaDriver",
    "Quantity",
    "Resources",
    "StrictModel",
    "SystemDisk",
]
