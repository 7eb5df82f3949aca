"""The workload every contender of ``benchmarks.peers_bench`` renders: N tenant VMs with one
L40S and a boot disk each, as this project's builders produce them (a VMDisk and a
VMInstance per VM), secrets masked as ``python -m stacks render`` masks them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

NAMESPACE = "tenant-bench"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHikubeGpuDevOnlyExampleKeyDoNotUse bench@example"


def vm_name(index: int) -> str:
    return f"vm-{index:05d}"


def stack_config(vms: int) -> dict[str, Any]:
    """The stack config (keys without the project prefix) of ``vms`` one-L40S VMs."""
    return {
        "kind": "tenant",
        "platform": {"namespace": NAMESPACE},
        "quota": {"L40S": vms},
        "vms": {
            vm_name(i): {
                "gpus": {"L40S": 1},
                "disk": {"image": "ubuntu-2404", "size": "60Gi"},
                "sshKeys": [SSH_KEY],
            }
            for i in range(vms)
        },
    }


def write_stack_file(path: Path, vms: int) -> Path:
    """``path`` as a ``Pulumi.<stack>.yaml`` holding :func:`stack_config`."""
    config = {f"hikube-gpu:{key}": value for key, value in stack_config(vms).items()}
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False), encoding="utf-8")
    return path


def _chunks(vms: int, size: int) -> list[range]:
    return [range(start, min(start + size, vms)) for start in range(0, vms, size)]


def manifests(vms: int) -> list[dict[str, Any]]:
    """``{"path": <namespace>/<kind>-<name>.yaml, "object": <masked manifest>}`` per object,
    straight from the builders in the order the stack registers them. Every VM is validated;
    past the stack loader's limit (``stacks.loading.limits.MAX_STACK_OBJECTS``) in stacks of that size."""
    from components.builders.manifest import Manifest
    from components.builders.vm_disk import build_vm_disk
    from components.builders.vm_instance import build_vm_instance
    from components.catalog.platform import PROFILES
    from components.resolve.names import system_disk_name
    from stacks.commands.preview.engine import mask
    from stacks.commands.preview.render import relative_path
    from stacks.loading.limits import MAX_STACK_OBJECTS
    from stacks.validation.config import TenantStack
    from stacks.validation.validate import validate

    vm_args = {}
    profile = "hikube"
    for chunk in _chunks(vms, MAX_STACK_OBJECTS):
        config = stack_config(len(chunk))
        config["vms"] = {vm_name(i): config["vms"][vm_name(0)] for i in chunk}
        stack = validate(config).stack
        assert isinstance(stack, TenantStack)
        vm_args.update(stack.vms)
        profile = stack.platform.profile
    filters = PROFILES[profile].port_list_filters
    built: list[Manifest] = []
    for name in sorted(vm_args):
        args = vm_args[name]
        built.append(build_vm_disk(system_disk_name(name), NAMESPACE, name, args.disk))
        built.append(build_vm_instance(name, NAMESPACE, args, port_list_filters=filters))
    out = []
    for manifest in built:
        document = manifest.as_dict()
        for path in manifest.secret_paths:
            parent: Any = document
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = mask(parent[path[-1]])
        out.append({"path": str(relative_path(document)), "object": document})
    return out


def write_manifests(path: Path, vms: int) -> Path:
    """The manifests as one JSON file, the input every contender reads."""
    path.write_text(json.dumps(manifests(vms)), encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    """``python -m benchmarks.peers_manifests VMS OUT``: this project's builders alone (validation,
    builders, masking, YAML), no Pulumi runtime, one file per object under OUT."""
    from benchmarks.peers_contenders import write

    vms, out = argv
    write(Path(out), [entry["object"] for entry in manifests(int(vms))])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
