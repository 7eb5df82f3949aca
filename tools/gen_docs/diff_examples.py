"""The manifest-diff examples of the guides, from real runs: this project copied into a temporary
git repository, one change made to its stack files, then ``hikube-gpu diff --base HEAD`` in it.

The guides include these files with ``--8<--`` (pymdownx.snippets, ``docs/gen/`` is not a page).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from benchmarks.common import copy_project

DEV = "Pulumi.dev.yaml"
ACME = "examples/stacks/Pulumi.acme-vms.yaml"


def _replace(root: Path, name: str, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` (the example says what it changes: it must exist)."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise RuntimeError(f"{name}: the example expects {old!r} exactly once")
    path.write_text(text.replace(old, new), encoding="utf-8")


def _time_slicing(root: Path) -> None:
    _replace(root, DEV, "replicas: 4\n", "replicas: 8\n")


def _risky(root: Path) -> None:
    _replace(root, DEV, "gpus:\n        A100: 2\n", "gpus:\n        A100: 1\n")
    acme = (root / ACME).read_text(encoding="utf-8")
    start, end = acme.index("    ws-bob:\n"), acme.index("    llm-serve:\n")
    (root / ACME).write_text(acme[:start] + acme[end:], encoding="utf-8")
    _replace(root, ACME, "    L40S: 4\n", "    L40S: 6\n")


@dataclass(frozen=True)
class Example:
    path: str
    change: Callable[[Path], None]
    args: tuple[str, ...]
    fence: str
    shell: tuple[str, ...]
    """The lines shown before the output, as a reader would type them (text examples)."""


EXAMPLES = (
    Example(
        "docs/gen/diff-text.md",
        _time_slicing,
        (),
        "```text",
        (
            "$ sed -i 's/replicas: 4/replicas: 8/' Pulumi.dev.yaml",
            '$ .venv/bin/hikube-gpu diff --base HEAD 2>/dev/null; echo "exit $?"',
        ),
    ),
    Example("docs/gen/diff-markdown.md", _risky, ("--format", "markdown"), "````markdown", ()),
)


def _git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=docs-gen", "-c", "user.email=docs-gen@example.invalid"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True)


def _run(example: Example) -> str:
    with tempfile.TemporaryDirectory(prefix="hikube-gpu-diff-example-") as folder:
        root = Path(folder)
        copy_project(root)
        _git(root, "init", "--quiet")
        _git(root, "add", "--all")
        _git(root, "commit", "--quiet", "--message", "base")
        example.change(root)
        done = subprocess.run(
            [sys.executable, "-m", "stacks", "diff", "--base", "HEAD", "--workers", "2", *example.args],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 1:  # an example shows a change
        raise RuntimeError(f"{example.path}: diff exited {done.returncode}: {done.stderr.strip()}")
    lines = [*example.shell, done.stdout.rstrip("\n")]
    if example.shell:
        lines.append("exit 1")
    fence = example.fence.rstrip("abcdefghijklmnopqrstuvwxyz")
    return "\n".join([example.fence, *lines, fence]) + "\n"


def pages() -> dict[str, Callable[[], str]]:
    """Each example file and how to make it."""
    return {example.path: partial(_run, example) for example in EXAMPLES}
