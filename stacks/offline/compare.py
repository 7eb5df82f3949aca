"""``hikube-gpu diff``: render every stack at a base revision and in the working tree,
and compare them object by object.

Each stack file is read here first (``stack_source``): one that is not valid YAML or has no
``config:`` mapping is reported with a one-line reason and not rendered; what the renderers
say is shown with every secret of the stack file hidden.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from stacks import customer_defaults
from stacks.offline.diff import StackDiff, diff_stack
from stacks.offline.revision import Job, Progress, RevisionError, StackRender, checkout, render_trees
from stacks.offline.risks import Quota, stack_quota
from stacks.offline.stack_list import StackNameError, discover, name_problem
from stacks.offline.stack_source import (
    StackSource,
    StackSourceError,
    config_secrets,
    one_line,
    read_project,
    read_stack,
    redact,
)

WORKING_TREE = "working tree"


@dataclass(frozen=True)
class Comparison:
    base: str
    head: str
    stacks: list[StackDiff]
    skipped: tuple[str, ...] = ()
    """Stacks rendered once (in the working tree) instead of at both revisions: the code and
    their config (stack file, defaults file) are the same at both, so their render cannot differ."""

    @property
    def has_changes(self) -> bool:
        return any(s.has_changes or s.error for s in self.stacks)

    @property
    def has_errors(self) -> bool:
        return any(s.error for s in self.stacks)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class Revision:
    """The stack files of one tree, read before anything renders."""

    directory: Path
    label: str
    sources: dict[str, StackSource]

    @classmethod
    def read(cls, directory: Path, label: str, only: list[str] | None) -> Revision:
        try:
            names = discover(directory, examples=True)
            project = read_project(directory)
        except (StackNameError, StackSourceError) as error:
            raise RevisionError(f"{label}: {error}") from None
        chosen = [name for name in names if only is None or name in only]
        return cls(
            directory,
            label,
            {name: _with_defaults(directory, read_stack(directory, project, name)) for name in chosen},
        )

    def job(self, skip: frozenset[str] = frozenset()) -> Job:
        """The stacks worth rendering: those whose file could be read, but ``skip``."""
        chosen = [s for s, source in self.sources.items() if source.error is None and s not in skip]
        return Job(self.directory, self.label, chosen)

    def readable(self) -> set[str]:
        return {s for s, source in self.sources.items() if source.error is None}

    def render(self, stack: str, renders: dict[str, StackRender]) -> StackRender | None:
        """The stack's render, an error for a file that cannot be read, or None (no such stack)."""
        source = self.sources.get(stack)
        if source is None:
            return None
        if source.error is not None:
            return StackRender({}, source.error)
        render = renders[stack]
        if render.error is None:
            return render
        text = redact(render.error, source.secrets)
        for where in {self.directory, self.directory.resolve()}:  # a temporary worktree means nothing
            text = text.replace(f"{where}{os.sep}", "")
        return StackRender({}, text)


def _with_defaults(directory: Path, source: StackSource) -> StackSource:
    """The stack's config merged over its customer defaults file: the defaults file is one of
    the stack's inputs (its quota, the config keys a change names, the texts to hide)."""
    if source.config is None:
        return source
    try:
        merged = customer_defaults.apply(directory, source.project, source.config)
    except customer_defaults.DefaultsError as error:
        return StackSource(source.project, error=one_line(str(error)))
    if merged is source.config:
        return source
    secrets = source.secrets | config_secrets(merged, source.project)
    return StackSource(source.project, merged, secrets=secrets)


def _check_names(only: list[str] | None) -> None:
    for name in only or []:
        problem = name_problem(name)
        if problem is not None:
            raise RevisionError(f"--stack {name!r}: {problem}")


def compare(
    project_dir: Path,
    base_ref: str,
    *,
    stacks: list[str] | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Render ``base_ref`` and the working tree; one ``StackDiff`` per stack found in either.

    Raises ``RevisionError`` (a one-line reason) when the comparison cannot be made at all.
    """
    _check_names(stacks)
    count = workers or default_workers()
    report = progress or (lambda _label, _stack: None)
    base_label = f"base {base_ref}"
    with checkout(project_dir, base_ref) as base_dir:
        base = Revision.read(base_dir, base_label, stacks)
        head = Revision.read(project_dir, WORKING_TREE, stacks)
        missing = sorted(set(stacks or ()) - set(base.sources) - set(head.sources))
        if missing:
            raise RevisionError(f"no stack {missing[0]!r} at {base_label} or in the working tree")
        skip = _cannot_differ(project_dir, base_ref, base_dir, base, head)
        base_renders, head_renders = render_trees([base.job(skip), head.job()], count, report)
    names = sorted(set(base.sources) | set(head.sources))
    diffs = [_diff(s, base, head, base_renders, head_renders, once=s in skip) for s in names]
    return Comparison(base_ref, WORKING_TREE, diffs, tuple(sorted(skip)))


def _cannot_differ(
    project_dir: Path, base_ref: str, base_dir: Path, base: Revision, head: Revision
) -> frozenset[str]:
    """Stacks readable at both revisions whose render cannot differ: nothing but stack files,
    defaults files and documentation changed (``stacks.offline.changed``), and not their
    stack file or defaults file. Empty when the code changed: then every stack renders."""
    from stacks.offline.changed import candidates, changed_paths  # changed uses compare

    both = sorted(base.readable() & head.readable())
    if not both:
        return frozenset()
    chosen, code_changed = candidates(project_dir, base_dir, changed_paths(project_dir, base_ref), both)
    return frozenset() if code_changed else frozenset(both) - set(chosen)


def _diff(
    stack: str,
    base: Revision,
    head: Revision,
    base_renders: dict[str, StackRender],
    head_renders: dict[str, StackRender],
    *,
    once: bool = False,
) -> StackDiff:
    """One stack's diff; a failure of the comparison itself is that stack's error, not a crash.
    ``once``: the stack cannot differ and was rendered in the working tree only."""
    try:
        old_source, new_source = base.sources.get(stack), head.sources.get(stack)
        old_config = old_source.config if old_source else None
        new_config = new_source.config if new_source else None
        project = (new_source or old_source or StackSource("")).project
        base_quota: Quota = {} if old_config is None else stack_quota(old_config, project)
        head_quota = base_quota if new_config is None else stack_quota(new_config, project)
        return diff_stack(
            stack,
            head.render(stack, head_renders) if once else base.render(stack, base_renders),
            head.render(stack, head_renders),
            base_label=base.label,
            head_label=head.label,
            base_quota=base_quota,
            head_quota=head_quota,
            config_changes=_config_changes(old_config, new_config, f"{project}:quota"),
        )
    except Exception as error:  # a bug here must not hide the other stacks, nor print a value
        return StackDiff(stack, error=f"the comparison failed ({type(error).__name__})")


def _config_changes(old: dict[str, object] | None, new: dict[str, object] | None, quota: str) -> list[str]:
    """Keys whose value changed (the quota left out), when the stack exists at both revisions."""
    if old is None or new is None:
        return []
    return sorted(key for key in set(old) | set(new) if key != quota and old.get(key) != new.get(key))


def error_line(stack: str, error: str) -> str:
    """A stack's error as one line, for stderr (the reports show it in full)."""
    return f"stack {stack!r}: {one_line(error)}"


class ProgressPrinter:
    """A one-line progress bar on a terminal; plain lines elsewhere (CI logs)."""

    def __init__(self, total: int = 0, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.tty = stream.isatty() and not os.environ.get("CI")

    def __call__(self, label: str, stack: str) -> None:
        self.done += 1
        write = self.stream.write
        if self.tty:
            width = 30
            filled = width * self.done // max(1, self.total)
            write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label}: {stack}\x1b[K"
            )
            if self.done >= self.total:
                write("\n")
        else:
            write(f"rendered {stack} at {label} ({self.done}/{self.total})\n")
