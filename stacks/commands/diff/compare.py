"""``hikube-gpu diff``: compare the rendered objects of every stack at a base revision and in the
working tree, object by object.

A stack whose render cannot differ (same code, same stack file, same defaults file at both
revisions; ``stacks.commands.diff.affected``) is not rendered at all: it is reported unchanged. The
others are read here first (``stack_source``): a stack file that is not valid YAML or has no
``config:`` mapping is reported with a one-line reason and not rendered; the rest render at
both revisions, each with its revision's code, or come from the render cache
(``stacks.commands.diff.renders``). What the renderers say is shown with every secret of the stack
file hidden.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from stacks.commands.diff.affected import AffectedError, Change, find, stack_files
from stacks.commands.diff.objects import StackDiff, diff_stack
from stacks.commands.diff.render_cache import RenderCache
from stacks.commands.diff.renders import Producer
from stacks.commands.diff.revision import WORKING_TREE, Progress, RevisionError, StackRender, checkout
from stacks.commands.diff.risks import Quota, stack_quota
from stacks.commands.diff.stack_source import (
    Memo,
    StackSource,
    one_line,
    parse_stack,
    read_stack_file,
    redact,
)
from stacks.loading import customer_defaults
from stacks.loading.stack_list import StackNameError, discover, name_problem

__all__ = ["WORKING_TREE", "Comparison", "ProgressPrinter", "compare", "default_workers", "error_line"]


@dataclass(frozen=True)
class Comparison:
    base: str
    head: str
    stacks: list[StackDiff]
    skipped: tuple[str, ...] = ()
    """Stacks not rendered: the code, their stack file and their defaults file are the same at
    both revisions, so their render cannot differ (their ``StackDiff`` says so)."""
    code_changed: bool = False
    """Something besides stack files, defaults files and inert files changed: every stack was
    compared."""
    rendered: int = 0
    """Renders the workers made."""
    cached: int = 0
    """Renders that came from the render cache."""

    @property
    def has_changes(self) -> bool:
        return any(s.has_changes or s.error for s in self.stacks)

    @property
    def has_errors(self) -> bool:
        return any(s.error for s in self.stacks)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass
class Revision:
    """The stack files (merged with their defaults files) of the stacks to compare at one
    revision, read before anything renders."""

    label: str
    sources: dict[str, StackSource]
    defaults: dict[str, str | None]
    """The defaults file each stack file names (None: none)."""
    directories: list[Path] = field(default_factory=list)
    """Where its renders were made: their names are left out of renderers' messages."""

    @classmethod
    def on_disk(
        cls, directory: Path, label: str, files: dict[str, str], project: str, memo: Memo | None = None
    ) -> Revision:
        """The stacks whose files (stack → path in ``directory``) are given, read from disk."""
        sources = {s: read_stack_file(directory / path, project, memo) for s, path in files.items()}
        defaults = {s: _defaults_name(source) for s, source in sources.items()}
        once = _read_once()
        merged = {s: _with_defaults(directory, source, once) for s, source in sources.items()}
        return cls(label, merged, defaults, [directory])

    @classmethod
    def working_tree(cls, change: Change, stacks: list[str], memo: Memo | None = None) -> Revision:
        files = {s: change.head_stacks[s] for s in stacks if s in change.head_stacks}
        return cls.on_disk(change.project_dir, WORKING_TREE, files, change.project, memo)

    @classmethod
    def base(
        cls, change: Change, stacks: list[str], memo: Memo | None = None, head: Revision | None = None
    ) -> Revision:
        """The base's stacks, read from git. A stack whose stack file and defaults file the
        working tree holds unchanged (same path, same object id) and that ``head`` read without
        error is ``head``'s, as read there (same bytes, same project, same merge)."""
        paths = {s: change.base_stacks[s] for s in stacks if s in change.base_stacks}
        same = _same_at_base(change, head, paths) if head is not None else {}
        paths = {s: path for s, path in paths.items() if s not in same}
        blobs = change.tree.read_blobs(list(paths.values()))
        sources = {
            s: parse_stack(change.base_project, path.rpartition("/")[2], blobs[path], memo)
            for s, path in paths.items()
        }
        defaults = {s: _defaults_name(source) for s, source in sources.items()}
        wanted = [Path(name).as_posix() for name in defaults.values() if name is not None and _inside(name)]
        files = change.tree.read_blobs(wanted)

        def opener(path: Path) -> bytes:
            data = files.get(path.as_posix())
            if data is None:
                raise FileNotFoundError(path)
            return data

        at_base = customer_defaults.Files(  # no symbolic link at the base (Change.exact otherwise)
            opener, lambda path: change.tree.is_dir(path.as_posix()), lambda _project, _path: True
        )
        merged = {s: _with_defaults(Path(), source, at_base) for s, source in sources.items()}
        for stack, source in same.items():
            merged[stack], defaults[stack] = source, (head.defaults[stack] if head else None)
        return cls(change.label, dict(sorted(merged.items())), dict(sorted(defaults.items())))

    def readable(self) -> list[str]:
        return sorted(s for s, source in self.sources.items() if source.error is None)

    def render(self, stack: str, render: StackRender | None) -> StackRender | None:
        """The stack's render, an error for a file that cannot be read, or None (no such stack)."""
        source = self.sources.get(stack)
        if source is None:
            return None
        if source.error is not None:
            return StackRender({}, source.error)
        assert render is not None, f"no render of {stack} at {self.label}"
        if render.error is None:
            return render
        text = redact(render.error, source.secrets)
        for directory in self.directories:  # a temporary folder means nothing to the reader
            for where in {directory, directory.resolve()}:
                text = text.replace(f"{where}{os.sep}", "")
        return StackRender({}, text)


def _same_at_base(change: Change, head: Revision, paths: dict[str, str]) -> dict[str, StackSource]:
    """The stacks of ``paths`` (stack → its file at the base) whose reading ``head`` made holds
    at the base too: the same project, a stack file and a defaults file (when it names one) the
    working tree holds as the base does, and no error."""
    if change.base_project != change.project:
        return {}
    same = {}
    for stack, path in paths.items():
        source = head.sources.get(stack)
        if source is None or source.error is not None or change.head_stacks.get(stack) != path:
            continue
        files = [path] + ([name] if (name := head.defaults.get(stack)) is not None else [])
        if all(change.unchanged(Path(file).as_posix()) for file in files):
            same[stack] = source
    return same


def _inside(name: str) -> bool:
    path = Path(name)
    return bool(name.strip()) and not path.is_absolute() and ".." not in path.parts


def _defaults_name(source: StackSource) -> str | None:
    name = (source.config or {}).get(f"{source.project}:{customer_defaults.DEFAULTS_KEY}")
    return name if isinstance(name, str) and _inside(name) else None


def _read_once() -> customer_defaults.Files:
    """The disk, each file read and each folder judged once: a fleet's stacks share their
    customer's defaults file (a diff reads each revision's files once, never changes them)."""
    read: dict[Path, bytes] = {}
    folders: dict[Path, bool] = {}
    within: dict[tuple[Path, Path], bool] = {}

    def opener(path: Path) -> bytes:
        if path not in read:
            read[path] = customer_defaults.read_file(path)
        return read[path]

    def is_folder(path: Path) -> bool:
        if path not in folders:
            folders[path] = path.is_dir()
        return folders[path]

    def inside(project_dir: Path, path: Path) -> bool:
        if (project_dir, path) not in within:
            within[project_dir, path] = customer_defaults.DISK.inside(project_dir, path)
        return within[project_dir, path]

    return customer_defaults.Files(opener, is_folder, inside)


def _with_defaults(
    directory: Path, source: StackSource, files: customer_defaults.Files = customer_defaults.DISK
) -> StackSource:
    """The stack's config merged over its customer defaults file: the defaults file is one of
    the stack's inputs (its quota, the config keys a change names, the texts to hide). The merge
    shares the defaults' one parse: nothing here changes a config."""
    if source.config is None:
        return source
    try:
        merged = customer_defaults.apply(directory, source.project, source.config, files, shared=True)
    except customer_defaults.DefaultsError as error:
        return StackSource(source.project, error=one_line(str(error)))
    return source if merged is source.config else StackSource(source.project, merged, origin=source)


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
    cache: RenderCache | None = None,
    examples: bool = True,
    details: bool = True,
) -> Comparison:
    """One ``StackDiff`` per stack found at ``base_ref`` or in the working tree (with
    ``examples``, the examples too); renders come from ``cache`` when it has them and go into it.
    Without ``details``, only whether each stack changed (``diff_stack``).

    Raises ``RevisionError`` (a one-line reason) when the comparison cannot be made at all.
    """
    _check_names(stacks)
    try:
        change = find(project_dir, base_ref, examples=examples, only=stacks)
    except AffectedError as error:
        raise RevisionError(str(error)) from None
    options = _Options(stacks, workers, progress, cache, details)
    if not change.exact:
        return _compared(change, options)
    with checkout(project_dir, change.tree.commit) as base_dir:  # symbolic links: as a checkout says
        try:
            found = discover(base_dir, examples=examples)
        except StackNameError as error:
            raise RevisionError(f"{change.label}: {error}") from None
        change.base_stacks = stack_files(base_dir, change.base_layout, found)
        every = set(change.base_stacks) | set(change.head_stacks)
        change.affected = frozenset(every if stacks is None else every & set(stacks))
        return _compared(change, options, base_dir)


@dataclass(frozen=True)
class _Options:
    stacks: list[str] | None
    workers: int | None
    progress: Progress | None
    cache: RenderCache | None
    details: bool


def _compared(change: Change, options: _Options, base_dir: Path | None = None) -> Comparison:
    """``compare`` once the change is known (``base_dir``: the base checked out whole)."""
    stacks, details = options.stacks, options.details
    names = sorted(set(change.base_stacks) | set(change.head_stacks))
    missing = sorted(set(stacks or ()) - set(names))
    if missing:
        raise RevisionError(f"no stack {missing[0]!r} at {change.label} or in the working tree")
    if stacks is not None:
        names = [name for name in names if name in stacks]
    todo = sorted(change.affected)
    diffs: dict[str, StackDiff] = {}
    lock = threading.Lock()
    producer = Producer(
        change,
        cache=options.cache,
        workers=options.workers or default_workers(),
        progress=options.progress or (lambda _label, _stack: None),
        base_dir=base_dir,
    )
    with producer:
        # the working tree's renders start now; the files are read meanwhile (a stack file that
        # cannot be read renders to nothing that is shown: its reason is)
        producer.start(
            [s for s in todo if s in change.head_stacks], [s for s in todo if s in change.base_stacks]
        )
        same = change.same_config(todo) if base_dir is None else set()
        eager = [s for s in todo if s not in same]
        memo: Memo = {}  # a stack file that is the same at both revisions is parsed once
        head = Revision.working_tree(change, eager, memo)
        if base_dir is None:
            base = Revision.base(change, eager, memo, head)
        else:
            files = {s: change.base_stacks[s] for s in eager if s in change.base_stacks}
            base = Revision.on_disk(base_dir, change.label, files, change.base_project, memo)
        del memo
        unread = sorted(same)
        reading = threading.Lock()

        def pair(stack: str, old: StackRender | None, new: StackRender | None) -> None:
            if stack in same and not (_rendered(old) and _rendered(new)):
                with reading:  # a render failed: its stack file says why, or hides its secrets
                    _read_same(change, stack, base, head)
            if stack in same and stack not in head.sources:
                # not read: its config is the same at both revisions (no quota or key changed)
                diff = _diff(stack, base, head, old, new, details=details)
            elif stack in same and head.sources[stack].error is not None:
                diff = StackDiff(stack, rendered=False)  # unreadable at both: as if not read
            else:
                old, new = base.render(stack, old), head.render(stack, new)
                diff = _diff(stack, base, head, old, new, details=details)
            with lock:
                diffs[stack] = diff

        producer.pair(pair, base.readable() + unread, head.readable() + unread)
        producer.add_base(base.readable() + unread, base.defaults, base.directories, unread=bool(unread))
        counts = producer.finish()
    for stack in producer.unpaired():  # cannot happen: every render is delivered, or its failure
        diffs[stack] = StackDiff(stack, error="the comparison failed (a render is missing)")
    skipped = tuple(name for name in names if name not in change.affected)
    stacks_diffs = [diffs[name] if name in diffs else StackDiff(name, rendered=False) for name in names]
    return Comparison(
        change.base_ref,
        WORKING_TREE,
        stacks_diffs,
        skipped,
        change.code_changed,
        counts.rendered,
        counts.cached,
    )


def warm(
    project_dir: Path, cache: RenderCache, *, workers: int | None = None, progress: Progress | None = None
) -> Comparison:
    """Put the render of every stack and example of the working tree into ``cache`` (what
    ``main``'s workflow does, so that pull requests find their base's renders there)."""
    try:
        change = find(project_dir, "HEAD", examples=True)
    except AffectedError as error:
        raise RevisionError(str(error)) from None
    stacks = sorted(change.head_stacks)
    head = Revision.working_tree(change, stacks)
    producer = Producer(
        change,
        cache=cache,
        workers=workers or default_workers(),
        progress=progress or (lambda _label, _stack: None),
    )
    counts = producer.run([], head.readable(), lambda _stack, _old, _new: None, {})
    return Comparison("HEAD", WORKING_TREE, [], (), False, counts.rendered, counts.cached)


def _rendered(render: StackRender | None) -> bool:
    return render is not None and render.error is None


def _read_same(change: Change, stack: str, base: Revision, head: Revision) -> None:
    """Read a stack of ``Change.same_config`` (its stack file, its defaults file) into both
    revisions: the same reading at both, as ``Revision.base`` reuses the working tree's."""
    if stack in head.sources:
        return
    read = Revision.working_tree(change, [stack])
    head.sources[stack] = base.sources[stack] = read.sources[stack]
    head.defaults[stack] = base.defaults[stack] = read.defaults[stack]


def _diff(
    stack: str,
    base: Revision,
    head: Revision,
    old: StackRender | None,
    new: StackRender | None,
    *,
    details: bool = True,
) -> StackDiff:
    """One stack's diff; a failure of the comparison itself is that stack's error, not a crash.
    A stack read at neither revision (``Change.same_config``) has no quota or config change."""
    try:
        old_source, new_source = base.sources.get(stack), head.sources.get(stack)
        old_config = old_source.config if old_source else None
        new_config = new_source.config if new_source else None
        project = (new_source or old_source or StackSource("")).project
        base_quota: Quota = {} if old_config is None else stack_quota(old_config, project)
        head_quota = base_quota if new_config is None else stack_quota(new_config, project)
        return diff_stack(
            stack,
            old,
            new,
            base_label=base.label,
            head_label=head.label,
            base_quota=base_quota,
            head_quota=head_quota,
            config_changes=_config_changes(old_config, new_config, f"{project}:quota"),
            details=details,
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
