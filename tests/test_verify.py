"""``hikube-gpu verify``: the real kubernetes client against recorded objects (tests/verify_world.py).

Two local API servers play the tenant's Cozystack API and the tenant cluster's own API (reached
with the admin kubeconfig verify reads from the tenant's Secret); each check's ok, differs and
can't-tell cases; ``--smoke`` creating, waiting, reading the log and deleting, also after a
timeout and on SIGINT/SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.verify.command import CHECKS
from stacks.commands.verify.smoke import IMAGE, MANAGED_BY, RUN_LABEL
from tests.fake_api import TOKEN, Answer, FakeApi, kubeconfig, listing, running, status
from tests.verify_world import (
    A100_NODES,
    APPS,
    CRASH_LOG,
    FIXTURES,
    GUEST_TOKEN,
    HOST_KUBEVIRT,
    HOST_PODS,
    KUBEVIRT,
    L40S_NODES,
    MD0_NODES,
    NODES,
    PODS,
    POLICIES,
    SECRET,
    SmokeCluster,
    Tenant,
    a100_node,
    app_object,
    catalog_output,
    cluster_policy,
    daemon_pod,
    guest_pods,
    host_world,
    l40s_node,
    md0_node,
    smi_output,
    tenant_world,
    vm_object,
    vmi_object,
)

TENANT_STACK = FIXTURES / "stack-tenant.yaml"
PLATFORM_STACK = FIXTURES / "stack-platform.yaml"


@pytest.fixture
def world() -> Iterator[Tenant]:
    with tenant_world() as found:
        yield found


@pytest.fixture
def host() -> Iterator[FakeApi]:
    with running(FakeApi()) as api:
        yield host_world(api)


def verify(
    tmp_path: Path, api: FakeApi, stack: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str, dict[str, Any]]:
    report = tmp_path / "verify.json"
    code = main(["verify", "--config-file", str(stack), "--project-dir", str(PROJECT_DIR),
                 "--kubeconfig", str(kubeconfig(tmp_path, api.url)), "--json", str(report), *extra])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err, json.loads(report.read_text())


def found(report: dict[str, Any], check: str, subject: str = "") -> dict[str, str]:
    """The report entry of ``check`` (about ``subject``)."""
    for entry in report["checks"]:
        if entry["check"] == check and entry["subject"] == subject:
            return dict(entry)
    raise AssertionError(f"no {check} {subject} in {json.dumps(report['checks'], indent=1)}")


def statuses(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(e["check"], e["subject"]): e["status"] for e in report["checks"]}


def assert_only_reads(*apis: FakeApi) -> None:
    for api in apis:
        assert api.received
        assert {r.method for r in api.received} == {"GET"}


TENANT_CHECKS = {
    ("vm-instance", "vm ws-1"), ("vm-disks", "vm ws-1"), ("vm-running", "vm ws-1"), ("vm-gpus", "vm ws-1"),
    ("cluster", "ml"), ("node-count", "ml/a100"), ("node-count", "ml/l40s"), ("node-count", "ml/md0"),
    ("gpu-resources", "ml/a100"), ("gpu-resources", "ml/l40s"), ("cluster-policy", "ml"), ("operator-pods", "ml"),
}  # fmt: skip


def test_tenant_all_ok(tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    assert (code, err) == (0, ""), out
    assert statuses(report) == dict.fromkeys(TENANT_CHECKS, "ok"), out
    assert report["exit"] == 0
    assert report["counts"] == {"ok": 12, "differs": 0, "can't tell": 0}
    assert (
        "2 nodes (2 Ready): 1-2 configured; on hikube it starts with 2, peaks at 4"
        in found(report, "node-count", "ml/l40s")["detail"]
    )
    assert (
        found(report, "gpu-resources", "ml/l40s")["detail"]
        == "2 nodes publish nvidia.com/gpu: 4 (timeSlicing x4)"
    )
    assert found(report, "gpu-resources", "ml/a100")["detail"] == (
        "2 nodes publish nvidia.com/mig-1g.10gb: 2, nvidia.com/mig-3g.40gb: 1 (mig 1g.10gb x2 + 3g.40gb)"
    )
    assert found(report, "vm-gpus", "vm ws-1")["detail"] == "attached: 1 × nvidia.com/AD102GL_L40S"
    assert "ok         node-count        ml/l40s: 2 nodes (2 Ready)" in out
    assert_only_reads(world.api, world.guest)
    assert world.guest.auth == {f"Bearer {GUEST_TOKEN}"}
    assert world.api.auth == {f"Bearer {TOKEN}"}
    for text in (out, err, json.dumps(report)):
        assert GUEST_TOKEN not in text
        assert 'super-admin.conf":' not in text


def test_help_lists_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    out = capsys.readouterr().out
    for name in CHECKS:
        assert f"  {name} " in out


# --- node groups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nodes", "status_", "expected"),
    [
        ([], "differs", "0 nodes (0 Ready), fewer Ready than minReplicas 1"),
        (["not-ready"], "differs", "1 node (0 Ready), fewer Ready than minReplicas 1"),
        (["a", "b", "c"], "ok", "3 nodes (3 Ready): 1-2 configured; on hikube it starts with 2, peaks at 4 during roll-outs; a roll-out is under way"),
        (["a", "b", "c", "d", "e"], "differs", "5 nodes (5 Ready), more than the platform ever runs"),
    ],
    ids=["none", "not-ready", "roll-out", "too-many"],
)  # fmt: skip
def test_node_count(
    tmp_path: Path,
    world: Tenant,
    capsys: pytest.CaptureFixture[str],
    *,
    nodes: list[str],
    status_: str,
    expected: str,
) -> None:
    l40s = []
    for name in nodes:
        node = l40s_node(f"kubernetes-ml-l40s-8xv2d-{name:0>5}")
        if name == "not-ready":
            node["status"]["conditions"][0].update(status="False", reason="KubeletNotReady")
        l40s.append(node)
    world.set_nodes(l40s + [a100_node(n) for n in A100_NODES] + [md0_node(n) for n in MD0_NODES])
    world.guest.serve(PODS, listing("Pod", guest_pods([n["metadata"]["name"] for n in l40s] + A100_NODES)))
    code, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "node-count", "ml/l40s")
    assert entry["status"] == status_, out
    assert expected in entry["detail"]
    assert code == (1 if status_ == "differs" else 0), out
    if status_ == "differs" and nodes == []:
        assert "MachineDeployment kubernetes-ml-l40s" in entry["fix"]


def test_time_slicing_not_applied(tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    """A node that publishes one nvidia.com/gpu where the sharing says four, without NFD's config label."""
    unshared = l40s_node(
        L40S_NODES[1],
        gpus="1",
        **{"nvidia.com/device-plugin.config": None, "nvidia.com/gpu.product": "NVIDIA-L40S"},
    )
    world.set_nodes(
        [l40s_node(L40S_NODES[0]), unshared]
        + [a100_node(n) for n in A100_NODES]
        + [md0_node(n) for n in MD0_NODES]
    )
    code, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "gpu-resources", "ml/l40s")
    assert code == 1
    assert entry["status"] == "differs", out
    assert (
        entry["detail"]
        == f"{L40S_NODES[1]} publishes nvidia.com/gpu: 1; each should publish nvidia.com/gpu: 4 (timeSlicing x4)"
    )
    assert "node-feature-discovery has not labelled it nvidia.com/device-plugin.config=l40s" in entry["fix"]
    assert found(report, "gpu-resources", "ml/a100")["status"] == "ok"


@pytest.mark.parametrize(
    ("allocatable", "labels", "fix"),
    [
        ({"nvidia.com/gpu": "1"}, {"nvidia.com/mig.config.state": "failed"}, "the MIG layout is not applied (nvidia.com/mig.config.state=failed)"),
        ({"nvidia.com/gpu": "0"}, {}, "no GPU published yet: the driver may still be installing"),
    ],
    ids=["mig-failed", "no-gpu-yet"],
)  # fmt: skip
def test_mig_layout_not_applied(
    tmp_path: Path,
    world: Tenant,
    capsys: pytest.CaptureFixture[str],
    *,
    allocatable: dict[str, str],
    labels: dict[str, str],
    fix: str,
) -> None:
    broken = a100_node(A100_NODES[0], allocatable, **labels)
    world.set_nodes(
        [broken, a100_node(A100_NODES[1])]
        + [l40s_node(n) for n in L40S_NODES]
        + [md0_node(n) for n in MD0_NODES]
    )
    code, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "gpu-resources", "ml/a100")
    assert (code, entry["status"]) == (1, "differs"), out
    assert "each should publish nvidia.com/mig-1g.10gb: 2, nvidia.com/mig-3g.40gb: 1" in entry["detail"]
    assert fix in entry["fix"]


def test_a_node_with_another_model(tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    other = l40s_node(L40S_NODES[0], **{"nvidia.com/gpu.product": "NVIDIA-H100-NVL-SHARED"})
    world.set_nodes(
        [other, l40s_node(L40S_NODES[1])]
        + [a100_node(n) for n in A100_NODES]
        + [md0_node(n) for n in MD0_NODES]
    )
    _, _, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "gpu-resources", "ml/l40s")
    assert entry["status"] == "differs"
    assert (
        f"{L40S_NODES[0]} has a NVIDIA-H100-NVL-SHARED (GPU Feature Discovery), the group asks for L40S (NVIDIA-L40S)"
        in entry["detail"]
    )


# --- the GPU Operator ----------------------------------------------------------------------------


def test_crash_looping_device_plugin_shows_its_last_log_line(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    pods = guest_pods(L40S_NODES + A100_NODES, crash_on=L40S_NODES[0])
    world.guest.serve(PODS, listing("Pod", pods))
    crashing = next(
        p
        for p in pods
        if p["status"]["phase"] == "Running"
        and any("waiting" in c["state"] for c in p["status"]["containerStatuses"])
    )
    log = f"{PODS}/{crashing['metadata']['name']}/log"
    world.guest.answer(log, Answer(text=CRASH_LOG))
    world.guest.serve(POLICIES, listing("ClusterPolicy", [cluster_policy(ready=False)]))
    code, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    assert code == 1
    entry = found(report, "operator-pods", "ml")
    assert entry["status"] == "differs", out
    assert (
        f"{crashing['metadata']['name']} (nvidia-device-plugin) is crash-looping after 7 restarts; last log line: "
        "E0612 10:11:12.123456       1 main.go:173] error starting plugins: unable to validate flags: "
        "using --mig-strategy=mixed is not supported with MPS"
    ) in entry["detail"]
    request = next(r for r in world.guest.received if r.path == log)
    assert request.query == {
        "container": "nvidia-device-plugin",
        "previous": "true",
        "tailLines": "5",
        "limitBytes": "4096",
    }
    policy = found(report, "cluster-policy", "ml")
    assert policy["status"] == "differs"
    assert (
        "notReady: OperandNotReady: ClusterPolicy is not ready, states not ready: [state-device-plugin]"
        in policy["detail"]
    )


def test_missing_and_unready_operator_pods(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    pods = [
        p
        for p in guest_pods(L40S_NODES + A100_NODES)
        if not (
            p["metadata"]["labels"]["app"] == "gpu-feature-discovery"
            and p["spec"]["nodeName"] == A100_NODES[1]
        )
    ]
    unready = daemon_pod("gpu-operator-v25.3.0-dcgm-exporter-daemonset.yaml", L40S_NODES[1], ready=False)
    pods = [
        p
        for p in pods
        if not (
            p["metadata"]["labels"]["app"] == "nvidia-dcgm-exporter"
            and p["spec"]["nodeName"] == L40S_NODES[1]
        )
    ] + [unready]
    world.guest.serve(PODS, listing("Pod", pods))
    _, _, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "operator-pods", "ml")
    assert entry["status"] == "differs"
    assert f"no gpu-feature-discovery pod on {A100_NODES[1]}" in entry["detail"]
    assert f"nvidia-dcgm-exporter on {L40S_NODES[1]} not Ready" in entry["detail"]


def test_no_gpu_operator_installed(tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    world.guest.serve(POLICIES, status(404, "NotFound"), 404)
    world.guest.serve(PODS, listing("Pod", []))
    _, _, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    assert (
        found(report, "cluster-policy", "ml")["detail"]
        == "no ClusterPolicy API (nvidia.com/v1): the GPU Operator is not installed"
    )
    assert "no Ready gpu-operator pod in cozy-gpu-operator" in found(report, "operator-pods", "ml")["detail"]


# --- the cluster and its kubeconfig ---------------------------------------------------------------


def test_cluster_not_ready_and_kubeconfig_forbidden(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    world.api.deny(SECRET)
    _, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "cluster", "ml")
    assert entry["status"] == "can't tell", out
    assert f"403 Forbidden on {SECRET}" in entry["detail"]
    assert (
        "verify reads Secret kubernetes-ml-admin-kubeconfig (the cluster's admin kubeconfig): use a credential that can get it"
        in entry["fix"]
    )
    for check in ("node-count", "gpu-resources"):
        assert found(report, check, "ml/l40s")["status"] == "can't tell"
    assert not world.guest.received
    failed = "Helm install failed for release tenant-acme/kubernetes-ml with chart kubernetes@0.0.0: timed out waiting for the condition"
    world.api.serve(f"{APPS}/kuberneteses/ml", app_object("Kubernetes", "ml", ready=False, message=failed))
    code, _, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "cluster", "ml")
    assert (code, entry["status"]) == (1, "differs")
    assert f"the Kubernetes app is not Ready (InstallFailed: {failed})" in entry["detail"]


def test_a_kubeconfig_secret_that_is_not_base64_is_cant_tell_and_not_shown(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = world.kubeconfig_secret()
    secret["data"]["super-admin.conf"] = "%%not-base64%%" + GUEST_TOKEN
    world.api.serve(SECRET, secret)
    _, out, err, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "cluster", "ml")
    assert entry["status"] == "can't tell"
    assert "data.super-admin.conf is a string, expected a base64 kubeconfig" in entry["detail"]
    assert GUEST_TOKEN not in out + err + json.dumps(report)


def test_a_kubeconfig_that_is_not_yaml_is_not_quoted(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    secret = world.kubeconfig_secret()
    secret["data"]["super-admin.conf"] = base64.b64encode(f"users: [{{token: {GUEST_TOKEN}".encode()).decode()
    world.api.serve(SECRET, secret)
    _, out, err, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    entry = found(report, "cluster", "ml")
    assert entry["status"] == "can't tell"
    assert "not a usable kubeconfig: not YAML" in entry["detail"]
    assert GUEST_TOKEN not in out + err + json.dumps(report)


# --- VMs -----------------------------------------------------------------------------------------


def test_vm_instance_failed_and_vm_not_running(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = ("Helm install failed for release tenant-acme/vm-instance-ws-1 with chart vm-instance@0.0.0: execution error at "
              "(vm-instance/templates/vm.yaml:2:4): Specified instanceType does not exist in the cluster: u1.2xlarge")  # fmt: skip
    world.api.serve(f"{APPS}/vminstances/ws-1", app_object("VMInstance", "ws-1", ready=False, message=failed))
    world.api.serve(f"{KUBEVIRT}/virtualmachineinstances/vm-instance-ws-1", status(404, "NotFound"), 404)
    world.api.serve(
        f"{KUBEVIRT}/virtualmachines/vm-instance-ws-1",
        vm_object("vm-instance-ws-1", ["nvidia.com/AD102GL_L40S"], "ErrorUnschedulable"),
    )
    code, _out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    assert code == 1
    assert (
        found(report, "vm-instance", "vm ws-1")["detail"]
        == f"VMInstance ws-1 is not Ready (InstallFailed: {failed})"
    )
    running_ = found(report, "vm-running", "vm ws-1")
    assert running_["status"] == "differs"
    assert (
        running_["detail"]
        == "not running: no VirtualMachineInstance vm-instance-ws-1 (VirtualMachine: ErrorUnschedulable)"
    )
    gpus = found(report, "vm-gpus", "vm ws-1")
    assert gpus["status"] == "can't tell"
    assert gpus["detail"] == "declared (1 × nvidia.com/AD102GL_L40S) but not attached: the VM does not run"


def test_vm_with_other_gpus_and_a_disk_missing(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    world.api.serve(
        f"{KUBEVIRT}/virtualmachineinstances/vm-instance-ws-1",
        vmi_object("vm-instance-ws-1", ["nvidia.com/GA100_A100_PCIE_80GB"]),
    )
    world.api.serve(f"{APPS}/vmdisks/ws-1-system", status(404, "NotFound"), 404)
    _, _, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    assert found(report, "vm-gpus", "vm ws-1")["detail"] == (
        "the VMI asks for 1 × nvidia.com/GA100_A100_PCIE_80GB, the stack for 1 × nvidia.com/AD102GL_L40S"
    )
    assert found(report, "vm-disks", "vm ws-1") == {
        "check": "vm-disks", "subject": "vm ws-1", "status": "differs",
        "detail": "VMDisk ws-1-system does not exist", "fix": "`pulumi up` creates it",
    }  # fmt: skip


def test_vmis_forbidden_the_vm_status_answers(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cozystack's tenant roles may get VirtualMachines, not VMIs: the VM's ready/printableStatus answer."""
    world.api.deny(f"{KUBEVIRT}/virtualmachineinstances/vm-instance-ws-1")
    _, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    source = " (the VirtualMachine's status: its VMI is not readable with this credential)"
    assert found(report, "vm-running", "vm ws-1")["detail"] == "Running and Ready" + source, out
    assert found(report, "vm-gpus", "vm ws-1")["detail"] == "attached: 1 × nvidia.com/AD102GL_L40S" + source
    world.api.serve(
        f"{KUBEVIRT}/virtualmachines/vm-instance-ws-1",
        vm_object("vm-instance-ws-1", ["nvidia.com/AD102GL_L40S"], "ErrorUnschedulable"),
    )
    code, _, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys)
    assert code == 1
    assert found(report, "vm-running", "vm ws-1")["detail"] == "not running: ErrorUnschedulable" + source
    assert found(report, "vm-gpus", "vm ws-1")["status"] == "can't tell"


def test_a_halted_vm_is_ok_without_a_vmi(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "halted.yaml"
    stack.write_text(
        TENANT_STACK.read_text().replace(
            "    ws-1:\n      gpus:", "    ws-1:\n      runStrategy: Halted\n      gpus:"
        )
    )
    world.api.serve(f"{KUBEVIRT}/virtualmachineinstances/vm-instance-ws-1", status(404, "NotFound"), 404)
    world.api.serve(
        f"{KUBEVIRT}/virtualmachines/vm-instance-ws-1",
        vm_object("vm-instance-ws-1", ["nvidia.com/AD102GL_L40S"], "Stopped"),
    )
    _, _, _, report = verify(tmp_path, world.api, stack, capsys)
    assert (
        found(report, "vm-running", "vm ws-1")["detail"]
        == "stopped, as runStrategy Halted says (VirtualMachine: Stopped)"
    )
    assert found(report, "vm-gpus", "vm ws-1")["status"] == "ok"


# --- platform stacks -----------------------------------------------------------------------------

PLATFORM_CHECKS = {
    ("node-modes", ""), ("kubevirt-permits", ""), ("cluster-policy", "gpu-operator"), ("operator-pods", "gpu-operator"),
    ("vm-running", "vm cuda-lab"), ("vm-gpus", "vm cuda-lab"),
}  # fmt: skip


def test_platform_all_ok(tmp_path: Path, host: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, report = verify(tmp_path, host, PLATFORM_STACK, capsys)
    assert (code, err) == (0, ""), out
    assert statuses(report) == dict.fromkeys(PLATFORM_CHECKS, "ok"), out
    assert found(report, "node-modes")["detail"] == (
        "labels as the stack sets them: gpu-node-1 vm-passthrough, gpu-node-2 vm-passthrough, gpu-node-3 container"
    )
    assert (
        "KubeVirt permits every GPU the VM nodes publish: nvidia.com/AD102GL_L40S, nvidia.com/GH100_H100L_94GB"
        in found(report, "kubevirt-permits")["detail"]
    )
    assert_only_reads(host)


def test_platform_differs(tmp_path: Path, host: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_doctor import DEVICES, GATES, kubevirt_cr
    from tests.verify_world import host_nodes

    nodes = host_nodes()
    nodes[1]["metadata"]["labels"]["nvidia.com/gpu.workload.config"] = "container"  # gpu-node-2
    host.serve(NODES, listing("Node", nodes))
    host.serve(HOST_KUBEVIRT, kubevirt_cr(GATES, DEVICES[:1]))
    pods = [p for p in host.body(HOST_PODS)["items"] if p["spec"].get("nodeName") != "gpu-node-1"]
    host.serve(HOST_PODS, listing("Pod", pods))
    code, out, _, report = verify(tmp_path, host, PLATFORM_STACK, capsys)
    assert code == 1
    assert (
        found(report, "node-modes")["detail"]
        == "gpu-node-2: nvidia.com/gpu.workload.config=container, not vm-passthrough"
    )
    # gpu-node-2 is no longer a VM node, so its H100 name is not counted; gpu-node-1's L40S is permitted
    nodes[1]["metadata"]["labels"]["nvidia.com/gpu.workload.config"] = "vm-passthrough"
    host.serve(NODES, listing("Node", nodes))
    _, out, _, report = verify(tmp_path, host, PLATFORM_STACK, capsys)
    permits = found(report, "kubevirt-permits")
    assert permits["status"] == "differs", out
    assert (
        permits["detail"]
        == "VM nodes publish what KubeVirt does not permit: nvidia.com/GH100_H100L_94GB (gpu-node-2)"
    )
    assert (
        "no nvidia-sandbox-device-plugin-daemonset pod on gpu-node-1"
        in found(report, "operator-pods", "gpu-operator")["detail"]
    )


# --- exit codes and the report -------------------------------------------------------------------


def test_cannot_run_exits_2_with_a_json_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = tmp_path / "r.json"
    code = main(["verify", "--config-file", str(TENANT_STACK), "--json", str(report),
                 "--kubeconfig", str(kubeconfig(tmp_path, f"http://127.0.0.1:{port}"))])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert f"http://127.0.0.1:{port} did not answer" in err
    assert json.loads(report.read_text())["exit"] == 2
    assert "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        TENANT_STACK.read_text().replace("L40S: 1\n  hikube-gpu:clusters", "H200: 1\n  hikube-gpu:clusters")
    )
    assert main(["verify", "--config-file", str(bad), "--kubeconfig", str(tmp_path / "unused")]) == 2
    assert "hikube-gpu:vms.ws-1.gpus.H200" in capsys.readouterr().err


# --- --smoke -------------------------------------------------------------------------------------


def smoke(world: Tenant, cluster: SmokeCluster) -> SmokeCluster:
    world.guest.handle("/api/v1/namespaces", cluster)
    world.guest.handle_under("/api/v1/namespaces/hikube-gpu-verify-", cluster)
    return cluster


def writes(api: FakeApi) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in api.received if r.method != "GET"]


def test_smoke_runs_one_pod_per_group_and_resource_and_cleans_up(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = smoke(world, SmokeCluster(catalog_output))
    code, out, err, report = verify(tmp_path, world.api, TENANT_STACK, capsys, "--smoke", "--timeout", "5")
    assert (code, err) == (0, ""), out
    assert len(cluster.namespaces) == 1
    namespace = cluster.namespaces[0]
    assert cluster.deleted == [namespace]
    assert sorted(cluster.pods) == ["smoke-a100-0", "smoke-a100-1", "smoke-l40s-0"]
    assert (
        found(report, "smoke", "ml/l40s nvidia.com/gpu")["detail"]
        == "nvidia-smi -L: NVIDIA L40S, as the catalog says for L40S"
    )
    assert found(report, "smoke", "ml/a100 nvidia.com/mig-3g.40gb")["detail"] == (
        "nvidia-smi -L: NVIDIA A100 80GB PCIe, MIG 3g.40gb, as the catalog says for A100"
    )
    assert found(report, "smoke-cleanup", "ml")["detail"] == f"namespace {namespace} deleted"
    pod = cluster.pods["smoke-a100-1"]
    assert pod["metadata"]["labels"][RUN_LABEL] == namespace.removeprefix("hikube-gpu-verify-")
    assert pod["metadata"]["labels"].items() >= MANAGED_BY.items()
    container = pod["spec"]["containers"][0]
    assert (container["image"], container["command"]) == (IMAGE, ["nvidia-smi", "-L"])
    assert container["resources"]["limits"] == {"nvidia.com/mig-3g.40gb": 1}
    assert pod["spec"]["nodeSelector"] == {"node-role.kubernetes.io/gpu-a100": ""}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["activeDeadlineSeconds"] == 5
    own = f"/api/v1/namespaces/{namespace}"
    assert all(path in ("/api/v1/namespaces", f"{own}/pods", own) for _, path in writes(world.guest))
    assert not writes(world.api)


def test_smoke_sees_another_model(tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = smoke(
        world,
        SmokeCluster(
            lambda pod: (
                smi_output("A100") if pod["metadata"]["name"] == "smoke-l40s-0" else catalog_output(pod)
            )
        ),
    )
    code, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys, "--smoke", "--timeout", "5")
    assert code == 1
    entry = found(report, "smoke", "ml/l40s nvidia.com/gpu")
    assert entry["status"] == "differs", out
    assert entry["detail"] == "the pod got a NVIDIA A100 80GB PCIe, the group has L40S (NVIDIA-L40S)"
    assert cluster.deleted == cluster.namespaces


def test_smoke_timeout_says_why_and_deletes(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = smoke(world, SmokeCluster(catalog_output, polls=None))
    started = time.monotonic()
    code, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys, "--smoke", "--timeout", "1")
    assert time.monotonic() - started < 30
    assert code == 1
    entry = found(report, "smoke", "ml/l40s nvidia.com/gpu")
    assert entry["status"] == "differs", out
    assert entry["detail"].startswith(
        "not done within 1 s (Pending, not scheduled: Unschedulable: 0/6 nodes are available: 2 Insufficient nvidia.com/gpu"
    )
    assert cluster.deleted == cluster.namespaces != []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_smoke_cleans_up_when_stopped(tmp_path: Path, world: Tenant, signum: int) -> None:
    cluster = smoke(world, SmokeCluster(catalog_output, polls=None))
    config = kubeconfig(tmp_path, world.api.url)
    process = subprocess.Popen(
        [sys.executable, "-m", "stacks", "verify", "--config-file", str(TENANT_STACK), "--kubeconfig", str(config),
         "--smoke", "--timeout", "60", "--json", str(tmp_path / "r.json")],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(cluster.pods) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert len(cluster.pods) == 3, process.communicate(timeout=5)
    os.kill(process.pid, signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, out + err
    assert cluster.deleted == cluster.namespaces != []
    assert f"stopped by {signal.Signals(signum).name}; nothing it made is left" in err
    assert "Traceback" not in err
    assert json.loads((tmp_path / "r.json").read_text())["exit"] == 128 + signum


# --- one source: what verify expects is what the program sizes and renders by ----------------------


def example_tenants() -> list[Any]:
    from stacks.commands.preview.planned import validate_file
    from stacks.loading.stack_file import load_stack_file
    from stacks.loading.stack_list import discover

    stacks = []
    for name in discover(PROJECT_DIR, examples=True):
        stack = validate_file(load_stack_file(PROJECT_DIR, name)).valid.stack
        if stack.kind == "tenant":
            stacks.append(stack)
    stacks.append(validate_file(load_stack_file(PROJECT_DIR, "x", TENANT_STACK)).valid.stack)
    return stacks


def test_expected_resources_are_what_workloads_are_sized_by() -> None:
    """``node_resources`` (verify's expectation) and ``per_node`` (the rules' capacity) agree,
    and a smoke probe exists for each resource a group publishes."""
    from components.resolve.placement import eligible_groups, node_resources, per_node, resource_name
    from stacks.commands.verify.expect import tenant_clusters

    checked = 0
    for stack in example_tenants():
        for expected in tenant_clusters(stack):
            args = stack.clusters[expected.name]
            for group in expected.gpu_groups:
                assert group.resources == node_resources(args, group.group)
                assert {p.resource for p in group.probes} == set(group.resources)
            for workload in args.workloads.values():
                for group_name in eligible_groups(args, workload):
                    if len(args.node_groups[group_name].gpus) == 1:
                        published = node_resources(args, group_name).get(resource_name(args, workload), 0)
                        assert per_node(args, group_name, workload) == published
                        checked += 1
    assert checked >= 3


def test_expected_vms_are_the_planned_vminstances() -> None:
    from stacks.commands.verify.expect import planned_manifests, tenant_vms

    for stack in example_tenants():
        instances = {m.name: m for m in planned_manifests(stack) if m.kind == "VMInstance"}
        for vm in tenant_vms(stack):
            spec = instances[vm.name].body["spec"]
            assert list(vm.gpus) == [g["name"] for g in spec["gpus"]]
            assert list(vm.disks) == [d["name"] for d in spec["disks"]]
            assert vm.kubevirt_name == f"vm-instance-{vm.name}"


def test_smoke_without_the_right_to_create_namespaces(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    world.guest.deny("/api/v1/namespaces")
    code, out, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys, "--smoke", "--timeout", "5")
    assert code == 0, out
    entry = found(report, "smoke", "ml/l40s nvidia.com/gpu")
    assert entry["status"] == "can't tell"
    assert "not created: 403 Forbidden on /api/v1/namespaces" in entry["detail"]
    assert entry["fix"] == "--smoke needs a credential that can create namespaces and pods in the cluster"
    assert found(report, "smoke-cleanup", "ml")["detail"].endswith("was not made: nothing to delete")
    assert writes(world.guest) == [("POST", "/api/v1/namespaces")]  # nothing made, nothing to delete


def test_smoke_cannot_run_where_the_cluster_cannot_be_asked(
    tmp_path: Path, world: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    world.api.deny(SECRET)
    _, _, _, report = verify(tmp_path, world.api, TENANT_STACK, capsys, "--smoke")
    entry = found(report, "smoke", "ml")
    assert entry["status"] == "can't tell"
    assert entry["detail"].startswith(f"the cluster could not be asked (403 Forbidden on {SECRET}")
