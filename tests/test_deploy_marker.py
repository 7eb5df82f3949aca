"""The deploy workflow loses no change: it deploys against the last recorded deploy (the tag
``deployed/main``), not against its push's ``before`` (stacks/commands/deploy/marker.py, docs/fleet.md).

The scenario test runs the workflow's own plan and record steps (.github/workflows/deploy.yml)
in fresh clones of a bare "origin", as GitHub would: pushes A → B (its run cancelled while
pending, as GitHub cancels the older pending run of a concurrency group) → C, a failed stack, a
crashed batch, a run with nothing to deploy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.common import copy_project
from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.deploy import marker
from stacks.commands.deploy.marker import Marker, plan, read_marker, record, write_marker
from stacks.commands.deploy.orchestrate import FAILED, SUCCEEDED
from tests.test_workflows import load, run_step, step

TAG = "deployed/main"


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


# --- the rules, as functions -----------------------------------------------------------------------


def test_without_a_record_every_stack_is_deployed() -> None:
    found = plan(None, ["b", "a"], lambda base: pytest.fail("nothing to compare with"))
    assert (found.stacks, found.base, found.retried) == (["a", "b"], None, [])


def test_a_run_deploys_what_changed_since_the_record_and_what_did_not_succeed() -> None:
    recorded = Marker("abc", pending=("s2", "gone"))
    found = plan(recorded, ["s1", "s2", "s3"], lambda base: ["s3"] if base == "abc" else [])
    assert (found.stacks, found.base, found.retried) == (["s2", "s3"], "abc", ["s2"])  # gone: no file


def test_every_planned_stack_without_a_success_stays_pending() -> None:
    results = {"a": SUCCEEDED, "b": FAILED}  # c: its batch was cancelled before it reported
    assert record("rev", ["a", "b", "c"], results) == Marker("rev", ("b", "c"))
    assert record("rev", [], {}) == Marker("rev", ())


def test_the_marker_round_trips_through_an_annotated_tag(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    first = _git(tmp_path, "rev-parse", "HEAD")
    assert read_marker(tmp_path) is None
    write_marker(tmp_path, Marker(first, ("acme-prod",)))
    assert read_marker(tmp_path) == Marker(first, ("acme-prod",))
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "two")
    second = _git(tmp_path, "rev-parse", "HEAD")
    write_marker(tmp_path, Marker(second))  # moved, not duplicated
    assert read_marker(tmp_path) == Marker(second, ())
    assert _git(tmp_path, "cat-file", "-t", f"refs/tags/{TAG}") == "tag"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (["tag", "-f", TAG], "lightweight tag, not a deploy marker"),
        (["tag", "-f", "-a", "-m", "release notes", TAG], "is not a deploy marker"),
    ],
)
def test_a_tag_that_is_not_a_marker_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: list[str], message: str
) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "Pulumi.yaml").write_text("name: hikube-gpu\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "one")
    _git(tmp_path, *make)
    with pytest.raises(marker.MarkerError, match=message):
        read_marker(tmp_path)
    assert main(["deploy-plan", "--project-dir", str(tmp_path)]) == 2  # never "deploy everything"
    assert message in capsys.readouterr().err


# --- the workflow: A -> B (cancelled) -> C ---------------------------------------------------------


class Fleet:
    """A repository with this project's code and three stacks, its bare origin, and the deploy
    workflow's plan and record steps run in fresh clones of origin (as actions/checkout does)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "work"
        self.origin = root / "origin.git"
        self.runs = 0
        self.work.mkdir()
        copy_project(
            self.work,
            lambda name: (
                name.startswith(("components/", "stacks/", "policy/"))
                or name in ("__main__.py", "pyproject.toml", "Pulumi.yaml")
            ),
        )
        _git(self.work, "init", "-q", "-b", "main")
        for stack in ("s1", "s2", "s3"):
            self.stack(stack, "50Gi")
        _git(root, "init", "-q", "--bare", str(self.origin))
        _git(self.work, "remote", "add", "origin", str(self.origin))
        self.workflow = load("deploy.yml")

    def stack(self, name: str, disk: str) -> None:
        config = {
            "hikube-gpu:platform": {"namespace": f"tenant-{name}"},
            "hikube-gpu:quota": {"L40S": 1},
            "hikube-gpu:vms": {"ws": {"gpus": {"L40S": 1}, "disk": {"image": "ubuntu-2404", "size": disk}}},
        }
        (self.work / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))

    def push(self, message: str) -> tuple[str, str]:
        """Commit and push; (before, after) as GitHub's push event names them."""
        before = _git(self.work, "rev-parse", "HEAD") if _has_commits(self.work) else ""
        _git(self.work, "add", "-A")
        _git(self.work, "commit", "-q", "--allow-empty", "-m", message)
        _git(self.work, "push", "-q", "origin", "main")
        return before, _git(self.work, "rev-parse", "HEAD")

    def _clone(self, revision: str) -> Path:
        self.runs += 1
        clone = self.root / f"run-{self.runs}"
        _git(self.root, "clone", "-q", str(self.origin), str(clone))
        _git(clone, "checkout", "-q", revision)
        return clone

    def _script(self, job: str, name: str) -> str:
        found = (
            step(self.workflow["jobs"][job], name)
            if name[0].isupper()
            else next(s for s in self.workflow["jobs"][job]["steps"] if s.get("id") == name)
        )
        script: str = found["run"]
        script = script.replace(".venv/bin/hikube-gpu", str(Path(sys.executable).with_name("hikube-gpu")))
        return script.replace(".venv/bin/python", sys.executable)

    def run(self, push: tuple[str, str], outcome: dict[str, str] | None = None) -> list[str]:
        """One workflow run for ``push``: the plan step, the batches (``outcome``: stack → result;
        a stack left out never reported, as in a cancelled or crashed batch; None: all succeed),
        then the record step. Returns the planned stacks."""
        before, after = push
        clone = self._clone(after)
        temp = clone / ".runner-temp"
        temp.mkdir()
        env = {"RUNNER_TEMP": str(temp), "BY_HAND": "false", "BEFORE": before, "PYTHONPATH": str(clone)}
        output = temp / "output"
        done = run_step(self._script("plan", "changed"), clone, GITHUB_OUTPUT=str(output), **env)
        assert done.returncode == 0, done.stderr
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
        planned = [s for entry in json.loads(outputs["matrix"]) for s in entry["stacks"].split()]
        results = dict.fromkeys(planned, SUCCEEDED) if outcome is None else outcome
        batch = clone / "deploy-results" / "deploy-results-0"
        batch.mkdir(parents=True)
        (batch / "up-results.json").write_text(json.dumps(results))
        done = run_step(
            self._script("record", "Move the tag deployed/main"),
            clone,
            PLAN=outputs["plan"],
            REVISION=after,
            HOME=str(self.root),
            **env,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return planned

    def recorded(self) -> Marker | None:
        _git(self.work, "fetch", "-q", "--force", "origin", f"+refs/tags/{TAG}:refs/tags/{TAG}")
        return read_marker(self.work)


def _has_commits(repo: Path) -> bool:
    found = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, check=False)
    return found.returncode == 0


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return Fleet(tmp_path_factory.mktemp("deploy-marker"))


def test_a_cancelled_run_a_failed_stack_and_a_crashed_batch_lose_nothing(fleet: Fleet) -> None:
    a = fleet.push("A: three stacks")
    assert fleet.run(a) == ["s1", "s2", "s3"]  # nothing recorded yet: every stack
    assert fleet.recorded() == Marker(a[1], ())

    fleet.stack("s1", "60Gi")
    fleet.push("B: s1")  # its run was pending when C was pushed: GitHub cancelled it
    fleet.stack("s2", "60Gi")
    c = fleet.push("C: s2")
    assert fleet.run(c, {"s1": SUCCEEDED, "s2": FAILED}) == ["s1", "s2"]  # B's stack too
    assert fleet.recorded() == Marker(c[1], ("s2",))

    fleet.stack("s3", "60Gi")
    d = fleet.push("D: s3")
    assert fleet.run(d, {"s3": SUCCEEDED}) == ["s2", "s3"]  # the failed stack is retried; s2 crashed
    assert fleet.recorded() == Marker(d[1], ("s2",))  # its batch never reported: still pending

    e = fleet.push("E: no stack changes")
    assert fleet.run(e) == ["s2"]
    assert fleet.recorded() == Marker(e[1], ())

    f = fleet.push("F: still nothing")
    assert fleet.run(f) == []  # nothing to deploy, and the record moves on
    assert fleet.recorded() == Marker(f[1], ())


# --- the workflow's shape --------------------------------------------------------------------------


def _permissions(job: dict[str, Any], workflow: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = job.get("permissions", workflow["permissions"])
    return found


def test_only_the_record_job_may_push_and_it_runs_after_failed_or_cancelled_batches() -> None:
    workflow = load("deploy.yml")
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    for name, job in jobs.items():
        writes = {k for k, v in _permissions(job, workflow).items() if v == "write"}
        assert writes == ({"contents"} if name == "record" else set()), name
    record_job = jobs["record"]
    assert record_job["needs"] == ["plan", "deploy"]
    assert record_job["if"].startswith("always() && needs.plan.result == 'success'")
    assert "needs.plan.outputs.backend == 'true'" in record_job["if"]  # nothing deployed: no record
    assert "secrets." not in yaml.safe_dump(record_job)
    upload = step(jobs["deploy"], "Upload the results")
    assert upload["if"] == "always()"
    assert "--results up-results.json" in step(jobs["deploy"], "pulumi up")["run"]
    assert "github.event.before" not in yaml.safe_dump(workflow)  # the marker, not the push, is the base


def test_run_by_hand_deploys_every_stack() -> None:
    changed = next(s for s in load("deploy.yml")["jobs"]["plan"]["steps"] if s.get("id") == "changed")
    assert changed["env"]["BY_HAND"] == "${{ github.event_name == 'workflow_dispatch' }}"
    assert 'if [ "$BY_HAND" = "true" ]; then all=(--all); fi' in changed["run"]


def test_the_plan_step_reads_the_marker_from_the_checkout() -> None:
    plan_job = load("deploy.yml")["jobs"]["plan"]
    assert plan_job["steps"][0]["with"]["fetch-depth"] == 0  # every commit and tag, the marker too
    assert PROJECT_DIR.joinpath(".github/workflows/deploy.yml").read_text().count(TAG) >= 3
