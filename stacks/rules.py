"""Semantic rules over a structurally valid stack: platform limits, quota, sizing advice.

Each rule yields ``Problem``s with the config path they concern; errors stop the stack,
warnings are printed by ``pulumi preview`` / ``pulumi up`` and by the offline preview.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from components.builders.guest_firewall import firewall_ports
from components.builders.names import data_disk_name, system_disk_name
from components.builders.sizing import resolve_size
from components.catalog.gpus import GPU_MODELS
from components.catalog.instance_types import (
    MIN_VCPU_PER_GPU,
    SERIES,
    instance_type,
)
from components.catalog.platform import GOLDEN_IMAGE_MIN_GIB, MAX_NAME_LENGTH, PROFILES, PlatformProfile
from components.catalog.quantity import GIB, parse_quantity
from components.models.user_data import is_mime
from components.models.vm import DataDisk, GpuVirtualMachineArgs, SystemDisk
from stacks.cluster_rules import check_cluster
from stacks.config import TenantStack
from stacks.gpu_sizing import gpu_size_problems
from stacks.problems import Problem, config_path


def check_tenant(stack: TenantStack) -> list[Problem]:
    """Every semantic problem of a tenant stack, errors and warnings."""
    problems = list(_platform(stack))
    for name, vm in stack.vms.items():
        problems += _vm(stack, name, vm)
    profile = PROFILES[stack.platform.profile]
    for name, cluster in stack.clusters.items():
        problems += check_cluster(profile, name, cluster)
    problems += _quota(stack)
    return problems


def _platform(stack: TenantStack) -> Iterator[Problem]:
    if stack.platform.namespace is None:
        yield Problem(
            config_path("platform", "namespace"),
            "required: the tenant namespace to deploy into (e.g. tenant-acme); "
            "set hikube-gpu:platform.namespace or kubernetes:namespace",
        )


def _vm(stack: TenantStack, name: str, vm: GpuVirtualMachineArgs) -> Iterator[Problem]:
    limit = MAX_NAME_LENGTH["VMInstance"]
    if len(name) > limit:
        yield Problem(
            config_path("vms", name),
            f"name is {len(name)} characters; a VMInstance name has at most {limit}",
        )
    yield from _disks(name, vm)
    yield from _sizing(name, vm)
    profile = PROFILES[stack.platform.profile]
    allowed = profile.instance_profiles
    if allowed is not None and vm.instance_profile not in allowed:
        yield Problem(
            config_path("vms", name, "instanceProfile"),
            f"{vm.instance_profile!r} is not an instance profile of the {profile.name} platform "
            f"(e.g. ubuntu, rhel.9, windows.2k22)",
        )
    external = vm.external
    if (
        external is not None
        and external.method == "WholeIP"
        and external.ports is not None
        and not external.guest_firewall  # with the firewall on, ports are what it admits
    ):
        yield Problem(
            config_path("vms", name, "external", "ports"),
            "ports are only used with method PortList (or guestFirewall: true); WholeIP exposes every port",
        )
    yield from _exposure(name, vm, profile)
    if len(vm.gpus) > 1:
        models = ", ".join(m.value for m in GPU_MODELS if m in vm.gpus)  # catalog order
        yield Problem(
            config_path("vms", name, "gpus"),
            f"mixes GPU models ({models}); the VM only starts on a host that carries all of them",
            "warning",
        )
    driver_ok = vm.instance_profile == "ubuntu" and (
        vm.disk.image is None or vm.disk.image.startswith("ubuntu-")
    )
    if vm.nvidia_driver.install and not driver_ok:
        yield Problem(
            config_path("vms", name, "nvidiaDriver", "install"),
            "the built-in driver installer supports Ubuntu guests only; install the driver in "
            "your cloudInit (or your image) and set nvidiaDriver.install: false",
            "warning",
        )
    if vm.cloud_init is not None and is_mime(vm.cloud_init.get_secret_value()):
        generated = {}
        if vm.nvidia_driver.install:
            generated["the driver installer"] = "nvidiaDriver.install: false"
        if firewall_ports(vm.external, profile.port_list_filters) is not None:
            generated["the guest firewall"] = "external.guestFirewall: false"
        if generated:
            yield Problem(
                config_path("vms", name, "cloudInit"),
                f"MIME multi-part user data cannot be merged with {' and '.join(generated)}; "
                f"set {' and '.join(generated.values())}",
            )
    storage_classes = profile.storage_classes
    for path, disk in _all_disks(name, vm):
        if disk.storage_class not in storage_classes:
            yield Problem(
                config_path(*path, "storageClass"),
                f"{disk.storage_class!r} is not a storage class of {profile.name} "
                f"({', '.join(sorted(storage_classes))})",
                "warning",
            )


def _exposure(name: str, vm: GpuVirtualMachineArgs, profile: PlatformProfile) -> Iterator[Problem]:
    """Where PortList does not filter (P3): what the guest firewall admits, or that it is off."""
    external = vm.external
    if external is None or external.method != "PortList" or profile.port_list_filters:
        return
    platform = f"Cozystack {profile.cozystack_version}"
    ports = firewall_ports(external, profile.port_list_filters)
    if ports is not None:
        yield Problem(
            config_path("vms", name, "external"),
            f"PortList does not filter on this platform ({platform}); the guest firewall "
            f"admits only ports {list(ports)}",
            "warning",
        )
    else:
        yield Problem(
            config_path("vms", name, "external", "guestFirewall"),
            f"every port of this VM is reachable on its public IP (PortList does not filter on {platform})",
            "warning",
        )


def _all_disks(
    name: str, vm: GpuVirtualMachineArgs
) -> Iterator[tuple[tuple[str, ...], SystemDisk | DataDisk]]:
    yield ("vms", name, "disk"), vm.disk
    for disk_name, disk in vm.data_disks.items():
        yield ("vms", name, "dataDisks", disk_name), disk


def _disks(name: str, vm: GpuVirtualMachineArgs) -> Iterator[Problem]:
    limit = MAX_NAME_LENGTH["VMDisk"]
    names: dict[str, tuple[str, ...]] = {system_disk_name(name): ("vms", name, "disk")}
    for disk_name in vm.data_disks:
        full = data_disk_name(name, disk_name)
        path: tuple[str, ...] = ("vms", name, "dataDisks", disk_name)
        if full in names:
            yield Problem(
                config_path(*path), f"gives the VMDisk name {full!r}, already used by the system disk"
            )
        names[full] = path
    for full, where in names.items():
        if len(full) > limit:
            yield Problem(
                config_path(*where),
                f"VMDisk name {full!r} is {len(full)} characters; at most {limit} are allowed "
                "(shorten the VM or disk name)",
            )
    for path, disk in _all_disks(name, vm):
        if parse_quantity(disk.size) < GIB:
            yield Problem(
                config_path(*path, "size"),
                f"{disk.size} is less than 1Gi "
                f"(a size without a unit is in bytes; did you mean {disk.size}Gi?)",
            )
            continue
        if disk.image is None:
            continue
        if disk.image not in GOLDEN_IMAGE_MIN_GIB:
            yield Problem(
                config_path(*path, "image"),
                f"{disk.image!r} is not one of Hikube's golden images; it must exist as "
                f"vm-image-{disk.image} in cozy-public",
                "warning",
            )
            continue
        minimum = GOLDEN_IMAGE_MIN_GIB[disk.image]
        if minimum is not None and parse_quantity(disk.size) < minimum * GIB:
            yield Problem(
                config_path(*path, "size"),
                f"{disk.size} is smaller than the {minimum}Gi that image {disk.image} needs",
            )


def _sizing(name: str, vm: GpuVirtualMachineArgs) -> Iterator[Problem]:
    gpus = vm.gpu_count
    if vm.instance_type is not None and vm.resources is not None:
        yield Problem(
            config_path("vms", name, "resources"),
            "instanceType and resources are mutually exclusive (KubeVirt rejects a VM that sets both)",
        )
        return
    if vm.instance_type is not None:
        path = config_path("vms", name, "instanceType")
        series = vm.instance_type.split(".", 1)[0]
        if series in SERIES and not SERIES[series].gpu_allowed:
            yield Problem(path, f"{vm.instance_type!r} cannot host GPUs: {SERIES[series].reason}")
            return
        if instance_type(vm.instance_type) is None:
            hint = "; gn1 types embed their own GPU, use u1 plus gpus" if series == "gn1" else ""
            yield Problem(
                path,
                f"unknown instance type {vm.instance_type!r}; choose a u1, s1, m1 or cx1 type "
                f"(e.g. u1.2xlarge){hint}",
            )
            return
    size = resolve_size(vm)
    if size is None:
        yield Problem(
            config_path("vms", name, "instanceType"),
            f"required for {gpus} GPUs: no u1 type has {MIN_VCPU_PER_GPU} vCPU per GPU "
            "(the largest, u1.8xlarge, has 32); set instanceType or resources",
        )
        return
    field = "resources" if vm.resources is not None else "instanceType"
    series = size.label.split(".", 1)[0] if vm.resources is None else "u1"
    yield from gpu_size_problems(
        config_path("vms", name, field),
        label=size.label,
        vcpu=size.vcpu,
        memory_bytes=size.memory_bytes,
        gpus=gpus,
        series=series,
    )


def _quota(stack: TenantStack) -> Iterator[Problem]:
    """VM GPUs plus node-group GPUs as the platform runs them, per model, against the quota.

    Past the quota at ``steady_max`` nodes (the platform starts a group with two) is an
    error; past it only during a roll-out's surge is a warning (the roll-out goes slower).
    """
    if stack.quota is None:
        return
    app = PROFILES[stack.platform.profile].kubernetes
    steady: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    users: dict[str, list[str]] = {}
    for name, vm in stack.vms.items():
        for model, count in vm.gpus.items():
            steady[model.value] += count
            peak[model.value] += count
            users.setdefault(model.value, []).append(f"{name}: {count}")
    for cluster_name, cluster in stack.clusters.items():
        for group_name, group in cluster.node_groups.items():
            scale = app.node_group_scale(group.min_replicas, group.max_replicas)
            for model, count in group.gpus.items():
                steady[model.value] += count * scale.steady_max
                peak[model.value] += count * scale.peak
                nodes = f"{scale.steady_max}" + (
                    f" (maxReplicas {group.max_replicas})" if scale.steady_max != group.max_replicas else ""
                )
                users.setdefault(model.value, []).append(f"{cluster_name}/{group_name}: {nodes}×{count}")
    for model in GPU_MODELS:
        allowed = stack.quota.get(model, 0)
        path = config_path("quota", model.value)
        if steady[model.value] > allowed:
            yield Problem(
                path,
                f"the stack asks for {steady[model.value]} {model.value} GPUs "
                f"({', '.join(users[model.value])}) but its quota is {allowed}",
            )
        elif peak[model.value] > allowed:
            yield Problem(
                path,
                f"a node-group roll-out can hold {peak[model.value]} {model.value} GPUs at once "
                f"(the platform adds up to maxReplicas new nodes before removing old ones) but the quota "
                f"is {allowed}: roll-outs will wait for GPUs and go one node at a time",
                "warning",
            )
