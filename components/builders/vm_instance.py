"""``VMInstance`` (apps.cozystack.io/v1alpha1): a KubeVirt VM with PCI-passthrough GPUs."""

from __future__ import annotations

from typing import Any

from components.builders.cloud_init import build_user_data
from components.builders.manifest import COZYSTACK_APPS, MANAGED_BY, Manifest
from components.builders.readiness import wait_for_ready
from components.catalog.gpus import GPU_MODELS
from components.models.vm import DEFAULT_EXTERNAL_PORTS, DataDisk, GpuVirtualMachineArgs, SystemDisk
from components.resolve.firewall import firewall_ports
from components.resolve.names import data_disk_name, system_disk_name
from components.resolve.sizing import resolve_size

SECRET_FIELDS = ("cloudInit", "sshKeys")
"""Spec fields registered as Pulumi secrets when they hold something; empty, they stay plain
(``[]`` and ``""``, the chart's defaults), so a rendered VM without keys shows no secret."""


def gpu_entries(gpus: dict[Any, int]) -> list[dict[str, str]]:
    """One ``{name: <resource>}`` per GPU, models in catalog order: ``{A100: 2}`` → two entries."""
    return [
        {"name": model.hikube_resource_name}
        for key, model in GPU_MODELS.items()
        for _ in range(gpus.get(key, 0))
    ]


def _disk_ref(name: str, disk: SystemDisk | DataDisk) -> dict[str, str]:
    return {"name": name, **({"bus": disk.bus} if disk.bus else {})}


def build_vm_instance(
    name: str, namespace: str, vm: GpuVirtualMachineArgs, *, port_list_filters: bool
) -> Manifest:
    """The VMInstance ``name``. Expects a VM that passed ``stacks.validation.rules``.

    ``port_list_filters``: the platform fact (``PlatformProfile``) that decides the guest firewall.
    """
    size = resolve_size(vm)
    if size is None:  # rules reject this before any builder runs
        raise ValueError(f"VM {name!r} has no size")
    disks = [_disk_ref(system_disk_name(name), vm.disk)]
    disks += [_disk_ref(data_disk_name(name, d), vm.data_disks[d]) for d in sorted(vm.data_disks)]
    external = vm.external
    resources: dict[str, Any] = {}
    if vm.resources is not None:
        resources = {"cpu": vm.resources.cpu, "memory": vm.resources.memory, "sockets": vm.resources.sockets}
    user_data = vm.cloud_init.get_secret_value() if vm.cloud_init else None
    spec: dict[str, Any] = {
        "runStrategy": vm.run_strategy,
        "instanceType": size.instance_type or "",
        "instanceProfile": vm.instance_profile,
        "resources": resources,
        "disks": disks,
        "gpus": gpu_entries(vm.gpus),
        "external": external is not None,
        "externalMethod": external.method if external else "PortList",
        "externalPorts": list(external.ports if external and external.ports else DEFAULT_EXTERNAL_PORTS),
        "sshKeys": [key.get_secret_value() for key in vm.ssh_keys],
        "cloudInit": build_user_data(
            vm.nvidia_driver, user_data, firewall_ports=firewall_ports(external, port_list_filters)
        ),
        "cloudInitSeed": vm.cloud_init_seed,
        "cpuModel": vm.cpu_model,
        "subnets": [{"name": subnet} for subnet in vm.subnets],
    }
    return Manifest(
        COZYSTACK_APPS,
        "VMInstance",
        name,
        namespace,
        dict(MANAGED_BY),
        {"spec": spec},
        secret_paths=tuple(("spec", key) for key in SECRET_FIELDS if spec[key]),
        annotations=wait_for_ready("VMInstance"),
    )
