"""The GitHub Actions workflows: valid against GitHub's workflow schema, and doing what the README says."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.offline.cli import PROJECT_DIR
from stacks.offline.diff_report import MARKER

WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / name).read_text())
    return document


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_validates_against_the_github_schema(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    """Guard: the validator rejects a job without runs-on."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    steps:\n      - run: echo\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(broken),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1


def test_manifest_diff_needs_no_secrets_and_updates_one_comment() -> None:
    job = load("preview.yml")["jobs"]["manifest-diff"]
    text = yaml.safe_dump(job)
    assert "secrets." not in text
    run = next(s["run"] for s in job["steps"] if s.get("id") == "diff")
    assert "python -m stacks diff --base" in run
    assert "--format markdown" in run
    script = next(s["with"]["script"] for s in job["steps"] if "github-script" in s.get("uses", ""))
    assert MARKER in script
    assert "updateComment" in script


def test_pulumi_preview_runs_per_stack_only_where_secrets_exist() -> None:
    workflow = load("preview.yml")
    job = workflow["jobs"]["pulumi-preview"]
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    action = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert action["with"]["command"] == "preview"
    for key in ("comment-on-pr", "diff", "refresh"):
        assert action["with"][key] is True
    assert "policy" in action["with"]["policyPacks"]
    backend = next(s for s in workflow["jobs"]["stacks"]["steps"] if s.get("id") == "backend")
    assert "secrets.PULUMI_BACKEND_URL" in backend["env"]["BACKEND"]
    assert (
        backend["env"]["SAME_REPO"]
        == "${{ github.event.pull_request.head.repo.full_name == github.repository }}"
    )


def test_drift_check_expects_no_changes_after_refresh() -> None:
    workflow = load("drift.yml")
    assert "schedule" in workflow[True]  # YAML 1.1 reads the key `on` as True
    action = next(
        s for s in workflow["jobs"]["drift"]["steps"] if s.get("uses", "").startswith("pulumi/actions@")
    )
    assert action["with"]["refresh"] is True
    assert action["with"]["expect-no-changes"] is True


@pytest.mark.parametrize("workflow", ["preview.yml", "drift.yml"])
def test_the_stack_matrix_is_the_stack_files_minus_the_exclude_list(tmp_path: Path, workflow: str) -> None:
    """The matrix lists stacks like `python -m stacks list`, minus .ci/preview-exclude."""
    for stack in ("dev", "acme", "eu.prod"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "preview-exclude").write_text("# examples\ndev\n")
    step = next(s for s in load(workflow)["jobs"]["stacks"]["steps"] if s.get("id") == "list")
    command = step["run"].replace(' >> "$GITHUB_OUTPUT"', "")
    shell = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert json.loads(shell.stdout.removeprefix("stacks=")) == ["acme", "eu.prod"]
    cli = subprocess.run(
        [sys.executable, "-m", "stacks", "list", "--format", "json", "--project-dir", str(tmp_path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(cli.stdout) == ["acme", "dev", "eu.prod"]


def test_the_examples_are_excluded_from_real_previews() -> None:
    excluded = {
        line.strip()
        for line in (PROJECT_DIR / ".ci" / "preview-exclude").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert excluded == {"dev", "acme-vms", "globex-ml", "host-example"}


def test_real_previews_need_the_backend_secret() -> None:
    for workflow, job in (("preview.yml", "pulumi-preview"), ("drift.yml", "drift")):
        condition = load(workflow)["jobs"][job]["if"]
        assert "needs.stacks.outputs.backend == 'true'" in condition
        assert "needs.stacks.outputs.stacks != '[]'" in condition


# --- cluster credentials (docs/deploying.md) ------------------------------------------------------

READ_ONLY_SECRET = "KUBECONFIG_READONLY"
BACKEND_SECRETS = {
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
}
CLUSTER_JOBS = [("preview.yml", "pulumi-preview"), ("drift.yml", "drift")]
SECRET_NAME = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")


def secrets_in(node: Any) -> set[str]:
    """The repository secrets an expression anywhere in ``node`` reads; fails on indirect reads."""
    text = yaml.safe_dump(node)
    squeezed = text.replace(" ", "")
    for indirect in ("secrets[", "toJSON(secrets)", "tojson(secrets)", "secrets:inherit"):
        assert indirect not in squeezed, f"{indirect!r} would hand every secret to the job"
    return set(SECRET_NAME.findall(text))


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in job["steps"] if s.get("name") == name)
    return found


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]


@pytest.mark.parametrize(("workflow", "job"), CLUSTER_JOBS)
def test_preview_and_drift_see_the_read_only_credential_and_no_other(workflow: str, job: str) -> None:
    document = load(workflow)
    assert secrets_in(document["jobs"][job]) == BACKEND_SECRETS | {READ_ONLY_SECRET}
    assert not secrets_in({k: v for k, v in document.items() if k != "jobs"})  # no workflow-level env
    steps = document["jobs"][job]["steps"]
    credential = steps.index(step(document["jobs"][job], "Use the read-only cluster credential"))
    guard = steps.index(step(document["jobs"][job], "Refuse a kubeconfig in the stack's config"))
    (action,) = pulumi_steps(document["jobs"][job])
    assert guard < credential < steps.index(action)
    assert action["with"]["command"] == "preview"
    assert "KUBECONFIG" not in yaml.safe_dump(action)  # the action keeps the exported one


def test_no_workflow_holds_a_cluster_credential_that_can_write() -> None:
    """`pulumi up` is left to people; every cluster secret a workflow names is the read-only one."""
    for path in WORKFLOWS:
        document = yaml.safe_load(path.read_text())
        names = secrets_in(document)
        assert {n for n in names if "KUBE" in n.upper()} <= {READ_ONLY_SECRET}, path.name
        for job in document["jobs"].values():
            assert [s["with"]["command"] for s in pulumi_steps(job)] in ([], ["preview"]), path.name


def run_step(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(("workflow", "job"), CLUSTER_JOBS)
def test_the_read_only_kubeconfig_is_written_outside_the_checkout_and_exported(
    tmp_path: Path, workflow: str, job: str
) -> None:
    script = step(load(workflow)["jobs"][job], "Use the read-only cluster credential")["run"]
    kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{name: ci, user: {token: read-only}}]"
    github_env = tmp_path / "github_env"
    result = run_step(
        script,
        tmp_path,
        KUBECONFIG_READONLY=kubeconfig,
        RUNNER_TEMP=str(tmp_path),
        GITHUB_ENV=str(github_env),
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / "readonly.kubeconfig"
    assert written.read_text() == kubeconfig + "\n"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert github_env.read_text() == f"KUBECONFIG={written}\n"
    missing = run_step(
        script, tmp_path, KUBECONFIG_READONLY="", RUNNER_TEMP=str(tmp_path), GITHUB_ENV=str(github_env)
    )
    assert missing.returncode == 1
    assert f"::error::the secret {READ_ONLY_SECRET} is not set" in missing.stdout


@pytest.mark.parametrize(("workflow", "job"), CLUSTER_JOBS)
@pytest.mark.parametrize("key", ["hikube-gpu:kubeconfig", "kubernetes:kubeconfig"])
def test_a_stack_that_stores_a_kubeconfig_is_not_previewed(
    tmp_path: Path, workflow: str, job: str, key: str
) -> None:
    """CI can decrypt the stack's secrets: a kubeconfig there would be a write credential in CI."""
    script = step(load(workflow)["jobs"][job], "Refuse a kubeconfig in the stack's config")["run"]
    script = script.replace(".venv/bin/python", sys.executable)
    config = {"hikube-gpu:platform": {"namespace": "tenant-acme"}}
    (tmp_path / "Pulumi.eu.acme.yaml").write_text(yaml.safe_dump({"config": config}))
    assert run_step(script, tmp_path, STACK="eu.acme").returncode == 0
    config[key] = {"secure": "v1:AAAA"}
    (tmp_path / "Pulumi.eu.acme.yaml").write_text(yaml.safe_dump({"config": config}))
    refused = run_step(script, tmp_path, STACK="eu.acme")
    assert refused.returncode == 1
    assert f"::error::Pulumi.eu.acme.yaml sets {key}" in refused.stderr
