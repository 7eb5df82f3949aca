"""``hikube-gpu`` acts on the project it is run in: the nearest ``Pulumi.yaml`` from the current
folder up, as the Pulumi CLI finds it (``stacks/commands/project.py`` cites pulumi's
``DetectProjectPathFrom``), or the one of ``-C DIR``; never on the checkout it was installed from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR
from stacks.commands.project import NoProjectError, find_project
from stacks.loading.stack_list import RENDER_MARKER

CONSOLE_SCRIPT = Path(sys.executable).with_name("hikube-gpu")


def _project(root: Path, stacks: tuple[str, ...]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text(encoding="utf-8"))
    for stack in stacks:
        config = {"hikube-gpu:platform": {"namespace": f"tenant-{stack}"}}
        (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return root


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def test_the_command_acts_on_the_project_of_the_current_folder_or_above(tmp_path: Path) -> None:
    project = _project(tmp_path / "customer", ("acme-dev", "acme-prod"))
    deeper = project / "notes" / "2026"
    deeper.mkdir(parents=True)
    for cwd in (project, deeper):
        listed = _run(cwd, "list")
        assert (listed.returncode, listed.stdout, listed.stderr) == (0, "acme-dev\nacme-prod\n", "")
    preview = _run(deeper, "preview", "--stack", "acme-prod")
    assert preview.returncode == 0, preview.stderr
    assert "tenant-acme-prod" in preview.stdout


def test_minus_c_runs_as_if_started_in_dir(tmp_path: Path) -> None:
    """Like ``pulumi -C DIR``: the project is found from DIR, and relative paths start there."""
    project = _project(tmp_path / "customer", ("acme-dev",))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _run(elsewhere, "-C", "../customer", "list").stdout == "acme-dev\n"
    rendered = _run(elsewhere, "--cwd", str(project), "render", "--stack", "acme-dev", "--out", "out")
    assert rendered.returncode == 0, rendered.stderr
    assert (project / "out" / RENDER_MARKER).is_file()
    assert not (elsewhere / "out").exists()


def test_the_nearest_project_wins(tmp_path: Path) -> None:
    outer = _project(tmp_path / "outer", ("outer-stack",))
    inner = _project(outer / "inner", ("inner-stack",))
    (inner / "sub").mkdir()
    assert _run(inner / "sub", "list").stdout == "inner-stack\n"
    assert find_project(inner / "sub") == inner
    assert find_project(outer) == outer


def test_outside_any_project_the_command_says_so_and_exits_2(tmp_path: Path) -> None:
    assert not [p for p in (tmp_path, *tmp_path.parents) if (p / "Pulumi.yaml").exists()]
    for args in (
        ("list",),
        ("preview",),
        ("config",),
        ("diff", "--base", "HEAD"),
        ("changed", "--base", "HEAD"),
    ):
        result = _run(tmp_path, *args)
        assert result.returncode == 2, args
        assert result.stderr == (
            f"error: no Pulumi.yaml in {tmp_path} or any folder above it: run hikube-gpu inside a "
            "Pulumi project, or give one with -C DIR\n"
        ), args
        assert result.stdout == ""
    missing = _run(tmp_path, "-C", "no-such-folder", "list")
    assert (missing.returncode, missing.stderr) == (2, "error: -C no-such-folder: no such folder\n")
    assert _run(tmp_path, "--help").returncode == 0  # help needs no project


@pytest.mark.parametrize("name", ["Pulumi.yml", "Pulumi.json"])
def test_a_project_file_pulumi_would_take_but_the_loader_cannot_read_is_named(
    tmp_path: Path, name: str
) -> None:
    """Pulumi would stop at this folder (``encoding.Exts``); going on up would pick another project."""
    _project(tmp_path, ("outer",))
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / name).write_text("name: x\n")
    with pytest.raises(NoProjectError, match=rf"inner/{name}: hikube-gpu reads the project from Pulumi.yaml"):
        find_project(tmp_path / "inner")
    result = _run(tmp_path / "inner", "list")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"inner/{name}: hikube-gpu reads the project from Pulumi.yaml; rename it" in result.stderr


def test_project_dir_still_names_the_project_exactly(tmp_path: Path) -> None:
    project = _project(tmp_path / "customer", ("acme-dev",))
    assert _run(PROJECT_DIR, "list", "--project-dir", str(project)).stdout == "acme-dev\n"
    assert _run(PROJECT_DIR, "list").stdout == "dev\n"  # this checkout is a project too
