"""Kubernetes names derived from config names (one place, so rules and builders agree)."""

from __future__ import annotations


def system_disk_name(vm: str) -> str:
    """The boot ``VMDisk`` of VM ``vm``."""
    return f"{vm}-system"


def data_disk_name(vm: str, disk: str) -> str:
    """A data ``VMDisk`` of VM ``vm``."""
    return f"{vm}-{disk}"


def vm_release_name(vm: str) -> str:
    """The HelmRelease (and KubeVirt VirtualMachine, Service) Cozystack creates for a VMInstance."""
    return f"vm-instance-{vm}"
