"""Bad platform config: one clear message per problem, with its config path, nothing registered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import by_path, expect_problem, expect_warning, problems_of
from tests.platform_stacks import MODES, platform_stack


def mixed(**changes: Any) -> dict[str, Any]:
    return platform_stack("mixed", **changes)


def kubevirt(**changes: Any) -> dict[str, Any]:
    return {**MODES["mixed"]["kubevirt"], **changes}


def vms(**changes: Any) -> dict[str, Any]:
    """The mixed stack's VMs with ``render`` changed."""
    render = {**MODES["mixed"]["vms"]["render"], **changes}
    return {**MODES["mixed"]["vms"], "render": render}


ERROR_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "VM nodes while sandboxWorkloads is off",
        mixed(gpuOperator={"sandboxWorkloads": False}),
        "hikube-gpu:gpuOperator.sandboxWorkloads",
        "must be on for VM GPU nodes (gpu-vm-1, gpu-vm-2)",
    ),
    (
        "VM default workload while sandboxWorkloads is off",
        platform_stack(
            "vm-passthrough", gpuOperator={"defaultWorkload": "vm-passthrough", "sandboxWorkloads": False}
        ),
        "hikube-gpu:gpuOperator.sandboxWorkloads",
        "must be on for VM GPU nodes (defaultWorkload vm-passthrough)",
    ),
    (
        "MPS with the chart's MIG strategy mixed (P4)",
        platform_stack(
            "container", gpuOperator={**MODES["container"]["gpuOperator"], "migStrategy": "mixed"}
        ),
        "hikube-gpu:gpuOperator.sharingConfigs.mps-4",
        "MPS cannot run with gpuOperator.migStrategy mixed",
    ),
    (
        "MIG layout for an L40S",
        platform_stack("container", gpuOperator={"migConfigs": {"x": {"L40S": {"1g.10gb": 1}}}}, nodes={}),
        "hikube-gpu:gpuOperator.migConfigs.x.L40S",
        "L40S does not support MIG (only A100, H100 do)",
    ),
    (
        "MIG layout that does not fit",
        platform_stack(
            "container", gpuOperator={"migConfigs": {"x": {"A100": {"7g.80gb": 1, "1g.10gb": 1}}}}, nodes={}
        ),
        "hikube-gpu:gpuOperator.migConfigs.x.A100",
        "needs 8/7 compute and 9/8 memory slices of one A100",
    ),
    (
        "vGPU on an L40S",
        platform_stack(
            "vm-vgpu",
            kubevirt={
                "version": "1.9",
                "gpus": ["L40S"],
                "vgpuProfiles": [{"model": "L40S", "type": "NVIDIA L40S-24Q"}],
            },
        ),
        "hikube-gpu:kubevirt.vgpuProfiles[0].model",
        "L40S is not in NVIDIA's list of GPUs supported for KubeVirt vGPU",
    ),
    (
        "VM device not permitted in KubeVirt",
        mixed(vms=vms(gpus={"A100": 1})),
        "hikube-gpu:vms.render.gpus.A100",
        "A100 is not permitted in KubeVirt (kubevirt.gpus: L40S, H100)",
    ),
    (
        "GPU VM without any KubeVirt permission",
        {k: v for k, v in mixed().items() if k != "kubevirt"},
        "hikube-gpu:vms.render.gpus",
        "GPU VMs need hikube-gpu:kubevirt",
    ),
    (
        "feature gate newer than the KubeVirt version",
        mixed(kubevirt=kubevirt(version="1.5", featureGates=["GPUsWithDRA"])),
        "hikube-gpu:kubevirt.featureGates[0]",
        "GPUsWithDRA does not exist in KubeVirt 1.5 (added in 1.6)",
    ),
    (
        "unsupported KubeVirt version",
        mixed(kubevirt=kubevirt(version="0.59")),
        "hikube-gpu:kubevirt.version",
        "'0.59' is not a KubeVirt version hikube-gpu supports",
    ),
    (
        "chart version whose keys are unknown",
        mixed(gpuOperator={"version": "v24.9.2"}),
        "hikube-gpu:gpuOperator.version",
        "'v24.9.2' is not a chart version whose keys hikube-gpu knows; choose v25.10.1, v26.3.1, v26.7.0",
    ),
    (
        "chart key that does not exist",
        mixed(gpuOperator={"version": "v26.7.0", "devicePlugins": True}),
        "hikube-gpu:gpuOperator.devicePlugins",
        "unknown key; did you mean 'devicePlugin'?",
    ),
    (
        "node in two modes",
        mixed(nodes={"gpu-vm-1": {"workload": "vm-passthrough", "mig": "all-balanced"}}),
        "hikube-gpu:nodes.gpu-vm-1",
        "is vm-passthrough but also has mig, which only container nodes use",
    ),
    (
        "unknown workload mode",
        mixed(nodes={"gpu-vm-1": "vm-gpu"}),
        "hikube-gpu:nodes.gpu-vm-1.workload",
        "'vm-gpu' is not allowed; choose container, vm-passthrough, vm-vgpu",
    ),
    (
        "invalid node name",
        mixed(nodes={"GPU_Node": "container"}),
        "hikube-gpu:nodes.GPU_Node",
        "is not a node name",
    ),
    (
        "node sharing config that does not exist",
        platform_stack("container", nodes={"gpu-a": {"workload": "container", "sharing": "ts-8"}}),
        "hikube-gpu:nodes.gpu-a.sharing",
        "no gpuOperator.sharingConfigs entry 'ts-8' (mps-4, ts-2)",
    ),
    (
        "built-in MIG layout next to custom ones",
        platform_stack("container", nodes={"gpu-a": {"workload": "container", "mig": "all-1g.10gb"}}),
        "hikube-gpu:nodes.gpu-a.mig",
        "custom migConfigs replace the built-in layouts; use all-disabled or halves",
    ),
    (
        "unknown MIG layout",
        mixed(nodes={"gpu-a": {"workload": "container", "mig": "quarters"}}),
        "hikube-gpu:nodes.gpu-a.mig",
        "'quarters' is not a MIG layout (e.g. all-disabled, all-balanced, all-1g.10gb)",
    ),
    (
        "sharing config with two methods",
        platform_stack(
            "container",
            gpuOperator={"sharingConfigs": {"x": {"timeSlicing": {"replicas": 2}, "mps": {"replicas": 2}}}},
            nodes={},
        ),
        "hikube-gpu:gpuOperator.sharingConfigs.x",
        "set exactly one of timeSlicing and mps",
    ),
    (
        "vGPU nodes without the licensed manager image",
        platform_stack("vm-vgpu", gpuOperator={"defaultWorkload": "vm-vgpu"}),
        "hikube-gpu:gpuOperator.defaultWorkload",
        "vm-vgpu needs your licensed vGPU manager image: set gpuOperator.vgpuManager.repository and .version",
    ),
    (
        "LiveMigrate eviction for a GPU VM",
        mixed(vms=vms(evictionStrategy="LiveMigrate")),
        "hikube-gpu:vms.render.evictionStrategy",
        "GPU VMs cannot live-migrate, so LiveMigrate blocks every node drain",
    ),
    (
        "overcommitted instance type for a raw VM",
        mixed(vms=vms(instanceType="o1.8xlarge")),
        "hikube-gpu:vms.render.instanceType",
        "'o1.8xlarge' cannot host GPUs: o1 overcommits memory",
    ),
    (
        "raw VM without a namespace",
        mixed(platform={}),
        "hikube-gpu:vms.render.namespace",
        "required: set it, or hikube-gpu:platform.namespace for every VM",
    ),
    (
        "raw VM with too little memory",
        mixed(vms=vms(instanceType="u1.small", gpus={"H100": 1})),
        "hikube-gpu:vms.render.instanceType",
        "u1.small has 2Gi of memory; the NVIDIA driver needs at least 4Gi",
    ),
    (
        "MIME user data with the driver installer and SSH keys",
        mixed(vms=vms(cloudInit="Content-Type: multipart/mixed; boundary=x\nMIME-Version: 1.0\n\n--x--\n")),
        "hikube-gpu:vms.render.cloudInit",
        "MIME multi-part user data cannot be merged with the driver installer and sshKeys",
    ),
    (
        "a model listed twice in KubeVirt",
        mixed(kubevirt=kubevirt(gpus=["L40S", "L40S", "H100"])),
        "hikube-gpu:kubevirt.gpus",
        "lists a model twice",
    ),
    (
        "KubeVirt without its version",
        mixed(kubevirt={"gpus": ["L40S", "H100"]}),
        "hikube-gpu:kubevirt.version",
        "required",
    ),
]


@pytest.mark.parametrize(
    ("config", "path", "message"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_each_platform_rule_reports_its_path_and_registers_nothing(
    tmp_path: Path, config: dict[str, Any], path: str, message: str
) -> None:
    expect_problem(tmp_path, config, path, message)


WARNING_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "Hikube's H100 alias",
        platform_stack("vm-passthrough"),
        "hikube-gpu:kubevirt.resourceNaming: nvidia.com/H100_94GB (H100) is Hikube's alias",
    ),
    (
        "HostDevices gate",
        mixed(kubevirt=kubevirt(featureGates=["HostDevices"])),
        "hikube-gpu:kubevirt.featureGates[0]: HostDevices is only needed for domain.devices.hostDevices",
    ),
    (
        "gate hikube-gpu does not know",
        mixed(kubevirt=kubevirt(featureGates=["Macvtap"])),
        "hikube-gpu:kubevirt.featureGates[0]: 'Macvtap' is not a feature gate hikube-gpu knows",
    ),
    (
        "GPU gate on KubeVirt 1.4 or later: GA, KubeVirt ignores it",
        mixed(kubevirt=kubevirt(featureGates=["LiveMigration", "GPU"])),
        "hikube-gpu:kubevirt.featureGates[1]: GPU is GA since KubeVirt 1.4: KubeVirt 1.6 ignores the gate",
    ),
    (
        "deprecated mdev gate on 1.8+",
        mixed(kubevirt=kubevirt(version="1.9", featureGates=["DisableMDEVConfiguration"])),
        "hikube-gpu:kubevirt.featureGates[0]: deprecated on KubeVirt 1.9",
    ),
    (
        "KubeVirt permissions without VM nodes",
        platform_stack("container", kubevirt={"version": "1.9", "gpus": ["A100"]}),
        "hikube-gpu:kubevirt: permits GPUs for VMs, but no node runs VMs",
    ),
    (
        "vGPU nodes with no vGPU type permitted",
        platform_stack("vm-vgpu", kubevirt={"version": "1.9", "gpus": ["A100"]}),
        "hikube-gpu:kubevirt.vgpuProfiles: vm-vgpu nodes exist but no vGPU type is permitted",
    ),
    (
        "driver installer on a non-Ubuntu guest",
        mixed(vms=vms(preference="rhel.9")),
        "hikube-gpu:vms.render.nvidiaDriver.install: the built-in driver installer supports Ubuntu guests only",
    ),
    (
        "MIG layouts with migStrategy none",
        platform_stack("container", gpuOperator={**MODES["container"]["gpuOperator"], "migStrategy": "none"}),
        "hikube-gpu:gpuOperator.migStrategy: is none, so MIG layouts give no MIG devices",
    ),
]


@pytest.mark.parametrize(
    ("config", "warning"), [c[1:] for c in WARNING_CASES], ids=[c[0] for c in WARNING_CASES]
)
def test_platform_advice_is_a_warning_and_the_stack_still_deploys(
    tmp_path: Path, config: dict[str, Any], warning: str
) -> None:
    run = expect_warning(tmp_path, config, warning)
    assert any(r.type.endswith(":Release") for r in run.resources)


def test_every_platform_problem_is_reported_at_once(tmp_path: Path) -> None:
    config = mixed(
        gpuOperator={"version": "v1", "sandboxWorkloads": False},
        vms=vms(evictionStrategy="LiveMigrate", gpus={"A100": 1}),
    )
    paths = set(by_path(problems_of(tmp_path, config)))
    assert {
        "hikube-gpu:gpuOperator.version",
        "hikube-gpu:gpuOperator.sandboxWorkloads",
        "hikube-gpu:vms.render.evictionStrategy",
        "hikube-gpu:vms.render.gpus.A100",
    } <= paths
