"""Pure builders: VMInstance/VMDisk manifests and the guest cloud-init, without Pulumi."""

from __future__ import annotations

from typing import Any

import yaml

from components.builders.cloud_init import INSTALLER_PATH, MIME_BOUNDARY, build_user_data, installer_script
from components.builders.vm_disk import build_vm_disk
from components.builders.vm_instance import build_vm_instance
from components.models.vm import GpuVirtualMachineArgs, NvidiaDriver
from tests.helpers import SSH_KEY


def vm(**fields: Any) -> GpuVirtualMachineArgs:
    return GpuVirtualMachineArgs.model_validate({"gpus": {"L40S": 1}, **fields})


def spec_of(args: GpuVirtualMachineArgs, name: str = "ws") -> dict[str, Any]:
    return build_vm_instance(name, "tenant-x", args, port_list_filters=True).body["spec"]


def test_one_gpu_entry_per_gpu_in_catalog_order() -> None:
    spec = spec_of(vm(gpus={"H100": 1, "A100": 2, "L40S": 1}, instanceType="u1.8xlarge"))
    assert spec["gpus"] == [
        {"name": "nvidia.com/AD102GL_L40S"},
        {"name": "nvidia.com/GA100_A100_PCIE_80GB"},
        {"name": "nvidia.com/GA100_A100_PCIE_80GB"},
        {"name": "nvidia.com/H100_94GB"},
    ]


def test_default_instance_type_follows_gpu_count() -> None:
    assert spec_of(vm())["instanceType"] == "u1.2xlarge"
    assert spec_of(vm(gpus={"A100": 2}))["instanceType"] == "u1.4xlarge"
    assert spec_of(vm(gpus={"H100": 4}))["instanceType"] == "u1.8xlarge"


def test_explicit_resources_replace_the_instance_type() -> None:
    spec = spec_of(vm(resources={"cpu": 12, "memory": "48Gi"}))
    assert spec["instanceType"] == ""
    assert spec["resources"] == {"cpu": 12, "memory": "48Gi", "sockets": 1}


def test_instance_defaults_are_explicit() -> None:
    spec = spec_of(vm())
    assert spec["runStrategy"] == "Always"
    assert spec["resources"] == {}
    assert spec["external"] is False
    assert spec["disks"] == [{"name": "ws-system"}]
    assert spec["subnets"] == []
    assert "running" not in spec
    assert "systemDisk" not in spec


def test_external_ports_and_method() -> None:
    assert spec_of(vm(external={}))["externalPorts"] == [22]
    spec = spec_of(vm(external={"ports": [22, 8888]}))
    assert (spec["external"], spec["externalMethod"], spec["externalPorts"]) == (True, "PortList", [22, 8888])
    assert spec_of(vm(external={"method": "WholeIP"}))["externalMethod"] == "WholeIP"


def test_data_disks_follow_the_system_disk_sorted_by_name() -> None:
    spec = spec_of(vm(dataDisks={"zeta": {"size": "1Gi"}, "alpha": {"size": "1Gi", "bus": "sata"}}))
    assert spec["disks"] == [{"name": "ws-system"}, {"name": "ws-alpha", "bus": "sata"}, {"name": "ws-zeta"}]


def test_secrets_are_declared_for_ssh_keys_and_cloud_init() -> None:
    manifest = build_vm_instance("ws", "tenant-x", vm(sshKeys=[SSH_KEY]), port_list_filters=True)
    assert set(manifest.secret_paths) == {("spec", "sshKeys"), ("spec", "cloudInit")}
    assert manifest.body["spec"]["sshKeys"] == [SSH_KEY]


def test_vm_disk_sources() -> None:
    args = vm(
        disk={"url": "https://example.com/noble.img", "size": "30Gi", "storageClass": "local"},
        dataDisks={"blank": {"size": "1Ti"}, "copy": {"size": "10Gi", "image": "ubuntu-2404"}},
    )
    system = build_vm_disk("ws-system", "tenant-x", "ws", args.disk).as_dict()
    assert system["spec"] == {
        "source": {"http": {"url": "https://example.com/noble.img"}},
        "optical": False,
        "storage": "30Gi",
        "storageClass": "local",
    }
    assert system["metadata"]["labels"]["hikube-gpu/vm"] == "ws"
    blank = build_vm_disk("ws-blank", "tenant-x", "ws", args.data_disks["blank"]).body["spec"]
    assert blank["source"] == {}
    assert build_vm_disk("ws-copy", "tenant-x", "ws", args.data_disks["copy"]).body["spec"]["source"] == {
        "image": {"name": "ubuntu-2404"}
    }


def test_data_disks_are_protected_by_default_system_disk_is_not() -> None:
    args = vm(dataDisks={"data": {"size": "1Gi"}})
    assert args.data_disks["data"].protect is True
    assert args.disk.protect is False


# cloud-init ---------------------------------------------------------------------------


def _cloud_config(text: str) -> dict[str, Any]:
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)  # type: ignore[no-any-return]


def test_driver_installer_by_default() -> None:
    config = _cloud_config(build_user_data(NvidiaDriver(), None))
    assert config["runcmd"] == [[INSTALLER_PATH]]
    script = config["write_files"][0]["content"]
    assert "ubuntu-drivers install --gpgpu nvidia:580-server-open" in script
    assert "nvidia-utils-580-server" in script
    assert config["power_state"]["mode"] == "reboot"


def test_driver_version_and_proprietary_modules() -> None:
    script = installer_script(NvidiaDriver(version="570", kernel_modules="proprietary"))
    assert "nvidia:570-server\n" in script
    assert "-open" not in script


def test_driver_version_may_be_a_number() -> None:
    assert NvidiaDriver.model_validate({"version": 570}).version == "570"


def test_cloud_config_header_with_crlf_is_merged() -> None:
    config = _cloud_config(build_user_data(NvidiaDriver(), "#cloud-config\r\nhostname: gpu\r\n"))
    assert config["hostname"] == "gpu"


def test_opt_out_keeps_the_users_data_verbatim() -> None:
    assert build_user_data(NvidiaDriver(install=False), "#!/bin/sh\necho hi\n") == "#!/bin/sh\necho hi\n"
    assert build_user_data(NvidiaDriver(install=False), None) == ""


def test_user_cloud_config_is_merged_ours_first() -> None:
    user = "#cloud-config\npackages: [git]\nruncmd:\n  - echo user\npower_state: {mode: poweroff}\nhostname: gpu\n"
    config = _cloud_config(build_user_data(NvidiaDriver(), user))
    assert config["runcmd"] == [[INSTALLER_PATH], "echo user"]
    assert config["packages"] == ["git"]
    assert config["hostname"] == "gpu"
    assert config["power_state"] == {"mode": "poweroff"}  # the user's choice wins
    assert config["write_files"][0]["path"] == INSTALLER_PATH


def test_user_script_becomes_a_second_mime_part() -> None:
    text = build_user_data(NvidiaDriver(), "#!/bin/bash\necho from-user\n")
    assert text.startswith(f'Content-Type: multipart/mixed; boundary="{MIME_BOUNDARY}"')
    parts = text.split(f"--{MIME_BOUNDARY}")
    assert 'Content-Type: text/cloud-config; charset="utf-8"' in parts[1]
    assert 'Content-Type: text/x-shellscript; charset="utf-8"' in parts[2]
    assert "echo from-user" in parts[2]
    assert text == build_user_data(NvidiaDriver(), "#!/bin/bash\necho from-user\n")  # fixed boundary
