"""The render cache (stacks/commands/diff/render_cache.py): a hit is the render, byte for byte; a
corrupted or foreign entry is ignored; whatever else a render reads is part of its entry; and
a render that cannot be judged is never stored."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from benchmarks.common import copy_project
from stacks.commands.cli import main
from stacks.commands.diff import diff_report
from stacks.commands.diff.affected import find
from stacks.commands.diff.compare import Comparison, compare, warm
from stacks.commands.diff.render_cache import CACHE_ENV, TABLE, RenderCache, key, location, open_cache
from stacks.commands.preview.runner import DEFAULT_ENGINE
from stacks.loading.stack_list import RENDER_MARKER

NAMES = Path("components/resolve/names.py")
MANIFEST = Path("components/builders/manifest.py")
LABEL = 'MANAGED_BY = {"app.kubernetes.io/managed-by": "hikube-gpu"}'


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message)


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project (the dev stack and the examples) in a new repository; a second commit
    changes a builder, so every stack renders differently at the two commits."""
    root = tmp_path_factory.mktemp("cache-origin")
    copy_project(root, lambda name: not name.startswith(("docs/", "site/", "tests/")))
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "base")
    text = (root / MANIFEST).read_text(encoding="utf-8")
    (root / MANIFEST).write_text(text.replace(LABEL, LABEL.replace('gpu"', 'gpu-next"')), encoding="utf-8")
    _commit(root, "a builder changes")
    return root


@pytest.fixture
def repo(origin: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    return clone


def _reports(result: Comparison) -> tuple[str, str]:
    return diff_report.text(result), diff_report.markdown(result)


def _rows(folder: Path) -> list[tuple[str, str, bytes]]:
    with sqlite3.connect(folder / "renders.sqlite3") as db:
        return [(k, r, bytes(e)) for k, r, e in db.execute(f"SELECT key, reads, entry FROM {TABLE}")]


def test_a_hit_is_byte_identical_to_a_fresh_render_for_every_example(repo: Path, tmp_path: Path) -> None:
    fresh = compare(repo, "HEAD~1", workers=2)
    stacks = [d.stack for d in fresh.stacks]
    assert stacks == ["acme-vms", "dev", "globex-ml", "host-example"]
    assert (fresh.rendered, fresh.cached, fresh.code_changed) == (8, 0, True)
    cache = RenderCache(tmp_path / "cache")
    cold = compare(repo, "HEAD~1", workers=2, cache=cache)
    assert (cold.rendered, cold.cached) == (8, 0)
    warm_run = compare(repo, "HEAD~1", workers=2, cache=RenderCache(tmp_path / "cache"))
    assert (warm_run.rendered, warm_run.cached) == (0, 8)
    assert _reports(cold) == _reports(warm_run) == _reports(fresh)
    change = find(repo, "HEAD~1")
    for stack in stacks:  # what the cache holds is what `render` writes, byte for byte
        path = change.head_stacks[stack]
        oid = change.head_oid(path) or ""
        entry = key(code=change.head_code, engine=DEFAULT_ENGINE, stack=stack, stack_file=path, stack_oid=oid)
        held = cache.get(entry, change.head_state)
        assert held is not None, stack
        out = tmp_path / "render" / stack
        command = [
            sys.executable,
            "-m",
            "stacks",
            "render",
            "--stack",
            stack,
            "--project-dir",
            ".",
            "--out",
            str(out),
        ]
        subprocess.run(command, cwd=repo, check=True, capture_output=True)
        written = {
            str(file.relative_to(out)): file.read_bytes()
            for file in sorted(out.rglob("*"))
            if file.is_file() and file.name != RENDER_MARKER
        }
        assert {name: text.encode("utf-8") for name, text in held.items()} == written


@pytest.mark.parametrize("damage", ["flip", "truncate", "digest", "garbage"])
def test_a_corrupted_entry_is_ignored_and_dropped(repo: Path, tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "cache"
    expected = _reports(compare(repo, "HEAD~1", workers=2, cache=RenderCache(folder)))
    rows = _rows(folder)
    assert len(rows) == 8
    with sqlite3.connect(folder / "renders.sqlite3") as db:
        for entry_key, reads, blob in rows:
            if damage == "digest":
                db.execute(f"UPDATE {TABLE} SET digest = ? WHERE key = ?", ("0" * 64, entry_key))
                continue
            data = zlib.decompress(blob)
            if damage == "flip":  # a bit of the render changes: the JSON is still valid
                data = data.replace(b"hikube-gpu", b"hikube-gpv", 1)
                bad = zlib.compress(data)
            else:
                bad = blob[: len(blob) // 2] if damage == "truncate" else b"not zlib at all"
            db.execute(f"UPDATE {TABLE} SET entry = ? WHERE key = ? AND reads = ?", (bad, entry_key, reads))
    again = compare(repo, "HEAD~1", workers=2, cache=RenderCache(folder))
    assert (again.rendered, again.cached) == (8, 0)  # nothing trusted
    assert _reports(again) == expected
    assert len(_rows(folder)) == 8  # the bad entries were dropped, the new ones stored


def test_a_foreign_entry_is_ignored(repo: Path, tmp_path: Path) -> None:
    """An entry moved under another key (another stack's, or copied from another cache) holds
    the key it was made for: it is never served for this one."""
    folder = tmp_path / "cache"
    expected = _reports(compare(repo, "HEAD~1", workers=2, cache=RenderCache(folder)))
    rows = _rows(folder)
    with sqlite3.connect(folder / "renders.sqlite3") as db:
        for (entry_key, reads, _), (_, _, other) in zip(rows, rows[1:] + rows[:1], strict=True):
            db.execute(f"UPDATE {TABLE} SET entry = ? WHERE key = ? AND reads = ?", (other, entry_key, reads))
    again = compare(repo, "HEAD~1", workers=2, cache=RenderCache(folder))
    assert (again.rendered, again.cached) == (8, 0)
    assert _reports(again) == expected


def test_an_entry_under_another_key_is_not_served(tmp_path: Path) -> None:
    """The same reads, an intact entry, but made for another key: ignored and dropped."""
    cache = RenderCache(tmp_path / "cache")
    cache.put("a" * 64, {"ns/x.yaml": "made for a"}, {"customers/x.yaml": "file 1"})
    cache.flush()
    with sqlite3.connect(tmp_path / "cache" / "renders.sqlite3") as db:
        db.execute(f"INSERT INTO {TABLE} SELECT ?, reads, digest, entry, used FROM {TABLE}", ("b" * 64,))
    held = lambda _path: "file 1"  # noqa: E731
    assert RenderCache(tmp_path / "cache").get("b" * 64, held) is None
    assert RenderCache(tmp_path / "cache").get("a" * 64, held) == {"ns/x.yaml": "made for a"}
    assert len(_rows(tmp_path / "cache")) == 1


def test_a_cache_that_is_not_a_database_is_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "renders.sqlite3").write_bytes(b"this is not SQLite" * 100)
    cache = RenderCache(folder)
    assert cache.get("0" * 64, lambda _path: "absent") is None
    cache.put("k", {"a.yaml": "x"}, {})
    assert cache.flush() == 1
    assert RenderCache(folder).get("k", lambda _path: "absent") == {"a.yaml": "x"}


def test_the_cache_location_and_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    assert location() is None
    assert open_cache() is None
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert location() == tmp_path / "mine"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert location() == tmp_path / "xdg" / "hikube-gpu" / "renders"


# --- what a render reads besides its code and stack file ------------------------------------

READS_DATA = """

def _extra_label() -> str:
    from pathlib import Path

    return Path("data/extra.txt").read_text(encoding="utf-8").strip()


MANAGED_BY = {**MANAGED_BY, "example.com/extra": _extra_label()}
"""


@pytest.fixture
def reading(repo: Path) -> Path:
    """A repository whose code reads ``data/extra.txt`` (a folder without Python code, so not
    "code") into a label of every object, committed."""
    (repo / "data").mkdir()
    (repo / "data" / "extra.txt").write_text("one\n", encoding="utf-8")
    with (repo / MANIFEST).open("a", encoding="utf-8") as file:
        file.write(READS_DATA)
    _commit(repo, "the code reads data/extra.txt")
    return repo


def test_a_file_the_render_reads_is_part_of_its_entry(reading: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    done = warm(reading, RenderCache(folder), workers=2)
    assert (done.rendered, done.cached) == (4, 0)
    (reading / "data" / "extra.txt").write_text("two\n", encoding="utf-8")
    result = compare(reading, "HEAD", workers=2, cache=RenderCache(folder))
    assert result.code_changed  # a file no stack names: the code may read it
    assert (result.rendered, result.cached) == (4, 4)  # the base from the cache, not the head
    changed = {d.stack: [c.path for c in d.changed] for d in result.stacks}
    assert all(changed.values()), changed  # the label changed everywhere: no stale render served
    assert any("+    example.com/extra: two" in line for c in result.stacks[1].changed for line in c.diff)


def test_the_inputs_folder_falls_back_to_a_checkout(reading: Path, tmp_path: Path) -> None:
    """Same code, one stack file changed: the base's stack renders with the working tree's code
    from a folder holding only its inputs. That render read ``data/extra.txt``, which the folder
    does not hold: it is made again in a checkout, and the diff is the one a checkout gives."""
    path = reading / "Pulumi.dev.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("size: 100Gi", "size: 120Gi"), encoding="utf-8")
    seen: list[tuple[str, str]] = []
    result = compare(reading, "HEAD", workers=2, progress=lambda label, stack: seen.append((label, stack)))
    assert (result.code_changed, result.rendered) == (False, 2)
    assert ("working tree", "dev") in seen
    (dev,) = [d for d in result.stacks if d.rendered]
    assert dev.error is None
    assert [c.path for c in dev.changed] == ["tenant-dev/vmdisk-ws-1-system.yaml"]


def test_a_changed_codes_base_that_reads_outside_its_folder_renders_again_in_a_checkout(
    reading: Path, tmp_path: Path
) -> None:
    """The code changed: the base renders from a folder of its code and inputs, written from
    git's objects, which does not hold ``data/extra.txt`` (not code, no stack's input). Its
    worker fails where the base's code reads it (at import): each of its stacks is made again in
    a checkout, and the diff is the one a checkout gives (only the label the working tree
    changed), never the failure."""
    text = (reading / MANIFEST).read_text(encoding="utf-8")
    assert 'hikube-gpu-next"' in text  # the origin's second commit
    (reading / MANIFEST).write_text(text.replace('hikube-gpu-next"', 'hikube-gpu-third"'), encoding="utf-8")
    result = compare(reading, "HEAD", workers=2)
    assert result.code_changed
    assert result.rendered == 8  # 4 stacks at each revision: the base's made again, counted once
    for diff in result.stacks:
        assert diff.error is None, diff.error
        lines = [line for change in diff.changed for line in change.diff if line.startswith(("+ ", "- "))]
        lines = [line for line in lines if not line.startswith(("+++", "---"))]
        assert diff.changed, diff.stack
        assert {line[0] + line[1:].strip() for line in lines} == {
            "-app.kubernetes.io/managed-by: hikube-gpu-next",
            "+app.kubernetes.io/managed-by: hikube-gpu-third",
        }, diff.stack


LISTS = """

_run_planned = run_planned


def run_planned(config: StackConfigFile) -> OfflineRun:
    import os

    os.listdir(".")  # the render now depends on what the project folder holds
    return _run_planned(config)
"""


def test_a_render_that_lists_a_project_folder_is_never_stored(repo: Path, tmp_path: Path) -> None:
    with (repo / "stacks" / "commands" / "preview" / "planned.py").open("a", encoding="utf-8") as file:
        file.write(LISTS)  # the working tree's code only
    folder = tmp_path / "cache"
    first = compare(repo, "HEAD", workers=2, cache=RenderCache(folder))
    assert (first.code_changed, first.rendered, first.cached) == (True, 8, 0)
    assert len(_rows(folder)) == 4  # the base's renders only
    second = compare(repo, "HEAD", workers=2, cache=RenderCache(folder))
    assert (second.rendered, second.cached) == (4, 4)
    assert _reports(second) == _reports(first)


def test_cache_warm_and_path(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert main(["cache", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cache")
    assert main(["cache", "warm", "--project-dir", str(repo), "--workers", "2"]) == 0
    assert "0 render(s) found in the cache, 4 rendered; 0 unused entries dropped" in capsys.readouterr().err
    junk = RenderCache(tmp_path / "cache")
    junk.put("unused", {"a.yaml": "x"}, {})
    junk.flush()
    assert main(["cache", "warm", "--prune", "--project-dir", str(repo), "--workers", "2"]) == 0
    assert "4 render(s) found in the cache, 0 rendered; 1 unused entry dropped" in capsys.readouterr().err
    monkeypatch.setenv(CACHE_ENV, "off")
    assert main(["cache", "warm", "--project-dir", str(repo)]) == 2
    assert "the render cache is off" in capsys.readouterr().err
