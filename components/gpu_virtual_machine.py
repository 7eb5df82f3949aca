"""``GpuVirtualMachine``: a Hikube VMInstance with PCI-passthrough GPUs, and its VMDisks."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.builders.names import (
    SYSTEM_DISK,
    data_disk_name,
    system_disk_name,
    vm_disk_resource,
    vm_instance_resource,
    vm_release_name,
)
from components.builders.vm_disk import build_vm_disk
from components.builders.vm_instance import build_vm_instance, gpu_entries
from components.models.vm import GpuVirtualMachineArgs
from components.registration import register_custom_resource

TYPE = "hikube-gpu:vm:GpuVirtualMachine"


class GpuVirtualMachine(pulumi.ComponentResource):
    """A GPU VM: ``<name>-disk-system`` (+ one ``<name>-disk-<disk>`` per data disk) and
    ``<name>-instance``, all in ``namespace`` through ``provider``.

    Data disks are protected (Pulumi ``protect``) unless their ``protect`` is false; the
    VMInstance depends on its disks because the platform refuses to render a VM whose
    disks do not exist yet. ``port_list_filters`` is the platform's
    ``PlatformProfile.port_list_filters``: where it is False, an external ``PortList`` VM gets
    the guest firewall (``external.guestFirewall``).
    """

    instance: k8s.apiextensions.CustomResource
    disks: dict[str, k8s.apiextensions.CustomResource]

    def __init__(
        self,
        name: str,
        args: GpuVirtualMachineArgs,
        *,
        namespace: str,
        provider: k8s.Provider,
        port_list_filters: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)

        self.disks = {}
        system = build_vm_disk(system_disk_name(name), namespace, name, args.disk)
        self.disks[SYSTEM_DISK] = register_custom_resource(
            vm_disk_resource(name, SYSTEM_DISK),
            system,
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=args.disk.protect)),
        )
        for disk_name in sorted(args.data_disks):
            disk = args.data_disks[disk_name]
            manifest = build_vm_disk(data_disk_name(name, disk_name), namespace, name, disk)
            self.disks[disk_name] = register_custom_resource(
                vm_disk_resource(name, disk_name),
                manifest,
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=disk.protect)),
            )

        instance = build_vm_instance(name, namespace, args, port_list_filters=port_list_filters)
        self.instance = register_custom_resource(
            vm_instance_resource(name),
            instance,
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(self.disks.values()))),
        )

        self.outputs: dict[str, Any] = {
            "vmName": name,
            "namespace": namespace,
            "gpus": [g["name"] for g in gpu_entries(args.gpus)],
            "instanceType": instance.body["spec"]["instanceType"],
            "serviceName": vm_release_name(name),
        }
        # Plain values: known at once, and much cheaper for the engine than Outputs.
        self.register_outputs(self.outputs)

    @property
    def vm_name(self) -> pulumi.Output[str]:
        return pulumi.Output.from_input(self.outputs["vmName"])

    @property
    def gpus(self) -> pulumi.Output[list[str]]:
        """The VM's ``spec.gpus[].name`` entries (one per GPU)."""
        return pulumi.Output.from_input(self.outputs["gpus"])

    @property
    def instance_type(self) -> pulumi.Output[str]:
        return pulumi.Output.from_input(self.outputs["instanceType"])

    @property
    def service_name(self) -> pulumi.Output[str]:
        """The VM's Service (``vm-instance-<name>``)."""
        return pulumi.Output.from_input(self.outputs["serviceName"])
