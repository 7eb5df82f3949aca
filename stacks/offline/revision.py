"""Render every stack of a project at a git revision (in a temporary worktree) or in the
working tree, in parallel worker processes, each running that revision's own code."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from stacks.offline.stack_list import RENDER_MARKER, discover

ERROR_SUFFIX = ".error"
"""``<stack>.error`` next to the renders: why a stack did not render (written by ``many``)."""

Progress = Callable[[str, str], None]
"""Called with (revision label, stack) each time a stack is rendered; a ``total`` attribute,
if it has one, is set to the number of renders first."""


@runtime_checkable
class CountingProgress(Protocol):
    """A progress reporter that wants to know how many renders to expect."""

    total: int

    def __call__(self, label: str, stack: str) -> None: ...


class RevisionError(Exception):
    """A revision cannot be checked out or its code cannot render."""


@dataclass(frozen=True)
class StackRender:
    """One stack at one revision: its files (relative path → text), or why it did not render."""

    files: dict[str, str]
    error: str | None = None


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RevisionError(result.stderr.strip() or f"git {' '.join(args)} failed")
    return result.stdout.strip()


@contextlib.contextmanager
def checkout(project_dir: Path, ref: str) -> Iterator[Path]:
    """The project folder as it is at ``ref``, in a temporary detached worktree."""
    top = Path(_git(project_dir, "rev-parse", "--show-toplevel"))
    try:
        commit = _git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except RevisionError:
        raise RevisionError(f"base {ref!r} is not a commit of this repository (fetch it first?)") from None
    relative = project_dir.resolve().relative_to(top.resolve())
    with tempfile.TemporaryDirectory(prefix="hikube-gpu-base-") as tmp:
        worktree = Path(tmp) / "tree"
        _git(top, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        try:
            yield worktree / relative
        finally:
            _git(top, "worktree", "remove", "--force", str(worktree))


def _chunks(items: list[str], count: int) -> list[list[str]]:
    return [chunk for chunk in (items[i::count] for i in range(count)) if chunk]


def _run_worker(project_dir: Path, stacks: list[str], out: Path, label: str, progress: Progress) -> None:
    command = [sys.executable, "-m", "stacks", "render-many", "--out", str(out), *stacks]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        command, cwd=project_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("done "):
            progress(label, line.removeprefix("done ").strip())
    stderr = process.stderr.read() if process.stderr else ""
    if process.wait() != 0:
        if "invalid choice: 'render-many'" in stderr:
            raise RevisionError(f"{label}: its code predates `python -m stacks diff`; choose a newer base")
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise RevisionError(f"{label}: the renderer failed: {last}")


def _collect(out: Path, stacks: list[str]) -> dict[str, StackRender]:
    result = {}
    for stack in stacks:
        error_file = out / f"{stack}{ERROR_SUFFIX}"
        if error_file.exists():
            result[stack] = StackRender({}, error_file.read_text(encoding="utf-8").strip())
            continue
        root = out / stack
        files = {
            str(path.relative_to(root)): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*"))
            if path.is_file() and path.name != RENDER_MARKER
        }
        result[stack] = StackRender(files)
    return result


def render_trees(
    trees: list[tuple[Path, str]],
    workers: int,
    progress: Progress,
    only: list[str] | None = None,
) -> list[dict[str, StackRender]]:
    """Render the stacks of each (project folder, label) with the code found there.

    ``workers`` processes in all, shared by the trees; each process renders a chunk of one
    tree's stacks, so imports are paid once per process, not once per stack.
    """
    stacks = [[s for s in discover(d) if only is None or s in only] for d, _ in trees]
    if isinstance(progress, CountingProgress):
        progress.total = sum(len(names) for names in stacks)
    per_tree = max(1, -(-max(1, workers) // max(1, len(trees))))  # ceil: no idle worker
    with tempfile.TemporaryDirectory(prefix="hikube-gpu-render-") as tmp:
        outs = [Path(tmp) / str(index) for index in range(len(trees))]
        lock = threading.Lock()

        def locked(label: str, stack: str) -> None:
            with lock:
                progress(label, stack)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [
                pool.submit(_run_worker, directory, chunk, out, label, locked)
                for (directory, label), names, out in zip(trees, stacks, outs, strict=True)
                for chunk in _chunks(names, per_tree)
            ]
            failures = [f.exception() for f in futures if f.exception() is not None]
        if failures:
            raise RevisionError(str(failures[0]))
        return [_collect(out, names) for out, names in zip(outs, stacks, strict=True)]
