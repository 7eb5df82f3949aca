"""The diff's unified diff of an object is difflib's, byte for byte, whichever way it is made
(``stacks.commands.diff.objects.unified``: one replaced run of lines without difflib's
matcher), and ``Tree.is_dir`` answers as a scan of every path would."""

from __future__ import annotations

import difflib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.commands.diff import objects
from stacks.commands.diff.git_tree import Entry, Tree

LINES = st.lists(st.sampled_from(["a", "b", "c", "  - x", "", "key: 1", "key: 2", " "]), max_size=40)
"""Few distinct lines: many repeats, the case where matching blocks could be chosen otherwise."""
MANY = st.lists(st.text(alphabet="abc: -", max_size=4), max_size=260)
"""Longer texts too, past difflib's ``autojunk`` threshold (200 lines)."""


def _difflib(old: str, new: str, path: str) -> list[str]:
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), f"a/{path}", f"b/{path}", lineterm="", n=3
    )
    return list(lines)[2:]


def _text(lines: list[str], newline: bool) -> str:
    return "\n".join(lines) + ("\n" if newline and lines else "")


def _check(old: str, new: str) -> None:
    assert objects.unified(old, new, "ns/kind-name.yaml") == _difflib(old, new, "ns/kind-name.yaml")


@settings(max_examples=3000, deadline=None)
@given(st.tuples(LINES, LINES, LINES, LINES, LINES), st.booleans(), st.booleans())
def test_a_replaced_run_is_difflibs_hunk(parts: tuple[list[str], ...], nl_a: bool, nl_b: bool) -> None:
    """``P + X + S`` against ``P + Y + S``, the shape a builder change makes (and every other
    shape the generator stumbles on: ``X`` or ``Y`` empty, sharing lines, repeats)."""
    prefix, x, y, suffix, noise = parts
    _check(_text(prefix + x + suffix, nl_a), _text(prefix + y + suffix, nl_b))
    _check(_text(prefix + x + suffix + noise, nl_a), _text(noise + prefix + y + suffix, nl_b))


@settings(max_examples=1500, deadline=None)
@given(MANY, MANY)
def test_any_two_texts_give_difflibs_lines(a: list[str], b: list[str]) -> None:
    _check("\n".join(a), "\n".join(b))


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=240, unique=True),
    st.integers(0, 239),
    st.integers(1, 3),
)
def test_one_changed_line_in_distinct_lines_takes_the_fast_path_and_matches(
    values: list[int], at: int, count: int
) -> None:
    """Distinct lines with one run replaced: ``_one_replacement`` answers (below 200 lines) and
    its answer is difflib's."""
    a = [f"line: {v}" for v in values]
    at = at % len(a)
    b = a[:at] + [f"new: {i}" for i in range(count)] + a[at + 1 :]
    old, new = "\n".join(a), "\n".join(b)
    if len(b) < objects.AUTOJUNK_LINES:
        assert objects._one_replacement(a, b) is not None
    _check(old, new)


def test_the_fast_path_stands_back_where_difflib_matches_elsewhere() -> None:
    """An insertion whose suffix also matches earlier: difflib picks the earlier block."""
    a, b = ["A", "A", "A"], ["A", "y", "A", "A"]
    assert objects._one_replacement(a, b) is None
    _check("\n".join(a), "\n".join(b))


PATHS = st.lists(st.from_regex(r"[ab]{1,2}(/[ab]{1,2}){0,3}", fullmatch=True), max_size=30)


@settings(max_examples=500, deadline=None)
@given(PATHS, st.from_regex(r"[ab/]{0,8}", fullmatch=True))
def test_is_dir_is_a_scan_of_every_path(names: list[str], path: str) -> None:
    tree = Tree(Path(), "0" * 40, {name: Entry("100644", "0" * 40) for name in names})
    prefix = path.rstrip("/") + "/"
    assert tree.is_dir(path) == any(name.startswith(prefix) for name in names)
