"""One command name: ``hikube-gpu``, the console script ``make`` installs into ``.venv``
(``pyproject.toml``'s ``[project.scripts]``); ``python -m stacks`` is the same program and
says ``hikube-gpu`` too."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from stacks.commands.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).with_name("hikube-gpu")
LAUNCHERS = {"console script": [str(CONSOLE_SCRIPT)], "python -m stacks": [sys.executable, "-m", "stacks"]}
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _run(argv: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*argv, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)


def test_the_console_script_is_declared_and_installed() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"hikube-gpu": "stacks.commands.cli:main"}
    assert CONSOLE_SCRIPT.is_file(), "make .venv/.runtime installs it (pip install -e .)"


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_help_version_and_usage_errors_say_hikube_gpu(launcher: str) -> None:
    argv = LAUNCHERS[launcher]
    top = _run(argv, "--help")
    assert top.returncode == 0
    assert top.stdout.startswith("usage: hikube-gpu ")
    assert "Run 'hikube-gpu <command> --help'" in top.stdout
    assert _run(argv, "list", "--help").stdout.startswith("usage: hikube-gpu list ")
    version = _run(argv, "--version")
    assert (version.returncode, version.stdout) == (0, f"hikube-gpu {VERSION}\n")
    wrong = _run(argv, "no-such-command")
    assert wrong.returncode == 2
    assert "hikube-gpu: error: argument <command>: invalid choice: 'no-such-command'" in wrong.stderr
    for result in (top, version, wrong):
        assert "python -m stacks" not in result.stdout + result.stderr


def _visible_commands() -> list[str]:
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [action.dest for action in commands._choices_actions]


def test_the_readme_shows_every_command_under_its_name() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    visible = _visible_commands()
    expected = {"preview", "render", "diff", "list", "doctor", "config", "changed", "up", "operator"}
    assert expected <= set(visible)
    for command in visible:
        assert re.search(rf"^hikube-gpu {command} ", readme, re.MULTILINE), command


def test_no_page_tells_a_user_to_type_python_m_stacks() -> None:
    """``python -m stacks`` may be named as the alias, never shown as the command to run."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "Makefile"]
    offenders = [
        f"{page.relative_to(ROOT)}: {line.strip()}"
        for page in pages
        for line in page.read_text(encoding="utf-8").splitlines()
        if re.search(r"-m stacks [a-z]", line)
    ]
    assert offenders == []
