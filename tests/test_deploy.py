"""`python -m stacks up`: the orchestration of Pulumi operations over many stacks, with a stand-in
for the Automation API (no Pulumi CLI here)."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi import automation as auto

from stacks.deploy import automation
from stacks.deploy.orchestrate import (
    ABSENT,
    FAILED,
    SUCCEEDED,
    Operation,
    Outcome,
    StackAbsent,
    _InFlight,
    run_stacks,
    table,
)
from stacks.offline.cli import PROJECT_DIR, main


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

    def run(self, stack: str, operation: Operation, on_output: Callable[[str], None]) -> Outcome:
        with self.lock:
            assert stack not in self.active, f"two operations on {stack} at once"
            self.active.add(stack)
            self.calls.append((stack, operation))
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            on_output(f"Updating ({stack})")
            time.sleep(self.seconds)
            if stack in self.fail:
                raise auto.CommandError(
                    SimpleNamespace(stdout="", stderr="error: the cluster said no", code=255)
                )
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
    assert "the cluster said no" in (results[1].error or "")
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
    assert "--- b: last lines of its output ---\nUpdating (b)" in err
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["a", "succeeded"],
        ["b", "failed"],
        ["c", "succeeded"],
    ]
    assert "| b | ❌ failed | none |" in report.read_text()
    assert (tmp_path / "logs" / "b.log").read_text() == "Updating (b)\n"


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


def test_the_engine_drives_the_automation_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The seam: `up` creates or selects the stack in the project folder and streams its output;
    a preview selects (never creates) it and passes refresh, drift and policy options."""
    calls: list[tuple[str, Any]] = []

    class Stack:
        def up(self, **options: Any) -> Any:
            calls.append(("up", options))
            options["on_output"]("Resources: 2 created")
            return SimpleNamespace(summary=SimpleNamespace(resource_changes={"create": 2}))

        def preview(self, **options: Any) -> Any:
            calls.append(("preview", options))
            return SimpleNamespace(change_summary={auto.OpType.SAME: 3})

    def create_or_select(name: str, work_dir: str) -> Stack:
        calls.append(("create_or_select", (name, work_dir)))
        return Stack()

    def select(name: str, work_dir: str) -> Stack:
        if name == "new":
            raise auto.StackNotFoundError(SimpleNamespace(stdout="", stderr="no stack", code=255))
        calls.append(("select", (name, work_dir)))
        return Stack()

    monkeypatch.setattr(auto, "create_or_select_stack", create_or_select)
    monkeypatch.setattr(auto, "select_stack", select)
    lines: list[str] = []
    engine = automation.AutomationEngine(
        tmp_path, refresh=True, expect_no_changes=True, policy_packs=["policy"]
    )
    assert engine.run("acme", "up", lines.append) == Outcome({"create": 2})
    assert lines == ["Resources: 2 created"]
    assert engine.run("acme", "preview", lines.append) == Outcome({"same": 3})
    with pytest.raises(StackAbsent):
        engine.run("new", "preview", lines.append)
    assert calls[0] == ("create_or_select", ("acme", str(tmp_path)))
    assert calls[1][1]["refresh"] is True
    assert calls[2] == ("select", ("acme", str(tmp_path)))
    assert calls[3][1]["expect_no_changes"] is True
    assert calls[3][1]["policy_packs"] == ["policy"]
