"""One identity per object: no two resources share a URN, no two Kubernetes objects (ours or
what the platform derives from them) share a name; the check predicts exactly what the
program registers; ``render`` never overwrites a file."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks.commands.cli import PROJECT_DIR, main, run_stack
from stacks.commands.preview.engine import OfflineRun, Registered
from stacks.commands.preview.render import (
    HELM_RELEASE,
    RenderCollision,
    documents,
    is_kubernetes_object,
    manifest_of,
    relative_path,
    render,
    target_cluster,
)
from stacks.loading.problems import ConfigError
from stacks.loading.stack_list import discover
from stacks.validation.config import parse
from stacks.validation.identities import Identity, api_group, check_identities, identities
from tests.cluster_stacks import EDGE, cluster_stack
from tests.helpers import SSH_KEY, base_config, problems_of, run_config, stack_config
from tests.platform_stacks import MODES, platform_stack

L40S_CLUSTER: dict[str, Any] = {
    "nodeGroups": {"gpu": {"gpus": {"L40S": 1}, "maxReplicas": 1}},
    "workloads": {"vllm": {"image": "vllm/vllm-openai:v0.6.3", "gpus": {"L40S": 1}, "ports": [8000]}},
}


def vm(**data_disks: str) -> dict[str, Any]:
    return {
        "gpus": {"L40S": 1},
        "sshKeys": [SSH_KEY],
        "dataDisks": {name: {"size": size} for name, size in data_disks.items()},
    }


def cluster(**workloads: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(L40S_CLUSTER)
    if workloads:
        config["workloads"] = copy.deepcopy(workloads)
    return config


def one_problem(tmp_path: Path, config: dict[str, Any]) -> tuple[str, str]:
    """The single problem of an invalid stack (asserts nothing was registered)."""
    problems = problems_of(tmp_path, config)
    assert len(problems) == 1, problems
    return problems[0].path, problems[0].message


# --- the collisions found by trying -------------------------------------------------


def test_a_vmdisk_made_by_two_vms_names_both_paths(tmp_path: Path) -> None:
    config = base_config(vms={"lab": vm(**{"gpu-scratch": "50Gi"}), "lab-gpu": vm(scratch="50Gi")})
    path, message = one_problem(tmp_path, config)
    assert path == "hikube-gpu:vms.lab-gpu.dataDisks.scratch"
    assert message == (
        "VMDisk lab-gpu-scratch is also made by hikube-gpu:vms.lab.dataDisks.gpu-scratch; rename one"
    )


def test_a_system_disk_and_another_vms_data_disk(tmp_path: Path) -> None:
    config = base_config(vms={"lab": vm(**{"gpu-system": "50Gi"}), "lab-gpu": vm()})
    path, message = one_problem(tmp_path, config)
    assert path == "hikube-gpu:vms.lab-gpu.disk"
    assert "VMDisk lab-gpu-system is also made by hikube-gpu:vms.lab.dataDisks.gpu-system" in message


def test_a_workload_urn_made_by_two_clusters_is_one_problem(tmp_path: Path) -> None:
    config = cluster_stack(
        ml=cluster(**{"eu-vllm": L40S_CLUSTER["workloads"]["vllm"]}), **{"ml-eu": cluster()}
    )
    path, message = one_problem(tmp_path, config)  # the component, its Deployment, its Service: one problem
    assert path == "hikube-gpu:clusters.ml-eu.workloads.vllm"
    assert message.startswith("Pulumi resource ml-eu-vllm (")
    assert "is also made by hikube-gpu:clusters.ml.workloads.eu-vllm; rename one" in message


def test_a_node_group_urn_made_by_two_clusters(tmp_path: Path) -> None:
    eu_gpu = cluster()
    eu_gpu["nodeGroups"] = {"eu-gpu": eu_gpu["nodeGroups"]["gpu"]}
    config = cluster_stack(ml=eu_gpu, **{"ml-eu": cluster()})
    problems = problems_of(tmp_path, config)
    paths = {p.path: p.message for p in problems}
    message = paths["hikube-gpu:clusters.ml-eu.nodeGroups.gpu"]
    assert "Pulumi resource ml-eu-gpu" in message
    assert "hikube-gpu:clusters.ml.nodeGroups.eu-gpu" in message


# --- names the platform derives ----------------------------------------------------


def test_cozystacks_admin_kubeconfig_of_one_cluster_is_the_cluster_api_kubeconfig_of_another(
    tmp_path: Path,
) -> None:
    """Kamaji writes ``kubernetes-ml-admin-kubeconfig`` for ``ml``; Cluster API writes
    ``kubernetes-<cluster>-kubeconfig``, the same Secret for ``ml-admin``. The program would
    read another cluster's credentials for ``ml``."""
    config = cluster_stack(ml=cluster(), **{"ml-admin": cluster()})
    path, message = one_problem(tmp_path, config)
    assert path == "hikube-gpu:clusters.ml-admin"
    assert message == (
        "Secret kubernetes-ml-admin-kubeconfig (Cozystack, for Kubernetes ml-admin) is also made by "
        "hikube-gpu:clusters.ml (Cozystack, for Kubernetes ml); rename one"
    )


def test_an_add_on_release_of_one_cluster_is_the_release_of_another(tmp_path: Path) -> None:
    config = cluster_stack(ml=cluster(), **{"ml-gpu-operator": cluster()})
    path, message = one_problem(tmp_path, config)
    assert path == "hikube-gpu:clusters.ml-gpu-operator"
    assert message.startswith(
        "HelmRelease kubernetes-ml-gpu-operator (Cozystack, for Kubernetes ml-gpu-operator)"
    )
    assert "also made by hikube-gpu:clusters.ml (Cozystack, for Kubernetes ml)" in message


def test_the_platforms_md0_group_counts(tmp_path: Path) -> None:
    """``ml-x`` gets Cozystack's ``md0`` group (``ml-x-md0``; MachineDeployment
    ``kubernetes-ml-x-md0``), which ``ml``'s group ``x-md0`` makes too."""
    x_md0 = cluster()
    x_md0["nodeGroups"] = {"x-md0": x_md0["nodeGroups"]["gpu"]}
    path, message = one_problem(tmp_path, cluster_stack(ml=x_md0, **{"ml-x": cluster()}))
    assert path == "hikube-gpu:clusters.ml-x"
    assert "ml-x-md0" in message
    assert "is also made by hikube-gpu:clusters.ml.nodeGroups.x-md0" in message


def test_objects_inside_tenant_clusters_do_not_collide_across_clusters(tmp_path: Path) -> None:
    """Same workload and namespace names in two clusters: each cluster has its own API."""
    run = run_config(tmp_path, cluster_stack(a=cluster(), b=cluster()))
    assert run.failure is None, run.failure


def test_check_identities_reports_each_pair_of_paths_once() -> None:
    a = Identity("object", ("", "", "Secret", "ns", "x"), ("vms", "a"), "Secret x")
    b = Identity("object", ("", "", "Secret", "ns", "x"), ("vms", "b"), "Secret x")
    b_again = Identity("urn", ("t", "x"), ("vms", "b"), "Pulumi resource x (t)")
    a_urn = Identity("urn", ("t", "x"), ("vms", "a"), "Pulumi resource x (t)")
    problems = check_identities([b, b_again, a, a_urn])
    assert [(p.path, p.message) for p in problems] == [
        ("hikube-gpu:vms.b", "Secret x is also made by hikube-gpu:vms.a; rename one")
    ]


# --- no false positives, no drift -----------------------------------------------------


@pytest.mark.parametrize("stack", discover(PROJECT_DIR, examples=True))
def test_example_stacks_have_one_identity_per_object(stack: str) -> None:
    assert check_identities(identities(parse(stack_config(stack)))) == []


def recorded_objects(run: OfflineRun) -> set[tuple[str, ...]]:
    """(cluster, API group, kind, namespace, name) of every object the run registered."""
    found = set()
    for resource in run.resources:
        if not is_kubernetes_object(resource):
            continue
        cluster = target_cluster(resource) or ""
        if resource.type == HELM_RELEASE:
            found.add((cluster, "helm.sh", "Release", resource.inputs["namespace"], resource.inputs["name"]))
            continue
        manifest = manifest_of(resource)
        metadata = manifest["metadata"]
        key = (api_group(manifest["apiVersion"]), manifest["kind"], metadata.get("namespace", ""))
        found.add((cluster, *key, metadata["name"]))
    return found


def assert_predicted(run: OfflineRun, config: dict[str, Any]) -> None:
    assert run.failure is None, run.failure
    predicted = identities(parse(config))
    urns = {
        f"urn:pulumi:{run.stack}::{run.project}::{i.key[0]}::{i.key[1]}" for i in predicted if i.kind == "urn"
    }
    registered = {r.urn for r in run.resources if r.type != "pulumi:pulumi:Stack"}
    assert urns == registered
    objects = {i.key for i in predicted if i.kind == "object" and i.registered}
    assert objects == recorded_objects(run)
    derived = {i.key for i in predicted if i.kind == "object" and not i.registered}
    assert not derived & objects, "a derived object is one we register"


@pytest.mark.parametrize("stack", discover(PROJECT_DIR, examples=True))
def test_prediction_matches_the_example_stacks(stack: str) -> None:
    assert_predicted(run_stack(PROJECT_DIR, stack), stack_config(stack))


TEST_STACKS: dict[str, dict[str, Any]] = {
    "clusters": cluster_stack(),
    "clusters-1.4": cluster_stack("cozystack-1.4"),
    **{f"platform-{mode}": platform_stack(mode) for mode in MODES},
}


@pytest.mark.parametrize("name", sorted(TEST_STACKS))
def test_prediction_matches_the_test_stacks(tmp_path: Path, name: str) -> None:
    assert_predicted(run_config(tmp_path, TEST_STACKS[name]), TEST_STACKS[name])


# --- render never overwrites ---------------------------------------------------------


def secret(urn_name: str, object_name: str) -> Registered:
    inputs = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": object_name, "namespace": "ns"}}
    return Registered(
        urn=f"urn:pulumi:test::hikube-gpu::kubernetes:core/v1:Secret::{urn_name}",
        type="kubernetes:core/v1:Secret",
        name=urn_name,
        parent="",
        custom=True,
        protect=False,
        provider="",
        dependencies=(),
        inputs=inputs,
    )


def test_render_refuses_two_objects_for_one_file(tmp_path: Path) -> None:
    run = OfflineRun(stack="test", project="hikube-gpu", resources=[secret("a", "x"), secret("b", "x")])
    out = tmp_path / "out"
    with pytest.raises(RenderCollision) as caught:
        render(run, out)
    assert "ns/secret-x.yaml would be written twice" in str(caught.value)
    assert "kubernetes:core/v1:Secret::a" in str(caught.value)
    assert "kubernetes:core/v1:Secret::b" in str(caught.value)
    assert not out.exists(), "nothing is written"


def test_render_cli_exits_2_with_both_urns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = OfflineRun(stack="dev", project="hikube-gpu", resources=[secret("a", "x"), secret("b", "x")])
    monkeypatch.setattr("stacks.commands.cli.run_stack", lambda *args: run)
    assert main(["render", "--stack", "dev", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "Secret::a" in error
    assert "Secret::b" in error


dns_labels = st.from_regex(r"[a-z]([-a-z0-9]{0,6}[a-z0-9])?", fullmatch=True)
RENDERED = [
    *(
        (kind, False)
        for kind in (
            "Namespace",
            "ResourceQuota",
            "Secret",
            "Service",
            "Deployment",
            "StatefulSet",
            "Job",
            "VMDisk",
            "VMInstance",
            "Kubernetes",
            "VirtualMachine",
            "HelmRepository",
            "HelmRelease",
        )
    ),
    ("Node", True),
    ("KubeVirt", True),
]
"""Every kind the program renders, and whether it is only ever a patch."""


@settings(max_examples=100, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(RENDERED),
            st.one_of(st.just(""), dns_labels),
            st.lists(dns_labels, min_size=1, max_size=2).map(".".join),  # Node names may have dots
            st.one_of(st.none(), dns_labels),
        ),
        min_size=2,
        max_size=6,
        unique=True,
    )
)
def test_relative_path_is_one_to_one(objects: list[tuple[tuple[str, bool], str, str, str | None]]) -> None:
    """Distinct (kind, namespace, name, tenant cluster) never share a path, even on a
    case-insensitive file system."""
    paths = {
        str(
            relative_path(
                {"kind": kind, "metadata": {"name": name, "namespace": namespace}},
                cluster,
                ".patch.yaml" if patch else ".yaml",
            )
        ).lower()
        for (kind, patch), namespace, name, cluster in objects
    }
    assert len(paths) == len(objects)


# --- property: unique identities, or a config error naming two paths ------------------


def some(*names: str, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(names), min_size=min_size, max_size=3, unique=True)


@st.composite
def colliding_stacks(draw: st.DrawFn) -> dict[str, Any]:
    """Tenant stacks of VMs with data disks and clusters with node groups and workloads, their
    names drawn from sets in which one name is often another's prefix (``a`` + ``b-c`` =
    ``a-b`` + ``c``; ``ml`` + ``admin-kubeconfig`` = ``ml-admin`` + ``kubeconfig``)."""
    vms = {
        name: vm(**dict.fromkeys(draw(some("b", "c", "b-c", "system-c")), "10Gi"))
        for name in draw(some("a", "a-b", "a-system", min_size=1))
    }
    clusters = {}
    for cluster_name in draw(some("ml", "ml-eu", "ml-admin", "ml-gpu-operator")):
        config = copy.deepcopy(EDGE)
        groups = draw(some("gpu", "eu-gpu", "md0", "eu-md0", min_size=1))
        config["nodeGroups"] = {
            group: {"gpus": {"H100": 2}, "instanceType": "u1.8xlarge", "maxReplicas": 1} for group in groups
        }
        workload = {"image": "vllm/vllm-openai:v0.6.3", "gpus": {"H100": 1}, "ports": [8000]}
        workloads = draw(some("vllm", "eu-vllm", min_size=1))
        config["workloads"] = {name: copy.deepcopy(workload) for name in workloads}
        clusters[cluster_name] = config
    return base_config(quota={"L40S": 100, "H100": 100}, vms=vms, clusters=clusters)


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(colliding_stacks())
def test_unique_identities_or_an_error_naming_two_paths(
    tmp_path_factory: pytest.TempPathFactory, config: dict[str, Any]
) -> None:
    run = run_config(tmp_path_factory.mktemp("stack"), config)
    if run.failure is not None:
        assert isinstance(run.failure, ConfigError), run.failure
        assert [r for r in run.resources if r.type != "pulumi:pulumi:Stack"] == []
        for problem in run.failure.problems:
            assert "is also made by hikube-gpu:" in problem.message, problem
        return
    urns = [r.urn for r in run.resources]
    assert len(urns) == len(set(urns)), "duplicate URN"
    paths = [str(p).lower() for r in run.resources if is_kubernetes_object(r) for p, _ in documents(r)]
    assert len(paths) == len(set(paths)), "two objects for one file"
