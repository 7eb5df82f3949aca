"""Which stacks a change can affect (stacks/commands/diff/affected.py), on a fleet in a git repository:
exactly the stacks of a changed stack file or defaults file, every stack when the code changed,
none for documentation; stacks that cannot differ are not rendered at all (issue 26)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks import fleet
from stacks.commands.diff.affected import code_files, find
from stacks.commands.diff.changed import find_changed
from stacks.commands.diff.compare import compare
from stacks.commands.diff.revision import Job, plan_chunks

STACKS = 30


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fleet.build(STACKS, tmp_path_factory.mktemp("fleet") / "repo")


@pytest.fixture
def repo(origin: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    return clone


def _counted(repo: Path) -> tuple[list[str], list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []
    found = find_changed(repo, "HEAD~1", workers=2, progress=lambda label, stack: seen.append((label, stack)))
    return found.stacks, seen


@pytest.mark.parametrize("kind", fleet.CHANGES)
def test_changed_names_exactly_the_affected_stacks_and_renders_only_them(
    repo: Path, kind: fleet.Change
) -> None:
    fleet.change(repo, STACKS, kind)
    stacks, seen = _counted(repo)
    expected = fleet.changed_stacks(STACKS, kind)
    assert stacks == expected
    assert sorted(seen) == sorted(
        [("base HEAD~1", s) for s in expected] + [("working tree", s) for s in expected]
    )


def test_a_stack_file_change_renders_two_stacks_and_reports_the_rest_unrendered(repo: Path) -> None:
    fleet.change(repo, STACKS, "stack")
    result = compare(repo, "HEAD~1", workers=2)
    assert (result.rendered, result.code_changed) == (2, False)
    rendered = [d.stack for d in result.stacks if d.rendered]
    assert rendered == fleet.changed_stacks(STACKS, "stack")
    assert len(result.skipped) == len(result.stacks) - 1  # the examples too


def _write(repo: Path, path: str, text: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("docs/fleet.md", False),
        ("README.md", False),
        ("tests/test_x.py", False),
        ("examples/stacks/README.txt", False),
        ("components/resolve/names.py", True),
        ("stacks/new_module.py", True),
        ("Pulumi.yaml", True),
        ("requirements.txt", True),
        ("extra.yaml", True),  # at the top of the project: code
        ("data/table.json", True),  # no stack names it: the code may read it
        ("customers/nobody.yaml", True),
        ("customers/c0001.yaml", False),  # stacks s00010-s00019 name it
    ],
)
def test_what_counts_as_code(repo: Path, path: str, code: bool) -> None:
    original = (repo / path).read_text(encoding="utf-8") if (repo / path).exists() else ""
    _write(repo, path, original + "\n# changed\n")
    change = find(repo, "HEAD", examples=False)
    assert change.code_changed is code
    if path == "customers/c0001.yaml":
        assert sorted(change.affected) == [fleet.stack_name(i) for i in range(10, 20)]
    elif not code:
        assert change.affected == frozenset()


@pytest.mark.parametrize(
    "spelling",
    [
        "customers/c0001.yaml",
        "./customers/c0001.yaml",
        "customers//c0001.yaml",
        '"customers/\\x63\\x30001.yaml"',  # a YAML escape: only parsing tells
        "Customers/C0001.YAML",  # a case-insensitive file system opens the same file
    ],
)
def test_a_defaults_file_is_found_however_it_is_written(repo: Path, spelling: str) -> None:
    path = repo / fleet.STACK_DIR / "Pulumi.s00003.yaml"  # a stack of customer c0000
    text = path.read_text(encoding="utf-8").replace("customers/c0000.yaml", spelling.replace("\\\\", "\\"))
    path.write_text(text, encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "s00003 names c0001"], check=True)
    _write(repo, "customers/c0001.yaml", (repo / "customers/c0001.yaml").read_text() + "\n# changed\n")
    change = find(repo, "HEAD", examples=False)
    assert not change.code_changed
    assert "s00003" in change.affected
    assert sorted(change.affected - {"s00003"}) == [fleet.stack_name(i) for i in range(10, 20)]


def test_when_git_grep_fails_every_stack_file_is_read_not_every_stack_rendered(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``git grep`` only narrows which stack files are parsed: when it fails (here a setting it
    refuses, ``grep.threads=-1``, which the other git commands ignore), every unchanged stack file
    is parsed, and the answer is still the ten stacks that name the changed defaults file."""
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "grep.threads")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "-1")
    fleet.change(repo, STACKS, "defaults")
    change = find(repo, "HEAD~1", examples=False)
    assert not change.code_changed
    assert sorted(change.affected) == fleet.changed_stacks(STACKS, "defaults")


def test_a_defaults_file_named_by_an_unchanged_stack_file_only_in_the_working_tree(repo: Path) -> None:
    """The stack files grepped are the working tree's; one not changed since the base holds what
    the base holds, so naming found there is naming at both revisions."""
    path = repo / fleet.STACK_DIR / "Pulumi.s00003.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("customers/c0000.yaml", "customers/c0001.yaml"))
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "s00003 names c0001"], check=True)
    _write(repo, "customers/c0001.yaml", (repo / "customers/c0001.yaml").read_text() + "\n# changed\n")
    change = find(repo, "HEAD", examples=False)
    assert sorted(change.affected) == sorted(["s00003", *(fleet.stack_name(i) for i in range(10, 20))])


def test_a_symbolic_link_makes_other_files_count_as_code(repo: Path) -> None:
    (repo / "links").mkdir()
    (repo / "links" / "c0001.yaml").symlink_to("../customers/c0001.yaml")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "a link"], check=True)
    _write(repo, "customers/c0001.yaml", (repo / "customers/c0001.yaml").read_text() + "\n# changed\n")
    assert find(repo, "HEAD", examples=False).code_changed


def test_the_code_is_every_file_of_a_folder_with_python_and_the_top_files(origin: Path) -> None:
    change = find(origin, "HEAD")
    files = code_files(change.tree.entries, change.base_layout)
    assert "components/builders/manifest.py" in files
    assert "Pulumi.yaml" in files
    assert "requirements.txt" in files
    assert not [f for f in files if f.startswith(("customers/", "environments/", "docs/", "tests/"))]
    assert change.base_code == change.head_code  # nothing changed


def test_render_workers_are_shared_by_the_work_each_revision_has() -> None:
    one = Job(Path("base"), "base", ["s1"])
    many = Job(Path("head"), "head", [f"s{i}" for i in range(1000)])
    chunks = plan_chunks([one, many], 2)
    assert sorted((index, len(chunk)) for index, chunk in chunks) == [(0, 1), (1, 500), (1, 500)]
    assert [len(chunk) for _, chunk in chunks] == [500, 500, 1]  # largest first
    both = plan_chunks([many, many], 2)
    assert [(index, len(chunk)) for index, chunk in both] == [(0, 1000), (1, 1000)]
    assert plan_chunks([Job(Path("x"), "x", [])], 2) == []


def test_the_base_renders_from_its_inputs_however_the_defaults_file_is_written(repo: Path) -> None:
    """Same code: the base's stack renders from a folder of its inputs, its defaults file too,
    whatever its spelling (no second render in a checkout)."""
    path = repo / fleet.STACK_DIR / "Pulumi.s00003.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("customers/c0000.yaml", "./customers//c0000.yaml")
    )
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "spelled"], check=True)
    path.write_text(path.read_text(encoding="utf-8").replace("size: 100Gi", "size: 120Gi"), encoding="utf-8")
    seen: list[tuple[str, str]] = []
    result = compare(repo, "HEAD", workers=2, progress=lambda label, stack: seen.append((label, stack)))
    assert sorted(seen) == [("base HEAD", "s00003"), ("working tree", "s00003")]
    (diff,) = [d for d in result.stacks if d.rendered]
    assert diff.error is None
    assert [c.path for c in diff.changed] == ["tenant-s00003/vmdisk-ws-1-system.yaml"]


def test_with_symbolic_links_the_base_is_read_from_a_checkout(repo: Path) -> None:
    """A stack whose defaults file is a symlink: the base holds links, so it is checked out and
    every stack compared, as a checkout reads them."""
    (repo / "links").mkdir()
    (repo / "links" / "c0001.yaml").symlink_to("../customers/c0001.yaml")
    path = repo / fleet.STACK_DIR / "Pulumi.s00003.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("customers/c0000.yaml", "links/c0001.yaml"))
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "a link"], check=True)
    defaults = repo / "customers" / "c0001.yaml"
    defaults.write_text(defaults.read_text(encoding="utf-8").replace("L40S: 5", "L40S: 6"), encoding="utf-8")
    result = compare(repo, "HEAD", workers=2, details=False)
    assert result.code_changed
    assert result.skipped == ()
    changed = sorted(d.stack for d in result.stacks if d.has_changes)
    assert changed == sorted(["s00003", *(fleet.stack_name(i) for i in range(10, 20))])


_READING = {"code": 0, "defaults": 10, "stack": 1, "invalid": 1, "failing": 1}
"""Stack files read (by the diff, not its renders) with the code changed and one more change."""


@pytest.mark.parametrize("extra", list(_READING))
def test_with_the_code_changed_a_stack_whose_config_cannot_differ_is_not_read_and_diffs_the_same(
    repo: Path, monkeypatch: pytest.MonkeyPatch, extra: str
) -> None:
    """``Change.same_config``: the code changed, so every stack renders at both revisions, but a
    stack whose stack file and defaults file are the same at both is read only when a render
    fails (its file then says why, and hides its secrets). The comparison is the one made when
    every stack file is read first."""
    from stacks.commands.diff import compare as compare_module
    from stacks.commands.diff.affected import Change

    stack_dir = repo / fleet.STACK_DIR
    if extra in ("invalid", "failing"):  # the same at both revisions
        path = stack_dir / f"Pulumi.{fleet.stack_name(5)}.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "  - [" if extra == "invalid" else text.replace("A100: 2", "Z100: 2"))
        subprocess.run(["git", "-C", str(repo), "commit", "-qam", extra], check=True)
    builder = repo / fleet.BUILDER
    builder.write_text(builder.read_text(encoding="utf-8").replace(fleet.BUILDER_FROM, fleet.BUILDER_TO))
    if extra == "defaults":
        _write(
            repo,
            "customers/c0001.yaml",
            (repo / "customers/c0001.yaml").read_text().replace("L40S: 5", "L40S: 6"),
        )
    if extra == "stack":
        path = stack_dir / f"Pulumi.{fleet.stack_name(7)}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("size: 100Gi", "size: 120Gi"))

    read: list[Path] = []
    real = compare_module.read_stack_file

    def counted(path: Path, project: str, memo: object = None) -> object:
        read.append(path)
        return real(path, project, memo)  # type: ignore[arg-type]

    monkeypatch.setattr(compare_module, "read_stack_file", counted)
    lazy = compare(repo, "HEAD", workers=2)
    assert len(read) == _READING[extra]
    monkeypatch.setattr(Change, "same_config", lambda _self, _stacks: set())
    eager = compare(repo, "HEAD", workers=2)
    assert len(read) > _READING[extra] + STACKS
    assert lazy.stacks == eager.stacks
    assert lazy.code_changed
    # unreadable at both revisions: not compared, as when read first; failing at both: its error
    assert [d.stack for d in lazy.stacks if not d.rendered] == (
        [fleet.stack_name(5)] if extra == "invalid" else []
    )
    assert [d.stack for d in lazy.stacks if d.error] == ([fleet.stack_name(5)] if extra == "failing" else [])
