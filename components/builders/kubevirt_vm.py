"""A raw KubeVirt ``VirtualMachine`` with passed-through GPUs (clusters without Cozystack apps).

It uses a cluster instancetype, so the VM itself sets no CPU or memory (KubeVirt rejects
both), an eviction strategy that is not ``LiveMigrate`` (GPU VMs cannot migrate), and
cloud-init (in a Secret) that installs the guest driver and the SSH keys.
"""

from __future__ import annotations

from typing import Any

from components.builders.cloud_init import build_user_data
from components.builders.kubevirt_patch import permitted_resource_name
from components.builders.manifest import MANAGED_BY, Manifest
from components.catalog.gpus import GPU_MODELS
from components.models.kubevirt import KubeVirtGpuVmArgs, ResourceNaming
from components.resolve.instance_types import vm_instance_type
from components.resolve.names import cloud_init_secret_name, root_volume_name

USER_DATA_KEY = "userdata"


def build_cloud_init_secret(name: str, namespace: str, vm: KubeVirtGpuVmArgs) -> Manifest:
    user_data = build_user_data(
        vm.nvidia_driver,
        vm.cloud_init.get_secret_value() if vm.cloud_init else None,
        tuple(key.get_secret_value() for key in vm.ssh_keys),
    )
    return Manifest(
        "v1",
        "Secret",
        cloud_init_secret_name(name),
        namespace,
        {**MANAGED_BY, "hikube-gpu/vm": name},
        {"type": "Opaque", "stringData": {USER_DATA_KEY: user_data}},
        secret_paths=(("stringData",),),
    )


def build_kubevirt_vm(name: str, namespace: str, vm: KubeVirtGpuVmArgs, naming: ResourceNaming) -> Manifest:
    """The VirtualMachine ``name`` (args must have passed ``stacks.validation.platform_rules``)."""
    instance_type = vm_instance_type(vm)
    if instance_type is None:  # rules reject this before any builder runs
        raise ValueError(f"VM {name!r} has no instance type")
    gpus = [
        permitted_resource_name(model, naming) for model in GPU_MODELS for _ in range(vm.gpus.get(model, 0))
    ]
    storage: dict[str, Any] = {"resources": {"requests": {"storage": vm.disk.size}}}
    if vm.disk.storage_class is not None:
        storage["storageClassName"] = vm.disk.storage_class
    domain: dict[str, Any] = {
        "devices": {
            "gpus": [{"name": f"gpu{index + 1}", "deviceName": device} for index, device in enumerate(gpus)],
            "disks": [
                {"name": "root", "disk": {"bus": "virtio"}},
                {"name": "cloudinit", "disk": {"bus": "virtio"}},
            ],
            "interfaces": [{"name": "default", "masquerade": {}}],
        }
    }
    if vm.cpu_model:
        domain["cpu"] = {"model": vm.cpu_model}
    spec = {
        "runStrategy": vm.run_strategy,
        "instancetype": {"kind": "VirtualMachineClusterInstancetype", "name": instance_type},
        "preference": {"kind": "VirtualMachineClusterPreference", "name": vm.preference},
        "dataVolumeTemplates": [
            {
                "metadata": {"name": root_volume_name(name)},
                "spec": {"source": {"http": {"url": vm.disk.url}}, "storage": storage},
            }
        ],
        "template": {
            "metadata": {"labels": {"kubevirt.io/vm": name}},
            "spec": {
                "evictionStrategy": vm.eviction_strategy,
                "domain": domain,
                "networks": [{"name": "default", "pod": {}}],
                "volumes": [
                    {"name": "root", "dataVolume": {"name": root_volume_name(name)}},
                    {
                        "name": "cloudinit",
                        "cloudInitNoCloud": {"secretRef": {"name": cloud_init_secret_name(name)}},
                    },
                ],
            },
        },
    }
    return Manifest("kubevirt.io/v1", "VirtualMachine", name, namespace, dict(MANAGED_BY), {"spec": spec})
