"""Which credential the stack's providers use, and how they apply objects (docs/deploying.md).

Previews and drift checks run with a read-only kubeconfig, `pulumi up` with the write one.
pulumi-kubernetes diffs every provider input (``DiffConfig``; equal inputs give DIFF_NONE), so
switching credentials must not change what the provider is registered with.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pulumi_kubernetes
import pytest
import yaml
from cluster_stacks import cluster_stack
from conformance import KUBERNETES_VERSION
from helpers import base_config, run_config
from platform_stacks import platform_stack

from components.provider_settings import INPUT_NAMES, registered_flags
from components.resolve.names import kubeconfig_secret_name
from stacks.commands.cli import PROJECT_DIR
from stacks.commands.preview.engine import SECRET_MASK, OfflineRun, Registered

PROVIDER = "pulumi:providers:kubernetes"
STACKS = {"tenant": "tenant", "platform": "host"}  # stack kind -> its provider
SSA_ENV = "PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY"  # the SDK's default for enableServerSideApply


def config_of(kind: str) -> dict[str, Any]:
    return base_config() if kind == "tenant" else platform_stack("mixed")


def provider(run: OfflineRun, name: str) -> Registered:
    assert run.failure is None, run.failure
    return next(r for r in run.resources if r.type == PROVIDER and r.name == name)


def kubeconfig_file(path: Path, user: str) -> Path:
    """A kubeconfig for the same cluster as every other one here, with ``user``'s token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: hikube\n"
        "clusters: [{name: hikube, cluster: {server: 'https://api.hikube.example:6443'}}]\n"
        "contexts: [{name: hikube, context: {cluster: hikube, user: u}}]\n"
        f"users: [{{name: u, user: {{token: {user}-token}}}}]\n"
    )
    return path


@pytest.mark.parametrize("kind", sorted(STACKS))
def test_without_a_stack_kubeconfig_the_provider_is_registered_with_the_ambient_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """``""``: the provider loads KUBECONFIG when it starts. Not the path the SDK would record."""
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_file(tmp_path / "kube" / "config", "write")))
    inputs = provider(run_config(tmp_path, config_of(kind)), STACKS[kind]).inputs
    assert inputs["kubeconfig"] == ""


@pytest.mark.parametrize("kind", sorted(STACKS))
def test_switching_between_the_read_only_and_the_write_credential_leaves_the_provider_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """CI previews with its read-only file, a person runs `up` with the write one: equal inputs,
    so the provider is neither replaced nor updated, and nothing under it moves."""
    registered = []
    for user, path in (("readonly", "runner-temp/readonly.kubeconfig"), ("write", "home/.kube/config")):
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig_file(tmp_path / path, user)))
        registered.append(provider(run_config(tmp_path / user, config_of(kind)), STACKS[kind]))
    readonly, write = registered
    assert readonly.inputs == write.inputs
    assert readonly.urn == write.urn


@pytest.mark.parametrize("kind", sorted(STACKS))
def test_a_stack_kubeconfig_stays_a_secret_and_wins_over_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_file(tmp_path / "kube" / "config", "ambient")))
    config = {**config_of(kind), "kubeconfig": kubeconfig_file(tmp_path / "own", "own").read_text()}
    registered = provider(run_config(tmp_path, config), STACKS[kind])
    assert registered.inputs["kubeconfig"] == SECRET_MASK  # registered as a Pulumi secret


@pytest.mark.parametrize("ambient", ["true", "false"])
def test_the_tenant_provider_applies_client_side_and_the_host_provider_server_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ambient: str
) -> None:
    """Whatever PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY says: Cozystack apps get a three-way merge
    patch (removed keys sent as null, P7); the host's Node/KubeVirt patches need server-side apply."""
    monkeypatch.setenv(SSA_ENV, ambient)
    tenant = provider(run_config(tmp_path / "tenant", config_of("tenant")), "tenant")
    host = provider(run_config(tmp_path / "platform", config_of("platform")), "host")
    assert tenant.inputs["enableServerSideApply"] == "false"
    assert host.inputs["enableServerSideApply"] == "true"


SDK_PROVIDER = Path(pulumi_kubernetes.__file__).parent / "provider.py"


def sdk_environment_inputs() -> dict[str, str]:
    """Every ``PULUMI_K8S_*`` variable the installed SDK's ``Provider`` reads for an input left
    ``None``, read from its source (``pulumi_kubernetes/provider.py`` 573–606 in 4.34.2)."""
    text = SDK_PROVIDER.read_text()
    found = re.findall(r"if (\w+) is None:\n\s+\1 = _utilities\.get_env_bool\('(PULUMI_K8S_\w+)'\)", text)
    return {variable: keyword for keyword, variable in found}


def every_provider(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """The inputs of every provider the program creates: tenant, a cluster's own, host."""
    tenant = cluster_stack()
    tenant["vms"] = base_config()["vms"]
    runs = [run_config(tmp_path / "tenant", tenant), run_config(tmp_path / "host", config_of("platform"))]
    providers = {}
    for run in runs:
        assert run.failure is None, run.failure
        providers |= {r.name: r.inputs for r in run.resources if r.type == PROVIDER}
    return providers


def test_the_sdk_reads_nine_flags_from_the_environment() -> None:
    """The boundary: if the SDK starts reading another variable, this list must grow with it."""
    assert sorted(sdk_environment_inputs().values()) == sorted(INPUT_NAMES)


def test_pulumi_k8s_variables_do_not_change_any_provider_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every variable the SDK reads set to the opposite of our value, each provider (tenant,
    each cluster's own, host) registers the same inputs: every flag is stated, none inherited."""
    for variable in sdk_environment_inputs():
        monkeypatch.delenv(variable, raising=False)
    clean = every_provider(tmp_path / "clean")
    assert {"tenant", "host"} <= set(clean)
    assert any(name.endswith("-provider") for name in clean)  # a cluster's own
    for variable in sdk_environment_inputs():
        monkeypatch.setenv(variable, "true")
    assert every_provider(tmp_path / "true") == clean
    for variable in sdk_environment_inputs():
        monkeypatch.setenv(variable, "false")
    assert every_provider(tmp_path / "false") == clean
    for name, inputs in clean.items():
        stated = {key for key in inputs if key in registered_flags(server_side_apply=True)}
        assert stated == set(registered_flags(server_side_apply=True)), name


def under(run: OfflineRun, registered: Registered) -> list[Registered]:
    return [r for r in run.custom_resources() if r.provider.startswith(registered.urn + "::")]


def test_nothing_the_tenant_provider_manages_is_a_patch(tmp_path: Path) -> None:
    """Patch resources refuse client-side apply; the tenant provider serves Cozystack apps only
    (it reads no cluster's admin kubeconfig Secret: issue 21.1)."""
    config = cluster_stack()
    config["vms"] = base_config()["vms"]
    run = run_config(tmp_path, config)
    served = under(run, provider(run, "tenant"))
    managed = {r.type for r in served if not r.read}
    assert managed >= {
        "kubernetes:apps.cozystack.io/v1alpha1:VMInstance",
        "kubernetes:apps.cozystack.io/v1alpha1:Kubernetes",
    }
    assert all(t.startswith("kubernetes:apps.cozystack.io/") for t in managed), managed
    assert [r for r in served if r.read] == []


def test_the_host_patches_go_through_the_server_side_apply_provider(tmp_path: Path) -> None:
    run = run_config(tmp_path, config_of("platform"))
    host = provider(run, "host")
    patches = [r for r in run.custom_resources() if r.type.endswith("Patch")]
    assert "kubernetes:core/v1:NodePatch" in {r.type for r in patches}
    assert all(r in under(run, host) for r in patches)
    assert host.inputs["enableServerSideApply"] == "true"


# --- the read-only RBAC and its kubeconfig (deploy/rbac) -----------------------------------------

RBAC = PROJECT_DIR / "deploy" / "rbac"
READ_VERBS = {"get", "list", "watch"}


def manifest(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((RBAC / name).read_text()) if d]


@pytest.mark.parametrize(
    "name", ["tenant-preview-readonly.yaml", "host-preview-readonly.yaml", "guest-preview-readonly.yaml"]
)
def test_the_preview_roles_only_read(name: str) -> None:
    documents = manifest(name)
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    roles = {(d["kind"], d["metadata"]["name"]): d for d in documents if d["kind"] in ("Role", "ClusterRole")}
    for role in roles.values():
        for rule in role["rules"]:
            assert set(rule["verbs"]) <= READ_VERBS, (role["metadata"]["name"], rule)
    accounts = {
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for d in documents
        if d["kind"] == "ServiceAccount"
    }
    for binding in (d for d in documents if d["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        ref = binding["roleRef"]
        assert (ref["kind"], ref["name"]) in roles or ref == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "view",  # Kubernetes' built-in read-only role (no Secrets)
        }
        assert {(s["namespace"], s["name"]) for s in binding["subjects"]} <= accounts
    (token,) = [d for d in documents if d.get("type") == "kubernetes.io/service-account-token"]
    account = token["metadata"]["annotations"]["kubernetes.io/service-account.name"]
    assert (token["metadata"]["namespace"], account) in accounts
    assert token["metadata"]["name"] == f"{account}-token"  # what mint-kubeconfig.sh reads


def test_the_tenant_preview_role_reads_the_apps_and_no_secret_as_the_program_reads_none(
    tmp_path: Path,
) -> None:
    """A preview holds no cluster's admin kubeconfig: the role grants no Secret, and the program
    reads none (each cluster's provider takes a context of the run's kubeconfig: issue 21.1)."""
    (role,) = [d for d in manifest("tenant-preview-readonly.yaml") if d["kind"] == "Role"]
    namespace = role["metadata"]["namespace"]
    rules = {tuple(r["apiGroups"]): r for r in role["rules"]}
    assert rules[("apps.cozystack.io",)]["resources"] == ["*"]
    assert all("secrets" not in r["resources"] for r in role["rules"]), role["rules"]
    config = cluster_stack()
    config["platform"]["namespace"] = namespace
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    assert [r for r in run.resources if r.read] == []


def test_the_guest_role_reads_every_kind_a_clusters_provider_manages(tmp_path: Path) -> None:
    """Inside a GPU Kubernetes cluster a preview reads what the cluster's provider registers there
    (namespaces, quotas, each workload kind and its Service), and nothing else is granted."""
    (role,) = [d for d in manifest("guest-preview-readonly.yaml") if d["kind"] == "ClusterRole"]
    granted = {
        (group, resource) for r in role["rules"] for group in r["apiGroups"] for resource in r["resources"]
    }
    run = run_config(tmp_path, cluster_stack())  # every workload kind: Deployment, Job, StatefulSet
    assert run.failure is None, run.failure
    providers = [r for r in run.resources if r.type == PROVIDER and r.name.endswith("-provider")]
    inside = {r.type for p in providers for r in under(run, p)}
    plural = {
        "kubernetes:core/v1:Namespace": ("", "namespaces"),
        "kubernetes:core/v1:ResourceQuota": ("", "resourcequotas"),
        "kubernetes:core/v1:Service": ("", "services"),
        "kubernetes:apps/v1:Deployment": ("apps", "deployments"),
        "kubernetes:apps/v1:StatefulSet": ("apps", "statefulsets"),
        "kubernetes:batch/v1:Job": ("batch", "jobs"),
    }
    assert inside == set(plural)
    assert granted == set(plural.values())


PLURALS = {"VMDisk": "vmdisks", "VMInstance": "vminstances", "Kubernetes": "kuberneteses"}
"""apps.cozystack.io resource names (cozystack v1.1.2 ``packages/system/cozystack-basics/templates/
clusterroles.yaml``, the tenant roles' rules)."""


def test_the_deploy_role_writes_exactly_what_the_tenant_provider_registers(tmp_path: Path) -> None:
    """The `up` credential of a tenant stack (deploy/rbac/tenant-deploy.yaml, the operator's
    per-stack Secret): writes only the Cozystack apps the tenant provider registers, reads only
    the admin kubeconfig Secrets `hikube-gpu up` reads for the clusters' contexts (the
    program itself reads none), nothing cluster-wide."""
    documents = manifest("tenant-deploy.yaml")
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    assert {d["kind"] for d in documents} == {"ServiceAccount", "Secret", "Role", "RoleBinding"}
    (role,) = [d for d in documents if d["kind"] == "Role"]
    namespace = role["metadata"]["namespace"]
    config = cluster_stack()
    config["platform"]["namespace"] = namespace
    config["clusters"] = {"example": next(iter(config["clusters"].values()))}
    config["vms"] = base_config()["vms"]
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    tenant = [r for r in run.resources if "::pulumi:providers:kubernetes::tenant::" in r.provider]
    written = {PLURALS[r.type.rpartition(":")[2]] for r in tenant if not r.read}
    assert written == set(PLURALS.values())
    assert [r for r in tenant if r.read] == []  # no admin kubeconfig read by the program (21.1)
    read = {
        f"{namespace}/{kubeconfig_secret_name(cluster)}" for cluster in config["clusters"]
    }  # guest_access
    writers = [r for r in role["rules"] if set(r["verbs"]) - READ_VERBS]
    assert [(r["apiGroups"], sorted(r["resources"])) for r in writers] == [
        (["apps.cozystack.io"], sorted(written))
    ]
    secrets = next(r for r in role["rules"] if "secrets" in r["resources"])
    assert secrets["verbs"] == ["get"]
    assert read == {f"{namespace}/{name}" for name in secrets["resourceNames"]}
    assert all("*" not in r["resources"] for r in role["rules"])
    (token,) = [d for d in documents if d.get("type") == "kubernetes.io/service-account-token"]
    assert token["metadata"]["name"] == "hikube-gpu-deploy-token"  # mint-kubeconfig.sh NS hikube-gpu-deploy


FAKE_KUBECTL = """#!/usr/bin/env bash
echo "$*" >> "$KUBECTL_LOG"
case "$*" in
  "--namespace tenant-acme get secret hikube-gpu-preview-token -o jsonpath={.data.token}") printf %s "$TOKEN_B64" ;;
  *"jsonpath={.clusters[0].cluster.server}") printf %s https://api.hikube.example:6443 ;;
  *"jsonpath={.clusters[0].cluster.certificate-authority-data}") printf %s "$CA" ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
"""


def mint(tmp_path: Path, *args: str, ca: str = "Q0EtZGF0YQ==", token: str = "read-only-token") -> Any:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "kubectl").write_text(FAKE_KUBECTL)
    (bin_dir / "kubectl").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "KUBECTL_LOG": str(tmp_path / "kubectl.log"),
        "TOKEN_B64": base64.b64encode(token.encode()).decode(),
        "CA": ca,
    }
    return subprocess.run(
        ["bash", str(RBAC / "mint-kubeconfig.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_minted_kubeconfig_holds_the_service_account_token_for_the_same_server(tmp_path: Path) -> None:
    result = mint(tmp_path, "tenant-acme", "hikube-gpu-preview", "hikube-acme")
    assert result.returncode == 0, result.stderr
    kubeconfig = yaml.safe_load(result.stdout)
    assert kubeconfig["current-context"] == "hikube-acme"
    assert kubeconfig["clusters"] == [
        {
            "name": "hikube-acme",
            "cluster": {
                "server": "https://api.hikube.example:6443",
                "certificate-authority-data": "Q0EtZGF0YQ==",
            },
        }
    ]
    assert kubeconfig["contexts"][0]["context"] == {
        "cluster": "hikube-acme",
        "user": "hikube-acme",
        "namespace": "tenant-acme",
    }
    assert kubeconfig["users"] == [{"name": "hikube-acme", "user": {"token": "read-only-token"}}]
    calls = (tmp_path / "kubectl.log").read_text().splitlines()
    assert all(c.startswith(("--namespace tenant-acme get secret ", "config view ")) for c in calls), calls


def test_mint_leaves_out_an_empty_ca_and_refuses_a_missing_token(tmp_path: Path) -> None:
    public_ca = mint(tmp_path, "tenant-acme", ca="")
    assert public_ca.returncode == 0, public_ca.stderr
    assert yaml.safe_load(public_ca.stdout)["clusters"][0]["cluster"] == {
        "server": "https://api.hikube.example:6443"
    }
    no_token = mint(tmp_path, "tenant-acme", token="")
    assert no_token.returncode == 1
    assert "has no token" in no_token.stderr
    assert no_token.stdout == ""
