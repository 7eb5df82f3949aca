"""Every VMInstance and VMDisk spec we build validates against Cozystack's values.schema.json.

Hikube runs Cozystack v1.1.2 (profile ``hikube``); ``cozystack-1.4`` is checked against
upstream ``main``. The schemas are vendored under tests/upstream.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from components.builders.vm_disk import build_vm_disk
from components.builders.vm_instance import build_vm_instance
from components.catalog.platform import PROFILES
from components.resolve.names import data_disk_name, system_disk_name
from stacks.validation.validate import validate
from tests.conformance import SCHEMA_DIR
from tests.helpers import SSH_KEY, base_config, reference_json, stack_config

VARIED_VMS: dict[str, Any] = {
    "single": {"gpus": {"L40S": 1}, "sshKeys": [SSH_KEY], "external": {"ports": [22, 8888]}},
    "quad": {"gpus": {"H100": 4}, "instanceType": "u1.8xlarge", "runStrategy": "Halted"},
    "custom": {
        "gpus": {"A100": 1},
        "resources": {"cpu": 12, "memory": "48Gi", "sockets": 2},
        "disk": {
            "url": "https://example.com/noble.img",
            "size": "40Gi",
            "storageClass": "local",
            "bus": "sata",
        },
        "dataDisks": {"data": {"size": "2Ti"}, "seed": {"size": "10Gi", "image": "ubuntu-2204"}},
        "cloudInit": "#!/bin/sh\necho hi\n",
        "cpuModel": "host-passthrough",
        "subnets": ["storage-net"],
        "external": {"method": "WholeIP"},
    },
    "no-driver": {"gpus": {"L40S": 2}, "nvidiaDriver": {"install": False}, "instanceType": "s1.2xlarge"},
}


STACKS = {
    "dev": stack_config("dev"),
    "varied-hikube": base_config(vms=VARIED_VMS),
    "varied-cozystack-1.4": base_config(
        platform={"namespace": "tenant-x", "profile": "cozystack-1.4"}, vms=VARIED_VMS
    ),
}


def _specs() -> list[Any]:
    cases = []
    for stack_name, raw in STACKS.items():
        stack = validate(raw).stack
        namespace = stack.platform.namespace or ""
        version = SCHEMA_DIR[stack.platform.profile]
        for name, vm in stack.vms.items():
            cases.append(
                pytest.param(
                    version,
                    "vm-instance",
                    build_vm_instance(
                        name,
                        namespace,
                        vm,
                        port_list_filters=PROFILES[stack.platform.profile].port_list_filters,
                    ).body["spec"],
                    id=f"{stack_name}/VMInstance/{name}",
                )
            )
            disks = {system_disk_name(name): vm.disk}
            disks.update({data_disk_name(name, d): disk for d, disk in vm.data_disks.items()})
            for disk_name, disk in disks.items():
                spec = build_vm_disk(disk_name, namespace, name, disk).body["spec"]
                cases.append(pytest.param(version, "vm-disk", spec, id=f"{stack_name}/VMDisk/{disk_name}"))
    return cases


@pytest.mark.parametrize(("version", "app", "spec"), _specs())
def test_spec_validates_against_cozystack_schema(version: str, app: str, spec: dict[str, Any]) -> None:
    schema = reference_json("cozystack", version, "apps", app, "values.schema.json")
    jsonschema.validate(spec, schema, cls=jsonschema.Draft7Validator)


def test_every_spec_key_is_a_schema_property() -> None:
    """The platform ignores unknown keys silently, so we must never emit one."""
    for param in _specs():
        version, app, spec = param.values
        properties = reference_json("cozystack", version, "apps", app, "values.schema.json")["properties"]
        assert set(spec) <= set(properties), param.id


def test_schema_check_catches_a_wrong_shape() -> None:
    """Guard: the schema really rejects what the Hikube docs sometimes show (disks as strings)."""
    schema = reference_json("cozystack", "v1.1.2", "apps", "vm-instance", "values.schema.json")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"disks": ["vm-system-disk"]}, schema, cls=jsonschema.Draft7Validator)
