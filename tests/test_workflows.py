"""The GitHub Actions workflows: valid against GitHub's workflow schema, and doing what the README says."""

from __future__ import annotations

import json
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
