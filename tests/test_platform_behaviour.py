"""What the platform really does with what we render, as facts of its profile (P2, P4, P8).

Evidence: docs/platform-behaviour.md (cozystack ``packages/apps/kubernetes/templates/
cluster.yaml`` at v1.1.2, v1.4.0, v1.5.4 and v1.6.0; k8s-device-plugin ``main.go:193-196``).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalog.platform import PROFILES
from stacks.offline.cli import PROJECT_DIR
from stacks.offline.report import preview_text
from tests.cluster_stacks import cluster_stack
from tests.helpers import expect_problem, expect_warning, objects, run_config
from tests.platform_stacks import platform_stack

HIKUBE = PROFILES["hikube"].kubernetes


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_node_groups_start_with_two_nodes_and_surge_by_max_replicas(profile: str) -> None:
    scale = PROFILES[profile].kubernetes.node_group_scale(0, 1)
    assert (scale.start, scale.steady_max, scale.peak) == (2, 2, 3)
    assert scale.starts_above_min
    big = PROFILES[profile].kubernetes.node_group_scale(3, 5)
    assert (big.start, big.steady_max, big.peak) == (2, 5, 10)


def test_a_platform_that_leaves_replicas_to_the_autoscaler_starts_at_min_replicas() -> None:
    """Cozystack v1.6+: no chart-managed replicas; the surge stays maxReplicas."""
    v16 = dataclasses.replace(HIKUBE, node_group_start_replicas=None)
    scale = v16.node_group_scale(1, 4)
    assert (scale.start, scale.steady_max, scale.peak) == (1, 4, 8)


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
