"""Edges the platform enforces (issue 22): stack files a careful platform engineer expects to be
refused, from upstream behaviour, and one that mirrors what Cozystack itself deploys.

Each case states the upstream reason; the data behind the rules is checked against the vendored
upstream files in ``tests/test_derived_names.py`` and below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR, main, run_stack
from stacks.commands.diff.risks import quota_risks, stack_quota
from stacks.commands.preview.render import render
from stacks.commands.preview.report import preview_text
from stacks.loading.problems import ConfigError, Problem
from stacks.validation.validate import validate
from tests.helpers import SSH_KEY, problems_of, reference, reference_data, write_stack
from tests.upstream.refresh import folder_files, numbered_excerpt

T = "hikube-gpu"


def tenant(profile: str = "hikube", **top: Any) -> dict[str, Any]:
    return {"platform": {"namespace": "tenant-test", "profile": profile}, **top}


def cluster(name: str = "ml", *, profile: str = "hikube", **spec: Any) -> dict[str, Any]:
    groups = spec.pop("nodeGroups", {"l40s": {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 2}})
    return tenant(profile, clusters={name: {"nodeGroups": groups, **spec}})


def workload(profile: str = "hikube", group: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    groups = {"l40s": group or {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 2}}
    return cluster(
        profile=profile,
        nodeGroups=groups,
        workloads={"w": {"image": "vllm/vllm:v0.6", "gpus": {"L40S": 1}, **spec}},
    )


def vm(name: str = "ws", *, profile: str = "hikube", **spec: Any) -> dict[str, Any]:
    return tenant(profile, vms={name: {"gpus": {"L40S": 1}, "sshKeys": [SSH_KEY], **spec}})


def errors(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        validate(raw)
    return {p.path: p.message for p in caught.value.problems}


def warnings(raw: dict[str, Any]) -> dict[str, str]:
    return {p.path: p.message for p in validate(raw).warnings}


# --- 1. names the platform derives ----------------------------------------------------------------


def test_a_cluster_name_fits_every_release_flux_labels_with_it() -> None:
    """Cozystack v1.1.2 always renders kubernetes-<cluster>-prometheus-operator-crds, a HelmRelease
    whose name Flux copies into a label: 27 characters is the most (the old limit said 42)."""
    message = errors(cluster("c" * 28))[f"{T}:clusters.{'c' * 28}"]
    assert "'kubernetes-" + "c" * 28 + "-prometheus-operator-crds', 64 characters" in message
    assert "helm.toolkit.fluxcd.io/name" in message
    assert "prometheus-operator-crds.yaml:4" in message
    assert message.endswith("use a cluster name of at most 27 characters")
    validate(cluster("c" * 27))  # the longest that fits, without the monitoring add-on


def test_an_add_on_that_is_off_warns_and_one_that_is_on_refuses() -> None:
    name = "c" * 22  # kubernetes-<22>-cozy-victoria-metrics-operator is 64 characters
    off = warnings(cluster(name))[f"{T}:clusters.{name}"]
    assert off.startswith("turning on addons.monitoringAgents would fail")
    assert off.endswith("use a cluster name of at most 21 characters")
    on = errors(cluster(name, addons={"monitoringAgents": {"enabled": True}}))[f"{T}:clusters.{name}"]
    assert "cozy-victoria-metrics-operator" in on
    assert on.endswith("at most 21 characters")


def test_a_node_group_fits_its_machines_deployment_name_label() -> None:
    groups = {"g" * 32: {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 2}}
    message = errors(cluster("c" * 20, nodeGroups=groups))[f"{T}:clusters.{'c' * 20}.nodeGroups.{'g' * 32}"]
    assert "cluster.x-k8s.io/deployment-name" in message
    assert "64 characters" in message
    assert "cluster.yaml:312" in message
    assert "at most 31 characters" in message


@pytest.mark.parametrize("profile", ["hikube", "cozystack-1.4"])
def test_a_vms_system_disk_fits_its_resize_job(profile: str) -> None:
    """vm-disk-<vm>-system-volume-resize-hook is a Job name (its pods get it as a label): a VM
    name of 30 characters fails when the disk grows (the old limit accepted 39)."""
    message = errors(vm("v" * 30, profile=profile))[f"{T}:vms.{'v' * 30}.disk"]
    assert "volume-resize-hook', 64 characters" in message
    assert "pvc-resize-hook.yaml:18" in message
    assert message.endswith("may have at most 36 characters")
    validate(vm("v" * 29, profile=profile))


def test_a_data_disk_fits_its_resize_job() -> None:
    path = f"{T}:vms.ws.dataDisks.{'d' * 34}"
    assert "volume-resize-hook" in errors(vm(dataDisks={"d" * 34: {"size": "10Gi"}}))[path]


def test_a_vm_name_fits_its_update_job() -> None:
    """vm-instance-<vm>-update-hook (a Job and its app label): 39 characters at most."""
    message = errors(vm("v" * 40, disk={"size": "50Gi"}))[f"{T}:vms.{'v' * 40}"]
    assert "update-hook', 64 characters" in message
    assert message.endswith("at most 39 characters")


def test_two_node_groups_with_one_role_label_are_refused() -> None:
    """a100 and gpu-a100 both get node-role.kubernetes.io/gpu-a100: pinning a workload to one of
    them would place it on the other's nodes too."""
    groups = {"a100": {"gpus": {"A100": 1}}, "gpu-a100": {"gpus": {"A100": 1}}}
    message = errors(cluster(nodeGroups=groups))[f"{T}:clusters.ml.nodeGroups.gpu-a100"]
    assert "node-role.kubernetes.io/gpu-a100, as node group a100's do" in message
    groups: dict[str, Any] = {"a100": {"gpus": {"A100": 1}}, "cpu": {"roles": ["ingress-nginx", "gpu-a100"]}}
    message = errors(cluster(nodeGroups=groups))[f"{T}:clusters.ml.nodeGroups.cpu.roles[1]"]
    assert "node group a100's GPU role label" in message


def test_a_statefulset_name_leaves_room_for_its_revision_hash() -> None:
    raw = workload(kind="StatefulSet")
    raw["clusters"]["ml"]["workloads"] = {"s" * 53: raw["clusters"]["ml"]["workloads"]["w"]}
    message = errors(raw)[f"{T}:clusters.ml.workloads.{'s' * 53}"]
    assert "at most 52 characters" in message
    assert "controller-revision-hash" in message
    raw["clusters"]["ml"]["workloads"] = {"s" * 52: raw["clusters"]["ml"]["workloads"]["s" * 53]}
    validate(raw)


def test_name_problems_register_nothing(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, vm("v" * 30))
    assert [p.path for p in problems] == [f"{T}:vms.{'v' * 30}.disk"]


# --- 2. external ports ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "path", "message"),
    [
        ([], "external.ports", "is empty, so nothing would be forwarded or admitted"),
        ([22, 80, 22], "external.ports[2]", "22 is already listed at ports[0]"),
        ([True], "external.ports[0]", "expected a whole number, got true"),
        ([22, False], "external.ports[1]", "expected a whole number, got false"),
        ([0], "external.ports[0]", "0 is not a TCP/UDP port (1-65535)"),
        ([65536], "external.ports[0]", "65536 is not a TCP/UDP port (1-65535)"),
    ],
)
def test_bad_port_lists_are_refused_with_their_path(ports: list[Any], path: str, message: str) -> None:
    assert message in errors(vm(external={"ports": ports}))[f"{T}:vms.ws.{path}"]


def test_the_service_names_each_port_so_a_port_listed_twice_breaks_it() -> None:
    service = folder_files(
        reference("cozystack", "v1.1.2", "apps", "vm-instance", "templates.txt").read_text()
    )
    lines = service["packages/apps/vm-instance/templates/service.yaml"]
    assert lines[29].strip() == "{{- range .Values.externalPorts }}"
    assert lines[30].strip() == "- name: port-{{ . }}"
    types = numbered_excerpt(reference("kubernetes", "api", "v0.34.0", "core-v1-types.go.txt").read_text())
    assert "All ports within a ServiceSpec must have unique names" in types[6094]


def test_a_workload_lists_each_port_once() -> None:
    assert (
        "8000 is already listed"
        in errors(workload(ports=[8000, 8000]))[f"{T}:clusters.ml.workloads.w.ports[1]"]
    )


def test_the_guest_firewall_is_refused_on_a_windows_guest() -> None:
    windows: dict[str, Any] = {"instanceProfile": "windows.2k22", "nvidiaDriver": {"install": False}}
    message = errors(vm(external={"ports": [3389]}, **windows))[f"{T}:vms.ws.external.guestFirewall"]
    assert "a windows.2k22 guest has neither" in message
    assert "every port of this VM is reachable" in message
    said = warnings(vm(external={"ports": [3389], "guestFirewall": False}, **windows))
    assert (
        "only Windows Defender Firewall in the guest protects it"
        in said[f"{T}:vms.ws.external.guestFirewall"]
    )
    validate(vm(profile="cozystack-1.4", external={"ports": [3389]}, **windows))  # PortList filters there


# --- 3. sharing ---------------------------------------------------------------------------------------


def test_more_than_one_mps_share_per_pod_is_refused() -> None:
    mps = {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 2, "sharing": {"mps": {"replicas": 4}}}
    message = errors(workload(group=mps, gpus={"L40S": 2}))[f"{T}:clusters.ml.workloads.w.gpus.L40S"]
    assert "refuses a container more than one MPS share" in message
    validate(workload(group=mps, gpus={"L40S": 1}))
    sliced = {**mps, "sharing": {"timeSlicing": {"replicas": 4}}}
    validate(workload(group=sliced, gpus={"L40S": 2}))  # time-slicing does not force it


def test_the_device_plugin_of_the_tenant_chart_forces_one_mps_share() -> None:
    values = reference_data("cozystack", "v1.1.2", "system", "gpu-operator", "upstream-chart-values.yaml")
    assert values["devicePlugin"]["version"] == "v0.17.1"  # the excerpts' tag
    config = numbered_excerpt(reference("k8s-device-plugin", "v0.17.1", "config.go.txt").read_text())
    assert "config.Sharing.MPS.FailRequestsGreaterThanOne = true" in config[76]
    rm = "\n".join(
        numbered_excerpt(reference("k8s-device-plugin", "v0.17.1", "rm.go.txt").read_text()).values()
    )
    mps = rm[rm.index("case spec.SharingStrategyMPS:") :]
    assert "if includesReplicas && numRequestedDevices > 1 {" in mps


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (tenant(quota={"L40S": True}), "quota.L40S"),
        (vm(gpus={"L40S": True}), "vms.ws.gpus.L40S"),
        (cluster(nodeGroups={"g": {"gpus": {"A100": True}}}), "clusters.ml.nodeGroups.g.gpus.A100"),
        (workload(gpus={"L40S": True}), "clusters.ml.workloads.w.gpus.L40S"),
        (
            cluster(
                nodeGroups={"g": {"gpus": {"A100": 1}, "sharing": {"mig": {"layout": {"1g.10gb": True}}}}}
            ),
            "clusters.ml.nodeGroups.g.sharing.mig.layout.1g.10gb",
        ),
        (workload(replicas=True), "clusters.ml.workloads.w.replicas"),
    ],
)
def test_gpu_counts_are_never_booleans(raw: dict[str, Any], path: str) -> None:
    assert errors(raw)[f"{T}:{path}"] == "expected a whole number, got true (a YAML boolean)"


# --- 4. namespaces the stack must not own -------------------------------------------------------------


@pytest.mark.parametrize(
    "namespace", ["kube-system", "default", "kube-flannel", "cozy-gpu-operator", "tenant-root", "kubevirt"]
)
def test_the_gpu_operator_may_not_own_a_system_namespace(namespace: str) -> None:
    message = errors({"kind": "platform", "gpuOperator": {"namespace": namespace}})[
        f"{T}:gpuOperator.namespace"
    ]
    assert message.startswith(f"'{namespace}' belongs to ")
    assert "deleted by pulumi destroy" in message


def test_cozystacks_own_gpu_operator_namespace_is_refused() -> None:
    from components.catalog.namespaces import ON_HOST_CLUSTER, owner_of

    source = reference_data("cozystack", "v1.1.2", "core", "platform", "sources-gpu-operator.yaml")
    namespace = source["spec"]["variants"][0]["components"][0]["install"]["namespace"]
    assert owner_of(namespace, ON_HOST_CLUSTER) is not None


@pytest.mark.parametrize("namespace", ["kube-system", "default", "cozy-cilium"])
def test_a_workload_may_not_own_a_system_namespace(namespace: str) -> None:
    message = errors(workload(namespace=namespace))[f"{T}:clusters.ml.workloads.w.namespace"]
    assert "the stack creates its workloads' namespaces (and deletes them on destroy)" in message


# --- 5. requests that cannot schedule -----------------------------------------------------------------


def test_a_request_must_fit_what_the_node_leaves_to_pods() -> None:
    group = {"gpus": {"L40S": 1}, "instanceType": "u1.2xlarge", "minReplicas": 1, "maxReplicas": 2}
    message = errors(workload(group=group, memory="32Gi"))[f"{T}:clusters.ml.workloads.w.memory"]
    assert "a u1.2xlarge node of l40s (32Gi) leaves pods 32668Mi" in message  # evictionHard 100Mi
    validate(workload(group=group, memory="31Gi", cpu="8"))  # no reservation on Cozystack v1.1.2
    on_1_4 = errors(workload("cozystack-1.4", group=group, memory="28Gi", cpu="8"))
    assert "leaves pods 7200m" in on_1_4[f"{T}:clusters.ml.workloads.w.cpu"]
    assert "leaves pods 28426Mi" in on_1_4[f"{T}:clusters.ml.workloads.w.memory"]


# --- 6. imports ---------------------------------------------------------------------------------------


def _dev(tmp_path: Path, **keys: Any) -> Path:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    document["config"].update({f"{T}:{key}": value for key, value in keys.items()})
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_import_on_a_platform_stack_is_refused(tmp_path: Path) -> None:
    config = {"kind": "platform", "import": {"vms": ["gpu-vm"]}}
    run = run_stack(PROJECT_DIR, "test", write_stack(tmp_path, config), engine="plan")
    assert isinstance(run.failure, ConfigError)
    assert [str(p) for p in run.failure.problems] == [
        f"{T}:import: a platform stack adopts nothing: hikube-gpu:import names a tenant stack's VMs "
        "and clusters (Cozystack apps); remove it"
    ]


@pytest.mark.parametrize("engine", ["plan", "pulumi"])
def test_one_bad_import_entry_hides_no_other_problem(
    tmp_path: Path, engine: Literal["plan", "pulumi"]
) -> None:
    vms = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"][f"{T}:vms"]
    vms["ws-1"]["gpus"] = {"H200": 1}
    path = _dev(tmp_path, vms=vms, **{"import": {"vms": ["nope", "trainer"], "clusters": ["ml"]}})
    run = run_stack(PROJECT_DIR, "dev", path, engine=engine)
    assert isinstance(run.failure, ConfigError)
    assert {p.path for p in run.failure.problems} == {f"{T}:import.vms[0]", f"{T}:vms.ws-1.gpus.H200"}


def test_an_import_entry_stored_as_a_secret_gets_the_secrets_message(tmp_path: Path) -> None:
    path = _dev(tmp_path, **{"import": {"vms": [{"secure": "v1:AAAAFakeCiphertext"}]}})
    run = run_stack(PROJECT_DIR, "dev", path)
    assert isinstance(run.failure, ConfigError)
    [problem] = run.failure.problems
    assert problem == Problem(
        f"{T}:import.vms[0]",
        "stored as a secret, but it becomes the name of a VM or cluster to import, which cannot be "
        "secret; store it with `pulumi config set` (no --secret)",
    )


def test_adopted_objects_show_as_imports_in_preview_and_render(tmp_path: Path) -> None:
    run = run_stack(PROJECT_DIR, "dev", _dev(tmp_path, **{"import": {"vms": ["trainer"]}}))
    text = preview_text(run)
    rows = [line for line in text.splitlines() if "trainer-instance" in line or "trainer-disk-system" in line]
    assert len(rows) == 2
    assert all(row.startswith(" =") and row.split()[-1] == "import" for row in rows), rows
    assert "    = 3 to import" in text  # instance, system and data disk
    written = render(run, tmp_path / "out")
    instance = next(p for p in written if p.name == "vminstance-trainer.yaml").read_text()
    assert "# import: tenant-dev/trainer (pulumi up adopts the existing object" in instance
    plain = next(p for p in written if p.name == "vminstance-ws-1.yaml").read_text()
    assert "# import:" not in plain


# --- 7. KubeVirt feature gates --------------------------------------------------------------------------


def _cozystack_gates() -> list[str]:
    text = reference("cozystack", "v1.1.2", "system", "kubevirt", "kubevirt-cr.yaml").read_text()
    block = text[text.index("featureGates:") : text.index("evictionStrategy:")]
    return [line.strip().removeprefix("- ") for line in block.splitlines()[1:] if line.strip()]


def test_a_platform_stack_mirroring_cozystacks_kubevirt_gates_gets_warnings_not_errors() -> None:
    makefile = numbered_excerpt(
        reference("cozystack", "v1.1.2", "system", "kubevirt-operator", "Makefile.txt").read_text()
    )
    assert "export RELEASE=v1.6.3" in makefile[10]  # the KubeVirt Cozystack v1.1.2 deploys
    gates = _cozystack_gates()
    assert gates == [
        "HotplugVolumes",
        "ExpandDisks",
        "LiveMigration",
        "AutoResourceLimitsGate",
        "CPUManager",
        "GPU",
        "VMExport",
    ]
    raw = {"kind": "platform", "kubevirt": {"version": "1.6", "gpus": ["L40S"], "featureGates": gates}}
    found = warnings(raw)
    for index in (2, 3, 5):  # LiveMigration, AutoResourceLimitsGate, GPU: GA in KubeVirt 1.6
        message = found[f"{T}:kubevirt.featureGates[{index}]"]
        assert f"{gates[index]} is GA since KubeVirt" in message
        assert "ignores the gate" in message


GATE_FILES = {
    (1, 3): "deprecation-feature-gates-v1.3.0.go.txt",
    (1, 4): "deprecation-feature-gates-v1.4.0.go.txt",
    (1, 5): "featuregate-inactive-v1.5.0.go.txt",
    (1, 6): "featuregate-inactive-v1.6.3.go.txt",
    (1, 8): "featuregate-inactive-v1.8.0.go.txt",
    (1, 9): "featuregate-inactive-v1.9.0.go.txt",
}
"""Where each KubeVirt version registers its GA and deprecated gates (the one on each side of
every GA or deprecation version the catalog names)."""


def _states(file: str) -> dict[str, str]:
    """Gate name → state, as the vendored registration file of a KubeVirt version says."""
    import re

    text = reference("kubevirt", file).read_text()
    constants = dict(re.findall(r"^\s+(\w+)\s*=\s*\"(\w+)\"", text, re.MULTILINE))
    return {
        constants[name]: state
        for name, state in re.findall(r"FeatureGate\{Name: (\w+), State: (\w+)", text)
        if name in constants
    }


@pytest.mark.parametrize(("at", "file"), list(GATE_FILES.items()), ids=str)
def test_the_gate_states_agree_with_kubevirt(at: tuple[int, int], file: str) -> None:
    from components.catalog.kubevirt import FEATURE_GATES

    states = _states(file)
    assert len(states) >= 5
    for gate in FEATURE_GATES.values():
        ga = gate.ga is not None and gate.ga <= at
        deprecated = gate.deprecated is not None and gate.deprecated <= at
        assert (states.get(gate.name) == "GA") == ga, (gate.name, at)
        assert (states.get(gate.name) == "Deprecated") == deprecated, (gate.name, at)


# --- 8. smaller -------------------------------------------------------------------------------------


def test_a_defaults_path_that_is_a_folder_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    (tmp_path / "customers").mkdir()
    write_stack(tmp_path, {"defaults": "customers", "platform": {"namespace": "tenant-a"}})
    assert main(["preview", "--stack", "test", "--project-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{T}:defaults: 'customers' is a folder; name a defaults file in it, e.g. customers/acme.yaml" in err
    )


def test_a_platform_stacks_diff_flags_no_missing_gpu_quota() -> None:
    platform = stack_quota({f"{T}:kind": "platform"}, T)
    assert quota_risks({}, platform) == []  # a new platform stack
    assert [r.path for r in quota_risks({}, stack_quota({}, T))] == [f"{T}:quota"]  # a tenant one still is


def test_quota_and_capacity_count_the_same_nodes_at_max_replicas_1() -> None:
    """maxReplicas 1 on Cozystack v1.1.2: the platform runs 2 nodes (replicas: 2), the quota
    counts 2 GPUs, and two one-GPU pods fit them (a warning says the autoscaler will not add
    the second node back once it removes it); three do not."""
    group = {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 1}
    quota = errors({**workload(group=group, replicas=2), "quota": {"L40S": 1}})[f"{T}:quota.L40S"]
    assert "asks for 2 L40S GPUs" in quota
    two = warnings(workload(group=group, replicas=2))[f"{T}:clusters.ml.workloads.w.replicas"]
    assert "l40s holds 2 at the nodes the platform runs and the quota counts" in two
    assert "but only 1 at maxReplicas" in two
    three = errors(workload(group=group, replicas=3))[f"{T}:clusters.ml.workloads.w.replicas"]
    assert "3 pods × 1 need 3 L40S GPUs; l40s holds 2" in three


def test_the_example_stacks_stay_valid() -> None:
    for path in sorted(
        [PROJECT_DIR / "Pulumi.dev.yaml", *(PROJECT_DIR / "examples" / "stacks").glob("Pulumi.*.yaml")]
    ):
        run = run_stack(PROJECT_DIR, path.name.split(".")[1], path)
        assert run.failure is None, (path, run.failure)
