"""``GpuVirtualMachine``: a Hikube VMInstance with PCI-passthrough GPUs, and its VMDisks."""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pulumi

from components.checks.issues import Issue, raise_for_errors
from components.checks.vm import check_vm
from components.inputs import (
    STAND_IN,
    InputArg,
    arg_values,
    item,
    model_args,
    prepare,
    secret_fields,
    split,
    validated,
    values_of,
)
from components.models.vm import GpuVirtualMachineArgs
from components.outputs import publish
from components.plan.resources import Planned
from components.plan.tenant import plan_vm
from components.plan.types import VM_TYPE
from components.registration import plan_scope, register_plan
from components.resolve.names import (
    SYSTEM_DISK,
    vm_disk_resource,
    vm_instance_resource,
)
from components.tenant import Tenant

TYPE = VM_TYPE


@dataclass(frozen=True)
class _Prepared:
    args: GpuVirtualMachineArgs
    tenant: Tenant


class GpuVirtualMachine(pulumi.ComponentResource):
    """A GPU VM: ``<name>-disk-system`` (+ one ``<name>-disk-<disk>`` per data disk) and
    ``<name>-instance``, in the tenant's namespace, through the Kubernetes provider of ``opts``
    (``provider=`` or ``providers=``).

    ``args``: a ``GpuVirtualMachineArgs``, or the same keys as a map whose ``sshKeys`` and
    ``cloudInit`` may be Outputs (as may ``tenant.namespace``; see ``INPUTS``). Its args are
    checked first (``components.checks.vm``): invalid args raise
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
    INPUTS = MappingProxyType(
        {
            "namespace": InputArg(STAND_IN, ("namespace",)),
            "ssh_keys": InputArg([], ("sshKeys",)),
            "cloud_init": InputArg(None, ("cloudInit",)),
        }
    )
    """The args that take Outputs (they fill in the objects, never shape them; class attributes
    are left unannotated: the package host reads annotations as outputs)."""
    SECRET_OUTPUTS = frozenset[str]()

    def __init__(
        self,
        name: str,
        args: GpuVirtualMachineArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        tenant: Tenant,
    ) -> None:
        def validate(values: Mapping[str, Any]) -> _Prepared:
            model, issues = validated(GpuVirtualMachineArgs, model_args(values, ("namespace",)))
            try:
                where = Tenant(values["namespace"], tenant.platform)
            except ValueError as error:
                issues.append(Issue("namespace", str(error)))
            raise_for_errors("GpuVirtualMachine", name, issues)
            assert model is not None
            return _Prepared(model, where)

        prepared = prepare(
            "GpuVirtualMachine",
            name,
            arg_values(args, namespace=tenant.namespace),
            inputs=self.INPUTS,
            validate=validate,
            check=lambda p: check_vm(name, p.args, p.tenant.profile),
            secret_text=secret_fields(GpuVirtualMachineArgs, self.INPUTS),
        )
        super().__init__(self.TYPE, name, None, opts)
        scope, parent = plan_scope()

        def plan(p: _Prepared) -> tuple[list[Planned], dict[str, Any]]:
            return plan_vm(scope, name, p.args, p.tenant, parent=parent, provider="")

        now, later = split(prepared)
        planned, outputs = plan(now)
        known = None if later is None else later.apply(plan)
        registered = register_plan(self, planned, later=item(known, 0))  # exactly the plan: one code path
        disk_keys = [SYSTEM_DISK, *sorted(now.args.data_disks)]
        self.disks: dict[str, pulumi.CustomResource] = {
            key: registered[vm_disk_resource(name, key)] for key in disk_keys
        }
        self.instance = registered[vm_instance_resource(name)]
        values = values_of(outputs, item(known, 1))
        publish(
            self,
            {
                "vm_name": values["vmName"],
                "namespace": values["namespace"],
                "gpus": values["gpus"],
                "instance_type": values["instanceType"],
                "service_name": values["serviceName"],
            },
        )
