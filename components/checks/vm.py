"""The checks of a ``GpuVirtualMachine``'s args: names, disks, size, exposure, guest set-up."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.gpus import GPU_MODELS
from components.catalog.instance_types import gpu_memory_problem, vcpu_advice
from components.catalog.platform import GOLDEN_IMAGE_MIN_GIB, PlatformProfile
from components.catalog.quantity import GIB, parse_quantity
from components.checks.issues import Issue, prop
from components.checks.names import derived_name_issues
from components.checks.ports import duplicate_ports
from components.models.user_data import is_mime
from components.models.vm import DEFAULT_EXTERNAL_PORTS, DataDisk, GpuVirtualMachineArgs, SystemDisk
from components.resolve.firewall import firewall_ports
from components.resolve.names import data_disk_name, system_disk_name
from components.resolve.sizing import resolve_size, size_problem

WINDOWS_PROFILES = ("windows.",)
"""Instance profiles of Windows guests (Cozystack v1.1.2 vm-instance values.schema.json)."""


def check_vm(name: str, vm: GpuVirtualMachineArgs, profile: PlatformProfile) -> list[Issue]:
    """Every problem of VM ``name`` on ``profile``, errors and warnings."""
    return list(_vm(name, vm, profile))


def _vm(name: str, vm: GpuVirtualMachineArgs, profile: PlatformProfile) -> Iterator[Issue]:
    yield from derived_name_issues(
        profile.name,
        "vm",
        path=prop(),
        names={"vm": name},
        subject="vm",
        advice="use a VM name of at most {allowed} characters",
    )
    yield from _disks(name, vm, profile)
    yield from _sizing(vm)
    allowed = profile.instance_profiles
    if allowed is not None and vm.instance_profile not in allowed:
        yield Issue(
            prop("instanceProfile"),
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
        yield Issue(
            prop("external", "ports"),
            "ports are only used with method PortList (or guestFirewall: true); WholeIP exposes every port",
        )
    yield from _ports(vm)
    yield from _exposure(name, vm, profile)
    if len(vm.gpus) > 1:
        models = ", ".join(m.value for m in GPU_MODELS if m in vm.gpus)  # catalog order
        yield Issue(
            prop("gpus"),
            f"mixes GPU models ({models}); the VM only starts on a host that carries all of them",
            "warning",
        )
    driver_ok = vm.instance_profile == "ubuntu" and (
        vm.disk.image is None or vm.disk.image.startswith("ubuntu-")
    )
    if vm.nvidia_driver.install and not driver_ok:
        yield Issue(
            prop("nvidiaDriver", "install"),
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
            yield Issue(
                prop("cloudInit"),
                f"MIME multi-part user data cannot be merged with {' and '.join(generated)}; "
                f"set {' and '.join(generated.values())}",
            )
    storage_classes = profile.storage_classes
    for path, disk in _all_disks(vm):
        if disk.storage_class not in storage_classes:
            yield Issue(
                prop(*path, "storageClass"),
                f"{disk.storage_class!r} is not a storage class of {profile.name} "
                f"({', '.join(sorted(storage_classes))})",
                "warning",
            )


def _ports(vm: GpuVirtualMachineArgs) -> Iterator[Issue]:
    """``external.ports`` lists each port once, and at least one."""
    external = vm.external
    if external is None or external.ports is None:
        return
    if not external.ports:
        # upstream: cozystack/cozystack v1.1.2 packages/apps/vm-instance/templates/service.yaml:25-35
        # upstream: kubernetes/api v0.34.0 core/v1/types.go:5849 (a LoadBalancer Service needs a port)
        yield Issue(
            prop("external", "ports"),
            "is empty, so nothing would be forwarded or admitted; list the ports, or leave the key "
            f"out for the default {list(DEFAULT_EXTERNAL_PORTS)}",
        )
    yield from duplicate_ports(("external", "ports"), external.ports)


def _exposure(name: str, vm: GpuVirtualMachineArgs, profile: PlatformProfile) -> Iterator[Issue]:
    """Where PortList does not filter (P3): what the guest firewall admits, or that it is off;
    a Windows guest cannot run the firewall (nftables, systemd, cloud-init)."""
    external = vm.external
    if external is None:
        return
    ports = firewall_ports(external, profile.port_list_filters)
    windows = vm.instance_profile.startswith(WINDOWS_PROFILES)
    if windows and ports is not None:
        where = (
            "every port of this VM is reachable on its public IP (PortList does not filter on "
            f"Cozystack {profile.cozystack_version})"
            if not profile.port_list_filters
            else "the VM exposes every port it listens on"
        )
        # upstream: components/builders/guest_firewall.py (packages: nftables, a systemd unit, runcmd)
        # upstream: cozystack/cozystack v1.1.2 packages/apps/vm-instance/values.schema.json (windows.*)
        yield Issue(
            prop("external", "guestFirewall"),
            f"the guest firewall is an nftables ruleset that cloud-init and systemd load, and a "
            f"{vm.instance_profile} guest has neither: nothing would filter, and {where}; set "
            "guestFirewall: false and filter in Windows Defender Firewall",
        )
        return
    if external.method != "PortList" or profile.port_list_filters:
        return
    platform = f"Cozystack {profile.cozystack_version}"
    if windows:
        # upstream: cozystack/cozystack v1.1.2 packages/apps/vm-instance/templates/service.yaml:9-12
        yield Issue(
            prop("external", "guestFirewall"),
            f"every port of this Windows VM is reachable on its public IP (PortList does not filter on "
            f"{platform}): only Windows Defender Firewall in the guest protects it",
            "warning",
        )
    elif ports is not None:
        yield Issue(
            prop("external"),
            f"PortList does not filter on this platform ({platform}); the guest firewall "
            f"admits only ports {list(ports)}",
            "warning",
        )
    else:
        yield Issue(
            prop("external", "guestFirewall"),
            f"every port of this VM is reachable on its public IP (PortList does not filter on {platform})",
            "warning",
        )


def _all_disks(
    vm: GpuVirtualMachineArgs,
) -> Iterator[tuple[tuple[str, ...], SystemDisk | DataDisk]]:
    yield ("disk",), vm.disk
    for disk_name, disk in vm.data_disks.items():
        yield ("dataDisks", disk_name), disk


def _disks(name: str, vm: GpuVirtualMachineArgs, profile: PlatformProfile) -> Iterator[Issue]:
    names: dict[str, tuple[str, ...]] = {system_disk_name(name): ("disk",)}
    for disk_name in vm.data_disks:
        full = data_disk_name(name, disk_name)
        path: tuple[str, ...] = ("dataDisks", disk_name)
        if full in names:
            yield Issue(prop(*path), f"gives the VMDisk name {full!r}, already used by the system disk")
        names[full] = path
    for full, where in names.items():
        yield from derived_name_issues(
            profile.name,
            "disk",
            path=prop(*where),
            names={"disk": full},
            subject="disk",
            advice=(
                f"shorten the VM or disk name: the VMDisk name {full!r} may have at most "
                "{allowed} characters"
            ),
        )
    for path, disk in _all_disks(vm):
        if parse_quantity(disk.size) < GIB:
            yield Issue(
                prop(*path, "size"),
                f"{disk.size} is less than 1Gi "
                f"(a size without a unit is in bytes; did you mean {disk.size}Gi?)",
            )
            continue
        if disk.image is None:
            continue
        if disk.image not in GOLDEN_IMAGE_MIN_GIB:
            yield Issue(
                prop(*path, "image"),
                f"{disk.image!r} is not one of Hikube's golden images; it must exist as "
                f"vm-image-{disk.image} in cozy-public",
                "warning",
            )
            continue
        minimum = GOLDEN_IMAGE_MIN_GIB[disk.image]
        if minimum is not None and parse_quantity(disk.size) < minimum * GIB:
            yield Issue(
                prop(*path, "size"),
                f"{disk.size} is smaller than the {minimum}Gi that image {disk.image} needs",
            )


def _sizing(vm: GpuVirtualMachineArgs) -> Iterator[Issue]:
    """The one sizing check (``size_problem``), the driver's memory, and vCPU-per-GPU advice."""
    problem = size_problem(vm)
    if problem is not None:
        yield Issue(prop(problem[0]), problem[1])
        return
    size = resolve_size(vm)
    if size is None:
        return
    field = "resources" if vm.resources is not None else "instanceType"
    memory = gpu_memory_problem(size.label, size.memory_bytes)
    if memory:
        yield Issue(prop(field), memory)
    series = size.label.split(".", 1)[0] if vm.resources is None else "u1"
    advice = vcpu_advice(size.label, size.vcpu, vm.gpu_count, series)
    if advice:
        yield Issue(prop(field), advice, "warning")
