"""The components as reusable units in any Pulumi program, under Pulumi's own test mocks."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import (
    GpuKubernetesCluster,
    GpuKubernetesClusterArgs,
    GpuVirtualMachine,
    GpuVirtualMachineArgs,
)
from components.catalog.platform import PROFILES

ADMIN_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []  # test-only admin kubeconfig\n"


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []
        self.read: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id:  # Resource.get: the platform's kubeconfig Secret exists
            self.read.append(args)
            encoded = base64.b64encode(ADMIN_KUBECONFIG.encode()).decode()
            return args.resource_id, {"data": {"super-admin.conf": encoded}}
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
    vm = GpuVirtualMachine("infer", args, namespace="tenant-lib", provider=provider, port_list_filters=False)

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


@pulumi.runtime.test
def test_cluster_reads_the_admin_kubeconfig_as_a_secret_for_its_provider() -> pulumi.Output[None]:
    provider = k8s.Provider("tenant", namespace="tenant-lib")
    args = GpuKubernetesClusterArgs.model_validate(
        {
            "nodeGroups": {"l40s": {"gpus": {"L40S": 1}, "maxReplicas": 2}},
            "workloads": {
                "smi": {"kind": "Job", "image": "nvidia/cuda:12.4.1-base-ubuntu22.04", "gpus": {"L40S": 1}}
            },
        }
    )
    cluster = GpuKubernetesCluster(
        "lab", args, namespace="tenant-lib", provider=provider, app=PROFILES["hikube"].kubernetes
    )

    def check(values: list[Any]) -> None:
        kubeconfig, is_secret = values[:2]
        assert kubeconfig == ADMIN_KUBECONFIG
        assert is_secret
        assert [a.resource_id for a in MOCKS.read] == ["tenant-lib/kubernetes-lab-admin-kubeconfig"]
        names = {a.name: a for a in MOCKS.created}
        assert names["lab-provider"].typ == "pulumi:providers:kubernetes"
        job = names["lab-smi-job"]
        assert "pulumi:providers:kubernetes::lab-provider::" in (job.provider or "")
        assert job.inputs["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {
            "nvidia.com/gpu": 1
        }
        assert names["lab-l40s"].typ == "hikube-gpu:k8s:GpuNodeGroup"

    job = cluster.workloads["smi"].resources["job"]
    return pulumi.Output.all(
        pulumi.Output.unsecret(cluster.kubeconfig), pulumi.Output.is_secret(cluster.kubeconfig), job.id
    ).apply(check)
