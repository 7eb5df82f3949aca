"""The GPU table and instance types, cross-checked against the upstream reference data."""

from __future__ import annotations

import re

import pytest
import yaml

from components.catalog import (
    GPU_MODELS,
    INSTANCE_TYPES,
    GpuModelName,
    default_for,
    gpu,
    parse_quantity,
    recommended_for,
    sandbox_plugin_resource_name,
)
from tests.helpers import reference


def test_hikube_gpu_table() -> None:
    rows = {
        m.model.value: (m.architecture, m.memory_gb, m.memory_type, m.int8_tops, m.hikube_resource_name)
        for m in GPU_MODELS.values()
    }
    assert rows == {
        "L40S": ("Ada Lovelace", 48, "GDDR6", 362, "nvidia.com/AD102GL_L40S"),
        "A100": ("Ampere", 80, "HBM2e", 312, "nvidia.com/GA100_A100_PCIE_80GB"),
        "H100": ("Hopper", 80, "HBM3", 1979, "nvidia.com/H100_94GB"),
    }
    assert [m.pci_vendor_selector for m in GPU_MODELS.values()] == ["10DE:26B9", "10DE:20B5", "10DE:2321"]
    assert all(m.use_case for m in GPU_MODELS.values())


def test_sandbox_plugin_naming_rule() -> None:
    assert sandbox_plugin_resource_name("AD102GL [L40S]") == "nvidia.com/AD102GL_L40S"
    assert sandbox_plugin_resource_name("GA100 [A100 PCIe 80GB]") == "nvidia.com/GA100_A100_PCIE_80GB"
    assert sandbox_plugin_resource_name("GH100 [H100 SXM5 80GB]") == "nvidia.com/GH100_H100_SXM5_80GB"
    assert sandbox_plugin_resource_name("GP104GL [Tesla P4/P6]") == "nvidia.com/GP104GL_TESLA_P4_P6"


def test_upstream_names_differ_from_hikube_only_for_h100() -> None:
    differ = {
        m.model.value for m in GPU_MODELS.values() if m.upstream_resource_name != m.hikube_resource_name
    }
    assert differ == {"H100"}
    assert gpu("H100").upstream_resource_name == "nvidia.com/GH100_H100L_94GB"


def test_pci_ids_match_the_device_plugins_pci_ids() -> None:
    text = reference("gpu-operator", "kubevirt-gpu-device-plugin-pci.ids-nvidia-10de-section.txt").read_text()
    for model in GPU_MODELS.values():
        match = re.search(rf"^\t{model.pci_device_id.lower()}  (.+)$", text, re.MULTILINE)
        assert match, f"{model.pci_device_id} is not in the plugin's pci.ids"
        assert match.group(1) == model.pci_ids_name


def _mig_configs() -> dict[str, list[dict[str, object]]]:
    path = reference("gpu-operator", "asset-mig-manager-default-configmap-v26.7.0.yaml")
    configmap = yaml.safe_load(path.read_text())
    return yaml.safe_load(configmap["data"]["config.yaml"])["mig-configs"]


@pytest.mark.parametrize("model", list(GPU_MODELS))
def test_mig_profiles_match_the_mig_managers_defaults(model: GpuModelName) -> None:
    entry = gpu(model)
    device = f"0x{entry.pci_device_id}10DE"
    configs = _mig_configs()
    enabled_for_device = {
        name
        for name, items in configs.items()
        for item in items
        if item.get("mig-enabled") and device in item.get("device-filter", [device])
    }
    if not entry.mig_capable:
        assert not any(
            device in item.get("device-filter", []) for items in configs.values() for item in items
        )
        return
    for profile in entry.mig_profiles:
        name = f"all-{profile.name}"
        assert name in enabled_for_device
        items = [i for i in configs[name] if device in i.get("device-filter", [device])]
        assert items[0]["mig-devices"] == {profile.name: profile.per_gpu}


def test_l40s_has_no_mig_and_no_kubevirt_vgpu() -> None:
    assert not gpu("L40S").mig_capable
    assert not gpu("L40S").kubevirt_vgpu
    assert gpu("A100").kubevirt_vgpu
    assert gpu("H100").kubevirt_vgpu


def test_instance_types_match_upstream_common_instancetypes() -> None:
    path = reference("cozystack", "v1.1.2", "system", "kubevirt-instancetypes", "instancetypes.yaml")
    upstream = {
        doc["metadata"]["name"]: (
            doc["spec"]["cpu"]["guest"],
            int(parse_quantity(doc["spec"]["memory"]["guest"])),
        )
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["metadata"]["name"].split(".")[0] in ("u1", "o1", "m1", "cx1")
    }
    ours = {
        name: (t.vcpu, t.memory_bytes)
        for name, t in INSTANCE_TYPES.items()
        if t.series in ("u1", "o1", "m1", "cx1")
    }
    assert ours == upstream


def test_hikube_s1_series() -> None:
    s1 = {name: (t.vcpu, t.memory_gib) for name, t in INSTANCE_TYPES.items() if t.series == "s1"}
    assert s1["s1.3large"] == (12, 24)
    assert s1["s1.8xlarge"] == (64, 128)
    assert len(s1) == 9


@pytest.mark.parametrize(
    ("gpus", "expected"),
    [(1, "u1.2xlarge"), (2, "u1.4xlarge"), (3, "u1.8xlarge"), (4, "u1.8xlarge"), (5, None)],
)
def test_default_instance_type_has_at_least_8_vcpu_per_gpu(gpus: int, expected: str | None) -> None:
    chosen = default_for(gpus)
    assert (chosen.name if chosen else None) == expected


def test_recommendation_stays_in_the_series_when_it_can() -> None:
    assert recommended_for(1, "cx1").name == "cx1.2xlarge"  # type: ignore[union-attr]
    assert recommended_for(4, "u1").name == "u1.8xlarge"  # type: ignore[union-attr]
    assert recommended_for(8, "u1") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100Gi", 100 * 1024**3),
        ("512Mi", 512 * 1024**2),
        ("1Ti", 1024**4),
        ("8", 8),
        ("1.5G", 1_500_000_000),
        (4, 4),
    ],
)
def test_quantities(text: str | int, value: int) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["100GB", "Gi", "-1Gi", "", "ten"])
def test_bad_quantities(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)
