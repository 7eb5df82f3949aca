"""Bad input: one clear message per problem, with its config path, and nothing registered.

Each case runs the real program offline (Pulumi mock runtime) with a stack config that
breaks one rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    SSH_KEY,
    base_config,
    by_path,
    expect_problem,
    expect_warning,
    problems_of,
    run_config,
    with_vm,
)

LONG_NAME = "a" * 40  # vm-instance-<vm>-update-hook, a Job name, holds at most 63 characters

ERROR_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "unknown GPU model",
        with_vm(gpus={"H200": 1}),
        "hikube-gpu:vms.gpu-1.gpus.H200",
        "'H200' is not offered; choose L40S, A100, H100",
    ),
    ("zero GPUs of a model", with_vm(gpus={"A100": 0}), "hikube-gpu:vms.gpu-1.gpus.A100", "greater than 0"),
    ("no GPUs at all", with_vm(gpus={}), "hikube-gpu:vms.gpu-1.gpus", "at least 1 item"),
    (
        "quota overrun",
        base_config(
            quota={"L40S": 4, "A100": 1}, vms={"a": {"gpus": {"A100": 1}}, "b": {"gpus": {"A100": 1}}}
        ),
        "hikube-gpu:quota.A100",
        "asks for 2 A100 GPUs (a: 1, b: 1) but its quota is 1",
    ),
    (
        "model missing from the quota counts as 0",
        base_config(quota={"L40S": 4}, vms={"a": {"gpus": {"H100": 1}}}),
        "hikube-gpu:quota.H100",
        "but its quota is 0",
    ),
    (
        "too little memory",
        with_vm(resources={"cpu": 8, "memory": "2Gi"}),
        "hikube-gpu:vms.gpu-1.resources",
        "needs at least 4Gi",
    ),
    (
        "small instance type",
        with_vm(instanceType="u1.small"),
        "hikube-gpu:vms.gpu-1.instanceType",
        "u1.small has 2Gi of memory; the NVIDIA driver needs at least 4Gi",
    ),
    (
        "overcommitted o1 type",
        with_vm(instanceType="o1.2xlarge"),
        "hikube-gpu:vms.gpu-1.instanceType",
        "cannot host GPUs: o1 overcommits memory",
    ),
    (
        "unknown instance type",
        with_vm(instanceType="u1.3xlarge"),
        "hikube-gpu:vms.gpu-1.instanceType",
        "unknown instance type 'u1.3xlarge'",
    ),
    (
        "gn1 type",
        with_vm(instanceType="gn1.2xlarge"),
        "hikube-gpu:vms.gpu-1.instanceType",
        "gn1 types embed their own GPU",
    ),
    (
        "instanceType and resources together",
        with_vm(instanceType="u1.2xlarge", resources={"cpu": 8, "memory": "32Gi"}),
        "hikube-gpu:vms.gpu-1.resources",
        "instanceType and resources are mutually exclusive",
    ),
    (
        "five GPUs and no instance type",
        with_vm(gpus={"L40S": 5}),
        "hikube-gpu:vms.gpu-1.instanceType",
        "required for 5 GPUs",
    ),
    (
        "VMInstance name too long",
        base_config(vms={LONG_NAME: {"gpus": {"L40S": 1}}}),
        f"hikube-gpu:vms.{LONG_NAME}",
        "update-hook', 64 characters, but the label job-name",
    ),
    (
        "VM name not DNS-1035",
        base_config(vms={"GPU_1": {"gpus": {"L40S": 1}}}),
        "hikube-gpu:vms.GPU_1",
        "'GPU_1' is not a valid name",
    ),
    (
        "system VMDisk name too long",
        base_config(vms={"b" * 30: {"gpus": {"L40S": 1}}}),
        f"hikube-gpu:vms.{'b' * 30}.disk",
        f"the VMDisk name '{'b' * 30}-system' may have at most 36 characters",
    ),
    (
        "data VMDisk name too long",
        with_vm(dataDisks={"c" * 31: {"size": "10Gi"}}),
        f"hikube-gpu:vms.gpu-1.dataDisks.{'c' * 31}",
        "volume-resize-hook', 64 characters",
    ),
    (
        "data disk named like the system disk",
        with_vm(dataDisks={"system": {"size": "10Gi"}}),
        "hikube-gpu:vms.gpu-1.dataDisks.system",
        "already used by the system disk",
    ),
    (
        "running field from the Hikube docs",
        with_vm(running=True),
        "hikube-gpu:vms.gpu-1.running",
        "use runStrategy: Halted or Always",
    ),
    (
        "systemDisk field from the legacy app",
        with_vm(systemDisk={"image": "ubuntu", "size": "20Gi"}),
        "hikube-gpu:vms.gpu-1.systemDisk",
        "legacy VirtualMachine app",
    ),
    (
        "typo in a key",
        with_vm(instanceTyp="u1.2xlarge"),
        "hikube-gpu:vms.gpu-1.instanceTyp",
        "unknown key; did you mean 'instanceType'?",
    ),
    ("typo in a top-level key", base_config(vm={}), "hikube-gpu:vm", "did you mean 'vms'?"),
    (
        "unknown run strategy",
        with_vm(runStrategy="Running"),
        "hikube-gpu:vms.gpu-1.runStrategy",
        "'Running' is not allowed; choose Always, Halted, Manual, RerunOnFailure, Once",
    ),
    (
        "namespace missing",
        base_config(platform={"profile": "hikube"}),
        "hikube-gpu:platform.namespace",
        "required: the tenant namespace",
    ),
    (
        "unknown profile",
        base_config(platform={"namespace": "t", "profile": "cozystack-9"}),
        "hikube-gpu:platform.profile",
        "choose hikube, cozystack-1.4",
    ),
    (
        "image and url together",
        with_vm(disk={"image": "ubuntu-2404", "url": "https://example.com/a.img"}),
        "hikube-gpu:vms.gpu-1.disk",
        "set either image or url, not both",
    ),
    (
        "disk below the image minimum",
        with_vm(disk={"image": "rocky-9", "size": "5Gi"}, nvidiaDriver={"install": False}),
        "hikube-gpu:vms.gpu-1.disk.size",
        "5Gi is smaller than the 11Gi that image rocky-9 needs",
    ),
    (
        "size that is not a quantity",
        with_vm(disk={"image": "ubuntu-2404", "size": "100GB"}),
        "hikube-gpu:vms.gpu-1.disk.size",
        "not a Kubernetes quantity",
    ),
    (
        "WholeIP with ports",
        with_vm(external={"method": "WholeIP", "ports": [22]}),
        "hikube-gpu:vms.gpu-1.external.ports",
        "only used with method PortList",
    ),
    (
        "port out of range",
        with_vm(external={"ports": [70000]}),
        "hikube-gpu:vms.gpu-1.external.ports[0]",
        "1-65535",
    ),
    (
        "cloud-init that is not YAML",
        with_vm(cloudInit="#cloud-config\npackages: [a\n"),
        "hikube-gpu:vms.gpu-1.cloudInit",
        "#cloud-config is not valid YAML at line",
    ),
    (
        "MIME user data with the driver installer",
        with_vm(cloudInit="Content-Type: multipart/mixed\n"),
        "hikube-gpu:vms.gpu-1.cloudInit",
        "MIME multi-part user data cannot be merged",
    ),
    (
        "instance profile unknown to Hikube",
        with_vm(instanceProfile="debian"),
        "hikube-gpu:vms.gpu-1.instanceProfile",
        "'debian' is not an instance profile of the hikube platform",
    ),
    (
        "disk size without a unit",
        with_vm(dataDisks={"data": {"size": 100}}),
        "hikube-gpu:vms.gpu-1.dataDisks.data.size",
        "100 is less than 1Gi (a size without a unit is in bytes; did you mean 100Gi?)",
    ),
    (
        "driver version that is not a branch",
        with_vm(nvidiaDriver={"version": "latest"}),
        "hikube-gpu:vms.gpu-1.nvidiaDriver.version",
        "should match pattern",
    ),
]


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_each_rule_reports_its_path_and_registers_nothing(
    tmp_path: Path, config: dict[str, Any], path: str, message: str
) -> None:
    expect_problem(tmp_path, config, path, message)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    config = base_config(
        vms={
            "a": {"gpus": {"H200": 1}, "running": True},
            "b": {"gpus": {"L40S": 1}, "instanceTyp": "u1.2xlarge"},
        }
    )
    problems = problems_of(tmp_path, config)
    assert [p.path for p in problems] == [
        "hikube-gpu:vms.a.gpus.H200",
        "hikube-gpu:vms.a.running",
        "hikube-gpu:vms.b.instanceTyp",
    ]


def test_semantic_problems_are_reported_together(tmp_path: Path) -> None:
    config = base_config(
        quota={"L40S": 1},
        vms={
            "a": {"gpus": {"L40S": 2}, "instanceType": "o1.4xlarge"},
            "b": {"gpus": {"L40S": 1}, "instanceType": "nope"},
        },
    )
    assert set(by_path(problems_of(tmp_path, config))) == {
        "hikube-gpu:quota.L40S",
        "hikube-gpu:vms.a.instanceType",
        "hikube-gpu:vms.b.instanceType",
    }


def test_unknown_stack_kind_is_refused(tmp_path: Path) -> None:
    problems = by_path(problems_of(tmp_path, base_config(kind="host")))
    assert problems == {"hikube-gpu:kind": "'host' is not a stack kind; choose tenant, platform"}


def test_tenant_keys_in_a_platform_stack_are_unknown(tmp_path: Path) -> None:
    """Each kind has its own keys: a platform stack has no clusters (nor quota)."""
    problems = by_path(problems_of(tmp_path, {"kind": "platform", "quota": {"L40S": 1}}))
    assert problems == {"hikube-gpu:quota": "unknown key"}


def test_error_messages_never_echo_secrets(tmp_path: Path) -> None:
    secret_key = "ssh-dss AAAAB3NzaC1kc3MAAACBAMySecretLookingKey me@host"
    secret_cloud_init = "#cloud-config\npassword: hunter2-secret\nruncmd: notalist\n"
    problems = problems_of(tmp_path, with_vm(sshKeys=[secret_key], cloudInit=secret_cloud_init))
    text = "\n".join(str(p) for p in problems)
    assert "hikube-gpu:vms.gpu-1.sshKeys[0]: not an OpenSSH public key" in text
    assert "hikube-gpu:vms.gpu-1.cloudInit: #cloud-config key 'runcmd' must be a list" in text
    assert "MySecretLookingKey" not in text
    assert "hunter2" not in text


WARNING_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "too few vCPU per GPU",
        with_vm(instanceType="u1.xlarge"),
        "hikube-gpu:vms.gpu-1.instanceType: u1.xlarge gives 4 vCPU per GPU; Hikube recommends 8-16; "
        "u1.2xlarge would fit 1 GPU",
    ),
    (
        "four GPUs on a 16-vCPU type",
        with_vm(gpus={"A100": 4}, instanceType="u1.4xlarge"),
        "hikube-gpu:vms.gpu-1.instanceType: u1.4xlarge gives 4 vCPU per GPU; Hikube recommends 8-16; "
        "u1.8xlarge would fit 4 GPUs",
    ),
    (
        "too many vCPU per GPU, advice in the same series",
        with_vm(instanceType="m1.8xlarge"),
        "hikube-gpu:vms.gpu-1.instanceType: m1.8xlarge gives 32 vCPU per GPU; Hikube recommends 8-16; "
        "m1.2xlarge would fit 1 GPU",
    ),
    (
        "explicit resources outside the ratio",
        with_vm(resources={"cpu": 4, "memory": "16Gi"}),
        "hikube-gpu:vms.gpu-1.resources: 4 vCPU / 16Gi gives 4 vCPU per GPU; Hikube recommends 8-16; "
        "u1.2xlarge would fit 1 GPU",
    ),
    (
        "mixed GPU models",
        with_vm(gpus={"L40S": 1, "A100": 1}),
        "hikube-gpu:vms.gpu-1.gpus: mixes GPU models (L40S, A100); the VM only starts on a host that "
        "carries all of them",
    ),
    (
        "driver installer on a non-Ubuntu guest",
        with_vm(disk={"image": "rocky-9", "size": "20Gi"}, instanceProfile="rhel.9"),
        "hikube-gpu:vms.gpu-1.nvidiaDriver.install: the built-in driver installer supports Ubuntu guests only",
    ),
    (
        "image that is not a golden image",
        with_vm(disk={"image": "my-image", "size": "20Gi"}, nvidiaDriver={"install": False}),
        "hikube-gpu:vms.gpu-1.disk.image: 'my-image' is not one of Hikube's golden images",
    ),
    (
        "storage class Hikube does not offer",
        with_vm(dataDisks={"data": {"size": "10Gi", "storageClass": "fast"}}),
        "hikube-gpu:vms.gpu-1.dataDisks.data.storageClass: 'fast' is not a storage class of hikube",
    ),
]


@pytest.mark.parametrize(
    ("config", "warning"), [case[1:] for case in WARNING_CASES], ids=[case[0] for case in WARNING_CASES]
)
def test_advice_is_a_warning_and_the_stack_still_deploys(
    tmp_path: Path, config: dict[str, Any], warning: str
) -> None:
    run = expect_warning(tmp_path, config, warning)
    assert any(r.type.endswith(":VMInstance") for r in run.resources)


def test_a_clean_stack_has_no_warnings(tmp_path: Path) -> None:
    run = run_config(tmp_path, base_config())
    assert run.failure is None
    assert run.warnings == []


def test_quota_absent_means_no_limit(tmp_path: Path) -> None:
    run = run_config(tmp_path, base_config(vms={"big": {"gpus": {"H100": 4}, "sshKeys": [SSH_KEY]}}))
    assert run.failure is None


def test_warnings_are_shown_next_to_errors(tmp_path: Path) -> None:
    config = base_config(
        vms={
            "a": {"gpus": {"L40S": 1}, "instanceType": "u1.xlarge"},
            "b": {"gpus": {"L40S": 1}, "instanceType": "o1.2xlarge"},
        }
    )
    run = run_config(tmp_path, config)
    assert run.failure is not None
    message = str(run.failure)
    assert (
        "invalid stack configuration (1 problem):\n  hikube-gpu:vms.b.instanceType: 'o1.2xlarge' cannot host GPUs"
        in message
    )
    assert "\nand warnings:\n  hikube-gpu:vms.a.instanceType: u1.xlarge gives 4 vCPU per GPU" in message


def test_a_system_disk_without_a_source_keeps_the_default_image(tmp_path: Path) -> None:
    """``disk: {size: 100Gi}`` only changes the size: the image stays ubuntu-2404."""
    run = run_config(tmp_path, with_vm(disk={"size": "100Gi"}))
    assert run.failure is None
    disk = next(r for r in run.resources if r.name == "gpu-1-disk-system")
    assert disk.inputs["spec"]["source"] == {"image": {"name": "ubuntu-2404"}}
    assert disk.inputs["spec"]["storage"] == "100Gi"
