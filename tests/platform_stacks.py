"""Platform stack configurations shared by the platform tests (besides ``host-example``)."""

from __future__ import annotations

import copy
from typing import Any

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnlyForUnitTests test@example"

MODES: dict[str, dict[str, Any]] = {
    # container-only GPU nodes: driver, toolkit, device plugin with time-slicing, custom MIG layouts
    "container": {
        "gpuOperator": {
            "sharingConfigs": {"ts-2": {"timeSlicing": {"replicas": 2}}, "mps-4": {"mps": {"replicas": 4}}},
            "migStrategy": "single",
            "migConfigs": {"halves": {"A100": {"3g.40gb": 2}, "H100": {"3g.47gb": 2}}},
        },
        "nodes": {
            "gpu-a": {"workload": "container", "sharing": "ts-2"},
            "gpu-b": {"workload": "container", "mig": "halves"},
        },
    },
    # every GPU node serves VMs by passthrough (Cozystack's host setup)
    "vm-passthrough": {
        "gpuOperator": {
            "defaultWorkload": "vm-passthrough",
            "driver": {"enabled": False},
            "devicePlugin": False,
        },
        "kubevirt": {"version": "1.9", "gpus": ["L40S", "A100", "H100"]},
    },
    # vGPU: licensed manager image, mdev types permitted, KubeVirt leaves mdevs to the operator
    "vm-vgpu": {
        "gpuOperator": {
            "defaultWorkload": "vm-vgpu",
            "vgpuManager": {"repository": "registry.example.com/nvidia", "version": "580.95.02"},
        },
        "kubevirt": {
            "version": "1.9",
            "gpus": ["A100"],
            "vgpuProfiles": [{"model": "A100", "type": "NVIDIA A100D-40C"}],
        },
    },
    # mixed: containers by default, some nodes for VMs, raw VMs with upstream names
    "mixed": {
        "platform": {"namespace": "gpu-vms"},
        "gpuOperator": {"version": "v25.10.1"},
        "kubevirt": {"version": "1.6", "gpus": ["L40S", "H100"], "resourceNaming": "upstream"},
        "nodes": {"gpu-vm-1": "vm-passthrough", "gpu-vm-2": "vm-passthrough"},
        "vms": {
            "render": {"gpus": {"H100": 2}, "instanceType": "d1.8xlarge", "sshKeys": [SSH_KEY]},
            "desk": {"gpus": {"L40S": 1}, "evictionStrategy": "LiveMigrateIfPossible", "cpuModel": None},
        },
    },
}


def platform_stack(mode: str = "mixed", **changes: Any) -> dict[str, Any]:
    """A platform stack config: one of MODES, with top-level keys replaced."""
    config = {"kind": "platform", **copy.deepcopy(MODES[mode])}
    config.update(copy.deepcopy(changes))
    return config
