"""``GpuVirtualMachine``: a Hikube VMInstance with PCI-passthrough GPUs, and its VMDisks."""

import pulumi

from components.builders.names import (
    SYSTEM_DISK,
    vm_disk_resource,
    vm_instance_resource,
)
from components.checks import raise_for_errors
from components.checks.vm import check_vm
from components.models.vm import GpuVirtualMachineArgs
from components.outputs import publish
from components.plan.tenant import plan_vm
from components.plan.types import VM_TYPE
from components.registration import plan_scope, register_plan
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
        scope, parent = plan_scope()
        planned, outputs = plan_vm(scope, name, args, tenant, parent=parent, provider="")
        registered = register_plan(self, planned)  # exactly the plan: one code path
        disk_keys = [SYSTEM_DISK, *sorted(args.data_disks)]
        self.disks: dict[str, pulumi.CustomResource] = {
            key: registered[vm_disk_resource(name, key)] for key in disk_keys
        }
        self.instance = registered[vm_instance_resource(name)]

        publish(
            self,
            {
                "vm_name": outputs["vmName"],
                "namespace": outputs["namespace"],
                "gpus": outputs["gpus"],
                "instance_type": outputs["instanceType"],
                "service_name": outputs["serviceName"],
            },
        )
