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

from stacks.commands.cli import PROJECT_DIR
from stacks.commands.diff.diff_report import MARKER

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


def test_manifest_diff_needs_no_secrets_and_the_trusted_workflow_updates_one_comment() -> None:
    job = load("preview.yml")["jobs"]["manifest-diff"]
    text = yaml.safe_dump(job)
    assert "secrets." not in text
    assert "github-script" not in text  # it posts nothing: it runs the branch's code
    run = next(s["run"] for s in job["steps"] if s.get("id") == "diff")
    assert "hikube-gpu diff --base" in run
    assert "--format markdown" in run
    comment = load("preview-comment.yml")
    assert comment[True] == {"workflow_run": {"workflows": ["preview"], "types": ["completed"]}}
    script = next(
        s["with"]["script"]
        for s in comment["jobs"]["comment"]["steps"]
        if "github-script" in s.get("uses", "")
    )
    assert MARKER in script
    assert "updateComment" in script
    assert "preview-report.md" in script  # the live preview's report, with its read-only note


def run_of(job: dict[str, Any], name: str) -> str:
    text: str = step(job, name)["run"]
    return text


def test_pulumi_preview_runs_the_changed_stacks_in_batches_only_where_secrets_exist() -> None:
    workflow = load("preview.yml")
    job = workflow["jobs"]["pulumi-preview"]
    assert job["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    changed = next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "changed")["run"]
    assert (
        'hikube-gpu changed --base "origin/$BASE_REF" --format matrix --batch-size 10 --project-dir .'
        in changed
    )
    assert workflow["jobs"]["plan"]["steps"][0]["with"]["fetch-depth"] == 0  # the base branch is there
    preview = run_of(job, "pulumi preview")
    assert "hikube-gpu up --preview --refresh --read-only --policy-pack policy" in preview
    assert '"${args[@]}"' in preview
    backend = next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "backend")
    assert "secrets.PULUMI_BACKEND_URL" in backend["env"]["BACKEND"]
    assert (
        backend["env"]["SAME_REPO"]
        == "${{ github.event.pull_request.head.repo.full_name == github.repository }}"
    )
    assert "comment-on-pr" not in yaml.safe_dump(job)  # one comment per PR: the manifest diff's


def test_drift_check_expects_no_changes_after_refresh() -> None:
    workflow = load("drift.yml")
    assert "schedule" in workflow[True]  # YAML 1.1 reads the key `on` as True
    run = run_of(workflow["jobs"]["drift"], "pulumi preview")
    assert "hikube-gpu up --preview --refresh --expect-no-changes" in run


@pytest.mark.parametrize(
    ("workflow", "job", "step_id"), [("drift.yml", "plan", "list"), ("deploy.yml", "plan", "changed")]
)
def test_the_stack_matrix_honours_stack_config_dir_and_leaves_out_examples(
    tmp_path: Path, workflow: str, job: str, step_id: str
) -> None:
    """The batches list the stacks of Pulumi.yaml's stackConfigDir, like `hikube-gpu list`."""
    (tmp_path / "Pulumi.yaml").write_text("name: x\nstackConfigDir: environments\n")
    (tmp_path / "environments").mkdir()
    for index in range(25):
        (tmp_path / "environments" / f"Pulumi.c{index:02d}.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.root.yaml").write_text("config: {}\n")  # outside stackConfigDir
    (tmp_path / "examples" / "stacks").mkdir(parents=True)
    (tmp_path / "examples" / "stacks" / "Pulumi.demo.yaml").write_text("config: {}\n")
    script = next(s for s in load(workflow)["jobs"][job]["steps"] if s.get("id") == step_id)["run"]
    assert ".venv/bin/hikube-gpu " in script
    script = script.replace(".venv/bin/hikube-gpu", str(Path(sys.executable).with_name("hikube-gpu")))
    output = tmp_path / "output"
    env = {"PYTHONPATH": str(PROJECT_DIR), "RUNNER_TEMP": str(tmp_path), "BY_HAND": "false"}
    result = run_step(script, tmp_path, GITHUB_OUTPUT=str(output), **env)
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    matrix = json.loads(outputs["matrix"])
    assert [entry["batch"] for entry in matrix] == ["1/3", "2/3", "3/3"]
    stacks = " ".join(entry["stacks"] for entry in matrix).split()
    assert stacks == [f"c{index:02d}" for index in range(25)]


def test_examples_are_structure_not_an_exclude_list() -> None:
    assert not (PROJECT_DIR / ".ci" / "preview-exclude").exists()
    for path in WORKFLOWS:
        assert "preview-exclude" not in path.read_text(), path.name
        assert "glob(" not in path.read_text(), path.name  # stacks come from `hikube-gpu`


def test_a_job_runs_the_hikube_gpu_command_only_after_make_installs_it() -> None:
    """`.venv/bin/hikube-gpu` is the console script `make .venv/.runtime` installs (`pip install -e .`)."""
    makefile = (PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    assert "--no-deps -e ." in makefile.split("$(VENV)/.runtime:")[1].split("\n\n")[0]
    used = 0
    for path in WORKFLOWS:
        assert "python -m stacks" not in path.read_text(), path.name  # one command name
        for name, job in load(path.name)["jobs"].items():
            runs = [str(s.get("run", "")) for s in job.get("steps", [])]
            for index, run in enumerate(runs):
                if ".venv/bin/hikube-gpu" in run:
                    used += 1
                    assert any("make .venv/.runtime" in r for r in runs[:index]), f"{path.name}: {name}"
    assert used >= 5


def test_real_previews_and_deploys_need_the_backend_secret() -> None:
    for workflow, job in (*CLUSTER_JOBS, ("deploy.yml", "deploy")):
        condition = load(workflow)["jobs"][job]["if"]
        assert "needs.plan.outputs.backend == 'true'" in condition
        assert "needs.plan.outputs.matrix != '[]'" in condition


NODE_24 = {
    "actions/checkout": "v6",
    "actions/setup-python": "v6",
    "actions/github-script": "v8",
    "actions/upload-artifact": "v7",
    "actions/download-artifact": "v8",
    "pulumi/actions": "v7",
    "actions/cache/restore": "v5",
    "actions/cache/save": "v5",
}
"""The majors that run on Node 24 (Node 20 is leaving GitHub's runners)."""


def test_every_action_runs_on_node_24_and_the_cli_version_is_pinned_in_one_file() -> None:
    version = (PROJECT_DIR / ".pulumi-version").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for item in job["steps"]:
                if "uses" not in item:
                    continue
                action, _, major = item["uses"].partition("@")
                assert NODE_24.get(action) == major, f"{path.name}: {item['uses']}"
                if action == "pulumi/actions":  # installs the CLI only; Python drives it
                    assert item["with"] == {"pulumi-version-file": ".pulumi-version"}


def test_the_policy_pack_virtualenv_is_made_before_a_policy_run() -> None:
    for workflow, job in (("preview.yml", "pulumi-preview"), ("deploy.yml", "deploy")):
        steps = load(workflow)["jobs"][job]["steps"]
        names = [s.get("name") for s in steps]
        venv = names.index("Create the policy pack's virtualenv")
        run = steps[venv]["run"]
        assert "python -m venv policy/venv" in run
        assert "policy/venv/bin/pip install" in run
        assert "-r policy/requirements.txt" in run
        user = next(i for i, s in enumerate(steps) if "--policy-pack policy" in s.get("run", ""))
        assert venv < user


def test_the_comment_links_the_full_report_and_stays_under_the_limit() -> None:
    job = load("preview.yml")["jobs"]["manifest-diff"]
    assert "--full-report manifest-diff.txt" in next(s for s in job["steps"] if s.get("id") == "diff")["run"]
    upload = step(job, "Upload the full report")
    assert upload["with"]["name"] == "manifest-diff"
    assert "manifest-diff.md" in upload["with"]["path"]
    comment = load("preview-comment.yml")["jobs"]["comment"]
    download = step(comment, "Download the reports of the preview run")
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    posting = step(comment, "Post or update the PR comment")
    script = posting["with"]["script"]
    assert "const limit = 65536" in script
    assert "reports/manifest-diff/manifest-diff.md" in script
    assert posting["env"]["RUN_URL"] == "${{ github.event.workflow_run.html_url }}"
    assert posting["env"]["PR_NUMBER"] == "${{ github.event.workflow_run.pull_requests[0].number }}"


def test_a_push_to_main_deploys_the_changed_stacks_one_run_at_a_time() -> None:
    workflow = load("deploy.yml")
    assert workflow[True]["push"]["branches"] == ["main"]
    assert workflow["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    changed = next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "changed")
    assert "hikube-gpu deploy-plan --marker deployed/main" in changed["run"]  # tests/test_deploy_marker.py
    job = workflow["jobs"]["deploy"]
    run = run_of(job, "pulumi up")
    assert "hikube-gpu up --policy-pack policy --parallel 4" in run
    assert "--preview" not in run
    assert job["environment"] == "deploy"


# --- cluster credentials (docs/deploying.md) ------------------------------------------------------

READ_ONLY_SECRET = "KUBECONFIG_READONLY"
READ_BACKEND_SECRETS = {
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "S3_READONLY_ACCESS_KEY_ID",
    "S3_READONLY_SECRET_ACCESS_KEY",
}
"""The state backend for previews: its URL, the passphrase, keys that can only read the bucket."""
WRITE_BACKEND_SECRETS = {
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
    assert secrets_in(document["jobs"][job]) == READ_BACKEND_SECRETS | {READ_ONLY_SECRET}
    assert not secrets_in({k: v for k, v in document.items() if k != "jobs"})  # no workflow-level env
    steps = document["jobs"][job]["steps"]
    credential = steps.index(step(document["jobs"][job], "Use the read-only cluster credential"))
    guard = steps.index(step(document["jobs"][job], "Refuse a kubeconfig in the stack's config"))
    preview = steps.index(step(document["jobs"][job], "pulumi preview"))
    assert guard < credential < preview
    assert "--preview" in steps[preview]["run"]
    assert "KUBECONFIG" not in yaml.safe_dump(steps[preview])  # it keeps the exported one


WRITE_SECRET = "KUBECONFIG_DEPLOY"


def test_only_the_deploy_job_holds_a_cluster_credential_that_can_write() -> None:
    """Previews and drift checks see the read-only credential; only `deploy` runs `pulumi up`."""
    for path in WORKFLOWS:
        document = yaml.safe_load(path.read_text())
        for name, job in document["jobs"].items():
            kube = {n for n in secrets_in(job) if "KUBE" in n.upper()}
            runs = " ".join(s.get("run", "") for s in job["steps"])
            if (path.name, name) == ("deploy.yml", "deploy"):
                assert kube == {WRITE_SECRET}
                assert secrets_in(job) == WRITE_BACKEND_SECRETS | {WRITE_SECRET}
            else:
                assert kube <= {READ_ONLY_SECRET}, f"{path.name}: {name}"
                assert "stacks up" not in runs or "stacks up --preview" in runs, f"{path.name}: {name}"
            assert [s for s in pulumi_steps(job) if "command" in s.get("with", {})] == []


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
@pytest.mark.parametrize(
    ("key", "reported"),
    [
        ("hikube-gpu:kubeconfig", "hikube-gpu:kubeconfig"),
        ("kubernetes:kubeconfig", "kubernetes:kubeconfig"),
        ("kubeconfig", "hikube-gpu:kubeconfig"),  # no namespace: the project's, as Pulumi reads it
    ],
)
def test_a_stack_that_stores_a_kubeconfig_is_not_previewed(
    tmp_path: Path, workflow: str, job: str, key: str, reported: str
) -> None:
    """CI can decrypt the stack's secrets: a kubeconfig there would be a write credential in CI."""
    script = step(load(workflow)["jobs"][job], "Refuse a kubeconfig in the stack's config")["run"]
    script = script.replace(".venv/bin/python", sys.executable)
    (tmp_path / "Pulumi.yaml").write_text("name: hikube-gpu\nstackConfigDir: environments\n")
    (tmp_path / "environments").mkdir()
    config = {"hikube-gpu:platform": {"namespace": "tenant-acme"}}
    for stack in ("eu.acme", "eu.other"):
        (tmp_path / "environments" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    env = {"STACKS": "eu.acme eu.other", "PYTHONPATH": str(PROJECT_DIR)}
    assert run_step(script, tmp_path, **env).returncode == 0
    config[key] = {"secure": "v1:AAAA"}
    (tmp_path / "environments" / "Pulumi.eu.acme.yaml").write_text(yaml.safe_dump({"config": config}))
    refused = run_step(script, tmp_path, **env)
    assert refused.returncode == 1
    assert f"::error::stack eu.acme sets {reported}" in refused.stderr
    assert "eu.other" not in refused.stderr
    assert "v1:AAAA" not in refused.stderr


def test_deploy_verifies_each_stack_after_up_read_only_into_the_job_summary(tmp_path: Path) -> None:
    """The step as it is, with the real `python -m stacks verify`, against a cluster that has none
    of the dev stack's objects: each stack's report lands in the summary, a finding warns and the
    step fails (the job does not: continue-on-error), and only GET requests reach the cluster."""
    from tests.fake_api import FakeApi, kubeconfig, running

    job = load("deploy.yml")["jobs"]["deploy"]
    names = [s.get("name") for s in job["steps"]]
    assert names.index("verify") > names.index("pulumi up")
    verify = step(job, "verify")
    assert verify["continue-on-error"] is True
    assert "if" not in verify  # only after a successful up
    assert "--smoke" not in verify["run"]
    assert "verify-*.json" in step(job, "Upload the output")["with"]["path"]
    assert ".venv/bin/hikube-gpu verify " in verify["run"]
    script = verify["run"].replace(".venv/bin/hikube-gpu", str(Path(sys.executable).with_name("hikube-gpu")))
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):  # the checkout the step runs in (--project-dir .)
        (tmp_path / name).write_text((PROJECT_DIR / name).read_text())
    summary = tmp_path / "summary.md"
    with running(FakeApi()) as api:
        result = run_step(
            script,
            tmp_path,
            STACKS="dev",
            KUBECONFIG=str(kubeconfig(tmp_path, api.url)),
            GITHUB_STEP_SUMMARY=str(summary),
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "::warning::verify dev: exit 1" in result.stdout
    text = summary.read_text()
    assert text.startswith(
        "### verify dev (exit 1)\n```text\nverify: stack 'dev' (tenant) on http://127.0.0.1:"
    )
    assert "differs    vm-instance       vm ws-1: VMInstance ws-1 does not exist" in text
    assert json.loads((tmp_path / "verify-dev.json").read_text())["exit"] == 1
    assert api.received
    assert {r.method for r in api.received} == {"GET"}


# --- least privilege around pull requests (issue 21.1, 21.2) --------------------------------------

WRITE_CAPABLE_SECRETS = {WRITE_SECRET, "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"}
READ_ONLY_SECRETS = READ_BACKEND_SECRETS | {READ_ONLY_SECRET}
"""The only secrets a job that runs the branch's code may hold: none of them can write
(docs/deploying.md, "Who holds what"). Any other name counts as write-capable."""
PR_HEAD = re.compile(r"github\.(event\.(pull_request\.head|workflow_run\.head_(sha|branch))|head_ref)")
"""An expression naming the pull request's own commit or branch."""


def events(workflow: dict[str, Any]) -> set[str]:
    """The events that trigger ``workflow`` (YAML 1.1 reads the key ``on`` as True)."""
    triggers = workflow[True]
    return {triggers} if isinstance(triggers, str) else set(triggers)


def checkouts(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").startswith("actions/checkout@")]


def runs_branch_code(workflow: dict[str, Any], job: dict[str, Any]) -> bool:
    """A ``pull_request`` workflow runs the pull request's merge commit: its workflow file and
    every checkout (GitHub's default ref for the event). Elsewhere, a checkout of the PR's head."""
    if events(workflow) & {"pull_request"}:
        return True
    return any(PR_HEAD.search(str(c.get("with", {}).get("ref", ""))) for c in checkouts(job))


def token_writes(permissions: Any) -> bool:
    if isinstance(permissions, str):
        return permissions == "write-all"
    return any(value == "write" for value in (permissions or {}).values())


def least_privilege_violations(workflow: dict[str, Any]) -> list[str]:
    """Why a job that runs the branch's code could write, or could leave a token behind."""
    found = []
    for name, job in workflow["jobs"].items():
        if not runs_branch_code(workflow, job):
            continue
        permissions = job.get("permissions", workflow.get("permissions"))
        if permissions is None:
            found.append(f"{name}: no permissions: the token gets the repository's default, which may write")
        elif token_writes(permissions):
            found.append(f"{name}: runs the branch's code with a token that can write: {permissions}")
        held = secrets_in(job) | secrets_in(workflow.get("env", {}))
        if held - READ_ONLY_SECRETS:
            found.append(f"{name}: runs the branch's code with {sorted(held - READ_ONLY_SECRETS)}")
        if job.get("environment") not in (None, "preview"):
            found.append(f"{name}: runs the branch's code in the {job['environment']!r} environment")
        for checkout in checkouts(job):
            if checkout.get("with", {}).get("persist-credentials") is not False:
                found.append(f"{name}: a checkout leaves the token in .git/config (persist-credentials)")
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_no_job_that_runs_branch_code_can_write(path: Path) -> None:
    assert least_privilege_violations(yaml.safe_load(path.read_text())) == []


def test_the_pull_request_jobs_are_the_ones_judged() -> None:
    """The check above sees every job of preview.yml and ci.yml as branch code, and the comment
    job (the only one with ``pull-requests: write``) as trusted: it checks nothing out."""
    documents = {path.name: yaml.safe_load(path.read_text()) for path in WORKFLOWS}
    judged = {
        (file, name)
        for file, document in documents.items()
        for name, job in document["jobs"].items()
        if runs_branch_code(document, job)
    }
    assert judged == {
        ("ci.yml", "test"),
        ("preview.yml", "manifest-diff"),
        ("preview.yml", "plan"),
        ("preview.yml", "pulumi-preview"),
    }
    comment = load("preview-comment.yml")
    assert checkouts(comment["jobs"]["comment"]) == []
    assert comment["jobs"]["comment"]["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not secrets_in(comment)


def _planted(change: Any) -> list[str]:
    workflow = load("preview.yml")
    change(workflow)
    return least_privilege_violations(workflow)


def _comment_checks_out_the_head(workflow: dict[str, Any]) -> None:
    workflow.clear()
    workflow.update(load("preview-comment.yml"))
    workflow["jobs"]["comment"]["steps"].insert(
        0,
        {
            "uses": "actions/checkout@v6",
            "with": {"ref": "${{ github.event.workflow_run.head_sha }}", "persist-credentials": False},
        },
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda w: w["jobs"]["manifest-diff"]["permissions"].update({"pull-requests": "write"}), "can write"),
        (lambda w: w["jobs"]["plan"].update(permissions="write-all"), "can write"),
        (lambda w: w.update(permissions={}) or w["jobs"]["plan"].pop("permissions"), None),
        (lambda w: w.pop("permissions") or w["jobs"]["plan"].pop("permissions"), "no permissions"),
        (
            lambda w: w["jobs"]["pulumi-preview"]["env"].update(
                AWS_ACCESS_KEY_ID="${{ secrets.S3_ACCESS_KEY_ID }}"
            ),
            "['S3_ACCESS_KEY_ID']",
        ),
        (lambda w: w.update(env={"K": "${{ secrets.KUBECONFIG_DEPLOY }}"}), "['KUBECONFIG_DEPLOY']"),
        (lambda w: w["jobs"]["pulumi-preview"].update(environment="deploy"), "'deploy' environment"),
        (lambda w: checkouts(w["jobs"]["plan"])[0]["with"].pop("persist-credentials"), "persist-credentials"),
        (_comment_checks_out_the_head, "can write"),
    ],
)
def test_a_planted_violation_fails_the_check(change: Any, message: str | None) -> None:
    """The gate can fail: each planted change is reported (``None``: the change is harmless, as
    ``permissions: {}`` at the top grants nothing)."""
    found = _planted(change)
    if message is None:
        assert found == []
    else:
        assert any(message in line for line in found), found


DIY_BACKEND = PROJECT_DIR / "tests" / "upstream" / "pulumi" / "1b594989" / "diy-backend.go"


def _go_function(text: str, signature: str) -> str:
    """The body of the Go function that starts with ``signature`` (up to the next top-level ``}``)."""
    start = text.index(signature)
    return text[start : text.index("\n}\n", start)]


def test_a_diy_backend_preview_writes_nothing_so_read_only_state_keys_suffice() -> None:
    """pulumi/pulumi ``pkg/backend/diy/backend.go``: ``Preview`` takes no lock (``Update`` does),
    and ``apply`` writes a snapshot, the history and a backup only when it is not a dry run."""
    text = DIY_BACKEND.read_text()
    preview = _go_function(text, "func (b *diyBackend) Preview(")
    assert "Lock(" not in preview
    assert "return backend.Preview(ctx, stack, op, b.apply, events)" in preview
    assert "err := b.Lock(ctx, stack.Ref())" in _go_function(text, "func (b *diyBackend) Update(")
    apply = _go_function(text, "func (b *diyBackend) apply(")
    assert (
        "if kind != apitype.PreviewUpdate && !opts.DryRun {\n\t\tpersister := b.newSnapshotPersister" in apply
    )
    assert "if !opts.DryRun {\n\t\tsaveErr = b.addToHistory(ctx, diyStackRef, info)" in apply
    assert "backupErr = b.backupStack(ctx, diyStackRef)" in apply


def who_holds_what() -> dict[tuple[str, str], dict[str, str]]:
    """docs/deploying.md's table, by (workflow file, job) for the rows that name one."""
    text = (PROJECT_DIR / "docs" / "deploying.md").read_text()
    section = text[text.index("## Who holds what") :]
    section = section[: section.index("\n## ", 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    table = {}
    for row in rows:
        first, runs, holds, _reads, writes = [cell.strip() for cell in row.strip("|").split(" | ")]
        named = re.match(r"`([\w-]+\.yml)` `([\w-]+)`", first)
        if named:
            table[(named[1], named[2])] = {"first": first, "runs": runs, "holds": holds, "writes": writes}
    return table


def test_the_docs_table_names_every_job_with_exactly_its_credentials() -> None:
    """One row per workflow job; its secrets, token permissions and environment are the YAML's."""
    table = who_holds_what()
    jobs = {
        (path.name, name): job
        for path in WORKFLOWS
        for name, job in yaml.safe_load(path.read_text())["jobs"].items()
    }
    assert set(table) == set(jobs)
    for key, job in jobs.items():
        row = table[key]
        workflow = load(key[0])
        assert set(re.findall(r"`([A-Z][A-Z0-9_]+)`", row["holds"])) == secrets_in(job), key
        permissions = job.get("permissions", workflow.get("permissions"))
        stated = dict(re.findall(r"`([a-z-]+): (read|write)`", row["holds"]))
        assert stated == permissions, key
        environment = job.get("environment")
        assert (f"(environment `{environment}`)" in row["first"]) is (environment is not None), key
        if runs_branch_code(workflow, job):
            assert row["runs"].startswith("the branch's code"), key
            assert row["writes"].startswith("nothing"), key


# --- the render cache: main writes it, pull requests read it --------------------------------

CACHE_ACTIONS = PROJECT_DIR / "tests" / "upstream" / "actions-cache" / "v5.0.5"


def _cache_steps(workflow: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_name, item)
        for job_name, job in load(workflow)["jobs"].items()
        for item in job["steps"]
        if item.get("uses", "").startswith("actions/cache")
    ]


def test_the_cache_steps_give_the_inputs_actions_cache_declares() -> None:
    """The restore and save actions at the tag the workflows pin (vendored action.yml)."""
    for workflow in ("render-cache.yml", "preview.yml"):
        for _, item in _cache_steps(workflow):
            action = item["uses"].partition("@")[0].rpartition("/")[2]
            declared = yaml.safe_load((CACHE_ACTIONS / action / "action.yml").read_text())
            assert declared["runs"]["using"] == "node24"
            assert set(item["with"]) <= set(declared["inputs"]), item
            required = {name for name, spec in declared["inputs"].items() if spec.get("required")}
            assert required <= set(item["with"]), item


def test_only_main_writes_the_render_cache_and_pull_requests_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from stacks.commands.diff.render_cache import CACHE_ENV, location

    warm = load("render-cache.yml")
    assert warm[True] == {"push": {"branches": ["main"]}}  # PyYAML reads `on:` as True
    assert warm["permissions"] == {"contents": "read"}
    assert "secrets." not in (PROJECT_DIR / ".github" / "workflows" / "render-cache.yml").read_text()
    steps = warm["jobs"]["warm"]["steps"]
    uses = [s.get("uses", s.get("run", "")) for s in steps]
    restore, run, save = (uses.index(u) for u in uses if "cache" in u)
    assert "hikube-gpu cache warm --prune" in uses[run]
    assert restore < run < save
    saved = steps[save]["with"]
    assert saved["key"] == "hikube-gpu-renders-${{ github.sha }}"
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "/home/runner")
    assert saved["path"] == "~/.cache/hikube-gpu/renders"
    assert location() == Path("/home/runner/.cache/hikube-gpu/renders")  # where diff looks
    for workflow in ("preview.yml", "deploy.yml", "drift.yml", "ci.yml"):
        assert all(item["uses"].startswith("actions/cache/restore@") for _, item in _cache_steps(workflow))
    preview = load("preview.yml")["jobs"]
    for job, command in (("manifest-diff", "hikube-gpu diff"), ("plan", "hikube-gpu changed")):
        steps = preview[job]["steps"]
        at = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/cache/restore@"))
        runs = next(i for i, s in enumerate(steps) if command in s.get("run", ""))
        assert at < runs, job
        restored = steps[at]["with"]
        assert restored["path"] == saved["path"]
        assert restored["restore-keys"] == "hikube-gpu-renders-"
