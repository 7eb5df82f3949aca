"""GPU Kubernetes clusters end to end: manifests (snapshots), schemas, sharing, workloads.

The ``train`` cluster has an A100 MIG group and an L40S time-slicing group with
generic resource names; ``edge`` uses per-model names (see tests/cluster_stacks.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from components.builders.gpu_sharing import plan_sharing
from components.builders.kubernetes_cluster import build_kubernetes
from components.catalog.gpus import GPU_MODELS
from components.catalog.platform import PROFILES
from components.gpu_kubernetes_cluster import _kubeconfig
from stacks.commands.preview.engine import OfflineRun
from stacks.commands.preview.render import render, target_cluster
from stacks.commands.preview.report import preview_text
from stacks.validation.validate import validate
from tests.cluster_stacks import EDGE, TRAIN, cluster_stack
from tests.conformance import SCHEMA_DIR
from tests.helpers import objects, reference, reference_json, run_config, stack_config


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> OfflineRun:
    run = run_config(tmp_path_factory.mktemp("clusters"), cluster_stack())
    assert run.failure is None, run.failure
    return run


def spec_of(run: OfflineRun, cluster: str) -> dict[str, Any]:
    spec: dict[str, Any] = objects(run)[f"Kubernetes/{cluster}"]["spec"]
    return spec


def operator_values(run: OfflineRun, cluster: str) -> dict[str, Any]:
    values: dict[str, Any] = spec_of(run, cluster)["addons"]["gpuOperator"]["valuesOverride"]["gpu-operator"]
    return values


# --- snapshots (reviewed: see the .ambr file) -------------------------------------------


def test_rendered_cluster_manifests_snapshot(
    clusters: OfflineRun, tmp_path: Path, snapshot: SnapshotAssertion
) -> None:
    files = {str(p.relative_to(tmp_path)): p.read_text() for p in render(clusters, tmp_path)}
    assert files == snapshot


def test_cluster_preview_snapshot(clusters: OfflineRun, snapshot: SnapshotAssertion) -> None:
    assert preview_text(clusters) == snapshot


# --- the Kubernetes app -------------------------------------------------------------------


def _cluster_specs() -> list[Any]:
    cases = []
    stacks = {
        "dev": stack_config("dev"),
        "clusters-hikube": cluster_stack("hikube"),
        "clusters-cozystack-1.4": cluster_stack("cozystack-1.4"),
    }
    for stack_name, raw in stacks.items():
        stack = validate(raw).stack
        profile = PROFILES[stack.platform.profile]
        for name, cluster in stack.clusters.items():
            manifest = build_kubernetes(name, "tenant-x", cluster, profile.kubernetes)
            cases.append(
                pytest.param(SCHEMA_DIR[profile.name], manifest.body["spec"], id=f"{stack_name}/{name}")
            )
    return cases


@pytest.mark.parametrize(("version", "spec"), _cluster_specs())
def test_kubernetes_spec_validates_against_cozystack_schema(version: str, spec: dict[str, Any]) -> None:
    schema = reference_json("cozystack", version, "apps", "kubernetes", "values.schema.json")
    jsonschema.validate(spec, schema, cls=jsonschema.Draft7Validator)


def _unknown_keys(value: Any, schema: dict[str, Any], path: str = "spec") -> list[str]:
    """Keys the schema does not declare (the platform would ignore them silently)."""
    if not isinstance(value, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    unknown = []
    for key, item in value.items():
        if key in schema.get("properties", {}):
            unknown += _unknown_keys(item, schema["properties"][key], f"{path}.{key}")
        elif isinstance(schema.get("additionalProperties"), dict):
            unknown += _unknown_keys(item, schema["additionalProperties"], f"{path}.{key}")
        else:
            unknown.append(f"{path}.{key}")
    return unknown


@pytest.mark.parametrize(("version", "spec"), _cluster_specs())
def test_every_kubernetes_spec_key_is_declared_by_the_schema(version: str, spec: dict[str, Any]) -> None:
    schema = reference_json("cozystack", version, "apps", "kubernetes", "values.schema.json")
    assert _unknown_keys(spec, schema) == []


def test_unknown_key_check_finds_a_typo() -> None:
    """Guard for the check above: a misspelt node-group key is reported."""
    schema = reference_json("cozystack", "v1.1.2", "apps", "kubernetes", "values.schema.json")
    spec = {"nodeGroups": {"md0": {"ephemeralStorrage": "20Gi"}}}
    assert _unknown_keys(spec, schema) == ["spec.nodeGroups.md0.ephemeralStorrage"]


def test_node_groups_are_complete_and_md0_is_explicit(clusters: OfflineRun) -> None:
    spec = spec_of(clusters, "edge")  # edge does not define md0: the platform would add it
    assert spec["nodeGroups"]["md0"] == {
        "minReplicas": 0,
        "maxReplicas": 10,
        "instanceType": "u1.medium",
        "ephemeralStorage": "20Gi",
        "roles": ["ingress-nginx"],
        "resources": {},
        "gpus": [],
    }
    assert spec["nodeGroups"]["h100-a"]["gpus"] == [{"name": "nvidia.com/H100_94GB"}] * 2
    assert spec["nodeGroups"]["h100-a"]["roles"] == ["gpu-h100-a"]


def test_cozystack_1_4_profile_renders_disk_size_and_no_default_group(tmp_path: Path) -> None:
    run = run_config(tmp_path, cluster_stack("cozystack-1.4", edge=EDGE))
    spec = spec_of(run, "edge")
    assert set(spec["nodeGroups"]) == {"h100-a", "h100-b"}
    assert spec["nodeGroups"]["h100-a"]["diskSize"] == "20Gi"
    assert "ephemeralStorage" not in spec["nodeGroups"]["h100-a"]
    assert spec["addons"]["hami"] == {"enabled": False, "valuesOverride": {}}
    assert "fluxcd" not in spec["addons"]
    assert spec["controlPlane"]["apiServer"]["resourcesPreset"] == "c1.medium"


def test_gpu_operator_is_enabled_by_gpu_groups_only(tmp_path: Path) -> None:
    cpu_only = {"nodeGroups": {"md0": {"instanceType": "u1.large"}}}
    run = run_config(tmp_path, cluster_stack(plain=cpu_only, edge=EDGE))
    assert spec_of(run, "plain")["addons"]["gpuOperator"] == {"enabled": False, "valuesOverride": {}}
    assert spec_of(run, "edge")["addons"]["gpuOperator"]["enabled"] is True


def test_cluster_waits_for_ready_and_its_provider_takes_a_context_not_its_admin_kubeconfig(
    clusters: OfflineRun,
) -> None:
    """The stack's clusters are reached through the context ``<namespace>/<cluster>`` of the run's
    kubeconfig: no admin kubeconfig is read, none is a provider input or in the state (21.1)."""
    metadata = objects(clusters)["Kubernetes/train"]["metadata"]
    assert metadata["annotations"] == {
        "pulumi.com/waitFor": "condition=Ready",
        "pulumi.com/timeoutSeconds": "2400",
    }
    assert [r for r in clusters.resources if r.read] == []
    provider = next(r for r in clusters.resources if r.name == "train-provider")
    assert provider.inputs["context"] == "tenant-test/train"
    assert provider.inputs["kubeconfig"] == ""
    assert provider.masked == ()
    app = next(r for r in clusters.resources if r.name == "train-cluster")
    assert provider.dependencies == (app.urn,)


# --- GPU Operator values and sharing -----------------------------------------------------


def _leaf_paths(value: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        return set().union(*(_leaf_paths(v, (*prefix, k)) for k, v in value.items()))
    return {prefix}


FREE_FORM = (  # maps whose content is data for the operands, not chart keys
    ("devicePlugin", "config", "data"),
    ("migManager", "config", "data"),
    ("node-feature-discovery", "worker", "config", "sources"),
)


@pytest.mark.parametrize("profile", ["hikube", "cozystack-1.4", "cozystack-1.6"])
def test_operator_values_only_use_keys_of_the_wrapped_chart(tmp_path: Path, profile: str) -> None:
    """The wrapper passes values through unchecked; a key the chart lacks would be ignored."""
    run = run_config(tmp_path, cluster_stack(profile))
    chart = reference(
        "cozystack", SCHEMA_DIR[profile], "system", "gpu-operator", "upstream-chart-values.yaml"
    )
    known = yaml.safe_load(chart.read_text(encoding="utf-8"))
    for leaf in _leaf_paths(operator_values(run, "train")):
        path = next((free for free in FREE_FORM if leaf[: len(free)] == free), leaf)
        node: Any = known
        for key in path:
            assert isinstance(node, dict), f"{'.'.join(path)}: the chart has no map there"
            assert key in node, f"{'.'.join(path)} is not a key of the chart"
            node = node[key]


def test_operator_values_carry_no_nulls(clusters: OfflineRun) -> None:
    text = yaml.safe_dump(operator_values(clusters, "train"))
    assert "null" not in text


def test_time_slicing_and_mig_compile_into_operator_values(clusters: OfflineRun) -> None:
    values = operator_values(clusters, "train")
    plugin = values["devicePlugin"]["config"]
    assert plugin["create"] is True
    assert plugin["default"] == "default"
    assert plugin["name"].startswith("hikube-gpu-sharing-")
    l40s = yaml.safe_load(plugin["data"]["l40s"])
    assert l40s["sharing"]["timeSlicing"]["resources"] == [{"name": "nvidia.com/gpu", "replicas": 4}]
    assert yaml.safe_load(plugin["data"]["a100"])["flags"] == {"migStrategy": "mixed"}
    assert values["mig"] == {"strategy": "mixed"}
    mig = yaml.safe_load(values["migManager"]["config"]["data"]["config.yaml"])
    assert mig["mig-configs"]["hikube-gpu-a100"] == [
        {"devices": "all", "mig-enabled": True, "mig-devices": {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}}
    ]
    assert mig["mig-configs"]["all-disabled"] == [{"devices": "all", "mig-enabled": False}]
    assert values["dcgmExporter"]["serviceMonitor"] == {"enabled": True}


def test_nfd_rules_label_nodes_by_the_catalogs_pci_ids(clusters: OfflineRun) -> None:
    rules = operator_values(clusters, "train")["node-feature-discovery"]["worker"]["config"]["sources"][
        "custom"
    ]
    by_device = {r["matchFeatures"][0]["matchExpressions"]["device"]["value"][0]: r["labels"] for r in rules}
    a100, l40s = (
        GPU_MODELS[next(m for m in GPU_MODELS if m.value == "A100")],
        GPU_MODELS[next(iter(GPU_MODELS))],
    )
    assert by_device[a100.pci_device_id.lower()] == {
        "nvidia.com/device-plugin.config": "a100",
        "nvidia.com/mig.config": "hikube-gpu-a100",
    }
    assert by_device[l40s.pci_device_id.lower()] == {"nvidia.com/device-plugin.config": "l40s"}
    assert all(r["matchFeatures"][0]["matchExpressions"]["vendor"]["value"] == ["10de"] for r in rules)


def test_config_names_change_with_the_sharing_and_only_then() -> None:
    base = validate(cluster_stack()).stack.clusters["train"]
    same = validate(cluster_stack()).stack.clusters["train"]
    changed_config = cluster_stack()
    changed_config["clusters"]["train"]["nodeGroups"]["l40s"]["sharing"]["timeSlicing"]["replicas"] = 8
    changed = validate(changed_config).stack.clusters["train"]
    assert plan_sharing(base, "single").config_hash == plan_sharing(same, "single").config_hash
    assert plan_sharing(base, "single").config_hash != plan_sharing(changed, "single").config_hash
    assert (
        plan_sharing(changed, "single").device_plugin_config_name
        != plan_sharing(base, "single").device_plugin_config_name
    )


def test_no_sharing_means_no_sharing_values(clusters: OfflineRun) -> None:
    values = operator_values(clusters, "edge")
    assert set(values) == {"driver", "dcgmExporter"}


# --- workloads ------------------------------------------------------------------------------


def in_cluster(run: OfflineRun, cluster: str) -> dict[str, dict[str, Any]]:
    """Objects deployed inside ``cluster`` (through its provider), keyed ``Kind/name``."""
    return {
        f"{r.inputs['kind']}/{r.inputs['metadata']['name']}": r.inputs
        for r in run.custom_resources()
        if not r.read and r.type.startswith("kubernetes:") and target_cluster(r) == cluster
    }


def test_every_object_inside_a_cluster_validates_against_kubernetes(clusters: OfflineRun) -> None:
    checked = 0
    for cluster, version in (("train", "1.33.0"), ("edge", "1.35.0")):
        for manifest in in_cluster(clusters, cluster).values():
            kubernetes_validate.validate(manifest, version, strict=True)
            checked += 1
    assert checked == 13


def test_kubernetes_validation_catches_a_wrong_shape() -> None:
    """Guard: the validator rejects a malformed container (ports as plain numbers)."""
    bad = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x"},
        "spec": {"containers": [{"name": "c", "image": "i", "ports": [8000]}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.33.0", strict=True)


def test_generic_names_request_gpus_and_mig_instances(clusters: OfflineRun) -> None:
    inside = in_cluster(clusters, "train")
    notebooks = inside["Deployment/notebooks"]["spec"]["template"]["spec"]
    assert notebooks["containers"][0]["resources"]["limits"] == {
        "nvidia.com/mig-1g.10gb": 1,
        "cpu": "2",
        "memory": "8Gi",
    }
    assert notebooks["nodeSelector"] == {"node-role.kubernetes.io/gpu-a100": ""}
    embeddings = inside["StatefulSet/embeddings"]["spec"]["template"]["spec"]
    assert embeddings["containers"][0]["resources"]["requests"] == {"nvidia.com/gpu": 1}


def test_per_model_names_and_affinity_over_several_groups(clusters: OfflineRun) -> None:
    llm = in_cluster(clusters, "edge")["Deployment/llm"]["spec"]["template"]["spec"]
    assert llm["containers"][0]["resources"]["limits"] == {"nvidia.com/H100_94GB": 2}
    terms = llm["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert terms == [
        {"matchExpressions": [{"key": "node-role.kubernetes.io/gpu-h100-a", "operator": "Exists"}]},
        {"matchExpressions": [{"key": "node-role.kubernetes.io/gpu-h100-b", "operator": "Exists"}]},
    ]
    assert "nodeSelector" not in llm


def test_workloads_are_locked_down_by_default(clusters: OfflineRun) -> None:
    pod = in_cluster(clusters, "train")["Deployment/notebooks"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = pod["containers"][0]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["resources"]["limits"] == container["resources"]["requests"]
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_root_workloads_get_a_baseline_namespace(clusters: OfflineRun) -> None:
    inside = in_cluster(clusters, "train")
    job = inside["Job/finetune"]["spec"]["template"]["spec"]
    assert "runAsNonRoot" not in job["securityContext"]
    labels = {name: ns["metadata"]["labels"] for name, ns in inside.items() if name.startswith("Namespace/")}
    assert labels["Namespace/training"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["Namespace/gpu-workloads"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_quota_matches_what_the_namespace_asks_for(clusters: OfflineRun) -> None:
    inside = in_cluster(clusters, "train")
    assert inside["ResourceQuota/gpu-workloads-gpu-quota"]["spec"]["hard"] == {
        "requests.nvidia.com/gpu": "3",  # embeddings: 3 pods x 1
        "requests.nvidia.com/mig-1g.10gb": "2",  # notebooks: 2 pods x 1
    }
    assert inside["ResourceQuota/training-gpu-quota"]["spec"]["hard"] == {
        "requests.nvidia.com/mig-3g.40gb": "1"
    }


def test_jobs_are_not_awaited_and_statefulsets_get_storage_and_a_headless_service(
    clusters: OfflineRun,
) -> None:
    inside = in_cluster(clusters, "train")
    job = inside["Job/finetune"]
    assert job["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] == 2
    sts = inside["StatefulSet/embeddings"]["spec"]
    assert sts["serviceName"] == "embeddings"
    assert sts["volumeClaimTemplates"][0]["spec"]["resources"] == {"requests": {"storage": "50Gi"}}
    assert inside["Service/embeddings"]["spec"]["clusterIP"] == "None"
    assert inside["Deployment/notebooks"]["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": 0,
        "maxUnavailable": 1,
    }


def test_workloads_wait_for_their_namespace_and_quota(clusters: OfflineRun) -> None:
    by_name = {r.name: r for r in clusters.resources}
    guards = {by_name["train-ns-training"].urn, by_name["train-ns-training-quota"].urn}
    assert set(by_name["train-finetune-job"].dependencies) == guards


def test_same_config_renders_the_same_bytes(tmp_path: Path) -> None:
    first = run_config(tmp_path / "a", cluster_stack())
    second = run_config(tmp_path / "b", cluster_stack())
    files_a = {str(p.relative_to(tmp_path / "ra")): p.read_bytes() for p in render(first, tmp_path / "ra")}
    files_b = {str(p.relative_to(tmp_path / "rb")): p.read_bytes() for p in render(second, tmp_path / "rb")}
    assert files_a == files_b


def test_train_and_edge_fixtures_are_valid_alone() -> None:
    for cluster in (TRAIN, EDGE):
        assert validate(cluster_stack(c=cluster)).stack.clusters["c"]


def test_a_kubeconfig_secret_without_its_key_fails_instead_of_falling_back() -> None:
    """An empty kubeconfig would make the provider use the ambient cluster: never allow it."""
    with pytest.raises(ValueError, match=r"has no 'super-admin\.conf' key"):
        _kubeconfig({"super-admin.svc": "eA=="}, "kubernetes-x-admin-kubeconfig")
    assert _kubeconfig({"super-admin.conf": "a2luZDogQ29uZmln"}, "s") == "kind: Config"


def test_shared_memory_and_secret_env_are_references_only(clusters: OfflineRun) -> None:
    pod = in_cluster(clusters, "train")["Job/finetune"]["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}}]
    container = pod["containers"][0]
    assert container["volumeMounts"] == [{"name": "dshm", "mountPath": "/dev/shm"}]
    assert container["envFrom"] == [{"secretRef": {"name": "wandb"}}]
