"""``make diff`` reads as a report, not a crash: "changes found" when something changed (the
command's exit 1, which CI reads, becomes make's success), and a real failure still fails it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.common import copy_project

VENV = Path(sys.executable).parents[1]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("make-diff")
    copy_project(root, lambda name: not name.startswith(("docs/", "tests/", "benchmarks/")))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root, check=True
        )
    return root


def _make_diff(repo: Path, base: str) -> subprocess.CompletedProcess[str]:
    """The Makefile's ``diff`` target with this venv (``-o``: not reinstalled)."""
    return subprocess.run(
        ["make", "--no-print-directory", f"VENV={VENV}", "-o", f"{VENV}/.runtime", "diff", f"BASE={base}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_no_change_and_a_change_both_succeed_and_say_which(repo: Path) -> None:
    same = _make_diff(repo, "HEAD")
    assert (same.returncode, same.stdout.splitlines()[-1]) == (0, "make diff: no changes")
    dev = repo / "Pulumi.dev.yaml"
    original = dev.read_text(encoding="utf-8")
    dev.write_text(original.replace("replicas: 4\n", "replicas: 8\n"), encoding="utf-8")
    try:
        changed = _make_diff(repo, "HEAD")
    finally:
        dev.write_text(original, encoding="utf-8")
    assert changed.returncode == 0, changed.stderr
    assert "stack dev: 0 added, 0 removed, 1 changed" in changed.stdout
    assert changed.stdout.splitlines()[-1].startswith("make diff: changes found")
    assert "Error" not in changed.stderr


def test_a_failed_diff_still_fails_make(repo: Path) -> None:
    failed = _make_diff(repo, "no-such-revision")
    assert failed.returncode == 2
    assert "error: base 'no-such-revision' is not a commit of this repository" in failed.stderr
    assert "changes found" not in failed.stdout
