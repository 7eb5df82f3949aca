"""``VMDisk`` (apps.cozystack.io/v1alpha1): a CDI-backed disk for a VMInstance."""

from __future__ import annotations

from typing import Any

from components.builders.manifest import COZYSTACK_APPS, MANAGED_BY, Manifest
from components.builders.readiness import wait_for_ready
from components.models.vm import DataDisk, SystemDisk


def disk_source(disk: SystemDisk | DataDisk) -> dict[str, Any]:
    """Exactly one source key, or ``{}`` for a blank disk."""
    if disk.image is not None:
        return {"image": {"name": disk.image}}
    if disk.url is not None:
        return {"http": {"url": disk.url}}
    return {}


def build_vm_disk(name: str, namespace: str, vm: str, disk: SystemDisk | DataDisk) -> Manifest:
    """The VMDisk ``name`` belonging to VM ``vm``."""
    spec = {
        "source": disk_source(disk),
        "optical": False,
        "storage": disk.size,
        "storageClass": disk.storage_class,
    }
    labels = {**MANAGED_BY, "hikube-gpu/vm": vm}
    return Manifest(
        COZYSTACK_APPS,
        "VMDisk",
        name,
        namespace,
        labels,
        {"spec": spec},
        annotations=wait_for_ready("VMDisk"),
    )
