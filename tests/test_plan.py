"""One plan, two consumers: the plan (``stacks.program.plan``, no Pulumi runtime) equals what the
program registers under Pulumi's mock runtime, for the example stacks, the test stacks and
fuzzed stacks; the preview and the rendered files made from it are byte-identical; paths
that do not register never import Pulumi."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks.common import copy_project
from stacks.commands.cli import PROJECT_DIR
from stacks.commands.diff.compare import Comparison, compare
from stacks.commands.preview.render import planned
from stacks.commands.preview.report import preview_text
from stacks.commands.preview.runner import run_config
from stacks.loading.problems import NAMESPACE, ConfigError
from stacks.loading.stack_file import StackConfigFile, load_stack_file
from stacks.loading.stack_list import discover
from stacks.program.records import OfflineRun
from tests.cluster_stacks import EDGE, TRAIN, cluster_stack
from tests.helpers import SSH_KEY, base_config
from tests.platform_stacks import MODES, platform_stack
from tests.test_fuzz import platform as fuzzed_platform
from tests.test_fuzz import tenant as fuzzed_tenant

EXAMPLES = discover(PROJECT_DIR, examples=True)


def comparable(run: OfflineRun) -> dict[str, Any]:
    """Everything a run says, as plain data: records, outputs, warnings, errors, the failure."""
    failure = None
    if run.failure is not None:
        assert isinstance(run.failure, ConfigError), run.failure
        failure = [str(p) for p in (*run.failure.problems, *run.failure.warnings)]
    resources = [asdict(r) for r in run.resources]
    if failure is not None:  # the engine registered the root stack before the program failed
        resources = [r for r in resources if r["type"] != "pulumi:pulumi:Stack"]
    return {
        "resources": resources,
        "outputs": run.outputs,
        "warnings": run.warnings,
        "errors": run.errors,
        "failure": failure,
    }


def assert_same(config: StackConfigFile) -> OfflineRun:
    """The plan's run equals the engine's, record by record; returns the plan's."""
    engine, plan = run_config(config, "pulumi"), run_config(config, "plan")
    want, got = comparable(engine), comparable(plan)
    assert [r["urn"] for r in got["resources"]] == [r["urn"] for r in want["resources"]]
    for mine, theirs in zip(got["resources"], want["resources"], strict=True):
        assert mine == theirs, mine["urn"]
    assert got == want
    return plan


def config_file(config: dict[str, Any], stack: str = "test") -> StackConfigFile:
    values = {f"{NAMESPACE}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    return StackConfigFile(project="hikube-gpu", stack=stack, config=values)


@pytest.mark.parametrize("stack", EXAMPLES)
def test_the_plan_of_every_example_stack_is_what_the_program_registers(stack: str) -> None:
    run = assert_same(load_stack_file(PROJECT_DIR, stack))
    assert run.failure is None
    assert run.resources


TEST_STACKS: dict[str, dict[str, Any]] = {
    "clusters": cluster_stack(),
    "clusters-cozystack-1.4": cluster_stack("cozystack-1.4", train=TRAIN, edge=EDGE),
    **{f"platform-{mode}": platform_stack(mode) for mode in MODES},
    "vm-with-data-disks": base_config(
        vms={
            "lab": {
                "gpus": {"L40S": 1},
                "sshKeys": [SSH_KEY],
                "dataDisks": {"scratch": {"size": "50Gi", "protect": False}, "data": {"size": "1Ti"}},
            }
        }
    ),
    "adopted": {
        **base_config(
            vms={"old": {"gpus": {"L40S": 1}, "sshKeys": [SSH_KEY], "dataDisks": {"d": {"size": "1Ti"}}}}
        ),
        "import": {"vms": ["old"]},
    },
    "context": base_config(platform={"namespace": "tenant-x", "context": "admin@hikube"}),
    "invalid": base_config(vms={"bad": {"gpus": {"H200": 1}}}),
}


@pytest.mark.parametrize("name", sorted(TEST_STACKS))
def test_the_plan_of_the_test_stacks_is_what_the_program_registers(name: str) -> None:
    assert_same(config_file(TEST_STACKS[name]))


def test_secrets_are_masked_at_the_same_paths() -> None:
    config = config_file(
        {**base_config(vms={"s": {"gpus": {"L40S": 1}, "sshKeys": [SSH_KEY]}}), "quota": {"L40S": 2}}
    )
    config.config["hikube-gpu:kubeconfig"] = "apiVersion: v1\nkind: Config\n"
    config.secret_keys.extend(["hikube-gpu:kubeconfig", "hikube-gpu:quota"])
    run = assert_same(config)
    provider = next(r for r in run.resources if r.name == "tenant")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.masked == ("kubeconfig",)
    assert run.outputs["gpuCapacity"]["L40S"]["quotaSecret"] is True


FUZZ = settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(fuzzed_tenant)
def test_the_plan_of_fuzzed_tenant_stacks_is_what_the_program_registers(config: dict[str, Any]) -> None:
    assert_same(config_file(config, "fuzz"))


@FUZZ
@given(fuzzed_platform)
def test_the_plan_of_fuzzed_platform_stacks_is_what_the_program_registers(config: dict[str, Any]) -> None:
    assert_same(config_file(config, "fuzz"))


# --- the consumers: preview and render, byte for byte ---------------------------------------


@pytest.mark.parametrize("stack", EXAMPLES)
def test_preview_and_render_from_the_plan_are_byte_identical(stack: str) -> None:
    config = load_stack_file(PROJECT_DIR, stack)
    engine, plan = run_config(config, "pulumi"), run_config(config, "plan")
    assert preview_text(plan) == preview_text(engine)
    assert planned(plan) == planned(engine)


def _imported(code: str) -> list[str]:
    script = f"import sys\n{code}\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_kubernetes')))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout.strip().replace("'", '"')))


def test_a_preview_from_the_plan_never_imports_pulumi() -> None:
    code = (
        "import contextlib, io\n"
        "from stacks.commands.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['preview', '--stack', 'dev']) == 0"
    )
    assert _imported(code) == []


def test_the_pulumi_engine_is_still_there_for_debugging(tmp_path: Path) -> None:
    from stacks.commands.cli import main

    assert main(["render", "--stack", "dev", "--engine", "pulumi", "--out", str(tmp_path / "a")]) == 0
    assert main(["render", "--stack", "dev", "--out", str(tmp_path / "b")]) == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for relative in files:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()


# --- the diff renders what can differ -------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def two_commits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project in a new repo: commit 1 as is, commit 2 with one stack file changed."""
    root = tmp_path_factory.mktemp("plan-repo")
    copy_project(root, lambda name: not name.startswith(("site/", "docs/")))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    path = root / "examples" / "stacks" / "Pulumi.acme-vms.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("L40S: 1", "L40S: 2", 1), encoding="utf-8")
    _git(root, "commit", "-qam", "one stack file")
    return root


def _renders(repo: Path) -> tuple[Comparison, list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []
    result = compare(repo, "HEAD~1", workers=2, progress=lambda label, stack: seen.append((label, stack)))
    return result, seen


def test_with_the_same_code_only_the_changed_stack_renders(two_commits: Path) -> None:
    """Same code, same stack file, same defaults file: the render cannot differ, so the stack
    is not rendered at all (issue 26: 1,004 renders for a one-stack change became 2)."""
    result, seen = _renders(two_commits)
    stacks = [d.stack for d in result.stacks]
    assert len(stacks) == 4
    assert sorted(seen) == [("base HEAD~1", "acme-vms"), ("working tree", "acme-vms")]
    assert result.skipped == tuple(s for s in stacks if s != "acme-vms")
    assert (result.rendered, result.code_changed) == (2, False)
    changed = {d.stack for d in result.stacks if d.has_changes}
    assert changed == {"acme-vms"}
    assert [d.rendered for d in result.stacks] == [s == "acme-vms" for s in stacks]


def test_when_the_code_changes_every_stack_renders_at_both_revisions(two_commits: Path) -> None:
    code = two_commits / "components" / "resolve" / "names.py"
    original = code.read_text(encoding="utf-8")
    code.write_text(original + "\n# a code change\n", encoding="utf-8")
    try:
        result, seen = _renders(two_commits)
    finally:
        code.write_text(original, encoding="utf-8")
    assert result.skipped == ()
    assert len(seen) == 2 * len(result.stacks)
