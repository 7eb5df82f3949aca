"""`hikube-gpu up`: the orchestration of Pulumi operations over many stacks (with an engine
stand-in), and the real engine through Pulumi's Automation API driving a stand-in ``pulumi``
executable that speaks like the real CLI (tests/pulumi_standin.py; no Pulumi CLI here)."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from pathlib import Path

import pytest

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.deploy import automation
from stacks.commands.deploy.orchestrate import (
    ABSENT,
    FAILED,
    SUCCEEDED,
    Operation,
    Outcome,
    StackAbsent,
    StackResult,
    _InFlight,
    markdown,
    run_stacks,
    table,
)
from stacks.commands.deploy.stack_log import CliFailed, StackLog
from tests import pulumi_standin


class StandIn:
    """Records every call; ``fail`` stacks raise, ``absent`` ones are not in the backend."""

    def __init__(
        self, seconds: float = 0.0, fail: frozenset[str] = frozenset(), absent: frozenset[str] = frozenset()
    ):
        self.seconds = seconds
        self.fail = fail
        self.absent = absent
        self.calls: list[tuple[str, Operation]] = []
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.active: set[str] = set()

    def run(self, stack: str, operation: Operation, log: StackLog) -> Outcome:
        with self.lock:
            assert stack not in self.active, f"two operations on {stack} at once"
            self.active.add(stack)
            self.calls.append((stack, operation))
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            log.out(f"Updating ({stack})")
            time.sleep(self.seconds)
            if stack in self.fail:
                log.err("error: the cluster said no")
                raise CliFailed(stack)
            if stack in self.absent:
                raise StackAbsent(stack)
            return Outcome({"create": 2, "update": 1, "same": 7})
        finally:
            with self.lock:
                self.running -= 1
                self.active.discard(stack)


def test_every_stack_succeeds_with_a_progress_line_each_and_a_table() -> None:
    engine = StandIn()
    progress = io.StringIO()
    results = run_stacks(["a", "b", "c"], engine, "up", parallel=2, progress=progress)
    assert [(r.stack, r.result) for r in results] == [("a", SUCCEEDED), ("b", SUCCEEDED), ("c", SUCCEEDED)]
    lines = progress.getvalue().splitlines()
    assert len(lines) == 3
    assert all(": succeeded (create 2, update 1) in " in line for line in lines)
    assert lines[-1].startswith("[3/3] ")
    rendered = table(results).splitlines()
    assert rendered[0].split() == ["stack", "result", "changes", "duration"]
    assert rendered[1].split()[:4] == ["a", "succeeded", "create", "2,"]


def test_a_failing_stack_fails_alone_and_the_command_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    engine = StandIn(fail=frozenset({"b"}))
    results = run_stacks(["a", "b", "c"], engine, "up", parallel=3, progress=io.StringIO())
    assert [r.result for r in results] == [SUCCEEDED, FAILED, SUCCEEDED]
    assert results[1].errors == ("error: the cluster said no",)
    # the command: exit 1, the failing stack's output, the table, the Markdown report
    project = _project(tmp_path, ["a", "b", "c"])
    monkeypatch.setattr(automation, "AutomationEngine", lambda *args: StandIn(fail=frozenset({"b"})))
    report = tmp_path / "report.md"
    code = main(
        [
            "up",
            "--all",
            "--project-dir",
            str(project),
            "--report",
            str(report),
            "--log-dir",
            str(tmp_path / "logs"),
        ]
    )
    assert code == 1
    out, err = capsys.readouterr()
    assert "--- b: up failed ---\n  error: the cluster said no\n" in err
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["a", "succeeded"],
        ["b", "failed"],
        ["c", "succeeded"],
    ]
    assert "| b | ❌ failed | none |" in report.read_text()
    assert (tmp_path / "logs" / "b.log").read_text() == "Updating (b)\nerror: the cluster said no\n"


def test_parallelism_is_bounded_and_used() -> None:
    engine = StandIn(seconds=0.05)
    run_stacks([f"s{i}" for i in range(12)], engine, "up", parallel=3, progress=io.StringIO())
    assert engine.most == 3
    serial = StandIn(seconds=0.01)
    run_stacks(["a", "b", "c"], serial, "up", parallel=1, progress=io.StringIO())
    assert serial.most == 1


def test_a_stack_is_never_updated_twice_at_once() -> None:
    engine = StandIn(seconds=0.05)
    results = run_stacks(["a", "b", "a", "a", "b"], engine, "up", parallel=4, progress=io.StringIO())
    assert sorted(engine.calls) == [("a", "up"), ("b", "up")]
    assert [r.stack for r in results] == ["a", "b"]
    guard = _InFlight()
    guard.enter("a")
    with pytest.raises(RuntimeError, match="already being updated"):
        guard.enter("a")
    guard.leave("a")
    guard.enter("a")


def test_a_preview_of_a_stack_the_backend_lacks_is_not_a_failure() -> None:
    engine = StandIn(absent=frozenset({"new"}))
    results = run_stacks(["new", "old"], engine, "preview", parallel=2, progress=io.StringIO())
    assert [(r.result, r.failed) for r in results] == [(ABSENT, False), (SUCCEEDED, False)]


def _project(root: Path, stacks: list[str]) -> Path:
    (root / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    for stack in stacks:
        (root / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (root / "examples" / "stacks").mkdir(parents=True)
    (root / "examples" / "stacks" / "Pulumi.demo.yaml").write_text("config: {}\n")
    return root


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "choose the stacks: --stack NAME (repeatable), --all, or --changed --base REF"),
        (["--stack", "demo"], "'demo' is an example"),
        (["--stack", "nope"], "no stack 'nope'"),
        (["--changed"], "--changed needs --base REF"),
    ],
)
def test_an_invalid_selection_is_exit_2_and_runs_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    engine = StandIn()
    monkeypatch.setattr(automation, "AutomationEngine", lambda *args: engine)
    assert main(["up", *argv, "--project-dir", str(_project(tmp_path, ["a"]))]) == 2
    assert message in capsys.readouterr().err
    assert engine.calls == []


# --- the real engine: the Automation API runs a stand-in `pulumi` ----------------------------------

VMI = "kubernetes:apps.cozystack.io/v1alpha1:VMInstance"
DRIFT = "error: no changes were expected for preview but changes were proposed"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``pulumi`` on PATH is tests/pulumi_standin.py; returns the scenario file to fill."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable = bin_dir / "pulumi"
    executable.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{pulumi_standin.__file__}" "$@"\n')
    executable.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    scenario = tmp_path / "scenario.json"
    monkeypatch.setenv("PULUMI_STANDIN", str(scenario))
    scenario.write_text(json.dumps({"stacks": {}, "calls": str(tmp_path / "calls.jsonl")}))
    return scenario


def _scenario(path: Path, stacks: dict[str, str]) -> None:
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "stacks": stacks}))


def _calls(path: Path) -> list[list[str]]:
    config = json.loads(path.read_text())
    return [json.loads(line) for line in Path(config["calls"]).read_text().splitlines()]


def _run(engine: automation.AutomationEngine, stacks: list[str], operation: Operation) -> list[StackResult]:
    return run_stacks(stacks, engine, operation, parallel=2, progress=io.StringIO())


def test_up_through_the_automation_api_reports_the_changes(cli: Path, tmp_path: Path) -> None:
    engine = automation.AutomationEngine(tmp_path, refresh=True, policy_packs=["policy"])
    (result,) = _run(engine, ["acme"], "up")
    assert (result.result, result.changes, result.errors) == (SUCCEEDED, {"same": 6, "update": 1}, ())
    assert result.log[0] == "Updating (acme):"
    up = next(call for call in _calls(cli) if "up" in call)
    assert up[:3] == ["--non-interactive", "up", "--yes"]
    for flag in (["--refresh"], ["--policy-pack", "policy"], ["--color", "never"], ["--stack", "acme"]):
        assert any(up[i : i + len(flag)] == flag for i in range(len(up))), flag
    assert ["--non-interactive", "stack", "select", "--stack", "acme"] in _calls(cli)


def test_a_failed_resource_is_reported_by_its_diagnostic_not_the_sdks_text(cli: Path, tmp_path: Path) -> None:
    _scenario(cli, {"acme": "resource-error"})
    (result,) = _run(automation.AutomationEngine(tmp_path), ["acme"], "up")
    assert result.result == FAILED
    assert result.errors == (f"{VMI} (ws-1-instance): error: {pulumi_standin.PROVIDER_ERROR}",)
    assert result.error == result.errors[0]
    assert "Diagnostics:" in result.log  # the full output is kept
    assert result.proposed == (f"update {VMI} (ws-1-instance): spec",)


def test_a_drift_check_reports_the_clis_error_and_the_proposed_changes(cli: Path, tmp_path: Path) -> None:
    _scenario(cli, {"acme": "drift", "globex": "same"})
    engine = automation.AutomationEngine(tmp_path, refresh=True, expect_no_changes=True)
    drifted, clean = _run(engine, ["acme", "globex"], "preview")
    assert (drifted.result, drifted.errors) == (FAILED, (DRIFT,))
    assert drifted.proposed == (f"update {VMI} (ws-1-instance): spec",)
    assert (clean.result, clean.changes, clean.proposed) == (SUCCEEDED, {"same": 7}, ())
    preview = next(call for call in _calls(cli) if "preview" in call and "acme" in call)
    assert "--expect-no-changes" in preview
    assert "--diff" in preview


@pytest.mark.parametrize(
    ("scenario", "operation", "line"),
    [
        (
            "locked",
            "up",
            "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es)"
            " to end or delete the lock file with `pulumi cancel`.",
        ),
        (
            "no-login",
            "up",
            "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions",
        ),
        (
            "no-login",
            "preview",
            "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions",
        ),
    ],
)
def test_a_command_error_on_stderr_is_the_reason(
    cli: Path, tmp_path: Path, scenario: str, operation: Operation, line: str
) -> None:
    _scenario(cli, {"acme": scenario})
    (result,) = _run(automation.AutomationEngine(tmp_path), ["acme"], operation)
    assert (result.result, result.errors) == (FAILED, (line,))


def test_a_preview_of_a_stack_the_backend_lacks_is_absent(cli: Path, tmp_path: Path) -> None:
    _scenario(cli, {"new": "absent"})
    (result,) = _run(automation.AutomationEngine(tmp_path), ["new"], "preview")
    assert (result.result, result.failed) == (ABSENT, False)


def test_the_command_prints_the_errors_and_keeps_each_stacks_full_log(
    cli: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The drift workflow's command: the report (its job summary) and stderr name the CLI's error
    and the drift; the log file holds stdout and stderr."""
    _scenario(cli, {"acme": "drift", "globex": "same"})
    (tmp_path / "project").mkdir()
    project = _project(tmp_path / "project", ["acme", "globex"])
    report, logs, results = tmp_path / "drift.md", tmp_path / "logs", tmp_path / "results.json"
    argv = ["up", "--all", "--preview", "--refresh", "--expect-no-changes", "--project-dir", str(project)]
    argv += ["--report", str(report), "--log-dir", str(logs), "--results", str(results)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert (
        f"--- acme: preview failed ---\n  {DRIFT}\nchanges proposed:\n  update {VMI} (ws-1-instance): spec"
        in err
    )
    text = report.read_text()
    assert f"#### acme\n\n```text\n{DRIFT}\n```\n\nChanges:\n\n```text\nupdate {VMI}" in text
    assert "#### globex" not in text
    log = (logs / "acme.log").read_text().splitlines()
    # stdout and stderr come through two pipes read by two threads (the Automation API's
    # _cmd.py): lines keep their order within a stream, not across them.
    assert next(line for line in log if line != DRIFT) == "Previewing update (acme):"
    assert DRIFT in log
    assert json.loads(results.read_text()) == {"acme": FAILED, "globex": SUCCEEDED}


def test_the_report_cannot_be_broken_by_what_the_cli_prints() -> None:
    hostile = StackResult("s", FAILED, {}, 1.0, ("error: ```\n# not a heading",))
    text = markdown([hostile], "up")
    assert text.count("```") == 2
    assert "\n# not a heading" in text  # inside the fence
