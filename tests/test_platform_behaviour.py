"""What the platform really does with what we render, as facts of its profile (P2, P4, P8).

Evidence: docs/platform-behaviour.md (cozystack ``packages/apps/kubernetes/templates/
cluster.yaml`` at v1.1.2, v1.4.0, v1.5.4 and v1.6.0; k8s-device-plugin ``main.go:193-196``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalog.platform import PROFILES
from stacks.commands.cli import PROJECT_DIR
from stacks.commands.preview.report import preview_text
from tests.cluster_stacks import cluster_stack, driver_preinstalled
from tests.helpers import UPSTREAM, expect_problem, expect_warning, objects, reference_data, run_config
from tests.platform_stacks import platform_stack

HIKUBE = PROFILES["hikube"].kubernetes


@pytest.mark.parametrize("profile", ["hikube", "cozystack-1.4"])
def test_node_groups_start_with_two_nodes_and_surge_by_max_replicas(profile: str) -> None:
    scale = PROFILES[profile].kubernetes.node_group_scale(0, 1)
    assert (scale.start, scale.steady_max, scale.peak) == (2, 2, 3)
    assert scale.starts_above_min
    big = PROFILES[profile].kubernetes.node_group_scale(3, 5)
    assert (big.start, big.steady_max, big.peak) == (2, 5, 10)


def test_from_cozystack_1_6_groups_start_at_min_replicas(tmp_path: Path) -> None:
    """Cozystack v1.6+: no chart-managed replicas (cozystack#3231); the surge stays maxReplicas."""
    scale = PROFILES["cozystack-1.6"].kubernetes.node_group_scale(1, 4)
    assert (scale.start, scale.steady_max, scale.peak) == (1, 4, 8)
    assert not scale.starts_above_min
    at_zero = PROFILES["cozystack-1.6"].kubernetes.node_group_scale(0, 1)
    assert (at_zero.start, at_zero.steady_max, at_zero.peak) == (0, 1, 2)
    config = _one_group(0, 1, quota=1, platform={"namespace": "tenant-test", "profile": "cozystack-1.6"})
    config["clusters"]["ml"] = driver_preinstalled(config["clusters"]["ml"])
    run = run_config(tmp_path, config)  # one GPU fits a 0-1 group: no two-node start to pay for
    assert (run.failure, run.errors) == (None, [])
    group = run.outputs["clusters"]["ml"]["nodeGroups"]["l40s"]
    assert group["platformNodes"] == {"start": 0, "max": 1, "peak": 2}


# --- the profiles' facts, read at their Cozystack tag (tests/upstream/cozystack/<tag>) ------------

FACT_TAGS = {"hikube": "v1.1.2", "cozystack-1.6": "v1.6.0"}


def _template(tag: str, *path: str) -> str:
    return (UPSTREAM / "cozystack" / tag / "apps" / Path(*path)).read_text(encoding="utf-8")


def _node_group_machine_deployment(tag: str) -> str:
    """The MachineDeployment a node group renders (the one whose name ends in the group's)."""
    text = _template(tag, "kubernetes", "templates", "cluster.yaml")
    blocks = [b for b in text.split("\n---") if "kind: MachineDeployment" in b]
    (block,) = [b for b in blocks if "{{ $groupName }}" in b]
    return block


@pytest.mark.parametrize(("profile", "tag"), sorted(FACT_TAGS.items()))
def test_the_node_group_facts_are_the_charts(profile: str, tag: str) -> None:
    app = PROFILES[profile].kubernetes
    spec = _node_group_machine_deployment(tag).split("\nspec:", 1)[1]
    replicas = re.findall(r"^  replicas: (\d+)$", spec, re.MULTILINE)
    assert app.node_group_start_replicas == (int(replicas[0]) if replicas else None)
    assert app.rollout_surge_is_max_replicas == ("maxSurge: {{ $group.maxReplicas }}" in spec)
    assert app.autoscaler_knows_gpus == ("capacity.cluster-autoscaler.kubernetes.io/gpu-count" in spec)
    defaults = yaml.safe_load(_template(tag, "kubernetes", "values.yaml"))
    assert app.merges_default_node_group == bool(defaults["nodeGroups"])  # Helm merges a default md0


@pytest.mark.parametrize(("profile", "tag"), sorted(FACT_TAGS.items()))
def test_the_app_schema_facts_are_the_schemas(profile: str, tag: str) -> None:
    app = PROFILES[profile].kubernetes
    schema = reference_data("cozystack", tag, "apps", "kubernetes", "values.schema.json")["properties"]
    assert list(app.versions) == schema["version"]["enum"]
    assert app.default_version == schema["version"]["default"]
    groups = schema["nodeGroups"]["additionalProperties"]["properties"]
    assert app.node_group_keys == set(groups)
    assert app.node_disk_field in groups
    addons = schema["addons"]["properties"]
    assert app.addons == {name: "enabled" in a.get("properties", {}) for name, a in addons.items()}
    plane = schema["controlPlane"]["properties"]
    for component, preset in app.default_presets.items():
        settings = plane[component]["properties"]
        settings = settings["server"]["properties"] if "server" in settings else settings  # konnectivity
        assert settings["resourcesPreset"]["default"] == preset, component
        assert set(settings["resourcesPreset"]["enum"]) == app.presets, component
    vm = reference_data("cozystack", tag, "apps", "vm-instance", "values.schema.json")["properties"]
    enum = vm.get("instanceProfile", {}).get("enum")
    assert PROFILES[profile].instance_profiles == (frozenset(enum) if enum else None)


@pytest.mark.parametrize(("profile", "tag"), sorted(FACT_TAGS.items()))
def test_port_list_filters_as_the_vm_service_says(profile: str, tag: str) -> None:
    """wholeIP "true" on every external VM (v1.1.2) or only for WholeIP (v1.4.0 on) (P3)."""
    service = _template(tag, "vm-instance", "templates", "service.yaml")
    (annotation,) = [
        line.strip() for line in service.splitlines() if "networking.cozystack.io/wholeIP:" in line
    ]
    unconditional = annotation == 'networking.cozystack.io/wholeIP: "true"'
    assert PROFILES[profile].port_list_filters is (not unconditional)
    assert unconditional or '(eq .Values.externalMethod "WholeIP")' in annotation


def _one_group(min_replicas: int, max_replicas: int, quota: int, **extra: Any) -> dict[str, Any]:
    group = {"gpus": {"L40S": 1}, "minReplicas": min_replicas, "maxReplicas": max_replicas}
    cluster = {"nodeGroups": {"l40s": group}}
    return {
        "platform": {"namespace": "tenant-test"},
        "quota": {"L40S": quota},
        "clusters": {"ml": cluster},
        **extra,
    }


def test_quota_counts_the_two_nodes_the_platform_starts_a_group_with(tmp_path: Path) -> None:
    expect_problem(
        tmp_path,
        _one_group(0, 1, quota=1),
        "hikube-gpu:quota.L40S",
        "the stack asks for 2 L40S GPUs (ml/l40s: 2 (maxReplicas 1)×1) but its quota is 1",
    )


def test_quota_below_the_roll_out_peak_is_a_warning(tmp_path: Path) -> None:
    expect_warning(
        tmp_path,
        _one_group(1, 2, quota=3),
        "hikube-gpu:quota.L40S: a node-group roll-out can hold 4 L40S GPUs at once",
    )


def test_capacity_shows_the_real_peak(tmp_path: Path) -> None:
    run = run_config(tmp_path, _one_group(1, 2, quota=8))
    assert run.failure is None, run.failure
    l40s = run.outputs["gpuCapacity"]["L40S"]
    assert l40s["nodeGroupGpus"] == {"min": 1, "max": 2, "peak": 4}
    assert l40s["gpus"] == 4
    group = run.outputs["clusters"]["ml"]["nodeGroups"]["l40s"]
    assert group["platformNodes"] == {"start": 2, "max": 2, "peak": 4}
    text = preview_text(run)
    assert "starts 2, 1-2, peak 4" in text
    assert "Peak" in text


def _device_plugin_configs(values: dict[str, Any]) -> dict[str, Any]:
    data = values["devicePlugin"]["config"]["data"]
    return {name: yaml.safe_load(text) for name, text in data.items()}


@pytest.mark.parametrize("with_mig", [False, True], ids=["time-slicing only", "with MIG"])
def test_tenant_device_plugin_flags_repeat_the_charts_mig_strategy(tmp_path: Path, with_mig: bool) -> None:
    """P4: the chart's mig.strategy becomes MIG_STRATEGY and beats flags.migStrategy: keep them equal."""
    config = cluster_stack()
    if not with_mig:
        del config["clusters"]["train"]["nodeGroups"]["a100"]
        config["clusters"]["train"]["workloads"] = {}
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    app = objects(run)["Kubernetes/train"]
    values = app["spec"]["addons"]["gpuOperator"]["valuesOverride"]["gpu-operator"]
    expected = "mixed" if with_mig else HIKUBE.gpu_operator_mig_strategy
    assert values["mig"] == {"strategy": expected}
    flags = {name: config["flags"]["migStrategy"] for name, config in _device_plugin_configs(values).items()}
    assert set(flags.values()) == {expected}, flags


def test_host_device_plugin_flags_repeat_the_charts_mig_strategy(tmp_path: Path) -> None:
    run = run_config(tmp_path, platform_stack("container"))
    assert run.failure is None, run.failure
    release = next(r for r in run.resources if r.type == "kubernetes:helm.sh/v3:Release")
    values = release.inputs["values"]
    configs = _device_plugin_configs(values)
    assert configs, "the container mode has sharing configs"
    assert {c["flags"]["migStrategy"] for c in configs.values()} == {values["mig"]["strategy"]}


def _profile_branches(source: str) -> list[int]:
    """Lines comparing something about a profile with a profile name."""
    names = set(PROFILES)
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            literals = {c.value for c in sides if isinstance(c, ast.Constant)}
            if names & literals and any("profile" in ast.unparse(c) for c in sides):
                lines.append(node.lineno)
    return lines


def test_no_code_branches_on_a_profile_name() -> None:
    """Platform differences are facts of ``PlatformProfile``, not ``if profile == ...`` elsewhere."""
    offenders = []
    for path in sorted([*PROJECT_DIR.glob("components/**/*.py"), *PROJECT_DIR.glob("stacks/**/*.py")]):
        if path.name == "platform.py" and path.parent.name == "catalog":
            continue
        for line in _profile_branches(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(PROJECT_DIR)}:{line}")
    assert offenders == []


def test_the_profile_guard_catches_a_branch() -> None:
    source = 'if stack.platform.profile == "hikube":\n    pass\nif naming == "hikube":\n    pass\n'
    assert _profile_branches(source) == [1]


def test_node_patches_wait_for_a_read_of_their_node(tmp_path: Path) -> None:
    """P9: a NodePatch of a missing Node would create it; the read of the Node fails first."""
    run = run_config(tmp_path, platform_stack("container"))
    assert run.failure is None, run.failure
    reads = {r.urn: r.inputs["id"] for r in run.resources if r.read and r.type == "kubernetes:core/v1:Node"}
    patches = [r for r in run.resources if r.type == "kubernetes:core/v1:NodePatch"]
    assert patches
    for patch in patches:
        node = patch.inputs["metadata"]["name"]
        assert [reads[d] for d in patch.dependencies if d in reads] == [node], patch.urn


def test_raw_vms_wait_for_a_read_of_their_namespace(tmp_path: Path) -> None:
    """P5: raw VMs' Secrets and VirtualMachines go into a namespace that must already exist."""
    run = run_config(tmp_path, platform_stack("mixed"))
    assert run.failure is None, run.failure
    reads = {
        r.urn: r.inputs["id"] for r in run.resources if r.read and r.type == "kubernetes:core/v1:Namespace"
    }
    placed = [
        r
        for r in run.resources
        if not r.read and r.type in ("kubernetes:core/v1:Secret", "kubernetes:kubevirt.io/v1:VirtualMachine")
    ]
    assert placed
    for resource in placed:
        namespace = resource.inputs["metadata"]["namespace"]
        assert [reads[d] for d in resource.dependencies if d in reads] == [namespace], resource.urn
    assert not any(
        r.type == "kubernetes:core/v1:Namespace" and not r.read and r.name.startswith("vm-")
        for r in run.resources
    )


@pytest.mark.parametrize(
    ("kind", "timeout"), [("VMDisk", "1800"), ("VMInstance", "900"), ("Kubernetes", "2400")]
)
def test_up_waits_for_each_cozystack_app_to_be_ready(tmp_path: Path, kind: str, timeout: str) -> None:
    """P6: without a wait, `up` reports success for an app whose release keeps failing."""
    run = run_config(tmp_path, cluster_stack())  # with VM gpu-1 and its boot disk
    assert run.failure is None, run.failure
    apps = [o for o in objects(run).values() if o["kind"] == kind]
    assert apps
    for app in apps:
        annotations = app["metadata"]["annotations"]
        assert annotations["pulumi.com/waitFor"] == "condition=Ready"
        assert annotations["pulumi.com/timeoutSeconds"] == timeout
