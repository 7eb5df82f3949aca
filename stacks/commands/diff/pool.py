"""The worker processes of one diff, shared by its jobs (a revision's stacks) as they arrive.

A diff starts the working tree's renders as soon as it knows which stacks to render, and adds the
base's once the base is ready (its stack files read, its code checked out): the base's set-up
then runs beside renders instead of before them. A worker renders a chunk of one job's stacks
(its command line), so the split is decided when a job is added:

- a job added with nothing else to render, or with others announced (``reserve``), shares the
  free workers with them by the renders each has (``revision.plan_chunks``'s rule);
- a job added while others render is split so that every worker ends at about the same time
  (``split``): a worker that is free now gets its chunk at once; the rest is left for the busy
  ones, and each takes its share when it ends, split again then by what the others still have
  to render (so an early estimate that was off is corrected by what was measured since).

A worker whose code knows ``HIKUBE_GPU_RENDER_MORE`` (``stacks.commands.diff.many``) asks for more
when its chunk is done: it gets its share of what was left of its own job (``_more``), without
paying a start (its imports: about ``START_RENDERS`` renders); what is left of another job goes
to a new worker once it ends (``_next``). A worker whose code predates it ends after its chunk.

The sizes decide only how long the diff takes, never what it says: every stack added is
rendered once, whatever the timing.
"""

from __future__ import annotations

import heapq
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from stacks.commands.diff.revision import (
    TEMP_PREFIX,
    CountingProgress,
    Deliver,
    Handover,
    Job,
    Progress,
    Workers,
    plan_chunks,
    remove_tree,
    run_worker,
    wait_for,
)
from stacks.commands.interrupt import shielded

START_RENDERS = 40
"""What starting a worker costs, in renders of one stack: its imports and first render took
0.45 s where a render takes 12 ms (the fleet benchmark's machine). Both scale with the machine's
speed, so their ratio is what a split needs."""


MARGIN = 0.05
"""The share of a late job's chunk that a free worker leaves to the busy ones' end-game split:
two workers' renders ran 3 to 4% apart in speed over a minute (the fleet benchmark), and what a
chunk started now renders cannot be taken back, while what is left is split by measured
progress."""


ASKING_MARGIN = 0.15
"""The share of its chunk a worker that asks for more (``Job.asks``) leaves to the end game,
whenever another job renders beside it: it takes that share back at no cost when it is ahead
(``_more``), and a worker of the other job takes part of it when it is behind (``_next``). The
two revisions of a fleet's diff rendered up to 9% apart in speed (their code differs)."""


def split(
    count: int, loads: list[int], start: int = START_RENDERS, starts: list[int] | None = None
) -> list[tuple[int, int]]:
    """Share ``count`` renders among workers that are busy for ``loads`` renders each (0: free):
    (worker, chunk size) pairs, the workers that are free first, such that every chunk (which
    pays ``start``, or the worker's own of ``starts``) ends as close as can be to the same
    time. A worker busy until after that time gets nothing."""
    if count <= 0 or not loads:
        return []
    costs = starts if starts is not None else [start] * len(loads)
    assert len(costs) == len(loads), "one start per worker"
    ready = sorted((load + costs[worker], worker) for worker, load in enumerate(loads))
    used, total = 1, ready[0][0]
    while used < len(ready) and (count + total) / used > ready[used][0]:
        total += ready[used][0]
        used += 1
    end = (count + total) / used
    shares = [(end - at, worker) for at, worker in ready[:used]]
    sizes = [int(share) for share, _ in shares]
    by_fraction = sorted(range(used), key=lambda i: (-(shares[i][0] - sizes[i]), i))
    for i in by_fraction[: count - sum(sizes)]:
        sizes[i] += 1
    return [(worker, size) for (_, worker), size in zip(shares, sizes, strict=True) if size > 0]


@dataclass
class _Chunk:
    size: int
    index: int = -1
    """Its job's."""
    delivered: int = 0
    started: bool = False
    ended: bool = False


class RenderPool:
    """At most ``workers`` worker processes at a time for the jobs ``add``\\ ed, while more may
    come. Each render goes to ``deliver`` with the index of its job (the order of ``add``).
    ``wait`` waits for every render; leaving the ``with`` block stops what still runs and
    removes the workers' temporary folder, also when a signal (``Interrupted``) stops it."""

    def __init__(self, workers: int, progress: Progress, deliver: Deliver, record: str | None = None) -> None:
        self.workers = max(1, workers)
        self._progress = progress
        self._record = record
        self._lock = threading.Lock()
        self._jobs: list[Job] = []
        self._chunks: list[_Chunk] = []
        self._futures: list[Future[None]] = []
        self._reserved = 0
        self._total = 0
        self._left: list[tuple[int, list[str]]] = []
        """Stacks of a job added late, for workers busy then to take as they end."""
        self._made = 0
        self._handed = Handover(deliver)
        self._processes = Workers()
        self._pool = ThreadPoolExecutor(max_workers=self.workers)
        self._tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}render-"))

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # --- adding work ----------------------------------------------------------------------------

    def reserve(self, renders: int) -> None:
        """About ``renders`` more will be added later: the jobs added until then leave them
        their share of the workers."""
        self._reserved += max(0, renders)
        self._count(0)

    def add(self, job: Job, *, reserved: int = 0) -> int:
        """Render ``job``'s stacks (``reserved``: what it had reserved); its index."""
        self._reserved = max(0, self._reserved - reserved)
        return self.add_all([job])[0]

    def add_all(self, jobs: list[Job]) -> list[int]:
        """Render the stacks of ``jobs``, which share the workers free now by the renders each
        has (and what is reserved) when nothing renders, else as ``split`` says; their indexes."""
        indexes = list(range(len(self._jobs), len(self._jobs) + len(jobs)))
        self._jobs += jobs
        self._count(sum(len(job.stacks) for job in jobs))
        with self._lock:
            loads = self._loads()
        if not any(loads):
            placeholder = [Job(Path(), "", [""] * self._reserved)] if self._reserved else []
            shared = len(jobs) + len(placeholder) > 1
            for index, chunk in plan_chunks([*jobs, *placeholder], self.workers):
                if index < len(jobs):
                    margin = ASKING_MARGIN if jobs[index].asks and shared else 0.0
                    self._submit_leaving(indexes[index], chunk, margin)
            return indexes
        for index, job in zip(indexes, jobs, strict=True):
            with self._lock:
                loads = self._loads()
                shares = split(len(job.stacks), loads)
                margin = ASKING_MARGIN if job.asks else MARGIN
                now = [size - int(size * margin) for worker, size in shares if loads[worker] == 0]
                if len(now) == len(shares) and not job.asks:
                    now = [size for _, size in shares]  # no busy worker to take a margin
                at = sum(now)
                if at < len(job.stacks):  # taken by busy workers as they end (``_next``)
                    self._left.append((index, job.stacks[at:]))
            start = 0
            for size in now:
                self._submit(index, job.stacks[start : start + size])
                start += size
        return indexes

    def _submit_leaving(self, index: int, stacks: list[str], margin: float) -> None:
        """Render ``stacks`` in a worker but the last ``margin`` of them, left to the end game."""
        keep = len(stacks) - int(len(stacks) * margin)
        if keep < len(stacks):
            with self._lock:
                self._left.append((index, stacks[keep:]))
        self._submit(index, stacks[:keep])

    def _count(self, added: int) -> None:
        self._total += added
        if isinstance(self._progress, CountingProgress):
            self._progress.total = self._total + self._reserved

    def _loads(self) -> list[int]:
        """Renders each worker has left to make (running chunks, with their job's tail when its
        workers ask for more: ``_busy``; then queued ones on the worker that is free first), one
        per worker; 0 for a free one."""
        running = [c for c in self._chunks if c.started and not c.ended]
        loads = self._busy(running) + [0] * (self.workers - len(running))
        taken = {c.index for c in running}
        waiting = [c.size for c in self._chunks if not c.started]
        waiting += [len(s) for index, s in self._left if not (self._jobs[index].asks and index in taken)]
        heapq.heapify(loads)
        for size in waiting:
            heapq.heappush(loads, heapq.heappop(loads) + START_RENDERS + size)
        return sorted(loads)

    def _starts(self, index: int, others: list[_Chunk]) -> list[int]:
        """What taking stacks of job ``index`` costs each of ``others`` beyond its renders: nothing
        for a worker of that job that asks for more, a start for any other."""
        asks = self._jobs[index].asks
        return [0 if asks and chunk.index == index else START_RENDERS for chunk in others]

    def _busy(self, chunks: list[_Chunk], skip: int | None = None) -> list[int]:
        """Renders each of ``chunks`` has left, with its share of what is left of its job (but
        ``_left[skip]``) when its workers ask for more: they take it back before they end."""
        tails: dict[int, int] = {}
        for i, (index, stacks) in enumerate(self._left):
            if i != skip and self._jobs[index].asks:
                tails[index] = tails.get(index, 0) + len(stacks)
        running = [c.index for c in self._chunks if c.started and not c.ended]
        return [
            c.size - c.delivered + tails.get(c.index, 0) // max(1, running.count(c.index)) for c in chunks
        ]

    def _share(self, at: int, cost: int, others: list[_Chunk]) -> list[str]:
        """Take from ``_left[at]`` the share of a worker that is free now and pays ``cost`` to
        take it, sized by what ``others`` have left (under the lock). When what would be left
        is not worth a worker's start and no other worker takes it without one, all of it."""
        index, stacks = self._left[at]
        starts = self._starts(index, others)
        loads = [0, *self._busy(others, at)]
        mine = next(
            (size for worker, size in split(len(stacks), loads, starts=[cost, *starts]) if worker == 0), 0
        )
        if not others or (len(stacks) - mine < START_RENDERS and all(starts)):
            mine = len(stacks)
        if mine == len(stacks):
            self._left.pop(at)
        else:
            self._left[at] = (index, stacks[mine:])
        return stacks[:mine]

    def _next(self, ended: _Chunk) -> tuple[int, list[str], _Chunk] | None:
        """Once ``ended`` ended (under the lock): the next chunk its worker renders, taken from
        what was left for busy workers and sized by what the others have left now (their
        measured progress: a split made early is corrected here), or None."""
        ended.ended = True
        if not self._left:
            return None
        others = [c for c in self._chunks if c.started and not c.ended]
        index = self._left[0][0]
        stacks = self._share(0, START_RENDERS, others)
        if not stacks:
            return None  # the others take it without a start, and end sooner so
        chunk = _Chunk(len(stacks), index, started=True)
        self._chunks.append(chunk)
        return index, stacks, chunk

    def _more(self, chunk: _Chunk) -> list[str]:
        """What a running worker of ``chunk`` that asks for more renders next (under the lock):
        its share of what was left of its own job, which costs it no start, sized by what the
        others have left; none when nothing of its job is left, or the others are to take it."""
        at = next((i for i, (index, _) in enumerate(self._left) if index == chunk.index), None)
        if at is None:
            return []
        others = [c for c in self._chunks if c.started and not c.ended and c is not chunk]
        stacks = self._share(at, 0, others)
        chunk.size += len(stacks)
        return stacks

    def _submit(self, index: int, stacks: list[str]) -> None:
        chunk = _Chunk(len(stacks), index)
        with self._lock:
            self._chunks.append(chunk)
        self._futures.append(self._pool.submit(self._run, chunk, index, stacks))

    def _run(self, chunk: _Chunk, index: int, stacks: list[str]) -> None:
        """Render ``stacks`` of job ``index`` in one worker, then what is left (``_next``)."""
        with self._lock:
            chunk.started = True
        following: tuple[int, list[str], _Chunk] | None = (index, stacks, chunk)
        while following is not None:
            index, stacks, chunk = following
            try:
                self._render(chunk, index, stacks)
            except BaseException:
                with self._lock:
                    chunk.ended = True
                raise  # the run stops (``wait`` raises it): nothing more is taken
            with self._lock:
                following = self._next(chunk)

    def _render(self, chunk: _Chunk, index: int, stacks: list[str]) -> None:
        job = self._jobs[index]
        with self._lock:
            number = self._made
            self._made += 1
        out = self._tmp / f"{index}-{number}"
        out.mkdir()

        def progress(label: str, stack: str) -> None:
            with self._lock:
                chunk.delivered += 1
                self._progress(label, stack)

        def more() -> list[str]:
            with self._lock:
                return self._more(chunk)

        run_worker(
            job,
            stacks,
            out,
            progress=progress,
            workers=self._processes,
            deliver=self._handed.give,
            index=index,
            record=self._record,
            more=more,
        )

    # --- the end --------------------------------------------------------------------------------

    def wait(self) -> None:
        """Wait for every render added, and for ``deliver`` to have taken each; raise what a
        job or ``deliver`` raised (``RevisionError``: a revision cannot render at all)."""
        for future in self._futures:
            wait_for(future)
        self._handed.finish()

    def close(self) -> None:
        """Stop the workers still running, wait for their threads, remove the temporary folder."""
        with shielded():
            self._processes.stop()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._handed.finish(wait=False)
            remove_tree(self._tmp)
