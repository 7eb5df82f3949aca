"""The diff's worker pool (stacks/commands/diff/pool.py): how a job added late is split, and that
every stack of every job is rendered once whatever the timing; and the worker-side memo of what a
file holds (stacks/commands/diff/recorder.py ``state``)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.commands.diff import pool, recorder
from stacks.commands.diff.pool import START_RENDERS, RenderPool, split
from stacks.commands.diff.revision import Job, StackRender


def _ends(shares: list[tuple[int, int]], loads: list[int]) -> list[int]:
    return [loads[worker] + START_RENDERS + size for worker, size in shares]


def test_a_late_job_goes_to_the_free_worker_first_and_to_the_busy_one_once_it_ends() -> None:
    shares = split(1000, [0, 500])
    assert sum(size for _, size in shares) == 1000
    assert dict(shares) == {0: 750, 1: 250}  # both end at 790
    assert max(_ends(shares, [0, 500])) - min(_ends(shares, [0, 500])) <= 1


def test_a_worker_busy_past_the_end_gets_nothing() -> None:
    assert split(100, [0, 10_000]) == [(0, 100)]
    assert split(100, [5_000, 10_000]) == [(0, 100)]
    assert split(0, [0, 0]) == []
    assert split(3, []) == []


@settings(max_examples=500, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=20_000),
    loads=st.lists(st.integers(min_value=0, max_value=20_000), min_size=1, max_size=16),
)
def test_a_split_renders_each_stack_once_and_its_chunks_end_together(count: int, loads: list[int]) -> None:
    shares = split(count, loads)
    assert sum(size for _, size in shares) == count
    assert all(size > 0 for _, size in shares)
    assert len({worker for worker, _ in shares}) == len(shares)
    ends = _ends(shares, loads)
    assert max(ends) - min(ends) <= 1
    used = {worker for worker, _ in shares}
    # a worker left out would end its chunk no earlier than the others end theirs
    assert all(loads[w] + START_RENDERS >= min(ends) - 1 for w in range(len(loads)) if w not in used)


class _Fake:
    """``run_worker`` without processes: each stack takes ``seconds``; records every chunk."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.chunks: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    def __call__(self, job: Job, chunk: list[str], out: Path, **kw: Any) -> None:
        with self.lock:
            self.chunks.append((job.label, list(chunk)))
        for stack in chunk:
            time.sleep(self.seconds)
            kw["deliver"](kw["index"], stack, StackRender({"f": f"{job.label}:{stack}"}), None)
            kw["progress"](job.label, stack)


def test_a_job_added_while_another_renders_shares_the_workers_and_every_stack_renders_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _Fake(0.002)
    monkeypatch.setattr(pool, "run_worker", fake)
    got: list[tuple[int, str, str]] = []
    lock = threading.Lock()

    def deliver(index: int, stack: str, render: StackRender, _seen: object) -> None:
        with lock:
            got.append((index, stack, render.files["f"]))

    head = [f"s{i:03d}" for i in range(300)]
    with RenderPool(2, lambda _label, _stack: None, deliver) as workers:
        workers.reserve(300)
        assert workers.add(Job(Path("head"), "head", head)) == 0
        time.sleep(0.15)  # the base's set-up
        assert workers.add(Job(Path("base"), "base", head), reserved=300) == 1
        workers.wait()
    assert sorted(got) == sorted(
        [(0, s, f"head:{s}") for s in head] + [(1, s, f"base:{s}") for s in head]
    )  # each stack once at each revision
    heads = [chunk for label, chunk in fake.chunks if label == "head"]
    bases = [chunk for label, chunk in fake.chunks if label == "base"]
    assert heads == [head]  # one worker for the head: the other was left to the base
    assert len(bases) == 2  # the base on the free worker now, and a tail once the head ended
    assert len(bases[0]) > len(bases[1])
    assert bases[0] + bases[1] == head  # the tail is the end of the list (paired last)


class _Asking(_Fake):
    """A fake worker that asks for more once its chunk is done, as ``render-many`` does when
    ``HIKUBE_GPU_RENDER_MORE`` is set; ``seconds`` per stack of each job label."""

    def __init__(self, seconds: dict[str, float]) -> None:
        super().__init__(0)
        self.per = seconds
        self.handed: list[tuple[str, int]] = []

    def __call__(self, job: Job, chunk: list[str], out: Path, **kw: Any) -> None:
        with self.lock:
            self.chunks.append((job.label, list(chunk)))
        while chunk:
            for stack in chunk:
                time.sleep(self.per[job.label])
                kw["deliver"](kw["index"], stack, StackRender({"f": f"{job.label}:{stack}"}), None)
                kw["progress"](job.label, stack)
            chunk = kw["more"]() if job.asks else []
            with self.lock:
                self.handed.append((job.label, len(chunk)))


@pytest.mark.parametrize("slower", ["head", "base"])
def test_workers_that_ask_for_more_take_back_their_tail_or_leave_it_to_the_other(
    monkeypatch: pytest.MonkeyPatch, slower: str
) -> None:
    """Two revisions whose renders differ in speed: each worker leaves ``ASKING_MARGIN`` of its
    chunk to the end game; the faster takes its own back for free and then part of the slower's
    in a new worker. Every stack renders once at each revision, whichever is slower."""
    fake = _Asking({"head": 0.001, "base": 0.001, slower: 0.003})
    monkeypatch.setattr(pool, "run_worker", fake)
    got: list[tuple[int, str]] = []
    lock = threading.Lock()

    def deliver(index: int, stack: str, _render: StackRender, _seen: object) -> None:
        with lock:
            got.append((index, stack))

    stacks = [f"s{i:03d}" for i in range(300)]
    with RenderPool(2, lambda _label, _stack: None, deliver) as workers:
        workers.reserve(300)
        workers.add(Job(Path("head"), "head", stacks, asks=True))
        time.sleep(0.05)  # the base's set-up
        assert workers._loads()[0] == 0  # the head's tail is its worker's: the other is free
        workers.add(Job(Path("base"), "base", stacks, asks=True), reserved=300)
        workers.wait()
    assert sorted(got) == sorted([(0, s) for s in stacks] + [(1, s) for s in stacks])
    first = {label: len(chunk) for label, chunk in reversed(fake.chunks)}
    assert first["head"] == 255  # 300 less its 15%
    assert first["base"] < 300  # its share of the free worker, less its 15%
    faster = "base" if slower == "head" else "head"
    assert any(label == faster and size > 0 for label, size in fake.handed)  # its tail, no start
    assert [label for label, _ in fake.chunks].count(slower) == 2  # part of the slower's tail


def test_jobs_added_together_share_the_workers_by_their_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _Fake(0)
    monkeypatch.setattr(pool, "run_worker", fake)
    with RenderPool(2, lambda _label, _stack: None, lambda *_: None) as workers:
        workers.add_all([Job(Path("a"), "a", ["x"]), Job(Path("b"), "b", [f"s{i}" for i in range(100)])])
        workers.wait()
    assert sorted((label, len(chunk)) for label, chunk in fake.chunks) == [("a", 1), ("b", 50), ("b", 50)]


# --- what a file holds, seen from a worker ---------------------------------------------------


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``state`` resolves and reads from now on."""
    reads: list[str] = []
    real = recorder._state

    def counted(path: str, info: os.stat_result, algorithm: str) -> str:
        reads.append(path)
        return real(path, info, algorithm)

    monkeypatch.setattr(recorder, "_state", counted)
    return reads


def test_a_file_is_read_again_once_it_changes_even_at_the_same_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder, "RACY_NS", -(10**18))  # trust every lstat, however recent
    monkeypatch.setattr(recorder, "_SEEN", {})
    reads = _counting(monkeypatch)
    path = tmp_path / "quota.yaml"
    path.write_text("L40S: 1\n", encoding="utf-8")
    first = recorder.state(str(path), "sha1")
    assert recorder.state(str(path), "sha1") == first
    assert reads == [str(path)]  # the second look trusted the unchanged lstat
    path.write_text("L40S: 2\n", encoding="utf-8")  # same size
    second = recorder.state(str(path), "sha1")
    assert second != first
    assert second.startswith("file ")
    assert len(reads) == 2


def test_a_file_changed_just_now_is_read_each_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder, "_SEEN", {})
    reads = _counting(monkeypatch)
    path = tmp_path / "quota.yaml"
    path.write_text("L40S: 1\n", encoding="utf-8")
    recorder.state(str(path), "sha1")
    recorder.state(str(path), "sha1")
    assert len(reads) == 2  # its lstat may not show a change within the file system's granularity
    old = time.time() - 3600
    os.utime(path, (old, old))  # the change time stays now: still read each time
    recorder.state(str(path), "sha1")
    assert len(reads) == 3


def test_unchanged_files_are_linked_and_the_rest_left_to_be_written(tmp_path: Path) -> None:
    from stacks.commands.diff.revision import RevisionError, link_files

    source, folder = tmp_path / "project", tmp_path / "inputs"
    (source / "environments").mkdir(parents=True)
    folder.mkdir()
    for name in ("a", "b", "c"):
        (source / "environments" / f"Pulumi.{name}.yaml").write_text(f"config: {{}}  # {name}\n")
    (source / "environments" / "Pulumi.b.yaml").rename(source / "environments" / "real.yaml")
    (source / "environments" / "Pulumi.b.yaml").symlink_to("real.yaml")
    names = [f"environments/Pulumi.{name}.yaml" for name in ("a", "b", "c")]
    assert link_files(folder, source, names) == names[1:]  # a link is never followed: written
    linked = folder / names[0]
    assert linked.stat().st_ino == (source / names[0]).stat().st_ino
    assert linked.read_text() == "config: {}  # a\n"
    assert not (folder / names[1]).exists()
    with pytest.raises(RevisionError, match="not a path inside the project"):
        link_files(folder, source, ["../outside.yaml"])


@pytest.mark.parametrize(
    ("delivered", "taken", "left"),
    [
        (100, 200, 0),  # the other worker is far behind: the ending one takes all that is left
        (590, 105, 95),  # it is nearly done: both share what is left, each ending about together
        (450, 200, 0),  # what would be left for it (25) is not worth a worker's start: all now
    ],
)
def test_a_worker_that_ends_takes_its_share_of_what_is_left_by_the_others_progress(
    delivered: int, taken: int, left: int
) -> None:
    with RenderPool(2, lambda _label, _stack: None, lambda *_: None) as workers:
        ended = pool._Chunk(300, delivered=300, started=True)
        other = pool._Chunk(600, delivered=delivered, started=True)
        workers._chunks = [ended, other]
        workers._jobs = [Job(Path("a"), "a", []), Job(Path("b"), "b", [], asks=True)]
        stacks = [f"s{i}" for i in range(200)]
        workers._left = [(1, stacks)]
        following = workers._next(ended)
        assert following is not None
        index, chunk, _ = following
        assert (index, chunk) == (1, stacks[:taken])
        assert workers._left == ([(1, stacks[taken:])] if left else [])


# --- a worker that asks for more (``HIKUBE_GPU_RENDER_MORE``) ---------------------------------


@pytest.mark.parametrize(
    ("asks", "other_left", "taken"),
    [
        (True, 7, 10),  # the other asks for more without a start: 43 for it, 10 here, both end at 50
        (False, 7, 53),  # its code predates asking: it would pay a start too, all here
        (True, 100, 53),  # the other is busy past the end: all here
        (True, 0, 6),  # the other is free too and pays no start: 47 for it, 6 here after a start
    ],
)
def test_a_worker_that_ends_leaves_its_share_to_a_worker_of_that_job_that_asks_for_more(
    asks: bool, other_left: int, taken: int
) -> None:
    """The end game a fleet diff met: the working tree's worker ended 0.08 s before the base's,
    took the base's last 53 stacks in a new worker, and ran 1.1 s alone after."""
    with RenderPool(2, lambda _label, _stack: None, lambda *_: None) as workers:
        ended = pool._Chunk(1003, 0, delivered=1003, started=True)
        other = pool._Chunk(950, 1, delivered=950 - other_left, started=True)
        workers._chunks = [ended, other]
        workers._jobs = [Job(Path("head"), "head", [], asks=True), Job(Path("base"), "base", [], asks=asks)]
        stacks = [f"s{i}" for i in range(53)]
        workers._left = [(1, stacks)]
        following = workers._next(ended)
        assert (following[1] if following else []) == stacks[:taken]
        assert workers._left == ([(1, stacks[taken:])] if taken < 53 else [])


@pytest.mark.parametrize(
    ("other_index", "other_left", "left", "taken"),
    [
        (0, 10_000, [(1, 200)], 200),  # the other (another job) is busy long: all, no start to pay
        (0, 5, [(1, 200)], 123),  # it is nearly done and pays a start: 123 here, 77 for it
        (1, 5, [(1, 200)], 103),  # the other is of the same job (no start either): half each
        (0, 100, [(0, 50)], 0),  # only another job's stacks are left: it ends (``_next`` then)
        (0, 100, [], 0),  # nothing left: it ends
    ],
)
def test_a_worker_that_asks_for_more_gets_its_share_of_its_own_jobs_tail(
    other_index: int, other_left: int, left: list[tuple[int, int]], taken: int
) -> None:
    with RenderPool(2, lambda _label, _stack: None, lambda *_: None) as workers:
        asking = pool._Chunk(300, 1, delivered=300, started=True)
        other = pool._Chunk(10_000, other_index, delivered=10_000 - other_left, started=True)
        workers._chunks = [asking, other]
        workers._jobs = [Job(Path("a"), "a", [], asks=True), Job(Path("b"), "b", [], asks=True)]
        lists = {index: [f"s{index}-{i}" for i in range(size)] for index, size in left}
        workers._left = list(lists.items())
        handed = workers._more(asking)
        own = lists.get(1, [])
        assert handed == own[:taken]
        assert asking.size == 300 + taken  # the other workers see it busy for that many more
        assert workers._left == [(i, s) for i, s in lists.items() if i != 1] + (
            [(1, own[taken:])] if own[taken:] else []
        )


def _run_one_worker(out: Path, answers: list[list[str]] | None) -> tuple[list[list[str]], list[str]]:
    """A real ``render-many`` of ``acme-vms``; with ``answers``, what it is handed each time it
    asks. (What it was handed, the stacks delivered.)"""
    from stacks.commands.cli import PROJECT_DIR
    from stacks.commands.diff.revision import Workers, run_worker

    asked: list[list[str]] = []
    delivered: list[str] = []

    def more() -> list[str]:
        assert answers is not None
        asked.append(answers[len(asked)])
        return asked[-1]

    def deliver(_index: int, stack: str, render: StackRender, _seen: object) -> None:
        assert render.error is None, render.error
        assert render.files
        delivered.append(stack)

    out.mkdir()
    workers = Workers()
    try:
        run_worker(
            Job(PROJECT_DIR, "working tree", ["acme-vms"]),
            ["acme-vms"],
            out,
            progress=lambda _label, _stack: None,
            workers=workers,
            deliver=deliver,
            index=0,
            record=None,
            more=more if answers is not None else None,
        )
    finally:
        workers.stop()
    return asked, delivered


def test_a_worker_renders_what_it_is_handed_when_it_asks_and_ends_on_an_empty_answer(tmp_path: Path) -> None:
    """The protocol across the process boundary: the worker asks after its command line's
    stacks, renders what it gets, asks again and ends on ``[]``; each stack is delivered once."""
    asked, delivered = _run_one_worker(tmp_path / "more", [["globex-ml"], []])
    assert asked == [["globex-ml"], []]
    assert delivered == ["acme-vms", "globex-ml"]


def test_a_worker_never_asks_an_orchestrator_that_does_not_answer(tmp_path: Path) -> None:
    """Without ``more`` (``HIKUBE_GPU_RENDER_MORE`` unset: an orchestrator that predates it) the
    worker renders its command line's stacks and ends, as before."""
    asked, delivered = _run_one_worker(tmp_path / "plain", None)
    assert asked == []
    assert delivered == ["acme-vms"]


@pytest.mark.parametrize(
    ("code_changed", "module", "asks"),
    [
        (False, None, True),  # the working tree's code renders the base
        (True, b'MORE_ENV = "HIKUBE_GPU_RENDER_MORE"\n', True),
        (True, b"def render_many(): ...\n", False),  # a base whose workers predate asking
        (True, None, False),
    ],
)
def test_the_bases_workers_ask_for_more_when_its_code_knows_how(
    code_changed: bool, module: bytes | None, asks: bool
) -> None:
    from types import SimpleNamespace

    from stacks.commands.diff.renders import WORKER_MODULE, _base_asks

    tree = SimpleNamespace(read_blobs=lambda paths: dict.fromkeys(paths, module))
    change: Any = SimpleNamespace(code_changed=code_changed, tree=tree)
    assert _base_asks(change) is asks
    assert WORKER_MODULE == "stacks/commands/diff/many.py"
    assert (Path(__file__).parents[1] / WORKER_MODULE).read_text().count("MORE_ENV") > 0


def test_a_worker_that_asks_counts_the_tail_the_other_takes_back_before_it_ends() -> None:
    """The end game a fleet diff met: the base's worker asked with the working tree's 13 renders
    from the end of its chunk but with its own 150 still to take back; it left 48 of its tail to
    that worker, which ended last. Counted with its tail, that worker is busy past the end."""
    with RenderPool(2, lambda _label, _stack: None, lambda *_: None) as workers:
        head = pool._Chunk(853, 0, delivered=840, started=True)
        base = pool._Chunk(853, 1, delivered=853, started=True)
        workers._chunks = [head, base]
        workers._jobs = [Job(Path("head"), "head", [], asks=True), Job(Path("base"), "base", [], asks=True)]
        workers._left = [(0, [f"h{i}" for i in range(150)]), (1, [f"b{i}" for i in range(150)])]
        assert len(workers._more(base)) == 150
        assert workers._left == [(0, [f"h{i}" for i in range(150)])]
