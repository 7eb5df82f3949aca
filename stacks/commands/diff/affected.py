"""Which stacks a change between a git revision and the working tree can affect, found without
rendering anything and without checking the revision out.

A stack's render reads the code, ``Pulumi.yaml``, its stack file and the customer defaults file
it names (``stacks.loading.customer_defaults``). Each path that differs is one of:

- **inert**: documentation, tests, workflows, benchmarks (``INERT``, ``*.md``): no render reads it;
- **a stack file** (``Pulumi.<stack>.yaml`` of the stack folder or of ``examples/stacks/``): that
  stack is affected;
- **code** (``code_files``): every file at the top of the project and every file of a top folder
  that holds Python code (``components/``, ``stacks/``, …): every stack is affected;
- **anything else** (a file of a folder without Python code, such as ``customers/``): the stacks
  whose stack file names it as their defaults file are affected; a file no stack names may be read
  by the code, so it counts as code.

The answer errs on the side of rendering: a defaults file named in ``Pulumi.yaml``'s ``config:``,
or a changed path that is a symbolic link, makes any such file count as code; a base that holds
symbolic links (outside documentation and tests) is read from a full checkout, every stack
compared (``Change.exact``). Stack and defaults files are what git sees: a stack file git ignores
counts as new, a defaults file it ignores is not compared.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from stacks.commands.diff.git_tree import REGULAR, GitError, Tree, blob_id, read_revision, resolve
from stacks.commands.diff.stack_source import parse_stack
from stacks.loading import customer_defaults, yaml_subset
from stacks.loading.limits import LimitError
from stacks.loading.stack_list import (
    EXAMPLES_DIR,
    StackNameError,
    discover,
    names_in,
    stack_dir_of,
    stack_of_file,
)

PROJECT_FILE = "Pulumi.yaml"
EXAMPLES = EXAMPLES_DIR.as_posix()
INERT = ("docs/", "tests/", ".github/", "benchmarks/", "site/", f"{EXAMPLES}/", ".ci/")
"""Paths (relative to the project) that no stack's render reads; ``*.md`` files neither."""
CODE_SUFFIXES = (".py", ".pyi", ".pth")
"""Files that are code wherever they are (never a defaults file)."""


class AffectedError(Exception):
    """The comparison cannot be made (a one-line reason naming the revision)."""


def is_inert(path: str) -> bool:
    return path.endswith(".md") or path.startswith(INERT)


@dataclass(frozen=True)
class Layout:
    """Where one revision keeps its stack files (relative to the project, ``""``: the project)."""

    stack_dir: str

    def stack_of(self, path: str) -> str | None:
        """The stack (or example) ``path`` is the stack file of, or None."""
        folder, _, name = path.rpartition("/")
        if folder in (self.stack_dir, EXAMPLES) and path != PROJECT_FILE:
            return stack_of_file(name)
        return None


def python_folders(paths: Iterable[str]) -> set[str]:
    """The top folders that hold Python code."""
    return {p.split("/", 1)[0] for p in paths if "/" in p and p.endswith(CODE_SUFFIXES) and not is_inert(p)}


DISTRIBUTION_FOLDERS = (".dist-info", ".egg-info")
"""A distribution installed in the project folder (``sys.path`` starts there) is code too."""


def is_code(path: str, layout: Layout, folders: set[str]) -> bool:
    """A file a render may execute or read as part of the program (see the module docstring)."""
    if is_inert(path) or layout.stack_of(path) is not None:
        return False
    top = path.split("/", 1)[0]
    return "/" not in path or top in folders or top.endswith(DISTRIBUTION_FOLDERS)


def code_files(paths: Iterable[str], layout: Layout) -> list[str]:
    """The code of a revision, from its file list: what the render cache hashes as "the code"."""
    listed = list(paths)
    folders = python_folders(listed)
    return sorted(p for p in listed if is_code(p, layout, folders))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _kind(mode: int) -> str:
    return "link" if stat.S_ISLNK(mode) else "file" if stat.S_ISREG(mode) else "other"


@dataclass
class Change:
    """A git revision against the working tree: the stacks of each, which of them may render
    differently, and what each revision holds (for the render cache)."""

    project_dir: Path
    base_ref: str
    tree: Tree
    changed: frozenset[str]
    project: str
    base_project: str
    head_layout: Layout
    base_layout: Layout
    head_stacks: dict[str, str]
    """Stack → its stack file, in the working tree."""
    base_stacks: dict[str, str]
    """Stack → its stack file, at the base."""
    code_changed: bool = False
    affected: frozenset[str] = frozenset()
    exact: bool = False
    """The base holds symbolic links (besides documentation and tests): it is read and rendered
    from a full checkout, every stack at both revisions (``stacks.commands.diff.compare``)."""
    """The stacks (of ``head_stacks`` or ``base_stacks``) whose render or config may differ."""
    _disk: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"base {self.base_ref}"

    # --- what each revision holds ------------------------------------------------------------

    def base_state(self, path: str) -> str:
        """What the base holds at ``path`` (as ``stacks.commands.diff.recorder.state`` says it)."""
        entry = self.tree.entries.get(path)
        if entry is not None:
            return (
                f"file {entry.oid}"
                if entry.mode in REGULAR
                else "link"
                if entry.mode == "120000"
                else "other"
            )
        return "dir" if path in self._base_dirs else "absent"

    @cached_property
    def _base_dirs(self) -> set[str]:
        return {p.rsplit("/", i)[0] for p in self.tree.entries for i in range(1, p.count("/") + 1)}

    def head_state(self, path: str) -> str:
        """What the working tree holds at ``path``."""
        if path not in self.changed and path in self.tree.entries and self.tree.entries[path].mode in REGULAR:
            return f"file {self.tree.entries[path].oid}"  # not changed: what the base holds
        if path not in self._disk:
            from stacks.commands.diff.recorder import state

            full = os.path.join(os.path.realpath(self.project_dir), path)
            self._disk[path] = state(full, self.tree.algorithm)
        return self._disk[path]

    def unchanged(self, path: str) -> bool:
        """Whether the working tree holds ``path`` as the base does (a regular file at both)."""
        oid = self.base_oid(path)
        return oid is not None and self.head_state(path) == f"file {oid}"

    def base_oid(self, path: str) -> str | None:
        entry = self.tree.entries.get(path)
        return entry.oid if entry is not None and entry.mode in REGULAR else None

    def head_oid(self, path: str) -> str | None:
        held = self.head_state(path)
        return held.removeprefix("file ") if held.startswith("file ") else None

    def same_config(self, stacks: Iterable[str]) -> set[str]:
        """The stacks of ``stacks`` whose config is surely the same at both revisions, known
        without reading a stack file: the code changed, but not ``Pulumi.yaml`` (the project, the
        stack folder); the stack file is at the same path at both and the working tree holds it
        as the base does; and no stack file that can name a changed path as its defaults file
        does (``_naming``: those whose text holds the path's file name are parsed). A config is
        read from those two files only (``stacks.commands.diff.stack_source``). Empty when any
        changed path is a symbolic link, or the base is read from a checkout (``exact``)."""
        if not self.code_changed or self.exact or PROJECT_FILE in self.changed:
            return set()
        if self.base_layout != self.head_layout or self.base_project != self.project:
            return set()
        same = {
            stack
            for stack in stacks
            if (path := self.head_stacks.get(stack)) is not None
            and self.base_stacks.get(stack) == path
            and self.unchanged(path)
        }
        stack_files = set(self.head_stacks.values()) | set(self.base_stacks.values())
        others = {path for path in self.changed if path not in stack_files}
        if not same or not others:
            return same
        if _any_link(self.project_dir, others):
            return set()
        named = _naming(self, others)
        return same - {stack for stacks in named.values() for stack in stacks}

    @cached_property
    def head_paths(self) -> frozenset[str]:
        """The files of the working tree that git sees (tracked or untracked, not ignored)."""
        kept = {p for p in self.tree.entries if p not in self.changed}
        return frozenset(kept | {p for p in self.changed if os.path.lexists(self.project_dir / p)})

    @cached_property
    def base_code_files(self) -> frozenset[str]:
        return frozenset(code_files(self.tree.entries, self.base_layout))

    @cached_property
    def head_code_files(self) -> frozenset[str]:
        return frozenset(code_files(self.head_paths, self.head_layout))

    @cached_property
    def base_code(self) -> str:
        """The content hash of the base's code (``code_files``)."""
        entries = self.tree.entries
        return _hash(
            (p, "file" if entries[p].mode in REGULAR else entries[p].mode, entries[p].oid)
            for p in sorted(self.base_code_files)
        )

    @cached_property
    def head_code(self) -> str:
        """The content hash of the working tree's code."""
        rows = []
        for path in sorted(self.head_code_files):
            if path not in self.changed:
                entry = self.tree.entries[path]
                rows.append((path, "file" if entry.mode in REGULAR else entry.mode, entry.oid))
                continue
            full = self.project_dir / path
            info = os.lstat(full)
            kind = _kind(info.st_mode)
            data = (
                os.readlink(full).encode() if kind == "link" else full.read_bytes() if kind == "file" else b""
            )
            rows.append(
                (
                    path,
                    {"file": "file", "link": "120000"}.get(kind, "other"),
                    blob_id(data, self.tree.algorithm),
                )
            )
        return _hash(rows)


def _hash(rows: Iterable[tuple[str, str, str]]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update("\0".join(row).encode("utf-8", errors="surrogateescape") + b"\n")
    return digest.hexdigest()


def _project(document: Any, fallback: str) -> tuple[str, bool]:
    """The project's name, and whether its ``config:`` names a defaults file."""
    if not isinstance(document, dict):
        return fallback, False
    name = str(document.get("name") or fallback)
    config = document.get("config")
    named = isinstance(config, dict) and any(
        str(key) in (customer_defaults.DEFAULTS_KEY, f"{name}:{customer_defaults.DEFAULTS_KEY}")
        for key in config
    )
    return name, named


def _load_project(data: bytes | None, label: str) -> Any:
    if data is None:
        raise AffectedError(f"{label}: there is no Pulumi.yaml")
    try:
        return yaml_subset.load(data)
    except LimitError as error:
        where = f"Pulumi.yaml:{error.line}:{error.column}" if error.line is not None else "Pulumi.yaml"
        raise AffectedError(f"{label}: {where}: {error}") from None


def _stacks(files: Iterable[str], layout: Layout, examples: bool, label: str) -> dict[str, str]:
    """Stack → stack file, from a revision's file list (``discover``'s rules and errors)."""
    in_dir, in_examples = [], []
    for path in files:
        folder, _, name = path.rpartition("/")
        if folder == layout.stack_dir and path != PROJECT_FILE and stack_of_file(name) is not None:
            in_dir.append(name)
        elif folder == EXAMPLES and stack_of_file(name) is not None:
            in_examples.append(name)
    try:
        names = names_in(in_dir, in_examples if examples else None)
    except StackNameError as error:
        raise AffectedError(f"{label}: {error}") from None
    found = set(in_dir)
    return {
        s: f"{layout.stack_dir}/Pulumi.{s}.yaml".removeprefix("/")
        if f"Pulumi.{s}.yaml" in found
        else f"{EXAMPLES}/Pulumi.{s}.yaml"
        for s in names
    }


def _head_stacks(project_dir: Path, layout: Layout, examples: bool) -> dict[str, str]:
    """Stack → stack file in the working tree, as ``discover`` finds them (its errors too)."""
    try:
        names = discover(project_dir, examples=examples)
    except StackNameError as error:
        raise AffectedError(f"working tree: {error}") from None
    return stack_files(project_dir, layout, names)


def stack_files(directory: Path, layout: Layout, stacks: Iterable[str]) -> dict[str, str]:
    """Stack → its stack file in ``directory``: in the stack folder, else in the examples folder."""
    try:
        present = set(os.listdir(directory / layout.stack_dir))  # one listing, not an lstat each
    except OSError:
        present = set()
    found = {}
    for stack in stacks:
        path = f"{layout.stack_dir}/Pulumi.{stack}.yaml".removeprefix("/")
        found[stack] = path if f"Pulumi.{stack}.yaml" in present else f"{EXAMPLES}/Pulumi.{stack}.yaml"
    return found


def find(project_dir: Path, base_ref: str, *, examples: bool = True, only: list[str] | None = None) -> Change:
    """The change from ``base_ref`` to the working tree; ``AffectedError`` when it cannot be
    found (the base is no commit, a revision's Pulumi.yaml or stack names are invalid)."""
    try:
        commit = resolve(project_dir, base_ref)
        tree, paths = read_revision(project_dir, commit)
    except GitError as error:
        raise AffectedError(str(error)) from None
    changed = frozenset(paths)
    label = f"base {base_ref}"
    try:
        head_bytes: bytes | None = customer_defaults.read_file(project_dir / PROJECT_FILE)
    except FileNotFoundError:
        head_bytes = None
    except OSError as error:
        raise AffectedError(f"working tree: Pulumi.yaml cannot be read ({error.strerror})") from None
    same = PROJECT_FILE not in changed and PROJECT_FILE in tree.entries  # then the base's is this one
    base_bytes = head_bytes if same else tree.read_blobs([PROJECT_FILE])[PROJECT_FILE]
    base_document = _load_project(base_bytes, label)
    try:
        base_layout = Layout(stack_dir_of(base_document))
    except StackNameError as error:
        raise AffectedError(f"{label}: {error}") from None
    base_stacks = _stacks(tree.entries, base_layout, examples, label)
    head_document = _load_project(head_bytes, "working tree")
    try:
        head_layout = Layout(stack_dir_of(head_document))
    except StackNameError as error:
        raise AffectedError(f"working tree: {error}") from None
    head_stacks = _head_stacks(project_dir, head_layout, examples)
    project, named_in_project = _project(head_document, project_dir.name)
    base_project, named_at_base = _project(base_document, project_dir.name)
    change = Change(
        project_dir,
        base_ref,
        tree,
        changed,
        project,
        base_project,
        head_layout,
        base_layout,
        head_stacks,
        base_stacks,
        exact=any(e.mode == "120000" and not is_inert(p) for p, e in tree.entries.items()),
    )
    considered = set(head_stacks) | set(base_stacks)
    if only is not None:
        considered &= set(only)
    code, affected = _classify(change, named_in_project or named_at_base)
    change.code_changed = code or change.exact
    change.affected = frozenset(considered if code else affected & considered)
    return change


def _classify(change: Change, project_names_defaults: bool) -> tuple[bool, set[str]]:
    """Whether the code changed, and the stacks whose stack or defaults file changed."""
    # a stack file git does not track, nor lists as new (it ignores it), is new all the same
    affected = {s for s, path in change.head_stacks.items() if path not in change.tree.entries}
    others = []
    folders = python_folders(change.tree.entries) | python_folders(change.changed)
    for path in sorted(change.changed):
        stack = change.head_layout.stack_of(path) or change.base_layout.stack_of(path)
        if stack is not None and (stack in change.head_stacks or stack in change.base_stacks):
            affected.add(stack)
        elif is_inert(path):
            continue
        elif path.endswith(CODE_SUFFIXES) or is_code(path, change.head_layout, folders):
            return True, affected
        else:
            others.append(path)
    if not others:
        return False, affected
    if project_names_defaults or _any_link(change.project_dir, change.changed):
        return True, affected
    named = _naming(change, set(others))
    if set(others) - set(named):
        return True, affected  # a file no stack names: the code may read it
    return False, affected | {stack for stacks in named.values() for stack in stacks}


def _any_link(project_dir: Path, paths: Iterable[str]) -> bool:
    return any(os.path.islink(project_dir / path) for path in paths)


def _grep_pattern(name: str) -> str:
    """``name`` as a POSIX extended regular expression matching itself."""
    return "".join(f"\\{c}" if c in ".[]()*+?{}|^$\\" else c for c in name)


def _candidates(change: Change, names: set[str]) -> set[str] | None:
    """The tracked stack files that may name a defaults file called one of ``names``: their text
    holds the name, ignoring ASCII case, or a backslash (an escape could spell it) or a byte
    outside printable ASCII. ``git grep`` searches the working tree's tracked files (those not
    changed hold what the base holds); None when it fails (then every file is a candidate)."""
    patterns = [_grep_pattern(name) for name in sorted(names)] + ["\\\\", "[^ -~\t]"]
    folders = {change.head_layout.stack_dir, change.base_layout.stack_dir, EXAMPLES}
    specs = [f"{folder}/Pulumi.*.yaml".removeprefix("/") for folder in sorted(folders)]
    command = ["git", "-C", str(change.project_dir), "grep", "-l", "-z", "-i", "-E"]
    command += [arg for pattern in patterns for arg in ("-e", pattern)]
    done = subprocess.run(
        [*command, "--", *specs], capture_output=True, check=False, env={**os.environ, "LC_ALL": "C"}
    )
    if done.returncode not in (0, 1):  # 1: nothing matches
        return None
    return {item for item in done.stdout.decode("utf-8", "surrogateescape").split("\0") if item}


def _may_name(data: bytes, needles: list[bytes]) -> bool:
    if b"\\" in data or not data.isascii():
        return True
    lower = data.lower()
    return any(needle in lower for needle in needles)


def _naming(change: Change, paths: set[str]) -> dict[str, set[str]]:
    """Which stacks name each of ``paths`` as their defaults file, in the working tree or (for a
    stack whose file changed) at the base. Only stack files that can name one are parsed: those
    whose bytes hold the path's file name, ignoring case (``NFC``), or any escape or non-ASCII."""
    wanted = {_fold(path): path for path in paths}
    names = {_fold(path.rpartition("/")[2]) for path in paths}
    every = not all(name.isascii() for name in names)
    needles = [name.encode() for name in names if name.isascii()]
    texts: list[tuple[str, str, bytes | None, str]] = []
    unchanged = {path: stack for stack, path in change.head_stacks.items() if path not in change.changed}
    candidates = None if every else _candidates(change, names)
    chosen = set(unchanged) if candidates is None else {path for path in candidates if path in unchanged}
    for path in sorted(chosen):
        texts.append((unchanged[path], path, _read(change.project_dir / path), change.project))
    for stack, path in change.head_stacks.items():
        if path in change.changed:
            texts.append((stack, path, _read(change.project_dir / path), change.project))
    at_base = [path for path in change.base_stacks.values() if path in change.changed]
    blobs = change.tree.read_blobs(at_base)
    for stack, path in change.base_stacks.items():
        if path in change.changed:
            texts.append((stack, path, blobs.get(path), change.base_project))
    found: dict[str, set[str]] = {}
    for stack, path, data, project in texts:
        if data is None or not (every or _may_name(data, needles)):
            continue
        source = parse_stack(project, path.rpartition("/")[2], data)
        name = (source.config or {}).get(f"{project}:{customer_defaults.DEFAULTS_KEY}")
        if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(name).parts:
            continue
        target = wanted.get(_fold(Path(name).as_posix()))
        if target is not None:
            found.setdefault(target, set()).add(stack)
    return found


def _read(path: Path) -> bytes | None:
    try:
        return customer_defaults.read_file(path)
    except OSError:
        return None
