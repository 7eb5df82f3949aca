"""What a tenant GPU cluster depends on, per platform profile, read in the upstream files.

Cozystack v1.6.0 runs tenant workers on Talos instead of Ubuntu (kubeadm): the NVIDIA driver
can no longer come from the GPU Operator's driver container, and the toolkit container must
stay off. The rest of the GPU path (GPUs to worker VMs, role labels, the operator's values,
HAMi off) is unchanged, and pinned here against the chart at each profile's tag.
Evidence: docs/platform-behaviour.md (P12); the files under tests/upstream.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalog.platform import PROFILES, TALOS, UBUNTU
from stacks.commands.doctor.version import MIGRATIONS
from tests.cluster_stacks import cluster_stack
from tests.helpers import expect_problem, objects, problems_of, reference, reference_data, run_config
from tests.upstream.refresh import folder_files, numbered_excerpt

TAGS = {"hikube": "v1.1.2", "cozystack-1.4": "v1.4.0", "cozystack-1.6": "v1.6.0"}
KUBERNETES = "packages/apps/kubernetes/templates/"


def _templates(tag: str) -> dict[str, list[str]]:
    """The Kubernetes app's templates at ``tag``: path → lines (line n at index n-1)."""
    text = reference("cozystack", tag, "apps", "kubernetes", "templates.txt").read_text(encoding="utf-8")
    return folder_files(text)


def _lines(tag: str, name: str, first: int, last: int) -> list[str]:
    return _templates(tag)[KUBERNETES + name][first - 1 : last]


def _excerpt(*parts: str) -> dict[int, str]:
    return numbered_excerpt(reference(*parts).read_text(encoding="utf-8"))


def _gpu_cluster(profile: str, **operator: Any) -> dict[str, Any]:
    group = {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 1}
    cluster: dict[str, Any] = {"nodeGroups": {"l40s": group}}
    if operator:
        cluster["addons"] = {"gpuOperator": operator}
    return {
        "platform": {"namespace": "tenant-test", "profile": profile},
        "quota": {"L40S": 1},
        "clusters": {"ml": cluster},
    }


DRIVER = "hikube-gpu:clusters.ml.addons.gpuOperator.driver"


# --- the workers' OS, read in the chart --------------------------------------------------


@pytest.mark.parametrize(("profile", "tag"), sorted(TAGS.items()))
def test_the_workers_os_is_the_charts(profile: str, tag: str) -> None:
    """A node group's MachineDeployment bootstraps from a KubeadmConfigTemplate (v1.1.2
    cluster.yaml:325, v1.4.0 :559) or a TalosConfigTemplate (v1.6.0 :796)."""
    cluster = _templates(tag)[KUBERNETES + "cluster.yaml"]
    kinds = {line.split("kind: ")[1] for line in cluster if re.fullmatch(r"\s+kind: \w+ConfigTemplate", line)}
    assert kinds == {PROFILES[profile].kubernetes.workers.bootstrap}


def test_talos_workers_boot_the_schematic_of_the_app_values() -> None:
    """v1.6.0 cluster.yaml:104: the worker disk is the Talos image of ``talos.schematicID``, whose
    default is "the cozystack-tested vanilla schematic" (values.yaml:287, :294): no extension."""
    (url,) = _lines("v1.6.0", "cluster.yaml", 104, 104)
    assert "{{ $.Values.talos.schematicID }}" in url
    assert url.endswith("openstack-amd64.raw.xz")
    values = reference("cozystack", "v1.6.0", "apps", "kubernetes", "values.yaml").read_text().splitlines()
    assert "vanilla schematic" in values[287 - 1]
    assert "system extensions" in values[287 - 1]
    assert values[294 - 1].strip().startswith("schematicID: ")
    assert PROFILES["cozystack-1.6"].kubernetes.workers is TALOS


@pytest.mark.parametrize(("profile", "tag"), sorted(TAGS.items()))
def test_no_chart_loads_kernel_modules_on_workers(profile: str, tag: str) -> None:
    """NVIDIA's Talos extensions ship the modules but load none; the worker configuration must
    (``machine.kernel.modules``). v1.6.0's machine config (talos-reconcile-job.yaml:341-448) has
    no ``kernel`` key, and no version's worker bootstrap loads a module."""
    app = PROFILES[profile].kubernetes
    bootstrap = "\n".join(
        line for path, lines in _templates(tag).items() for line in lines if path.startswith(KUBERNETES)
    )
    loads = bool(re.search(r"^\s+kernel:\s*$|modprobe|modules-load", bootstrap, re.MULTILINE))
    assert app.loads_gpu_kernel_modules == loads
    if app.workers is TALOS:
        config = _lines(tag, "talos/talos-reconcile-job.yaml", 341, 448)
        assert (config[0].strip(), config[-1].strip()) == ("data: |", "EOF")
        assert "machine:" in {line.strip() for line in config}
        assert not any(line.strip() == "kernel:" for line in config)


def test_talos_gpu_groups_get_only_the_hami_label() -> None:
    """talos-reconcile-job.yaml:382-393: GPU groups' nodes get ``gpu: "on"`` (for HAMi's device
    plugin); roles stay Machine labels (cluster.yaml:789-791), as on v1.1.2 (cluster.yaml:318-320),
    whose kubeadm workers pass no node labels at all."""
    block = [line.strip() for line in _lines("v1.6.0", "talos/talos-reconcile-job.yaml", 382, 393)]
    assert (block[0], block[-1]) == ("{{- if .group.gpus }}", "{{- end }}")
    assert block[-3:-1] == ["nodeLabels:", 'gpu: "on"']
    for tag, first in (("v1.6.0", 789), ("v1.1.2", 318)):
        roles = [line.strip() for line in _lines(tag, "cluster.yaml", first, first + 2)]
        assert roles == ["{{- range $group.roles }}", 'node-role.kubernetes.io/{{ . }}: ""', "{{- end }}"]


@pytest.mark.parametrize(("tag", "first"), [("v1.1.2", 50), ("v1.6.0", 156)])
def test_node_group_gpus_become_kubevirt_gpus_of_the_worker_vms(tmp_path: Path, tag: str, first: int) -> None:
    """Unchanged by Talos: each ``gpus[].name`` is one KubeVirt GPU of the worker VM
    (v1.1.2 cluster.yaml:50-55, v1.6.0 :156-161); we render one entry per GPU."""
    block = [line.strip() for line in _lines(tag, "cluster.yaml", first, first + 5)]
    assert block == [
        "{{- if .group.gpus }}",
        "gpus:",
        "{{- range $i, $gpu := .group.gpus }}",
        "- name: gpu{{ add $i 1 }}",
        "deviceName: {{ $gpu.name }}",
        "{{- end }}",
    ]
    config = _gpu_cluster("cozystack-1.6", driver={"enabled": False})
    config["clusters"]["ml"]["nodeGroups"]["l40s"]["gpus"] = {"L40S": 2}
    config["quota"] = {"L40S": 2}
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    group = objects(run)["Kubernetes/ml"]["spec"]["nodeGroups"]["l40s"]
    assert group["gpus"] == [{"name": "nvidia.com/AD102GL_L40S"}] * 2


def test_every_kubernetes_version_is_in_the_talos_support_matrix() -> None:
    """v1.6.0 cluster.yaml:18-26 fails the release when ``version`` is outside the matrix of the
    default Talos minor (values.yaml:293: v1.13.6)."""
    matrix = "\n".join(_lines("v1.6.0", "cluster.yaml", 18, 20))
    found = re.search(r'"(v\d+\.\d+)" \(list ((?:"v[\d.]+" ?)+)\)', matrix)
    assert found is not None
    values = yaml.safe_load(reference("cozystack", "v1.6.0", "apps", "kubernetes", "values.yaml").read_text())
    assert values["talos"]["version"].startswith(found.group(1) + ".")
    assert set(PROFILES["cozystack-1.6"].kubernetes.versions) <= set(
        re.findall(r'"(v[\d.]+)"', found.group(2))
    )


# --- the GPU Operator's driver and toolkit on Talos ---------------------------------------


def test_the_driver_image_is_tagged_with_the_nodes_os() -> None:
    """gpu-operator v26.3.1 (the chart inside Cozystack v1.6.0) pulls ``<image>:<version>-<osTag>``
    (object_controls.go:3356-3358), osTag being the node's os-release ID and VERSION_ID
    (state_manager.go:657-661, :680): ``…-talosv1.13.6`` on Talos workers, a tag NVIDIA does not
    publish. The driver container is therefore not an option there."""
    controls = _excerpt("gpu-operator", "v26.3.1", "object_controls.go.txt")
    assert 'image = fmt.Sprintf("%s-%s", image, n.gpuNodeOSTag)' in controls[3358]
    state = _excerpt("gpu-operator", "v26.3.1", "state_manager.go.txt")
    assert "nfdOSReleaseIDLabelKey" in state[657]
    assert "nfdOSVersionIDLabelKey" in state[661]
    assert state[680].strip() == 'osTag := fmt.Sprintf("%s%s", osName, osVersion)'
    assert (TALOS.operator_driver, UBUNTU.operator_driver) == (False, True)


def test_cozystack_switches_driver_and_toolkit_containers_off_on_talos() -> None:
    """v1.6.0 examples/values-native-talos.yaml:30-34: the Talos extension provides the driver and
    the runtime hooks, so the operator's toolkit and driver containers must be off."""
    path = ("cozystack", "v1.6.0", "system", "gpu-operator", "examples", "values-native-talos.yaml")
    lines = reference(*path).read_text().splitlines()
    assert "Talos extension provides the driver and runtime hooks" in lines[30 - 1]
    assert "toolkit and driver components must be" in lines[31 - 1]
    values = reference_data(*path)["spec"]["components"]["gpu-operator"]["values"]["gpu-operator"]
    assert values["toolkit"] == {"enabled": False}
    assert (TALOS.operator_toolkit, UBUNTU.operator_toolkit) == (False, True)


def _chart_sees(cluster_values: dict[str, Any]) -> dict[str, Any]:
    """The values NVIDIA's chart gets in a tenant cluster at v1.6.0: its own defaults, under the
    wrapper's (``packages/system/gpu-operator/values.yaml``: the tenant component names no other
    values file, ``sources/kubernetes-application.yaml:55-56``), under the release's values
    (Cozystack's defaults from ``helmreleases/gpu-operator.yaml:19-28`` with HAMi off, then ours,
    ``:61-66``)."""
    chart = copy.deepcopy(
        reference_data("cozystack", "v1.6.0", "system", "gpu-operator", "upstream-chart-values.yaml")
    )
    wrapper = reference_data("cozystack", "v1.6.0", "system", "gpu-operator", "values.yaml")["gpu-operator"]
    source = reference_data("cozystack", "v1.6.0", "core", "platform", "sources-kubernetes-application.yaml")
    (component,) = [
        c for c in source["spec"]["variants"][0]["components"] if c["name"] == "kubernetes-gpu-operator"
    ]
    assert component == {"name": "kubernetes-gpu-operator", "path": "system/gpu-operator"}
    merged = chart
    for layer in (wrapper, _cozystack_defaults(hami=False)["gpu-operator"], cluster_values["gpu-operator"]):
        merged = _deep_merge(merged, layer)
    return merged


def _deep_merge(base: Any, top: Any) -> Any:
    if isinstance(base, dict) and isinstance(top, dict):
        return {**base, **{key: _deep_merge(base.get(key), value) for key, value in top.items()}}
    return copy.deepcopy(top)


def _cozystack_defaults(hami: bool) -> dict[str, Any]:
    """``cozystack.defaultGpuOperatorValues`` (v1.6.0 helmreleases/gpu-operator.yaml:19-28)."""
    lines = _lines("v1.6.0", "helmreleases/gpu-operator.yaml", 19, 28)
    kept, keep = [], True
    for line in lines:
        if "{{- if .Values.addons.hami.enabled }}" in line:
            keep = hami
        elif "{{- end }}" in line:
            keep = True
        elif keep:
            kept.append(line)
    defaults: dict[str, Any] = yaml.safe_load("\n".join(kept))
    return defaults


def test_on_cozystack_1_6_the_operator_gets_no_driver_or_toolkit_container(tmp_path: Path) -> None:
    """The chart's defaults turn both on (v1.6.0 upstream-chart-values.yaml:119, :211), neither
    Cozystack's wrapper nor its defaults turn them off: the tenant values must."""
    run = run_config(tmp_path, _gpu_cluster("cozystack-1.6", driver={"enabled": False}))
    assert run.failure is None, run.failure
    ours = objects(run)["Kubernetes/ml"]["spec"]["addons"]["gpuOperator"]["valuesOverride"]
    chart = reference("cozystack", "v1.6.0", "system", "gpu-operator", "upstream-chart-values.yaml")
    lines = chart.read_text().splitlines()
    assert (lines[118 - 1], lines[119 - 1]) == ("driver:", "  enabled: true")
    assert (lines[210 - 1], lines[211 - 1]) == ("toolkit:", "  enabled: true")
    seen = _chart_sees(ours)
    assert (seen["driver"]["enabled"], seen["toolkit"]["enabled"]) == (False, False)
    assert seen["driver"]["kernelModuleConfig"]["name"] == "nvidia-kernel-module-params"  # Cozystack's, kept


def test_ubuntu_profiles_keep_the_driver_container_and_render_no_toolkit_key(tmp_path: Path) -> None:
    """Hikube's output is unchanged: ``driver.enabled`` defaults to true there, no toolkit key."""
    config = _gpu_cluster("hikube")
    config["quota"] = {"L40S": 2}  # Hikube starts every group with two nodes (P2)
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    values = objects(run)["Kubernetes/ml"]["spec"]["addons"]["gpuOperator"]["valuesOverride"]["gpu-operator"]
    assert values["driver"] == {"enabled": True}
    assert "toolkit" not in values


def test_a_gpu_cluster_on_talos_workers_must_say_the_driver_is_there(tmp_path: Path) -> None:
    expect_problem(
        tmp_path,
        _gpu_cluster("cozystack-1.6"),
        f"{DRIVER}.enabled",
        "is not set, but the GPU Operator's driver container cannot install the NVIDIA driver on "
        "Talos workers (cozystack-1.6 platform, Cozystack v1.6+): NVIDIA publishes no "
        "driver:<version>-talos<release> image; the driver must come from the worker image (NVIDIA's "
        "system extensions, their kernel modules loaded), which the Kubernetes app cannot ask for "
        "(vanilla default schematic, no kernel-module setting: cozystack#3563); once the platform "
        "team provides it, set false",
    )


def test_the_driver_container_is_refused_on_talos_workers(tmp_path: Path) -> None:
    config = _gpu_cluster("cozystack-1.6", driver={"enabled": True, "version": "570.124.06"})
    problems = {p.path: p.message for p in problems_of(tmp_path, config)}
    assert set(problems) == {f"{DRIVER}.enabled", f"{DRIVER}.version"}
    assert problems[f"{DRIVER}.enabled"].startswith("the GPU Operator's driver container cannot install")
    assert problems[f"{DRIVER}.version"] == (
        "no driver container runs on Talos workers (cozystack-1.6 platform, Cozystack v1.6+): the "
        "driver is the worker image's; remove it"
    )


def test_clusters_without_gpus_need_no_driver_on_talos_workers(tmp_path: Path) -> None:
    config = _gpu_cluster("cozystack-1.6")
    config["clusters"]["ml"] = {
        "nodeGroups": {"md0": {"minReplicas": 1}},
        "addons": {"gpuOperator": {"enabled": True}},
    }
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure


# --- HAMi stays off: it would switch off the device plugin our sharing configures ----------


def test_hami_would_switch_off_the_device_plugin() -> None:
    """v1.6.0 helmreleases/gpu-operator.yaml:25-28 set ``devicePlugin.enabled: false`` when HAMi is
    on; our time-slicing, MPS and MIG configs are the device plugin's."""
    assert _cozystack_defaults(hami=True)["gpu-operator"]["devicePlugin"] == {"enabled": False}
    assert "devicePlugin" not in _cozystack_defaults(hami=False)["gpu-operator"]


def test_sharing_clusters_render_hami_off_and_cozystack_defaults_cannot_override_us(tmp_path: Path) -> None:
    """The release's values are ``mergeOverwrite`` of Cozystack's defaults and ours
    (gpu-operator.yaml:61-63): with no leaf in common, none of ours is dropped or replaced."""
    run = run_config(tmp_path, cluster_stack("cozystack-1.6"))
    assert run.failure is None, run.failure
    spec = objects(run)["Kubernetes/train"]["spec"]
    assert spec["addons"]["hami"] == {"enabled": False, "valuesOverride": {}}
    ours = spec["addons"]["gpuOperator"]["valuesOverride"]
    assert "devicePlugin" in ours["gpu-operator"]  # the sharing configs
    for hami in (False, True):
        assert _leaves(ours) & _leaves(_cozystack_defaults(hami)) == set()


def _leaves(value: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        return set().union(*(_leaves(item, (*prefix, key)) for key, item in value.items()))
    return {prefix}


# --- doctor's Cozystack version -> profile ------------------------------------------------


@pytest.mark.parametrize(("tag", "line"), [(f"v1.{n}.0", 17 if n == 6 else 9) for n in range(7)])
def test_doctor_knows_the_migration_counter_of_each_minors_first_tag(tag: str, line: int) -> None:
    """``migrations.targetVersion`` of ``packages/core/platform/values.yaml`` at each minor's first
    tag (the ``cozystack-version`` ConfigMap holds it): v1.6.0 line 17, the others line 9."""
    counter = int(_excerpt("cozystack", tag, "core", "platform", "values-migrations.txt")[line].split(":")[1])
    minor = tuple(int(part) for part in tag.lstrip("v").split(".")[:2])
    assert (counter, minor) in MIGRATIONS
