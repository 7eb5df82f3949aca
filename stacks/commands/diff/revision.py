"""The parts of rendering a revision's stacks: a checkout of a git revision (a temporary
worktree, when a folder of its inputs will not do), the files of such a folder, and the worker
processes that render a chunk of stacks each with that revision's own code (shared out by
``stacks.commands.diff.pool``).

Everything this starts is undone on the way out, also when ``Interrupted`` (see
``stacks.commands.interrupt``) stops it: worker processes are terminated, the worktree is
removed and pruned, temporary folders are deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from stacks.commands.interrupt import shielded
from stacks.loading.stack_list import RENDER_MARKER

WORKING_TREE = "working tree"
"""The label of the working tree's renders and errors."""
ERROR_SUFFIX = ".error"
"""``<stack>.error`` next to the renders: why a stack did not render (written by ``many``)."""
TEMP_PREFIX = "hikube-gpu-"
"""Prefix of every temporary folder the diff creates (worktree and renders)."""
STOP_SECONDS = 5
"""How long a worker gets to exit after SIGTERM before it is killed."""

Progress = Callable[[str, str], None]
"""Called with (revision label, stack) each time a stack is rendered; a ``total`` attribute,
if it has one, is set to the number of renders first."""


@runtime_checkable
class CountingProgress(Protocol):
    """A progress reporter that wants to know how many renders to expect."""

    total: int

    def __call__(self, label: str, stack: str) -> None: ...


class RevisionError(Exception):
    """A revision cannot be checked out or its code cannot render (a one-line reason)."""


@dataclass(frozen=True)
class StackRender:
    """One stack at one revision: its files (relative path → text), or why it did not render."""

    files: dict[str, str]
    error: str | None = None


@dataclass(frozen=True)
class Job:
    """The stacks of one tree to render with that tree's code (or with the code in
    ``code_dir``, when the tree holds only the stacks' input files)."""

    directory: Path
    label: str
    stacks: list[str]
    code_dir: Path | None = None
    asks: bool = False
    """Its workers ask for more once their chunk is done (its code knows ``MORE_ENV``)."""


Deliver = Callable[[int, str, StackRender, "dict[str, Any] | None"], None]
"""Called with (job index, stack, its render, what the render read or None) once per stack,
from the threads that watch the workers (one at a time)."""
STREAM_ENV = "HIKUBE_GPU_RENDER_STREAM"
"""Asks a worker to print its renders instead of writing them (``stacks.commands.diff.many``)."""
RECORD_ENV = "HIKUBE_GPU_RENDER_RECORD"
"""Asks a worker to record what each render reads (``stacks.commands.diff.recorder``)."""
MORE_ENV = "HIKUBE_GPU_RENDER_MORE"
"""Asks a worker to ask for more stacks once it rendered its command line's (``many``)."""
MORE = "more"
"""The line a worker prints to ask for more stacks (``MORE_ENV``)."""
More = Callable[[], "list[str]"]
"""Called when a worker asks for more stacks: the next ones it renders (none: it ends)."""


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"git {args[0]} failed"])[-1]
        raise RevisionError(last)
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
    tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}base-"))
    worktree = tmp / "tree"
    try:
        try:
            _git(top, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        except RevisionError as error:
            raise RevisionError(f"base {ref!r} cannot be checked out: {error}") from None
        yield worktree / relative
    finally:
        with shielded():
            _remove_worktree(top, worktree)


def _target(folder: Path, name: str, made: set[Path]) -> Path:
    """Where ``name`` (relative to ``folder``) goes, its folder made; a path that would leave
    ``folder`` is refused, as git refuses to check one out."""
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise RevisionError(f"{name!r} is not a path inside the project")
    target = folder / relative
    if target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        made.add(target.parent)
    return target


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (paths relative to ``folder``) under ``folder``."""
    made: set[Path] = set()
    for name, data in files.items():
        _target(folder, name, made).write_bytes(data)


def link_files(folder: Path, source: Path, names: list[str]) -> list[str]:
    """Hard-link each file of ``names`` (relative to both) from ``source`` into ``folder``; the
    names not linked (all from the first that cannot be: another file system, a folder that
    refuses links). A link is a directory entry, not a copy: 5,000 links took 0.1 s where
    copying 5,000 files took 0.4 to 2.2 s on the benchmark's machine."""
    made: set[Path] = set()
    for done, name in enumerate(names):
        original, target = source / name, _target(folder, name, made)
        try:
            if not stat.S_ISREG(os.lstat(original).st_mode):
                raise OSError(f"{name}: not a regular file")
            os.link(original, target, follow_symlinks=False)
        except OSError:
            return names[done:]
    return []


def _remove_worktree(top: Path, worktree: Path) -> None:
    """Remove the worktree (whatever state it is in), its folder, and git's record of it: the
    folder is deleted, then git forgets worktrees whose folder is gone (``git worktree remove``
    would first compare every file with its index: a second per 1,000 files)."""
    remove_tree(worktree.parent)
    if worktree.exists():  # something could not be deleted: let git try
        with contextlib.suppress(RevisionError):
            _git(top, "worktree", "remove", "--force", str(worktree))
        remove_tree(worktree.parent)
    with contextlib.suppress(RevisionError):
        _git(top, "worktree", "prune")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class Workers:
    """The worker processes of one diff: started one by one, stopped all at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: list[subprocess.Popen[str]] = []
        self._stopping = False

    def start(
        self, command: list[str], cwd: Path, stderr: Path, extra: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(extra or {})}
        with self._lock:
            if self._stopping:
                raise RevisionError("stopped")
            with stderr.open("w", encoding="utf-8") as err:
                process = subprocess.Popen(
                    command,
                    cwd=cwd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    env=env,
                )
            assert process.stdout is not None
            _widen(process.stdout.fileno())
            self._processes.append(process)
            return process

    def stop(self) -> None:
        """Terminate every worker still running (SIGTERM, then SIGKILL) and reap it."""
        with self._lock:
            self._stopping = True
            processes = list(self._processes)
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Timeout)\w*)(?::|$)")


def crash_reason(stderr: str) -> str:
    """The exception type of a worker's traceback, never its message (it may quote a secret)."""
    for line in reversed(stderr.splitlines()):
        match = _EXCEPTION_LINE.match(line)
        if match:
            return match.group(1)
    return "no exception was printed"


def _environment(job: Job, record: str | None, more: bool) -> dict[str, str]:
    extra = {STREAM_ENV: "1"}
    if more:
        extra[MORE_ENV] = "1"
    if record:
        extra[RECORD_ENV] = record
    if job.code_dir is not None:  # the tree holds the inputs; the code is imported from here
        extra["PYTHONPATH"] = os.pathsep.join(filter(None, [str(job.code_dir), os.environ.get("PYTHONPATH")]))
    return extra


def _streamed(line: str) -> tuple[str, StackRender, dict[str, Any] | None]:
    entry = json.loads(line.removeprefix("render "))
    error, files = entry.get("error"), entry.get("files") or {}
    return (
        str(entry["stack"]),
        StackRender(dict(files), None if error is None else str(error)),
        entry.get("record"),
    )


def _answer(process: subprocess.Popen[str], stacks: list[str]) -> None:
    """Hand a worker that asked for more ``stacks`` (none: close its input, it ends)."""
    assert process.stdin is not None
    with contextlib.suppress(OSError):  # it is gone: its end says why
        process.stdin.write(json.dumps(stacks) + "\n")
        process.stdin.flush()
        if not stacks:
            process.stdin.close()


def run_worker(
    job: Job,
    chunk: list[str],
    out: Path,
    *,
    progress: Progress,
    workers: Workers,
    deliver: Deliver,
    index: int,
    record: str | None,
    more: More | None = None,
) -> None:
    """Render ``chunk``, then what ``more`` hands over each time the worker asks (a worker
    that predates ``MORE_ENV`` never asks), delivering each stack's render (a crash's reason
    for those it left)."""
    command = [sys.executable, "-m", "stacks", "render-many", "--out", str(out), *chunk]
    log = out.parent / f"{out.name}-{chunk[0]}.stderr"
    process = workers.start(command, job.directory, log, _environment(job, record, more is not None))
    assert process.stdout is not None
    assert process.stdin is not None
    chunk = list(chunk)
    done, on_disk = set(), []
    with process.stdout, process.stdin:
        for line in process.stdout:
            if line.startswith("render "):
                stack, render, seen = _streamed(line)
                done.add(stack)
                deliver(index, stack, render, seen)
            elif line.startswith("done "):  # a worker that predates the stream: files in ``out``
                stack = line.removeprefix("done ").strip()
                done.add(stack)
                on_disk.append(stack)
            elif line == f"{MORE}\n" and more is not None:
                handed = more()
                chunk += handed
                _answer(process, handed)
                continue
            else:
                continue
            progress(job.label, stack)
    code = process.wait()
    for stack, render in _collect(out, on_disk, {}).items():
        deliver(index, stack, render, None)
    if code == 0:
        for stack in (stack for stack in chunk if stack not in done):  # never a silent gap
            deliver(
                index, stack, StackRender({}, f"the renderer at {job.label} ended without rendering it"), None
            )
        return
    stderr = log.read_text(encoding="utf-8", errors="replace")
    if "invalid choice: 'render-many'" in stderr:
        raise RevisionError(f"{job.label}: its code predates `hikube-gpu diff`; choose a newer base")
    left = [stack for stack in chunk if stack not in done]
    if not left:
        return
    reason = crash_reason(stderr) if code > 0 else f"killed by {signal.Signals(-code).name}"
    crashed = f"the renderer crashed at {job.label} while rendering it ({reason}, exit {code})"
    after = f"not rendered at {job.label}: the renderer crashed on stack {left[0]!r} before it"
    for position, stack in enumerate(left):
        deliver(index, stack, StackRender({}, crashed if position == 0 else after), None)


def _chunks(items: list[str], count: int) -> list[list[str]]:
    return [chunk for chunk in (items[i::count] for i in range(count)) if chunk]


def _collect(out: Path, stacks: list[str], crashed: dict[str, str]) -> dict[str, StackRender]:
    result = {}
    for stack in stacks:
        error_file = out / f"{stack}{ERROR_SUFFIX}"
        if stack in crashed:
            result[stack] = StackRender({}, crashed[stack])
            continue
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


SIGNAL_POLL_SECONDS = 0.2
"""How often the main thread wakes while it waits for the workers. A signal the kernel hands
to a worker thread does not interrupt the main thread's lock wait, and Python runs signal
handlers only in the main thread: without a timeout, SIGINT could wait for the slowest
worker before cleanup starts."""


def wait_for(future: Future[None]) -> None:
    """``future.result()``, waking every ``SIGNAL_POLL_SECONDS`` so signal handlers can run."""
    while True:
        try:
            return future.result(timeout=SIGNAL_POLL_SECONDS)
        except TimeoutError:
            continue


def plan_chunks(jobs: list[Job], workers: int) -> list[tuple[int, list[str]]]:
    """(job index, stacks) per worker process: the renders of all jobs shared evenly among
    ``workers`` processes whatever job they belong to (a process renders one job's stacks), the
    largest chunks first."""
    total = sum(len(job.stacks) for job in jobs)
    if total == 0:
        return []
    per = -(-total // max(1, workers))  # ceil
    chunks = [
        (index, chunk)
        for index, job in enumerate(jobs)
        for chunk in _chunks(job.stacks, -(-len(job.stacks) // per))
    ]
    return sorted(chunks, key=lambda item: -len(item[1]))


PIPE_BYTES = 1 << 20
"""A worker's stdout pipe holds this much (Linux's default limit, ``/proc/sys/fs/pipe-max-size``):
about 60 renders, so a worker goes on rendering while the orchestrator is busy or descheduled,
instead of waiting on a 64 KiB pipe (4 renders)."""


def _widen(fd: int) -> None:
    """Make the pipe ``fd`` hold ``PIPE_BYTES`` where the system allows it (Linux); else as is."""
    with contextlib.suppress(AttributeError, OSError):
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


HANDOVER = 256
"""Renders waiting for ``deliver`` at most: beyond, the threads reading the workers wait."""


class Handover:
    """Renders go from the threads that read the workers to one thread that delivers them, so
    that a slow ``deliver`` (a diff) does not stop the reading, nor the workers behind it."""

    def __init__(self, deliver: Deliver) -> None:
        self._queue: queue.Queue[tuple[int, str, StackRender, dict[str, Any] | None] | None] = queue.Queue(
            HANDOVER
        )
        self._failure: BaseException | None = None
        self._deliver = deliver
        self._thread = threading.Thread(target=self._run, name="deliver", daemon=True)
        self._thread.start()

    def give(self, index: int, stack: str, render: StackRender, seen: dict[str, Any] | None) -> None:
        """Queue one render; once ``deliver`` has failed, raise its failure (the run stops)."""
        if self._failure is not None:
            raise self._failure
        self._queue.put((index, stack, render, seen))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._failure is None:
                try:
                    self._deliver(*item)
                except BaseException as error:  # handed to the caller; the queue keeps draining
                    self._failure = error

    def finish(self, *, wait: bool = True) -> None:
        """Deliver what is left (``wait``: and raise what ``deliver`` raised)."""
        if self._thread.is_alive():
            self._queue.put(None)
            if wait:
                while self._thread.is_alive():
                    self._thread.join(SIGNAL_POLL_SECONDS)
        if wait and self._failure is not None:
            raise self._failure
