"""Where the diff's renders come from: the render cache, or worker processes, each revision's
with that revision's code; and what goes back into the cache.

Base renders are made where they cost least and still come out as a checkout would make them:

- **the code did not change** (``stacks.commands.diff.affected``): the working tree's code renders the
  base's stack and defaults files, written into a small folder of inputs (a checkout would write
  every file of the revision). The worker records what each render read; a render that read
  anything the folder does not hold as the base does is made again in a checkout.
- **the code changed**: in a checkout of the base that leaves out the stack files nobody renders.

A render goes into the cache when its worker recorded what it read and each file it read holds
what the revision holds (``stacks.commands.diff.render_cache``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stacks.commands.diff.affected import EXAMPLES, PROJECT_FILE, Change
from stacks.commands.diff.render_cache import RenderCache, key
from stacks.commands.diff.revision import (
    TEMP_PREFIX,
    WORKING_TREE,
    Job,
    Progress,
    StackRender,
    checkout,
    render_trees,
)
from stacks.commands.preview.runner import DEFAULT_ENGINE

BASE, HEAD = 0, 1
FULL_CHECKOUT_SHARE = 0.5
"""Above this share of the base's stacks to render, the base is checked out whole."""

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


@dataclass
class Counts:
    rendered: int = 0
    """Renders the workers made."""
    cached: int = 0
    """Renders found in the cache."""
    stored: int = 0
    """Renders put into the cache."""


def _materialize(change: Change, stacks: list[str], defaults: dict[str, str | None]) -> Path:
    """A folder with the base's Pulumi.yaml, the stack files of ``stacks`` and the defaults
    files they name (as the base holds them), for the working tree's code to render."""
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}inputs-"))
    wanted = [PROJECT_FILE, *(change.base_stacks[s] for s in stacks)]
    wanted += [Path(name).as_posix() for s in stacks if (name := defaults.get(s)) is not None]
    blobs = change.tree.read_blobs(wanted)
    for path, data in blobs.items():
        if data is None:
            continue
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


class Producer:
    """Renders the stacks of a change at both revisions, from the cache or in workers."""

    def __init__(
        self,
        change: Change,
        *,
        cache: RenderCache | None,
        workers: int,
        progress: Progress,
        base_defaults: dict[str, str | None],
        base_directories: list[Path] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.change = change
        self.cache = cache
        self.workers = workers
        self.progress = progress
        self.base_defaults = base_defaults
        self.base_dir = base_dir
        self.counts = Counts()
        self.base_directories: list[Path] = base_directories if base_directories is not None else []
        """Where base renders are made (appended to before they are made)."""
        self._pending: dict[str, list[StackRender | None]] = {}
        self._needed: dict[str, list[bool]] = {}
        self._pair: Pair = lambda _s, _b, _h: None
        self._roots: dict[int, tuple[Path, Path, Side]] = {}
        self._retry: list[str] = []

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

    def run(self, base: list[str], head: list[str], pair: Pair) -> Counts:
        """Render ``base`` at the base and ``head`` in the working tree; ``pair`` gets each
        stack's two renders as soon as both exist."""
        self._pair = pair
        for stack in dict.fromkeys([*base, *head]):
            self._needed[stack] = [stack in base, stack in head]
            self._pending[stack] = [None, None]
        sides = [self._side(BASE, list(base)), self._side(HEAD, list(head))]
        for side in sides:
            side.stacks = self._from_cache(side)
        with self._base_job(sides[BASE]) as base_job:
            head_job = Job(self.change.project_dir, WORKING_TREE, sides[HEAD].stacks)
            self._render([(base_job, sides[BASE]), (head_job, sides[HEAD])])
        if self._retry:  # read what the inputs folder did not hold as the base does: check out
            retry, self._retry = self._retry, []
            with self._checkout(retry) as directory:
                self._render([(Job(directory, self.change.label, retry), self._side(BASE, retry))])
        if self.cache is not None:
            self.counts.stored = self.cache.flush()
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
    def _checkout(self, stacks: list[str]) -> Iterator[Path]:
        change = self.change
        whole = len(stacks) > FULL_CHECKOUT_SHARE * max(1, len(change.base_stacks))
        globs = [
            f"{change.base_layout.stack_dir}/Pulumi.*.yaml".removeprefix("/"),
            f"{EXAMPLES}/Pulumi.*.yaml",
        ]
        paths = [change.base_stacks[s] for s in stacks]
        with checkout(
            change.project_dir, change.tree.commit, leave_out=None if whole else globs, then=paths
        ) as d:
            self.base_directories.append(d)
            yield d

    @contextlib.contextmanager
    def _base_job(self, side: Side) -> Iterator[Job]:
        label = self.change.label
        if not side.stacks:
            yield Job(self.change.project_dir, label, [])
        elif self.base_dir is not None:  # the base is checked out whole already (Change.exact)
            self.base_directories.append(self.base_dir)
            yield Job(self.base_dir, label, side.stacks)
        elif self.change.code_changed:
            with self._checkout(side.stacks) as directory:
                yield Job(directory, label, side.stacks)
        else:
            inputs = _materialize(self.change, side.stacks, self.base_defaults)
            self.base_directories.append(inputs)
            try:
                yield Job(inputs, label, side.stacks, code_dir=self.change.project_dir.absolute())
            finally:
                shutil.rmtree(inputs, ignore_errors=True)

    def _render(self, jobs: list[tuple[Job, Side]]) -> None:
        record = self.change.tree.algorithm
        self._roots = {
            index: (
                Path(os.path.realpath(job.directory)),
                Path(os.path.realpath(job.code_dir or job.directory)),
                side,
            )
            for index, (job, side) in enumerate(jobs)
        }
        self.counts.rendered += sum(len(job.stacks) for job, _ in jobs)
        render_trees([job for job, _ in jobs], self.workers, self.progress, self._delivered, record)

    def _delivered(self, index: int, stack: str, render: StackRender, seen: dict[str, Any] | None) -> None:
        project_root, code_root, side = self._roots[index]
        reads = self._reads(side, stack, seen, project_root, code_root)
        if code_root != project_root and reads is None:
            self._retry.append(stack)  # rendered from the inputs folder: not as the base renders it
            self.counts.rendered -= 1
            return
        if self.cache is not None and render.error is None and reads is not None and stack in side.keys:
            self.cache.put(side.keys[stack], render.files, reads)
        self._give(side.index, stack, render)

    def _reads(
        self, side: Side, stack: str, seen: dict[str, Any] | None, project_root: Path, code_root: Path
    ) -> dict[str, str] | None:
        """The files ``stack``'s render read besides its code and its stack file, with what they
        held, when each held what the revision holds; None when the render cannot be trusted
        to be the revision's (for the cache; for the inputs folder, a render to make again)."""
        if not seen or seen.get("untrusted") or not isinstance(seen.get("read"), dict):
            return None
        code_files = self.change.head_code_files if code_root != project_root else side.code_files
        for module in seen.get("modules") or []:
            relative = _under(str(module), code_root)
            if relative is None or relative not in code_files:
                return None
        roots = [project_root] if code_root == project_root else [project_root, code_root]
        reads: dict[str, str] = {}
        for path, held in seen["read"].items():
            relative = next((r for root in roots if (r := _under(str(path), root)) is not None), None)
            if relative is None or held != side.state(relative):
                return None  # changed while it rendered, or not what the revision holds
            if relative == side.stack_files.get(stack) or relative in side.code_files:
                continue  # in the key
            reads[relative] = held
        return reads

    def _give(self, index: int, stack: str, render: StackRender) -> None:
        pending = self._pending[stack]
        pending[index] = render
        if all(got is not None or not need for got, need in zip(pending, self._needed[stack], strict=True)):
            del self._pending[stack]
            self._pair(stack, pending[BASE], pending[HEAD])

    def unpaired(self) -> list[str]:
        return sorted(self._pending)


def _under(path: str, root: Path) -> str | None:
    """``path`` relative to ``root`` with ``/`` separators, or None when it is not inside."""
    prefix = str(root) + os.sep
    if not path.startswith(prefix):
        return None
    return path[len(prefix) :].replace(os.sep, "/")
