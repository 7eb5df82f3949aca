"""``hikube-gpu changed --base REF``: the stacks (not the examples) whose render or config
(customer defaults included) differs between REF and the working tree, as the diff computes it.

Only stacks that can have changed are rendered: those whose stack file or defaults file differs,
or every stack when anything else that the program reads changed (its code, Pulumi.yaml, the
requirements). Changes only to documentation, tests, workflows, benchmarks or the examples
render nothing. The list feeds the live-preview, drift and deploy jobs in batches
(``batches``): any number of stacks fits GitHub's matrix limit of 256 jobs.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from stacks import customer_defaults
from stacks.offline.compare import compare
from stacks.offline.revision import Progress, RevisionError, checkout
from stacks.offline.stack_list import EXAMPLES_DIR, discover, stack_config_dir, stack_file_path
from stacks.offline.stack_source import StackSourceError, one_line, read_project, read_stack

MAX_JOBS = 256
"""GitHub Actions refuses a matrix of more than 256 jobs."""
INERT = ("docs/", "tests/", ".github/", "benchmarks/", "site/", f"{EXAMPLES_DIR.as_posix()}/", ".ci/")
"""Paths (relative to the project) that no stack's render reads; ``*.md`` files neither."""


@dataclass(frozen=True)
class Changed:
    stacks: list[str]
    """The stacks of the working tree that changed, sorted."""
    candidates: int
    """How many stacks were rendered to find them."""
    code_changed: bool
    """Something besides stack and defaults files changed: every stack was a candidate."""
    errors: dict[str, str] = field(default_factory=dict)
    """Changed stacks that could not be rendered at one revision: why (one line)."""


def _git(project_dir: Path, *args: str) -> list[str]:
    result = subprocess.run(
        ["git", "-C", str(project_dir), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"git {args[0]} failed"])[-1]
        raise RevisionError(last)
    return [line for line in result.stdout.splitlines() if line]


def changed_paths(project_dir: Path, base_ref: str) -> list[str]:
    """Files that differ between ``base_ref`` and the working tree (untracked ones included),
    relative to the project folder."""
    try:
        commit = _git(project_dir, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}")[0]
    except (RevisionError, IndexError):
        raise RevisionError(
            f"base {base_ref!r} is not a commit of this repository (fetch it first?)"
        ) from None
    tracked = _git(project_dir, "diff", "--name-only", "--relative", "--no-renames", commit, "--")
    untracked = _git(project_dir, "ls-files", "--others", "--exclude-standard")
    return sorted(set(tracked) | set(untracked))


def _inputs(project_dir: Path, project: str, stack: str) -> tuple[bytes | None, str | None, bytes | None]:
    """What a stack's config is made of: its file, the defaults file it names and that file."""
    path = stack_file_path(project_dir, stack)
    try:
        text = path.read_bytes()
    except OSError:
        return None, None, None
    source = read_stack(project_dir, project, stack)
    name = (source.config or {}).get(f"{project}:{customer_defaults.DEFAULTS_KEY}")
    if not isinstance(name, str):
        return text, None, None
    try:
        defaults = customer_defaults.defaults_path(project_dir, name, project).read_bytes()
    except (OSError, customer_defaults.DefaultsError):
        defaults = None
    return text, name, defaults


def _is_code(path: str, inputs: set[str], stack_dir: str) -> bool:
    if path in inputs or path.endswith(".md") or path.startswith(INERT):
        return False
    folder, _, name = path.rpartition("/")
    return not (folder == stack_dir and name.startswith("Pulumi.") and name != "Pulumi.yaml")


def candidates(
    project_dir: Path, base_dir: Path, paths: list[str], stacks: list[str] | None = None
) -> tuple[list[str], bool]:
    """The stacks to render (of ``stacks``, default: the working tree's), and whether the code
    changed (then every stack is one)."""
    try:
        project = read_project(project_dir)
    except StackSourceError as error:
        raise RevisionError(f"working tree: {error}") from None
    head = discover(project_dir) if stacks is None else stacks
    base_project = read_project(base_dir) if (base_dir / "Pulumi.yaml").exists() else project
    head_inputs = {stack: _inputs(project_dir, project, stack) for stack in head}
    base_inputs = {stack: _inputs(base_dir, base_project, stack) for stack in head}
    defaults = {
        Path(i[1]).as_posix() for i in (*head_inputs.values(), *base_inputs.values()) if i[1] is not None
    }
    stack_dir = stack_config_dir(project_dir).relative_to(project_dir).as_posix().removeprefix(".")
    code = any(_is_code(path, defaults, stack_dir) for path in paths)
    if code:
        return head, True
    return [stack for stack in head if head_inputs[stack] != base_inputs[stack]], False


def find_changed(
    project_dir: Path, base_ref: str, *, workers: int | None = None, progress: Progress | None = None
) -> Changed:
    """The stacks of the working tree whose render or config differs from ``base_ref``.

    Raises ``RevisionError`` (a one-line reason) when the comparison cannot be made."""
    paths = changed_paths(project_dir, base_ref)
    with checkout(project_dir, base_ref) as base_dir:
        chosen, code = candidates(project_dir, base_dir, paths)
    if not chosen:
        return Changed([], 0, code)
    result = compare(project_dir, base_ref, stacks=chosen, workers=workers, progress=progress)
    diffs = [d for d in result.stacks if d.stack in chosen and (d.has_changes or d.error)]
    errors = {d.stack: one_line(d.error) for d in diffs if d.error}
    return Changed(sorted(d.stack for d in diffs), len(chosen), code, errors)


def batches(stacks: list[str], size: int, max_jobs: int = MAX_JOBS) -> list[list[str]]:
    """``stacks`` in batches of ``size`` (at least 1), larger when ``size`` would need more than
    ``max_jobs`` batches: never more than ``max_jobs`` batches, none empty."""
    if not stacks:
        return []
    per_batch = max(1, size, -(-len(stacks) // max_jobs))
    return [stacks[i : i + per_batch] for i in range(0, len(stacks), per_batch)]


def matrix(stacks: list[str], size: int, max_jobs: int = MAX_JOBS) -> list[dict[str, str]]:
    """A GitHub Actions matrix ``include`` list: one entry per batch, its stacks space-separated
    (stack names have no spaces)."""
    chunks = batches(stacks, size, max_jobs)
    return [
        {"batch": f"{index}/{len(chunks)}", "stacks": " ".join(chunk)}
        for index, chunk in enumerate(chunks, start=1)
    ]
