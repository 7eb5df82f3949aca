"""``GpuVirtualMachine``: a Hikube VMInstance with PCI-passthrough GPUs, and its VMDisks."""

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
from components.checks import raise_for_errors
from components.checks.vm import check_vm
from components.models.vm import GpuVirtualMachineArgs
from components.outputs import publish
from components.plan.types import VM_TYPE
from components.registration import register_custom_resource
from components.tenant import Tenant

TYPE = VM_TYPE


class GpuVirtualMachine(pulumi.ComponentResource):
    """A GPU VM: ``<name>-disk-system`` (+ one ``<name>-disk-<disk>`` per data disk) and
    ``<name>-instance``, in the tenant's namespace, through the Kubernetes provider of ``opts``
    (``provider=`` or ``providers=``).

    Its args are checked first (``components.checks.vm``): invalid args raise
    ``pulumi.InputPropertiesError`` naming each property, and nothing is registered. Data disks
    are protected unless their ``protect`` is false; the VMInstance depends on its disks.
    """

    vm_name: pulumi.Output[str]
    """The VM's name (its VMInstance)."""
    namespace: pulumi.Output[str]
    """The tenant namespace."""
    gpus: pulumi.Output[list[str]]
    """The VM's ``spec.gpus[].name`` entries (one per GPU)."""
    instance_type: pulumi.Output[str]
    """The instance type it runs on (empty with explicit resources)."""
    service_name: pulumi.Output[str]
    """The VM's Service (``vm-instance-<name>``)."""

    TYPE = TYPE

    def __init__(
        self,
        name: str,
        args: GpuVirtualMachineArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        tenant: Tenant,
    ) -> None:
        raise_for_errors("GpuVirtualMachine", name, check_vm(name, args, tenant.profile))
        super().__init__(self.TYPE, name, None, opts)
        namespace = tenant.namespace
        child = pulumi.ResourceOptions(parent=self)

        self.disks: dict[str, k8s.apiextensions.CustomResource] = {}
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

        filters = tenant.profile.port_list_filters
        instance = build_vm_instance(name, namespace, args, port_list_filters=filters)
        self.instance = register_custom_resource(
            vm_instance_resource(name),
            instance,
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(self.disks.values()))),
        )

        publish(
            self,
            {
                "vm_name": name,
                "namespace": namespace,
                "gpus": [g["name"] for g in gpu_entries(args.gpus)],
                "instance_type": str(instance.body["spec"]["instanceType"]),
                "service_name": vm_release_name(name),
            },
        )
