"""A preview with a read-only credential says the API server validated none of its changes (21.3).

pulumi-kubernetes falls back on the planned inputs when a dry run is Forbidden and logs it only
at verbosity 1 (creates) or 9 (updates): read from the vendored provider source. Nothing in the
CLI's default output shows it, so the preview report, the PR comment and the program's own
warning state it from what is known: the credential is read-only.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.deploy import automation
from stacks.commands.deploy.orchestrate import Operation, Outcome
from stacks.commands.preview.engine import run_offline
from stacks.loading.stack_file import load_stack_file
from stacks.program import read_only
from stacks.program.kubeconfig_loader import Environment
from stacks.program.main import main as program
from tests.helpers import UPSTREAM, base_config, write_stack

PROVIDER_GO = UPSTREAM / "pulumi-kubernetes" / "v4.32.0" / "provider.go"


def lines(first: int, last: int) -> str:
    return "\n".join(PROVIDER_GO.read_text().splitlines()[first - 1 : last])


def test_the_forbidden_fallbacks_are_silent_at_the_default_verbosity() -> None:
    create = lines(1800, 1803)
    assert "if apierrors.IsForbidden(awaitErr) {" in create
    assert 'logger.V(1).Infof("unable to compute Server-side dry-run and defaulting to client-side' in create
    assert 'return &pulumirpc.CreateResponse{Id: "", Properties: req.GetProperties()}, nil' in create
    update = lines(2455, 2457)
    assert "if req.GetPreview() && apierrors.IsForbidden(awaitErr) {" in update
    assert 'logger.V(9).Infof("could not preview Update(%v): %v", urn, err)' in update
    assert "return &pulumirpc.UpdateResponse{Properties: req.News}, nil" in update
    skipped = lines(1728, 1736)  # client-side apply: no request at all for a new object
    assert "!k.serverSideApplyMode" in skipped
    assert "if req.GetPreview() && skipPreview {" in skipped


class Changes:
    """A stand-in engine: each preview shows these changes; records the variable it inherits."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    def run(self, stack: str, operation: Operation, on_output: Callable[[str], None]) -> Outcome:
        self.seen.append(os.environ.get(read_only.ENV))
        return Outcome({"create": 2, "update": 1, "same": 5} if stack == "acme" else {"same": 3})


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    for name in ("acme", "quiet"):
        (root / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    return root


def test_the_report_says_which_changes_the_server_never_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = Changes()
    monkeypatch.setattr(automation, "AutomationEngine", lambda *args: engine)
    monkeypatch.delenv(read_only.ENV, raising=False)
    report = tmp_path / "report.md"
    argv = [
        "up",
        "--all",
        "--preview",
        "--read-only",
        "--report",
        str(report),
        "--project-dir",
        str(project(tmp_path)),
    ]
    assert main(argv) == 0
    text = report.read_text()
    assert "> **3 change(s) in acme.** Not validated by the API server" in text
    assert "the offline checks stand in" in text.lower()
    assert engine.seen == ["1", "1"]  # each stack's program warns too
    assert read_only.ENV not in os.environ  # restored
    assert "Not validated by the API server" in capsys.readouterr().err
    assert main([*argv[:3], *argv[4:]]) == 0  # without --read-only: no such claim
    assert "Not validated" not in report.read_text()


def test_read_only_is_refused_for_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", "--all", "--read-only", "--project-dir", str(project(tmp_path))]) == 2
    assert "--read-only is for previews" in capsys.readouterr().err


def test_the_program_warns_in_a_preview_with_a_read_only_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_stack(tmp_path, base_config())
    live = functools.partial(program, Environment(home=str(tmp_path)))
    monkeypatch.setenv(read_only.ENV, "1")
    run = run_offline(load_stack_file(PROJECT_DIR, "test", path), live)  # the mock runtime is a preview
    assert read_only.NOTE in run.warnings
    offline = run_offline(load_stack_file(PROJECT_DIR, "test", path), program)
    assert read_only.NOTE not in offline.warnings  # the offline tools make no live preview
    monkeypatch.delenv(read_only.ENV)
    assert read_only.NOTE not in run_offline(load_stack_file(PROJECT_DIR, "test", path), live).warnings
