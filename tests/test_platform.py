"""Platform stacks end to end: operator values per mode, node labels, the KubeVirt patch by
version band, both naming modes, raw VMs; checked against the upstream chart, CRD and schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from components.builders.kubevirt_patch import build_kubevirt_patch
from components.catalog.gpus import GPU_MODELS
from components.models.kubevirt import KubeVirtArgs
from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.commands.preview.engine import OfflineRun, Registered
from stacks.commands.preview.render import render
from stacks.commands.preview.report import preview_text
from tests.conformance import CHART_VALUES
from tests.helpers import reference, run_config
from tests.platform_stacks import MODES, platform_stack

FREE_FORM = (("devicePlugin", "config", "data"), ("migManager", "config", "data"))


def _run(tmp_path: Path, config: dict[str, Any]) -> OfflineRun:
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    return run


def by_type(run: OfflineRun, suffix: str) -> dict[str, Registered]:
    return {r.name: r for r in run.resources if r.type.endswith(suffix)}


def values_of(run: OfflineRun) -> dict[str, Any]:
    (release,) = by_type(run, ":Release").values()
    values: dict[str, Any] = release.inputs["values"]
    return values


@pytest.fixture(scope="module")
def host() -> OfflineRun:
    run = run_stack(PROJECT_DIR, "host-example")
    assert run.failure is None, run.failure
    return run


# --- snapshots (reviewed) -----------------------------------------------------------------


def test_host_example_render_snapshot(host: OfflineRun, tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    files = {str(p.relative_to(tmp_path)): p.read_text() for p in render(host, tmp_path)}
    assert files == snapshot


def test_host_example_preview_snapshot(host: OfflineRun, snapshot: SnapshotAssertion) -> None:
    assert preview_text(host) == snapshot


@pytest.mark.parametrize("mode", list(MODES))
def test_operator_values_per_mode_snapshot(tmp_path: Path, mode: str, snapshot: SnapshotAssertion) -> None:
    assert values_of(_run(tmp_path, platform_stack(mode))) == snapshot


# --- the operator's values against the chart and the ClusterPolicy CRD ---------------------


def _leaf_paths(value: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        return set().union(*(_leaf_paths(v, (*prefix, k)) for k, v in value.items()))
    return {prefix}


def _merge(base: Any, override: Any) -> Any:
    """Helm's merge of user values over the chart's."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value)
        return merged
    return copy.deepcopy(override)


def _cases() -> list[Any]:
    cases = []
    for mode in MODES:
        for version in CHART_VALUES:
            gpu_operator = {**MODES[mode].get("gpuOperator", {}), "version": version}
            cases.append(
                pytest.param(platform_stack(mode, gpuOperator=gpu_operator), version, id=f"{mode}-{version}")
            )
    return cases


@pytest.mark.parametrize(("config", "version"), _cases())
def test_every_values_key_exists_in_the_pinned_chart(
    tmp_path: Path, config: dict[str, Any], version: str
) -> None:
    chart = yaml.safe_load(reference(*CHART_VALUES[version]).read_text(encoding="utf-8"))
    for leaf in _leaf_paths(values_of(_run(tmp_path, config))):
        path = next((free for free in FREE_FORM if leaf[: len(free)] == free), leaf)
        node: Any = chart
        for key in path:
            assert isinstance(node, dict), f"{'.'.join(path)}: no map there in {version}"
            assert key in node, f"{'.'.join(path)} is not a key of chart {version}"
            node = node[key]


@pytest.mark.parametrize("mode", list(MODES))
def test_operand_sections_validate_against_the_cluster_policy_crd(tmp_path: Path, mode: str) -> None:
    """The chart copies these sections into the ClusterPolicy: check them, chart defaults merged in."""
    crd = yaml.safe_load(reference("gpu-operator", "crd-nvidia.com_clusterpolicies-v26.7.0.yaml").read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    defaults = yaml.safe_load(reference(*CHART_VALUES["v26.7.0"]).read_text(encoding="utf-8"))
    values = values_of(
        _run(tmp_path, platform_stack(mode, gpuOperator={**MODES[mode].get("gpuOperator", {})}))
    )
    checked = []
    for section, value in values.items():
        if section in spec:
            jsonschema.validate(
                _merge(defaults.get(section), value), spec[section], cls=jsonschema.Draft7Validator
            )
            checked.append(section)
    assert {
        "driver",
        "toolkit",
        "devicePlugin",
        "mig",
        "migManager",
        "sandboxWorkloads",
        "vfioManager",
    } <= set(checked)


def test_crd_check_catches_a_wrong_value() -> None:
    """Guard: the CRD really rejects an unknown default workload."""
    crd = yaml.safe_load(reference("gpu-operator", "crd-nvidia.com_clusterpolicies-v26.7.0.yaml").read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"enabled": True, "defaultWorkload": "vm"}, spec["sandboxWorkloads"])


def test_values_have_no_nulls_and_sandbox_follows_the_nodes(tmp_path: Path) -> None:
    for mode, sandbox in (("container", False), ("vm-passthrough", True), ("vm-vgpu", True), ("mixed", True)):
        values = values_of(_run(tmp_path / mode, platform_stack(mode)))
        assert "null" not in yaml.safe_dump(values)
        assert values["sandboxWorkloads"]["enabled"] is sandbox, mode


def test_sandbox_mode_only_on_charts_that_have_it(tmp_path: Path) -> None:
    old = values_of(_run(tmp_path / "a", platform_stack("mixed")))  # v25.10.1
    new = values_of(_run(tmp_path / "b", platform_stack("vm-passthrough")))  # v26.7.0
    assert "mode" not in old["sandboxWorkloads"]
    assert new["sandboxWorkloads"]["mode"] == "kubevirt"


def test_vgpu_turns_on_the_vgpu_operands(tmp_path: Path) -> None:
    values = values_of(_run(tmp_path, platform_stack("vm-vgpu")))
    assert values["vgpuManager"] == {
        "enabled": True,
        "repository": "registry.example.com/nvidia",
        "image": "vgpu-manager",
        "version": "580.95.02",
    }
    assert values["vgpuDeviceManager"] == {"enabled": True}


def test_sharing_and_mig_configs_are_created_by_the_chart_with_hashed_names(tmp_path: Path) -> None:
    values = values_of(_run(tmp_path, platform_stack("container")))
    plugin = values["devicePlugin"]["config"]
    assert plugin["name"].startswith("hikube-gpu-sharing-")
    assert yaml.safe_load(plugin["data"]["mps-4"])["sharing"] == {
        "mps": {"resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}
    }
    mig = yaml.safe_load(values["migManager"]["config"]["data"]["config.yaml"])
    a100 = GPU_MODELS[next(m for m in GPU_MODELS if m.value == "A100")]
    assert mig["mig-configs"]["halves"][0] == {
        "device-filter": [f"0x{a100.pci_device_id}10DE"],
        "devices": "all",
        "mig-enabled": True,
        "mig-devices": {"3g.40gb": 2},
    }
    assert mig["mig-configs"]["all-disabled"] == [{"devices": "all", "mig-enabled": False}]
    changed = platform_stack("container")
    changed["gpuOperator"]["sharingConfigs"]["ts-2"]["timeSlicing"]["replicas"] = 3
    renamed = values_of(_run(tmp_path / "b", changed))["devicePlugin"]["config"]["name"]
    assert renamed != plugin["name"]


# --- node modes ------------------------------------------------------------------------------


def test_node_labels_set_mode_sharing_and_mig(tmp_path: Path) -> None:
    patches = by_type(_run(tmp_path, platform_stack("container")), ":NodePatch")
    labels = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"] for r in patches.values()}
    assert labels == {
        "gpu-a": {"nvidia.com/gpu.workload.config": "container", "nvidia.com/device-plugin.config": "ts-2"},
        "gpu-b": {"nvidia.com/gpu.workload.config": "container", "nvidia.com/mig.config": "halves"},
    }


def test_node_patches_wait_for_the_operator(host: OfflineRun) -> None:
    release = by_type(host, ":Release")["gpu-operator-release"]
    for patch in by_type(host, ":NodePatch").values():
        assert release.urn in patch.dependencies
        assert patch.inputs["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}


def test_operator_namespace_is_privileged(host: OfflineRun) -> None:
    namespace = by_type(host, ":Namespace")["gpu-operator-namespace"]
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


# --- the KubeVirt patch ------------------------------------------------------------------------


def _fragments() -> dict[str, Any]:
    data = yaml.safe_load(
        reference("kubevirt", "crd-kubevirt-configuration-fragments-v1.9.0.yaml").read_text()
    )
    fragments: dict[str, Any] = data["properties"]
    return fragments


BANDS = [
    # (version, vGPU managed by the operator, expected gates, mediatedDevicesConfiguration)
    ("1.3", False, ["LiveMigration", "GPU"], None),
    ("1.6", True, ["LiveMigration", "DisableMDEVConfiguration"], None),
    ("1.6", False, None, None),
    ("1.9", True, None, {"enabled": False}),
]


@pytest.mark.parametrize(
    ("version", "vgpu", "gates", "mdev"), BANDS, ids=[f"{b[0]}-vgpu{b[1]}" for b in BANDS]
)
def test_kubevirt_patch_per_version_band(
    version: str, vgpu: bool, gates: list[str] | None, mdev: Any
) -> None:
    args = KubeVirtArgs.model_validate(
        {
            "version": version,
            "gpus": ["A100", "L40S"],
            "featureGates": ["LiveMigration"] if gates else [],
            "vgpuProfiles": [{"model": "A100", "type": "NVIDIA A100D-40C"}] if vgpu else [],
        }
    )
    configuration = build_kubevirt_patch(args, operator_manages_vgpu=vgpu).body["spec"]["configuration"]
    assert configuration.get("developerConfiguration", {}).get("featureGates") == gates
    assert configuration.get("mediatedDevicesConfiguration") == mdev
    assert [d["pciVendorSelector"] for d in configuration["permittedHostDevices"]["pciHostDevices"]] == [
        "10DE:26B9",
        "10DE:20B5",
    ]
    fragments = _fragments()
    for key, value in configuration.items():
        jsonschema.validate(value, fragments[key], cls=jsonschema.Draft7Validator)


def test_kubevirt_patch_check_catches_a_wrong_shape() -> None:
    """Guard: the KubeVirt schema rejects a device without its resource name."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"pciHostDevices": [{"pciVendorSelector": "10DE:26B9"}]}, _fragments()["permittedHostDevices"]
        )


def test_gpu_gate_is_never_added_from_1_4_on() -> None:
    for version in ("1.4", "1.9"):
        args = KubeVirtArgs.model_validate({"version": version, "gpus": ["L40S"]})
        assert "developerConfiguration" not in build_kubevirt_patch(args, False).body["spec"]["configuration"]


@pytest.mark.parametrize(
    ("naming", "expected"),
    [
        ("hikube", ["nvidia.com/AD102GL_L40S", "nvidia.com/H100_94GB"]),
        ("upstream", ["nvidia.com/AD102GL_L40S", "nvidia.com/GH100_H100L_94GB"]),
    ],
)
def test_both_naming_modes_name_vm_devices_and_permitted_devices_alike(
    tmp_path: Path, naming: str, expected: list[str]
) -> None:
    config = platform_stack("mixed")
    config["kubevirt"]["resourceNaming"] = naming
    run = _run(tmp_path, config)
    (patch,) = by_type(run, ":KubeVirtPatch").values()
    permitted = [
        d["resourceName"]
        for d in patch.inputs["spec"]["configuration"]["permittedHostDevices"]["pciHostDevices"]
    ]
    assert permitted == expected
    vm = by_type(run, ":VirtualMachine")["render-vm"].inputs
    devices = [g["deviceName"] for g in vm["spec"]["template"]["spec"]["domain"]["devices"]["gpus"]]
    assert devices == [expected[1], expected[1]]
    assert set(devices) <= set(permitted)


# --- raw KubeVirt VMs --------------------------------------------------------------------------


def test_raw_vm_uses_an_instancetype_and_no_cpu_or_memory(tmp_path: Path) -> None:
    run = _run(tmp_path, platform_stack("mixed"))
    vm = by_type(run, ":VirtualMachine")["render-vm"].inputs["spec"]
    assert vm["instancetype"] == {"kind": "VirtualMachineClusterInstancetype", "name": "d1.8xlarge"}
    domain = vm["template"]["spec"]["domain"]
    assert "resources" not in domain
    assert "memory" not in domain
    assert domain["cpu"] == {"model": "host-passthrough"}
    assert vm["template"]["spec"]["evictionStrategy"] == "None"
    assert [g["name"] for g in domain["devices"]["gpus"]] == ["gpu1", "gpu2"]
    desk = by_type(run, ":VirtualMachine")["desk-vm"].inputs["spec"]
    assert desk["instancetype"]["name"] == "u1.2xlarge"
    assert "cpu" not in desk["template"]["spec"]["domain"]
    assert desk["template"]["spec"]["evictionStrategy"] == "LiveMigrateIfPossible"


def test_raw_vm_cloud_init_is_a_secret_and_waits_for_the_kubevirt_patch(tmp_path: Path) -> None:
    run = _run(tmp_path, platform_stack("mixed"))
    secret = by_type(run, ":Secret")["render-cloud-init"]
    assert secret.inputs["stringData"] == {"userdata": "[secret]"}
    vm = by_type(run, ":VirtualMachine")["render-vm"]
    patch = next(r for r in run.resources if r.type.endswith(":KubeVirtPatch"))
    assert {secret.urn, patch.urn} <= set(vm.dependencies)  # depending on a component = on its children
    volumes = vm.inputs["spec"]["template"]["spec"]["volumes"]
    assert volumes[1] == {
        "name": "cloudinit",
        "cloudInitNoCloud": {"secretRef": {"name": "render-cloud-init"}},
    }


def test_raw_vm_gpu_entries_match_the_kubevirt_api(tmp_path: Path) -> None:
    definitions = json.loads(
        reference("kubevirt", "openapi-definitions-virtualmachine-v1.9.0.json").read_text()
    )
    gpu_schema = definitions.get("definitions", definitions)["v1.GPU"]
    run = _run(tmp_path, platform_stack("mixed"))
    for vm in by_type(run, ":VirtualMachine").values():
        for entry in vm.inputs["spec"]["template"]["spec"]["domain"]["devices"]["gpus"]:
            jsonschema.validate(entry, gpu_schema)
            assert set(entry) <= set(gpu_schema["properties"])
