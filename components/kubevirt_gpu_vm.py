"""``KubeVirtGpuVirtualMachine``: a raw KubeVirt VM with GPUs, and its cloud-init Secret."""

import pulumi

from components.builders.kubevirt_vm import build_cloud_init_secret, build_kubevirt_vm
from components.builders.names import raw_vm_resource, raw_vm_secret_resource
from components.checks import raise_for_errors
from components.checks.raw_vm import check_raw_vm
from components.models.kubevirt import KubeVirtGpuVmArgs, ResourceNaming
from components.plan.types import RAW_VM_TYPE
from components.registration import register_manifest

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
        depends_on = opts.depends_on if opts is not None and isinstance(opts.depends_on, list) else None
        child = pulumi.ResourceOptions(parent=self)
        secret = register_manifest(
            raw_vm_secret_resource(name),
            build_cloud_init_secret(name, namespace, args),
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(depends_on or []))),
        )
        manifest = build_kubevirt_vm(name, namespace, args, naming)
        self.vm = register_manifest(
            raw_vm_resource(name),
            manifest,
            pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[secret, *(depends_on or [])])
            ),
        )
        devices = manifest.body["spec"]["template"]["spec"]["domain"]["devices"]["gpus"]
        self.gpus = pulumi.Output.from_input([device["deviceName"] for device in devices])
        self.instance_type = pulumi.Output.from_input(manifest.body["spec"]["instancetype"]["name"])
        self.register_outputs({"gpus": self.gpus, "instanceType": self.instance_type})
