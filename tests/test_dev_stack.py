"""The dev stack end to end: registered resources, rendered manifests (snapshot), secrets, stability."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from components.builders.kubernetes_cluster import build_kubernetes
from components.builders.vm_disk import build_vm_disk
from components.builders.vm_instance import build_vm_instance
from components.builders.workload import build_workload
from components.catalog.platform import PROFILES
from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.commands.preview.engine import OfflineRun, mask
from stacks.commands.preview.render import render
from stacks.commands.preview.report import preview_text
from stacks.validation.validate import validate
from tests.helpers import objects, stack_config


@pytest.fixture(scope="module")
def dev() -> OfflineRun:
    run = run_stack(PROJECT_DIR, "dev")
    assert run.failure is None
    return run


def rendered_files(run: OfflineRun, out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in render(run, out)}


def test_dev_stack_registers_one_component_per_vm_and_cluster(dev: OfflineRun) -> None:
    tree = {(r.type, r.name, r.parent.rsplit("::", 1)[-1]) for r in dev.resources}
    assert tree == {
        ("pulumi:pulumi:Stack", "hikube-gpu-dev", ""),
        ("pulumi:providers:kubernetes", "tenant", "hikube-gpu-dev"),
        ("hikube-gpu:vm:GpuVirtualMachine", "ws-1", "hikube-gpu-dev"),
        ("hikube-gpu:vm:GpuVirtualMachine", "trainer", "hikube-gpu-dev"),
        ("kubernetes:apps.cozystack.io/v1alpha1:VMDisk", "ws-1-disk-system", "ws-1"),
        ("kubernetes:apps.cozystack.io/v1alpha1:VMInstance", "ws-1-instance", "ws-1"),
        ("kubernetes:apps.cozystack.io/v1alpha1:VMDisk", "trainer-disk-system", "trainer"),
        ("kubernetes:apps.cozystack.io/v1alpha1:VMDisk", "trainer-disk-data", "trainer"),
        ("kubernetes:apps.cozystack.io/v1alpha1:VMInstance", "trainer-instance", "trainer"),
        ("hikube-gpu:k8s:GpuKubernetesCluster", "ml", "hikube-gpu-dev"),
        ("kubernetes:apps.cozystack.io/v1alpha1:Kubernetes", "ml-cluster", "ml"),
        ("hikube-gpu:k8s:GpuNodeGroup", "ml-md0", "ml"),
        ("hikube-gpu:k8s:GpuNodeGroup", "ml-l40s", "ml"),
        ("pulumi:providers:kubernetes", "ml-provider", "ml"),
        ("kubernetes:core/v1:Namespace", "ml-ns-gpu-workloads", "ml"),
        ("kubernetes:core/v1:ResourceQuota", "ml-ns-gpu-workloads-quota", "ml"),
        ("hikube-gpu:k8s:GpuWorkload", "ml-vllm", "ml"),
        ("kubernetes:apps/v1:Deployment", "ml-vllm-deployment", "ml-vllm"),
        ("kubernetes:core/v1:Service", "ml-vllm-service", "ml-vllm"),
    }
    assert [r.name for r in dev.resources if r.read] == []  # no admin kubeconfig read (issue 21.1)


def test_platform_objects_use_the_tenant_provider_and_workloads_the_cluster_provider(dev: OfflineRun) -> None:
    by_name = {r.name: r for r in dev.resources}
    tenant, cluster = by_name["tenant"], by_name["ml-provider"]
    inside = {"ml-ns-gpu-workloads", "ml-ns-gpu-workloads-quota", "ml-vllm-deployment", "ml-vllm-service"}
    for resource in dev.custom_resources():
        if resource.type.startswith("kubernetes:"):
            expected = cluster if resource.name in inside else tenant
            assert resource.provider.startswith(expected.urn + "::"), resource.name
    assert set(by_name["trainer-instance"].dependencies) == {
        by_name["trainer-disk-system"].urn,
        by_name["trainer-disk-data"].urn,
    }


def test_the_clusters_provider_waits_for_it_and_workloads_wait_for_their_namespace(dev: OfflineRun) -> None:
    by_name = {r.name: r for r in dev.resources}
    assert by_name["ml-provider"].dependencies == (by_name["ml-cluster"].urn,)
    assert by_name["ml-provider"].inputs["context"] == "tenant-dev/ml"  # no credential (issue 21.1)
    assert by_name["ml-provider"].inputs["kubeconfig"] == ""
    guards = {by_name["ml-ns-gpu-workloads"].urn, by_name["ml-ns-gpu-workloads-quota"].urn}
    assert set(by_name["ml-vllm-deployment"].dependencies) == guards
    assert set(by_name["ml-vllm-service"].dependencies) == guards


def test_only_data_disks_are_protected(dev: OfflineRun) -> None:
    assert {r.name for r in dev.resources if r.protect} == {"trainer-disk-data"}


def test_multi_gpu_vm_gets_one_entry_per_gpu(dev: OfflineRun) -> None:
    spec = objects(dev)["VMInstance/trainer"]["spec"]
    assert spec["gpus"] == [{"name": "nvidia.com/GA100_A100_PCIE_80GB"}] * 2
    assert objects(dev)["VMInstance/ws-1"]["spec"]["gpus"] == [{"name": "nvidia.com/AD102GL_L40S"}]


def test_components_register_exactly_what_builders_return(dev: OfflineRun) -> None:
    stack = validate(stack_config("dev")).stack
    namespace = stack.platform.namespace or ""
    registered = objects(dev)
    for name, args in stack.vms.items():
        filters = PROFILES[stack.platform.profile].port_list_filters
        expected = build_vm_instance(name, namespace, args, port_list_filters=filters).as_dict()
        for key in ("sshKeys", "cloudInit"):  # registered as secrets, masked in their shape
            expected["spec"][key] = mask(expected["spec"][key])
        assert registered[f"VMInstance/{name}"] == expected
        disk = build_vm_disk(f"{name}-system", namespace, name, args.disk).as_dict()
        assert registered[f"VMDisk/{name}-system"] == disk
    app = PROFILES[stack.platform.profile].kubernetes
    for name, cluster in stack.clusters.items():
        assert registered[f"Kubernetes/{name}"] == build_kubernetes(name, namespace, cluster, app).as_dict()
        for workload in cluster.workloads:
            for manifest in build_workload(workload, cluster, cluster.workloads[workload]):
                assert registered[f"{manifest.kind}/{workload}"] == manifest.as_dict()


def test_rendered_manifests_snapshot(dev: OfflineRun, tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    assert rendered_files(dev, tmp_path) == snapshot


def test_preview_report(dev: OfflineRun, snapshot: SnapshotAssertion) -> None:
    text = preview_text(dev)
    assert "    + 19 to create\n\n" in text  # nothing read: no admin kubeconfig (issue 21.1)
    assert "  L40S      1          1-2     4     5      240 GB       1810      5" in text
    assert text == snapshot


def test_second_render_is_byte_identical(dev: OfflineRun, tmp_path: Path) -> None:
    again = run_stack(PROJECT_DIR, "dev")
    assert rendered_files(dev, tmp_path / "a") == rendered_files(again, tmp_path / "b")
    assert preview_text(dev) == preview_text(again)


def test_secrets_never_reach_rendered_output(dev: OfflineRun, tmp_path: Path) -> None:
    stack_file = (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
    ssh_key_body = "AAAAC3NzaC1lZDI1NTE5AAAAIHikubeGpuDevOnlyExampleKeyDoNotUse"
    assert ssh_key_body in stack_file
    output = "\n".join([*rendered_files(dev, tmp_path).values(), preview_text(dev), *dev.warnings])
    assert ssh_key_body not in output
    assert "python3-venv" not in output  # from the user's cloud-init
    assert "ubuntu-drivers" not in output  # from the generated cloud-init
    assert output.count("sshKeys:\n  - '[secret]'\n") == 2  # one masked entry per key
