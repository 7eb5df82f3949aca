"""``hikube-gpu changed --base REF``: the stacks (not the examples) whose render or config
(customer defaults included) differs between REF and the working tree, as the diff computes it.

Only stacks that can have changed are compared (``stacks.commands.diff.affected``): those whose stack
file or defaults file differs, or every stack when anything else that the program reads changed
(its code, Pulumi.yaml, the requirements). Changes only to documentation, tests, workflows,
benchmarks or the examples compare nothing. The list feeds the live-preview, drift and deploy
jobs in batches (``batches``): any number of stacks fits GitHub's matrix limit of 256 jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stacks.commands.diff.compare import compare
from stacks.commands.diff.render_cache import RenderCache
from stacks.commands.diff.revision import Progress
from stacks.commands.diff.stack_source import one_line
from stacks.loading.stack_list import discover

MAX_JOBS = 256
"""GitHub Actions refuses a matrix of more than 256 jobs."""


@dataclass(frozen=True)
class Changed:
    stacks: list[str]
    """The stacks of the working tree that changed, sorted."""
    candidates: int
    """How many stacks were compared (rendered, or found in the render cache) to find them."""
    code_changed: bool
    """Something besides stack and defaults files changed: every stack was a candidate."""
    errors: dict[str, str] = field(default_factory=dict)
    """Changed stacks that could not be rendered at one revision: why (one line)."""


def find_changed(
    project_dir: Path,
    base_ref: str,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    cache: RenderCache | None = None,
) -> Changed:
    """The stacks of the working tree whose render or config differs from ``base_ref``.

    Raises ``RevisionError`` (a one-line reason) when the comparison cannot be made."""
    result = compare(
        project_dir, base_ref, workers=workers, progress=progress, cache=cache, examples=False, details=False
    )
    head = set(discover(project_dir))  # a stack deleted in the working tree is no stack to deploy
    compared = [d for d in result.stacks if d.stack in head and d.rendered]
    diffs = [d for d in compared if d.has_changes or d.error]
    errors = {d.stack: one_line(d.error) for d in diffs if d.error}
    return Changed(sorted(d.stack for d in diffs), len(compared), result.code_changed, errors)


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
