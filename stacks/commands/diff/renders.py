"""Where the diff's renders come from: the render cache, or worker processes, each revision's
with that revision's code; and what goes back into the cache.

Base renders are made where they cost least and still come out as a checkout would make them:
in a temporary folder holding the base's stack and defaults files that render and, when the code
changed (``stacks.commands.diff.affected``), the base's code; a file the working tree holds as
the base does is a hard link to it, any other is written from ``git cat-file`` (a checkout
would write every file of the revision, with its index). When the code did not change, the
working tree's code renders them. The worker records what each render read; a render that read
anything the folder does not hold as the base does is made again in a checkout.

A render goes into the cache when its worker recorded what it read and each file it read holds
what the revision holds (``stacks.commands.diff.render_cache``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from stacks.commands.diff.affected import PROJECT_FILE, Change, is_inert
from stacks.commands.diff.git_tree import REGULAR
from stacks.commands.diff.pool import RenderPool
from stacks.commands.diff.render_cache import RenderCache, key
from stacks.commands.diff.revision import (
    MORE_ENV,
    TEMP_PREFIX,
    WORKING_TREE,
    Job,
    Progress,
    StackRender,
    checkout,
    link_files,
    write_files,
)
from stacks.commands.preview.runner import DEFAULT_ENGINE

BASE, HEAD = 0, 1
FLUSH_EVERY = 500
"""Renders the cache holds in memory before they are written (a fleet's diff stores thousands)."""

Pair = Callable[[str, "StackRender | None", "StackRender | None"], None]
"""Called once per stack with its raw renders (base, head; None: nothing to render there)."""


@dataclass
class Side:
    """What one revision needs rendered, and how to judge what its workers read."""

    index: int
    stacks: list[str]
    """Stacks to render at this revision (readable, not found in the cache)."""
    stack_files: dict[str, str]
    code: str
    state: Callable[[str], str]
    oid: Callable[[str], str | None]
    code_files: frozenset[str]
    keys: dict[str, str] = field(default_factory=dict)


class _Roots(NamedTuple):
    """Where a job's code is, its side, and whether what each render read is checked (a folder
    of inputs); the folders a read may be under (its own, its code's), as text, and the code's
    files (worked out once: every render of the job is judged with them)."""

    code: Path
    side: Side
    checked: bool
    under: tuple[str, ...]
    code_files: frozenset[str]


@dataclass
class Counts:
    rendered: int = 0
    """Renders the workers made."""
    cached: int = 0
    """Renders found in the cache."""
    stored: int = 0
    """Renders put into the cache."""


def _materialize(
    change: Change, stacks: list[str], defaults: dict[str, str | None], *, code: bool, unread: bool = False
) -> Path:
    """A folder with the base's Pulumi.yaml, the stack files of ``stacks`` and the defaults
    files they name, and with ``code`` the base's code (``Change.base_code_files``), each as the
    base holds it: a hard link to the working tree's file when that holds what the base does,
    else written from ``git cat-file``. No worktree, no index: git's checkout of 1,600 files took
    0.3 to 1.4 s on the benchmark's machine. A render reads these files, never writes them (a
    render that opens one for writing is ``untrusted``, ``stacks.commands.diff.recorder``).
    With ``unread`` (stacks whose defaults file is not known: their stack file was not read,
    ``Change.same_config``), every file of the base but documentation and tests (``is_inert``)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}inputs-"))
    try:
        wanted = [PROJECT_FILE, *(sorted(change.base_code_files) if code else ())]
        if unread:
            entries = change.tree.entries.items()
            wanted += sorted(path for path, entry in entries if entry.mode in REGULAR and not is_inert(path))
        wanted += [change.base_stacks[s] for s in stacks]
        wanted += [Path(name).as_posix() for s in stacks if (name := defaults.get(s)) is not None]
        wanted = list(dict.fromkeys(wanted))
        same = [path for path in wanted if change.unchanged(path)]
        left = set(link_files(folder, change.project_dir, same))
        blobs = change.tree.read_blobs([path for path in wanted if path in left or path not in same])
        write_files(folder, {path: data for path, data in blobs.items() if data is not None})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


class Producer:
    """Renders the stacks of a change at both revisions, from the cache or in workers.

    The working tree's renders start first (``start``), the base's once its stack files are read
    (``add_base``): the base's set-up (reading, checking out) runs beside the working tree's
    renders. Renders are paired once the caller knows which stacks each revision can render
    (``pair``); ``finish`` waits for all. Use it as a context manager: leaving it stops the
    workers and removes what it made."""

    def __init__(
        self,
        change: Change,
        *,
        cache: RenderCache | None,
        workers: int,
        progress: Progress,
        base_dir: Path | None = None,
    ) -> None:
        self.change = change
        self.cache = cache
        self.workers = workers
        self.progress = progress
        self.base_dir = base_dir
        self.counts = Counts()
        self.base_directories: list[Path] = []
        """Where base renders are made (appended to before they are made)."""
        self._lock = threading.Lock()
        self._pending: dict[str, list[StackRender | None]] = {}
        self._needed: dict[str, tuple[bool, bool]] | None = None
        self._pair: Pair = lambda _s, _b, _h: None
        self._roots: dict[int, _Roots] = {}
        self._verdicts: dict[tuple[int, tuple[str, ...], str, str], tuple[str, bool, bool]] = {}
        self._retry: list[str] = []
        self._base: Side | None = None
        self._reserved = 0
        self._pool: RenderPool | None = None
        self._cleanup = contextlib.ExitStack()

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cleanup.close()

    def _side(self, index: int, stacks: list[str]) -> Side:
        change = self.change
        if index == BASE:
            return Side(
                BASE,
                stacks,
                change.base_stacks,
                change.base_code if self.cache else "",
                change.base_state,
                change.base_oid,
                change.base_code_files,
            )
        return Side(
            HEAD,
            stacks,
            change.head_stacks,
            change.head_code if self.cache else "",
            change.head_state,
            change.head_oid,
            change.head_code_files,
        )

    def run(
        self, base: list[str], head: list[str], pair: Pair, base_defaults: dict[str, str | None]
    ) -> Counts:
        """Render ``base`` at the base and ``head`` in the working tree, every stack of both
        lists readable; ``pair`` gets each stack's two renders as soon as both exist."""
        with self:
            self.start(head, base)
            self.add_base(base, base_defaults, self.base_directories)
            self.pair(pair, base, head)
            return self.finish()

    def start(self, head: list[str], base: list[str]) -> None:
        """Render ``head`` in the working tree now (those the cache does not have); ``base``:
        the stacks the base will render, those ``add_base`` finds readable."""
        sides = self._side(BASE, list(base)), self._side(HEAD, list(head))
        for side in sides:
            side.stacks = self._from_cache(side)
        self._base = sides[BASE]
        self._reserved = len(sides[BASE].stacks)
        record = self.change.tree.algorithm
        self._pool = self._cleanup.enter_context(
            RenderPool(self.workers, self.progress, self._delivered, record)
        )
        self._pool.reserve(self._reserved)
        job = Job(self.change.project_dir, WORKING_TREE, sides[HEAD].stacks, asks=True)
        self._add(job, sides[HEAD])

    def add_base(
        self,
        readable: list[str],
        defaults: dict[str, str | None],
        directories: list[Path],
        *,
        unread: bool = False,
    ) -> None:
        """Render at the base the stacks of ``start``'s ``base`` that are ``readable`` (their
        defaults files: ``defaults``; ``unread``: some of them were not read, their defaults files
        are not known); each folder base renders are made in goes to ``directories`` first. The
        base's folder is made here, while the working tree renders."""
        assert self._base is not None, "start first"
        assert self._pool is not None, "start first"
        self.base_directories = directories
        wanted = set(readable)
        side = self._base
        side.stacks = [stack for stack in side.stacks if stack in wanted]
        reserved, self._reserved = self._reserved, 0
        if not side.stacks:
            self._pool.add(Job(self.change.project_dir, self.change.label, []), reserved=reserved)
            return
        job, checked = self._cleanup.enter_context(self._base_job(side, defaults, unread))
        self._add(job, side, reserved, checked=checked)

    def _add(self, job: Job, side: Side, reserved: int = 0, *, checked: bool = False) -> None:
        """Render ``job`` (``checked``: a render whose reads do not match the revision is made
        again in a checkout)."""
        assert self._pool is not None
        index = len(self._roots)
        project = Path(os.path.realpath(job.directory))
        code = Path(os.path.realpath(job.code_dir or job.directory))
        apart = code != project  # the working tree's code renders the base's inputs
        self._roots[index] = _Roots(
            code,
            side,
            checked,
            (str(project), str(code)) if apart else (str(project),),
            self.change.head_code_files if apart else side.code_files,
        )
        self.counts.rendered += len(job.stacks)
        added = self._pool.add(job, reserved=reserved)
        assert added == index, "the producer adds every job of its pool"

    def pair(self, pair: Pair, base: list[str], head: list[str]) -> None:
        """Hand ``pair`` each stack of ``base`` or ``head`` (the stacks each revision can
        render) with its renders, as soon as they exist; the renders of other stacks are
        dropped (a stack file that cannot be read at either revision)."""
        in_base, in_head = set(base), set(head)
        with self._lock:
            self._pair = pair
            self._needed = {stack: (stack in in_base, stack in in_head) for stack in [*base, *head]}
            ready = [self._take(stack) for stack in list(self._pending)]
        for item in ready:
            if item is not None:
                pair(*item)

    def finish(self) -> Counts:
        """Wait for every render (a render the base's inputs folder could not make as the base
        does is made again in a checkout); store what goes into the cache."""
        assert self._pool is not None, "start first"
        self._pool.wait()
        if self._retry:  # read what the inputs folder did not hold as the base does: check out
            retry, self._retry = self._retry, []
            with (
                checkout(self.change.project_dir, self.change.tree.commit) as directory,
                RenderPool(self.workers, self.progress, self._delivered, self.change.tree.algorithm) as pool,
            ):
                self._pool = pool
                self.base_directories.append(directory)
                self._roots = {}
                asks = _base_asks(self.change)
                self._add(Job(directory, self.change.label, retry, asks=asks), self._side(BASE, retry))
                pool.wait()
        if self.cache is not None:
            self.counts.stored += self.cache.flush()
        return self.counts

    # --- the cache ------------------------------------------------------------------------------

    def _key(self, side: Side, stack: str) -> str | None:
        path = side.stack_files.get(stack)
        oid = side.oid(path) if path is not None else None
        if self.cache is None or oid is None:
            return None
        entry = key(code=side.code, engine=DEFAULT_ENGINE, stack=stack, stack_file=path or "", stack_oid=oid)
        side.keys[stack] = entry
        return entry

    def _from_cache(self, side: Side) -> list[str]:
        """Pair the renders the cache has; the stacks left to render."""
        left = []
        for stack in side.stacks:
            entry = self._key(side, stack)
            files = self.cache.get(entry, side.state) if self.cache is not None and entry else None
            if files is None:
                left.append(stack)
                continue
            self.counts.cached += 1
            self._give(side.index, stack, StackRender(files))
        return left

    # --- the workers ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _base_job(
        self, side: Side, defaults: dict[str, str | None], unread: bool
    ) -> Iterator[tuple[Job, bool]]:
        """Where the base renders, and whether what each render read must be checked: the whole
        checkout ``compare`` made (no), else a folder of its inputs, and of its code when the
        code changed (yes: a render that read anything the folder does not hold as the base
        does is made again in a checkout)."""
        label, asks = self.change.label, _base_asks(self.change)
        if self.base_dir is not None:  # the base is checked out whole already (Change.exact)
            self.base_directories.append(self.base_dir)
            yield Job(self.base_dir, label, side.stacks, asks=asks), False
            return
        code = self.change.code_changed
        inputs = _materialize(self.change, side.stacks, defaults, code=code, unread=unread)
        self.base_directories.append(inputs)
        try:
            code_dir = None if code else self.change.project_dir.absolute()
            yield Job(inputs, label, side.stacks, code_dir=code_dir, asks=asks), True
        finally:
            shutil.rmtree(inputs, ignore_errors=True)

    def _delivered(self, index: int, stack: str, render: StackRender, seen: dict[str, Any] | None) -> None:
        roots = self._roots[index]
        side, checked = roots.side, roots.checked
        reads = self._reads(stack, seen, roots)
        if checked and reads is None:
            self._retry.append(stack)  # rendered from the inputs folder: not as the base renders it
            self.counts.rendered -= 1
            return
        if self.cache is not None and render.error is None and reads is not None and stack in side.keys:
            self.cache.put(side.keys[stack], render.files, reads)
            if self.cache.waiting >= FLUSH_EVERY:  # written while workers render, not after
                self.counts.stored += self.cache.flush(used=False)
        self._give(side.index, stack, render)

    def _reads(self, stack: str, seen: dict[str, Any] | None, where: _Roots) -> dict[str, str] | None:
        """The files ``stack``'s render read besides its code and its stack file, with what they
        held, when each held what the revision holds; None when the render cannot be trusted
        to be the revision's (for the cache; for the inputs folder, a render to make again)."""
        if not seen or seen.get("untrusted") or not isinstance(seen.get("read"), dict):
            return None
        side, roots = where.side, where.under
        for module in seen.get("modules") or []:
            relative = _under(str(module), where.code)
            if relative is None or relative not in where.code_files:
                return None
        reads: dict[str, str] = {}
        for path, held in seen["read"].items():
            verdict = self._verdicts.get((side.index, roots, path, held))
            if verdict is None:
                verdict = self._verdict(side, roots, str(path), held)
                self._verdicts[(side.index, roots, path, held)] = verdict
            relative, trusted, in_code = verdict
            if not trusted:
                return None  # changed while it rendered, or not what the revision holds
            if in_code or relative == side.stack_files.get(stack):
                continue  # in the key
            reads[relative] = held
        return reads

    def _verdict(self, side: Side, roots: tuple[str, ...], path: str, held: str) -> tuple[str, bool, bool]:
        """A file a render read, relative to the project; whether it held what the revision
        holds; whether it is code (renders read the same few files: each is judged once)."""
        relative = next((r for root in roots if (r := _under(path, root)) is not None), None)
        if relative is None:
            return "", False, False
        return relative, held == side.state(relative), relative in side.code_files

    def _give(self, index: int, stack: str, render: StackRender) -> None:
        with self._lock:
            if self._needed is not None and not self._needed.get(stack, (False, False))[index]:
                return  # a render no comparison uses (its stack file cannot be read there)
            self._pending.setdefault(stack, [None, None])[index] = render
            item = self._take(stack)
        if item is not None:
            self._pair(*item)

    def _take(self, stack: str) -> tuple[str, StackRender | None, StackRender | None] | None:
        """The stack's pair once every render it needs is here (under the lock); a stack no
        revision compares is dropped."""
        if self._needed is None:
            return None  # which renders a stack needs is not known yet
        need = self._needed.get(stack)
        pending = self._pending[stack]
        if need is None:
            del self._pending[stack]
            return None
        if any(got is None and wanted for got, wanted in zip(pending, need, strict=True)):
            return None
        del self._pending[stack]
        return stack, pending[BASE] if need[BASE] else None, pending[HEAD] if need[HEAD] else None

    def unpaired(self) -> list[str]:
        return sorted(stack for stack in self._pending if self._needed is None or stack in self._needed)


WORKER_MODULE = "stacks/commands/diff/many.py"
"""The worker's module in a revision's code (``render-many``)."""


def _base_asks(change: Change) -> bool:
    """Whether the base's workers ask for more (``revision.MORE_ENV``): the working tree's code
    renders the base when the code did not change; else the base's worker module must know it."""
    if not change.code_changed:
        return True
    data = change.tree.read_blobs([WORKER_MODULE]).get(WORKER_MODULE)
    return data is not None and MORE_ENV.encode() in data


def _under(path: str, root: Path | str) -> str | None:
    """``path`` relative to ``root`` with ``/`` separators, or None when it is not inside."""
    prefix = str(root) + os.sep
    if not path.startswith(prefix):
        return None
    return path[len(prefix) :].replace(os.sep, "/")
