"""The checks of a ``KubeVirtGpuVirtualMachine``'s args: eviction, disk, guest set-up, size."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.instance_types import gpu_memory_problem, vcpu_advice
from components.catalog.kubevirt import EVICTION_STRATEGIES
from components.catalog.quantity import GIB, parse_quantity
from components.checks.issues import Issue
from components.models.kubevirt import KubeVirtGpuVmArgs
from components.models.user_data import is_mime
from components.resolve.instance_types import vm_type_resolution


def check_raw_vm(vm: KubeVirtGpuVmArgs) -> list[Issue]:
    """Every problem of one raw GPU VM's args, errors and warnings."""
    return list(_vm(vm))


def _guest(vm: KubeVirtGpuVmArgs) -> Iterator[Issue]:
    """The generated user data (driver installer, SSH keys) must fit the guest and its user data."""
    generated = [
        what
        for what, on in (("the driver installer", vm.nvidia_driver.install), ("sshKeys", vm.ssh_keys))
        if on
    ]
    if vm.cloud_init is not None and generated and is_mime(vm.cloud_init.get_secret_value()):
        yield Issue(
            "cloudInit",
            f"MIME multi-part user data cannot be merged with {' and '.join(generated)}; "
            "set nvidiaDriver.install: false and put the SSH keys in your user data",
        )
    if vm.nvidia_driver.install and vm.preference != "ubuntu":
        yield Issue(
            "nvidiaDriver.install",
            "the built-in driver installer supports Ubuntu guests only; install the driver in your "
            "cloudInit (or image) and set nvidiaDriver.install: false",
            "warning",
        )


def _vm(vm: KubeVirtGpuVmArgs) -> Iterator[Issue]:
    if vm.eviction_strategy not in EVICTION_STRATEGIES:
        yield Issue(
            "evictionStrategy",
            f"{vm.eviction_strategy!r}: GPU VMs cannot live-migrate, so LiveMigrate blocks every node "
            f"drain; choose {', '.join(EVICTION_STRATEGIES)}",
        )
    if parse_quantity(vm.disk.size) < GIB:
        yield Issue("disk.size", f"{vm.disk.size} is less than 1Gi")
    yield from _guest(vm)
    resolution = vm_type_resolution(vm)
    if resolution.chosen is None:
        yield Issue("instanceType", resolution.problem)
        return
    chosen = resolution.chosen
    memory = gpu_memory_problem(chosen.name, chosen.memory_bytes)
    if memory:
        yield Issue("instanceType", memory)
    advice = vcpu_advice(chosen.name, chosen.vcpu, vm.gpu_count, "u1")
    if advice:
        yield Issue("instanceType", advice, "warning")
