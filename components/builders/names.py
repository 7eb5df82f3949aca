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


def cluster_release_name(cluster: str) -> str:
    """The HelmRelease (and Kamaji control plane) Cozystack creates for a Kubernetes app."""
    return f"kubernetes-{cluster}"


KUBECONFIG_KEY = "super-admin.conf"
"""Key of the admin kubeconfig (external endpoint) in the cluster's kubeconfig Secret."""


def kubeconfig_secret_name(cluster: str) -> str:
    """The Secret in the tenant namespace that holds the cluster's admin kubeconfig."""
    return f"{cluster_release_name(cluster)}-admin-kubeconfig"


def gpu_role(group: str) -> str:
    """The role every GPU node group gets (label ``node-role.kubernetes.io/<role>``)."""
    return group if group.startswith("gpu-") else f"gpu-{group}"


def role_label(role: str) -> str:
    return f"node-role.kubernetes.io/{role}"
