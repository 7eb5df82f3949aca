"""``KubeVirtGpuVirtualMachine``: a raw KubeVirt VM with GPUs, and its cloud-init Secret."""

import pulumi

from components.builders.names import raw_vm_resource
from components.checks import raise_for_errors
from components.checks.raw_vm import check_raw_vm
from components.models.kubevirt import KubeVirtGpuVmArgs, ResourceNaming
from components.plan.platform import plan_raw_vm
from components.plan.types import RAW_VM_TYPE
from components.registration import OUTSIDE, plan_scope, register_plan

TYPE = RAW_VM_TYPE


class KubeVirtGpuVirtualMachine(pulumi.ComponentResource):
    """``<name>-cloud-init`` (a Secret: SSH keys, driver installer, your user data) and
    ``<name>-vm`` (the VirtualMachine, after the Secret) in ``namespace``, both after
    ``opts.depends_on``, through the host cluster's provider of ``opts``. ``naming``: the
    KubeVirt passthrough's resource naming. Invalid args raise ``pulumi.InputPropertiesError``."""

    gpus: pulumi.Output[list[str]]
    """The device name of each passed-through GPU."""
    instance_type: pulumi.Output[str]
    """The cluster instancetype it runs on."""

    TYPE = TYPE

    def __init__(
        self,
        name: str,
        args: KubeVirtGpuVmArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        namespace: str,
        naming: ResourceNaming = "hikube",
    ) -> None:
        raise_for_errors("KubeVirtGpuVirtualMachine", name, check_raw_vm(args))
        super().__init__(self.TYPE, name, None, opts)
        depends_on = opts.depends_on if opts is not None and isinstance(opts.depends_on, list) else []
        scope, parent = plan_scope()
        outside = (OUTSIDE,) if depends_on else ()  # what opts.depends_on names, outside the plan
        planned, outputs = plan_raw_vm(
            scope, name, args, parent, "", namespace=namespace, naming=naming, dependencies=outside
        )
        registered = register_plan(self, planned, after=depends_on)  # exactly the plan
        self.vm = registered[raw_vm_resource(name)]
        self.gpus = pulumi.Output.from_input(outputs["gpus"])
        self.instance_type = pulumi.Output.from_input(outputs["instanceType"])
        self.register_outputs({"gpus": self.gpus, "instanceType": self.instance_type})
