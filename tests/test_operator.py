"""`python -m stacks operator`: Pulumi Kubernetes Operator objects, validated against the vendored
CRDs (tests/upstream: pulumi.com Stack v2.9.0, Flux GitRepository v1.7.4)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from stacks.offline.cli import PROJECT_DIR, main
from stacks.operator.manifests import OperatorSettings, manifests, object_name
from tests.helpers import reference_data

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


SETTINGS = OperatorSettings(
    repo_url="https://git.example.com/fleet.git",
    directory="infra",
    image="pulumi/pulumi-python:3.272.0-nonroot",
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
    }
    assert all(ref["type"] == "Secret" for ref in spec["envRefs"].values())  # no credential in the object


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
    assert stacks[0]["spec"]["workspaceTemplate"]["spec"]["image"] == "pulumi/pulumi-python:3.272.0-nonroot"
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
