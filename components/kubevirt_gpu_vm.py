"""``KubeVirtGpuVirtualMachine``: a raw KubeVirt VM with GPUs, and its cloud-init Secret."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.builders.kubevirt_vm import build_cloud_init_secret, build_kubevirt_vm
from components.builders.names import raw_vm_resource, raw_vm_secret_resource
from components.models.kubevirt import KubeVirtGpuVmArgs, ResourceNaming
from components.registration import register_manifest

TYPE = "hikube-gpu:kubevirt:KubeVirtGpuVirtualMachine"


class KubeVirtGpuVirtualMachine(pulumi.ComponentResource):
    """``<name>-cloud-init`` (a Secret: SSH keys, driver installer, your user data) and
    ``<name>-vm`` (the VirtualMachine, after the Secret); both after ``depends_on``."""

    def __init__(
        self,
        name: str,
        args: KubeVirtGpuVmArgs,
        *,
        namespace: str,
        naming: ResourceNaming,
        provider: k8s.Provider,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
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
