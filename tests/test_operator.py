"""`hikube-gpu operator`: Pulumi Kubernetes Operator objects, validated against the vendored
CRDs (tests/upstream: pulumi.com Stack v2.9.0, Flux GitRepository v1.7.4), and each operator rule
they rely on checked against the operator's source at v2.9.0 (tests/operator_model.py cites the
lines; the image against pulumi/pulumi-docker-containers' release workflow)."""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.operator.manifests import (
    KUBECONFIG_PATH,
    OperatorSettings,
    kubeconfig_secret,
    manifests,
    object_name,
    workspace_image,
)
from stacks.commands.operator.manifests import stack as stack_manifest
from tests import operator_model as model
from tests.helpers import UPSTREAM, reference_data

STACK_CRD = ("pulumi-kubernetes-operator", "v2.9.0", "pulumi.com_stacks.yaml")
GIT_CRD = ("fluxcd", "source-controller", "v1.7.4", "source.toolkit.fluxcd.io_gitrepositories.yaml")


def _strict(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` wherever it lists properties (as the API
    server prunes unknown fields: a misspelt field would silently do nothing)."""
    if isinstance(schema, dict):
        out = {key: _strict(value) for key, value in schema.items()}
        open_ended = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
        if "properties" in schema and not open_ended:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@functools.cache
def _validator(parts: tuple[str, ...], version: str) -> jsonschema.Draft7Validator:
    crd = reference_data(*parts)
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    schema = _strict(copy.deepcopy(served["schema"]["openAPIV3Schema"]))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(document: dict[str, Any]) -> list[str]:
    kind, version = document["kind"], document["apiVersion"].rpartition("/")[2]
    parts = {"Stack": STACK_CRD, "GitRepository": GIT_CRD}[kind]
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(parts, version).iter_errors(document)
    ]


VERSION = (PROJECT_DIR / ".pulumi-version").read_text(encoding="utf-8").strip()
SETTINGS = OperatorSettings(
    repo_url="https://git.example.com/fleet.git", directory="infra", image=workspace_image(VERSION)
)


def test_every_object_validates_against_the_vendored_crds() -> None:
    files = manifests(SETTINGS, ["dev", "acme-prod", "Eu_Acme.prod"])
    kinds = sorted(doc["kind"] for docs in files.values() for doc in docs)
    assert kinds == ["ClusterRoleBinding", "GitRepository", "ServiceAccount", "Stack", "Stack", "Stack"]
    for documents in files.values():
        for document in documents:
            if document["kind"] in ("Stack", "GitRepository"):
                assert _errors(document) == [], document["metadata"]["name"]


def test_the_strict_check_catches_a_misspelt_field() -> None:
    (stack,) = manifests(SETTINGS, ["dev"])["stack-hikube-gpu-dev.yaml"]
    broken = copy.deepcopy(stack)
    broken["spec"]["destroyOnFinalise"] = False
    del broken["spec"]["stack"]
    assert sorted(_errors(broken)) == [
        "spec: 'stack' is a required property",
        "spec: Additional properties are not allowed ('destroyOnFinalise' was unexpected)",
    ]


def test_a_stack_runs_its_program_from_the_git_source_and_is_never_destroyed_with_the_object() -> None:
    (stack,) = manifests(SETTINGS, ["acme-prod"])["stack-hikube-gpu-acme-prod.yaml"]
    spec = stack["spec"]
    assert spec["stack"] == "acme-prod"  # the stack name, so its state and URNs, are the same
    assert spec["fluxSource"] == {
        "sourceRef": {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "name": "hikube-gpu",
        },
        "dir": "infra",
    }
    assert spec["destroyOnFinalize"] is False
    assert spec["serviceAccountName"] == "hikube-gpu"
    assert set(spec["envRefs"]) == {
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "KUBECONFIG",
    }
    kinds = {key: ref["type"] for key, ref in spec["envRefs"].items()}
    assert kinds.pop("KUBECONFIG") == "Literal"  # a path, not a credential
    assert set(kinds.values()) == {"Secret"}  # no credential in the object


def test_object_names_are_valid_and_distinct() -> None:
    names = [object_name("hikube-gpu", s) for s in ("acme", "Acme", "a_b", "a.b", "x" * 100, "x" * 99)]
    assert names[0] == "hikube-gpu-acme"
    assert len(set(names)) == len(names)
    for name in names:
        assert len(name) <= 63
        assert name == name.lower()
        assert all(c.isalnum() or c == "-" for c in name)


def test_the_command_writes_one_stack_per_stack_and_no_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / "environments").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(
        (PROJECT_DIR / "Pulumi.yaml").read_text() + "stackConfigDir: environments\n"
    )
    (project / ".pulumi-version").write_text("3.272.0\n")
    for stack in ("acme-dev", "acme-prod"):
        (project / "environments" / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (project / "examples" / "stacks").mkdir(parents=True)
    (project / "examples" / "stacks" / "Pulumi.demo.yaml").write_text("config: {}\n")
    out = tmp_path / "out"
    argv = [
        "operator",
        "--out",
        str(out),
        "--repo-url",
        "https://git.example.com/fleet.git",
        "--project-dir",
        str(project),
    ]
    assert main(argv) == 0
    assert (out / "credentials.txt").read_text().splitlines()[-2:] == [
        "acme-dev\thikube-gpu-acme-dev-kubeconfig\t-\t-",
        "acme-prod\thikube-gpu-acme-prod-kubeconfig\t-\t-",
    ]
    assert sorted(p.name for p in out.glob("*.yaml")) == [
        "service-account.yaml",
        "source.yaml",
        "stack-hikube-gpu-acme-dev.yaml",
        "stack-hikube-gpu-acme-prod.yaml",
    ]
    stacks = [
        yaml.safe_load((out / f"stack-hikube-gpu-{s}.yaml").read_text()) for s in ("acme-dev", "acme-prod")
    ]
    assert [s["spec"]["stack"] for s in stacks] == ["acme-dev", "acme-prod"]
    assert stacks[0]["spec"]["workspaceTemplate"]["spec"]["image"] == "pulumi/pulumi:3.272.0-nonroot"
    for document in [*stacks, yaml.safe_load((out / "source.yaml").read_text())]:
        assert _errors(document) == []
    (project / "environments" / "Pulumi.acme-dev.yaml").unlink()
    assert main(argv) == 0  # an earlier render is replaced: the removed stack's file goes
    assert not (out / "stack-hikube-gpu-acme-dev.yaml").exists()
    capsys.readouterr()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.yaml").write_text("keep")
    assert main([*argv[:1], "--out", str(foreign), *argv[3:]]) == 2
    assert "not empty and not an earlier operator render" in capsys.readouterr().err
    assert (foreign / "keep.yaml").read_text() == "keep"


# --- the operator's rules, checked against its source ----------------------------------------------


@pytest.mark.parametrize("rule", sorted(model.CITES))
def test_every_cited_operator_rule_is_in_the_vendored_source(rule: str) -> None:
    cite = model.CITES[rule]
    assert cite.holds(), f"{rule}: {cite} no longer reads {cite.code}"


def _nonroot_images() -> set[str]:
    """Images pulumi/pulumi-docker-containers' release workflow publishes with a ``-nonroot``
    tag (``${{ env.DOCKER_ORG }}/<image>:...-nonroot``)."""
    text = (UPSTREAM / "pulumi-docker-containers" / "3.259.0" / "release.yml").read_text()
    tags = re.findall(r"\$\{\{ env\.DOCKER_ORG \}\}/([\w${}. -]+?):(\S+)", text)
    assert any(image.startswith("pulumi-${{ matrix.sdk }}") for image, _ in tags)  # language images exist
    return {image for image, tag in tags if "nonroot" in tag}


def _published(image: str) -> bool:
    repository, _, tag = image.partition(":")
    organisation, _, name = repository.partition("/")
    return organisation == "pulumi" and name in _nonroot_images() and tag == f"{VERSION}-nonroot"


def test_the_workspace_image_is_a_published_nonroot_image_of_the_pinned_cli() -> None:
    """Image variant: ``-nonroot`` exists for pulumi/pulumi only (pulumi-docker-containers#308;
    its release.yml); the operator's own restricted default is of the same family; its user is
    the uid/gid the operator runs the pod as."""
    assert _nonroot_images() == {"pulumi"}
    (stack,) = manifests(SETTINGS, ["dev"])["stack-hikube-gpu-dev.yaml"]
    image = stack["spec"]["workspaceTemplate"]["spec"]["image"]
    assert image == f"pulumi/pulumi:{VERSION}-nonroot"
    assert _published(image)
    assert not _published("pulumi/pulumi-python:3.272.0-nonroot")  # what the render used to write
    assert "pulumi/pulumi:latest-nonroot" in "\n".join(model.CITES["restricted default image"].lines())
    dockerfile = (
        UPSTREAM / "pulumi-docker-containers" / "3.259.0" / "docker" / "pulumi" / "Dockerfile"
    ).read_text()
    nonroot = dockerfile.split("FROM base AS nonroot", 1)[1]
    uid = int(re.search(r"ARG UID=(\d+)", nonroot).group(1))  # type: ignore[union-attr]
    gid = int(re.search(r"ARG GID=(\d+)", nonroot).group(1))  # type: ignore[union-attr]
    assert (uid, gid) == model.restricted_user() == (1000, 1000)
    assert model.container(model.workspace_pod(stack))["image"] == image


def test_the_service_account_is_bound_to_auth_delegator_as_the_agent_asks() -> None:
    """The agent authenticates the operator with TokenReviews and SubjectAccessReviews and asks
    for exactly this binding (auth.go 41-60, 67-73)."""
    account, binding = manifests(SETTINGS, ["dev"])["service-account.yaml"]
    expected = model.auth_delegator_binding(SETTINGS.namespace, SETTINGS.name)
    assert binding == expected
    assert account["metadata"] == {"name": SETTINGS.name, "namespace": SETTINGS.namespace}
    (stack,) = manifests(SETTINGS, ["dev"])["stack-hikube-gpu-dev.yaml"]
    assert model.workspace_pod(stack)["serviceAccountName"] == SETTINGS.name


def test_env_refs_become_the_workspace_environment() -> None:
    """envRefs: Secret refs in the Stack's namespace become secretKeyRefs, the Literal its value
    (stack_controller.go 1418-1470); nothing the operator refuses."""
    (stack,) = manifests(SETTINGS, ["acme-prod"])["stack-hikube-gpu-acme-prod.yaml"]
    env = {e["name"]: e for e in model.container(model.workspace_pod(stack))["env"]}
    assert env["KUBECONFIG"] == {"name": "KUBECONFIG", "value": KUBECONFIG_PATH}
    assert env["PULUMI_CONFIG_PASSPHRASE"]["valueFrom"] == {
        "secretKeyRef": {"name": SETTINGS.secret, "key": "PULUMI_CONFIG_PASSPHRASE"}
    }
    foreign = copy.deepcopy(stack)
    foreign["spec"]["envRefs"]["PULUMI_BACKEND_URL"]["secret"]["namespace"] = "elsewhere"
    with pytest.raises(model.Refused, match="another namespace"):
        model.workspace_pod(foreign)


def test_the_stacks_kubeconfig_is_mounted_where_kubeconfig_points_and_readable_by_the_workspace_user() -> (
    None
):
    """Workspace template: merged over the operator's pod (its /share mount stays), the stack's
    own Secret at KUBECONFIG, readable by uid 1000 under the restricted profile."""
    (stack,) = manifests(SETTINGS, ["acme-prod"])["stack-hikube-gpu-acme-prod.yaml"]
    pod = model.workspace_pod(stack)
    pulumi = model.container(pod)
    assert pod["securityContext"]["runAsUser"] == 1000
    assert [m["mountPath"] for m in pulumi["volumeMounts"]] == [
        "/share",
        "/var/run/secrets/hikube-gpu/kubeconfig",
    ]
    assert all(m.get("readOnly") for m in pulumi["volumeMounts"] if m["mountPath"] != "/share")
    secrets = [v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v]
    assert secrets == [kubeconfig_secret(SETTINGS, "acme-prod")] == ["hikube-gpu-acme-prod-kubeconfig"]
    path = next(e["value"] for e in pulumi["env"] if e["name"] == "KUBECONFIG")
    assert model.readable(pod, path)
    # the gate can fail: owner-only, a wrong item path, or no mount at all
    for broken_mode in (0o400, 0o600, 0o440):
        broken = copy.deepcopy(stack)
        volume = broken["spec"]["workspaceTemplate"]["spec"]["podTemplate"]["spec"]["volumes"][0]
        volume["secret"]["defaultMode"] = broken_mode
        assert not model.readable(model.workspace_pod(broken), path), oct(broken_mode)
    assert not model.readable(pod, KUBECONFIG_PATH + ".old")
    assert not model.readable(model.workspace_pod(OLD_STACK), path)


def test_each_stack_gets_its_own_credential() -> None:
    files = manifests(SETTINGS, ["acme-dev", "acme-prod", "globex-prod"])
    names = {
        doc["spec"]["workspaceTemplate"]["spec"]["podTemplate"]["spec"]["volumes"][0]["secret"]["secretName"]
        for docs in files.values()
        for doc in docs
        if doc["kind"] == "Stack"
    }
    assert len(names) == 3


OLD_STACK: dict[str, Any] = {
    "apiVersion": "pulumi.com/v1",
    "kind": "Stack",
    "metadata": {"name": "hikube-gpu-dev", "namespace": "pulumi-stacks"},
    "spec": {
        "stack": "dev",
        "serviceAccountName": "hikube-gpu",
        "envRefs": {"PULUMI_BACKEND_URL": {"type": "Secret", "secret": {"name": "s", "key": "k"}}},
        "resyncFrequencySeconds": 600,
        "workspaceTemplate": {"spec": {"image": "pulumi/pulumi-python:3.272.0-nonroot"}},
    },
}
"""What ``operator`` rendered before: no credential, and "every 10 minutes" that never came."""


def test_a_stack_runs_up_again_after_a_success_to_correct_drift() -> None:
    """Resync: without continueResyncOnCommitMatch a Flux-sourced Stack never runs again at the
    same commit (stack_controller.go 1264-1266), whatever resyncFrequencySeconds says."""
    (stack,) = manifests(SETTINGS, ["dev"])["stack-hikube-gpu-dev.yaml"]
    assert stack["spec"]["continueResyncOnCommitMatch"] is True
    assert stack["spec"]["resyncFrequencySeconds"] == 3600
    assert not model.reruns_after_success(stack, 3599)
    assert model.reruns_after_success(stack, 3600)
    assert not model.reruns_after_success(OLD_STACK, 10 * 60 * 1000)
    commits_only = stack_manifest(
        OperatorSettings(repo_url="https://x/y.git", image="i", resync_seconds=0), "dev"
    )
    assert "continueResyncOnCommitMatch" not in commits_only["spec"]
    assert not model.reruns_after_success(commits_only, 10**9)


def _operator_project(root: Path, config: str = "config: {}\n") -> list[str]:
    project = root / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    (project / ".pulumi-version").write_text(f"{VERSION}\n")
    (project / "Pulumi.acme.yaml").write_text(config)
    return ["operator", "--out", str(root / "out"), "--project-dir", str(project)]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://ci:ghp_secret123@github.com/acme/fleet.git", "holds credentials"),
        ("https://ghp_secret123@github.com/acme/fleet.git", "holds credentials"),
        ("ssh://git:hunter2@git.example.com/fleet.git", "holds credentials"),
        ("git@github.com:acme/fleet.git", "must be an http(s):// or ssh:// URL"),
        ("ftp://files.example.com/fleet.git", "not ftp://"),
    ],
)
def test_a_repository_url_with_credentials_or_of_another_kind_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    assert main([*_operator_project(tmp_path), "--repo-url", url]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "secret123" not in err
    assert "hunter2" not in err
    if "credentials" in message:
        assert "--git-secret" in err
        assert "secretRef" in err
    assert not (tmp_path / "out").exists()


def test_repository_credentials_go_through_a_flux_secret_ref(tmp_path: Path) -> None:
    argv = _operator_project(tmp_path)
    assert (
        main([*argv, "--repo-url", "ssh://git@github.com/acme/fleet.git", "--git-secret", "fleet-deploy-key"])
        == 0
    )
    source = yaml.safe_load((tmp_path / "out" / "source.yaml").read_text())
    assert source["spec"]["url"] == "ssh://git@github.com/acme/fleet.git"  # a user, no secret: fine
    assert source["spec"]["secretRef"] == {"name": "fleet-deploy-key"}
    assert _errors(source) == []


def test_a_resync_below_the_operators_floor_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*_operator_project(tmp_path), "--repo-url", "https://git.example.com/f.git"]
    assert main([*argv, "--resync-seconds", "30"]) == 2
    assert "--resync-seconds must be 0 (only on a new commit) or at least 60" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["hikube-gpu:kubeconfig", "kubernetes:kubeconfig"])
def test_a_stack_that_stores_a_kubeconfig_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    config = yaml.safe_dump({"config": {key: {"secure": "v1:AAAA"}}})
    assert main([*_operator_project(tmp_path, config), "--repo-url", "https://git.example.com/f.git"]) == 2
    err = capsys.readouterr().err
    assert f"stack 'acme' sets {key}" in err
    assert "v1:AAAA" not in err


def test_credentials_name_the_context_a_stack_selects(tmp_path: Path) -> None:
    config = yaml.safe_dump(
        {"config": {"hikube-gpu:platform": {"namespace": "tenant-acme", "context": "acme"}}}
    )
    assert main([*_operator_project(tmp_path, config), "--repo-url", "https://git.example.com/f.git"]) == 0
    rows = (tmp_path / "out" / "credentials.txt").read_text().splitlines()
    assert rows[-1] == "acme\thikube-gpu-acme-kubeconfig\tacme\t-"


@pytest.mark.parametrize(
    ("platform", "guests"),
    [
        ({"namespace": "tenant-acme", "context": "acme"}, "acme/ml,acme/train"),
        ({"namespace": "tenant-acme"}, "tenant-acme/ml,tenant-acme/train"),
    ],
)
def test_credentials_name_the_gpu_clusters_contexts_the_secret_must_hold(
    tmp_path: Path, platform: dict[str, str], guests: str
) -> None:
    """The operator runs ``pulumi up``: each cluster's provider selects ``<context or
    namespace>/<cluster>`` (``guest_context``), which only the stack's Secret can hold."""
    clusters = {"train": {"version": "v1.33"}, "ml": {"version": "v1.33"}}
    config = yaml.safe_dump({"config": {"hikube-gpu:platform": platform, "hikube-gpu:clusters": clusters}})
    assert main([*_operator_project(tmp_path, config), "--repo-url", "https://git.example.com/f.git"]) == 0
    rows = (tmp_path / "out" / "credentials.txt").read_text().splitlines()
    assert rows[-2] == "# stack\tsecret\tcontext\tguest contexts"
    assert rows[-1] == f"acme\thikube-gpu-acme-kubeconfig\t{platform.get('context', '-')}\t{guests}"
