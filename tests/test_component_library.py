"""GpuVirtualMachine as a reusable unit in any Pulumi program, under Pulumi's own test mocks."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import GpuVirtualMachine, GpuVirtualMachineArgs


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


MOCKS = _Mocks()
pulumi.runtime.set_mocks(MOCKS, project="library", stack="test", preview=False)


@pulumi.runtime.test
def test_component_outputs_and_children() -> pulumi.Output[None]:
    provider = k8s.Provider("cluster", namespace="tenant-lib")
    args = GpuVirtualMachineArgs.model_validate(
        {"gpus": {"H100": 2}, "dataDisks": {"scratch": {"size": "500Gi", "protect": False}}}
    )
    vm = GpuVirtualMachine("infer", args, namespace="tenant-lib", provider=provider)

    def check(values: list[Any]) -> None:
        gpus, instance_type, service = values[:3]
        assert gpus == ["nvidia.com/H100_94GB", "nvidia.com/H100_94GB"]
        assert instance_type == "u1.4xlarge"
        assert service == "vm-instance-infer"
        names = {a.name: a for a in MOCKS.created}
        assert {"infer", "infer-disk-system", "infer-disk-scratch", "infer-instance"} <= set(names)
        assert names["infer"].typ == "hikube-gpu:vm:GpuVirtualMachine"
        assert names["infer-instance"].typ == "kubernetes:apps.cozystack.io/v1alpha1:VMInstance"
        assert names["infer-disk-scratch"].inputs["spec"]["storage"] == "500Gi"
        assert "pulumi:providers:kubernetes::cluster::" in (names["infer-instance"].provider or "")

    # Waiting on the children's ids makes the check run after they are registered.
    children = [vm.instance.id, *(disk.id for disk in vm.disks.values())]
    return pulumi.Output.all(vm.gpus, vm.instance_type, vm.service_name, *children).apply(check)
