"""Start-up and pipes: ``--help`` and ``list`` load only what they need (not the diff, the risks,
the config models or pydantic), and a reader that goes away (``hikube-gpu list | head``) ends
the command quietly, with the exit code of a Unix tool killed by SIGPIPE."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR

HEAVY = re.compile(
    r"(pydantic|pydantic_core|components|pulumi|pulumi_kubernetes|kubernetes)(\.|$)"
    r"|stacks\.offline\.(diff|diff_report|compare|risks|revision|changed|stack_file|planned|engine)$"
    r"|stacks\.(config|rules|validate|program|plan)$"
)
"""Modules ``--help`` and ``list`` have no use for."""


def _imported(*args: str) -> set[str]:
    """The modules ``python -X importtime -m stacks ARGS`` imports (its own report on stderr)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "stacks", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {
        line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")
    }


@pytest.mark.parametrize(
    "args", [("--help",), ("list",), ("list", "--format", "json"), ("preview", "--help")]
)
def test_help_and_list_load_no_diff_risk_or_pydantic_code(args: tuple[str, ...]) -> None:
    modules = _imported(*args)
    assert "stacks.commands.cli" in modules  # the report is read right
    assert sorted(m for m in modules if HEAVY.match(m)) == []


def test_the_commands_that_need_them_still_load_them() -> None:
    """The lazy imports are where the commands run: the check above cannot pass by accident."""
    assert {"pydantic", "stacks.loading.stack_file"} <= _imported("preview", "--stack", "dev")
    assert "stacks.commands.diff.changed" in _imported("list", "--format", "matrix")


def _closed_pipe(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The command with its stdout a pipe whose reader has already gone (as ``| head`` leaves it)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "stacks", *args],
            cwd=cwd,
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args",
    [("list",), ("list", "--format", "json"), ("config", "--stack", "dev", "--show-origin"), ("preview",)],
)
def test_a_reader_that_goes_away_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    done = _closed_pipe(PROJECT_DIR, *args)
    assert done.stderr == b""  # no BrokenPipeError traceback, no "Exception ignored" at exit
    assert done.returncode == 141  # 128 + SIGPIPE, what the shell reports for `head`'s writer


def test_a_long_listing_piped_into_head(tmp_path: Path) -> None:
    """The real case: more stacks than a pipe holds, and ``head`` reads two lines."""
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_dump({"config": {"hikube-gpu:platform": {"namespace": "tenant-x"}}})
    for index in range(8000):  # 8000 names of 14 bytes: more than a 64 KiB pipe buffer
        (tmp_path / f"Pulumi.customer-{index:04d}.yaml").write_text(config)
    script = f'{sys.executable} -m stacks list | head -2; echo "${{PIPESTATUS[0]}}"'
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout == "customer-0000\ncustomer-0001\n141\n"
    assert done.stderr == ""
