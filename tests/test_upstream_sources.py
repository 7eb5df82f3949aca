"""tests/upstream/SOURCES.md and the vendored files agree: every file is listed once with
where it came from and under which licence, and every listed file exists."""

from __future__ import annotations

import re
from dataclasses import replace

from tests.helpers import UPSTREAM
from tests.upstream.refresh import OWN_FILES, SOURCES, read_sources, taker, with_commit

ROWS = read_sources(SOURCES.read_text(encoding="utf-8"))


def _vendored() -> set[str]:
    return {
        path.relative_to(UPSTREAM).as_posix()
        for path in UPSTREAM.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name not in OWN_FILES
    }


def test_every_vendored_file_is_listed_once() -> None:
    listed = [row.file for row in ROWS]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert sorted(_vendored() - set(listed)) == [], "vendored but not in SOURCES.md"


def test_every_listed_file_exists() -> None:
    assert sorted({row.file for row in ROWS} - _vendored()) == [], "in SOURCES.md but not vendored"


def test_every_row_names_a_pinned_source_and_a_licence() -> None:
    assert len(ROWS) >= 19
    for row in ROWS:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", row.repository), row
        assert re.fullmatch(r"[0-9a-f]{40}", row.commit), row
        assert all((row.ref, row.path, row.licence)), row
        assert taker(row.taken) is not None, row


def test_a_refresh_rewrites_only_its_rows_ref_and_commit() -> None:
    text = SOURCES.read_text(encoding="utf-8")
    row = ROWS[3]
    after = read_sources(with_commit(text, row.file, "v9.9.9", "f" * 40))
    assert [old for old, new in zip(ROWS, after, strict=True) if old != new] == [row]
    assert after[3] == replace(row, ref="v9.9.9", commit="f" * 40)
