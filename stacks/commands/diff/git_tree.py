"""What git knows about a revision, read without checking it out: the commit, the files it holds
(path, mode, object id), what differs in the working tree, and file contents from the object store.

Every path is relative to the project folder (the folder holding ``Pulumi.yaml``, which may be a
subfolder of the repository), with ``/`` separators.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path


class GitError(Exception):
    """A git command failed (its last line of stderr)."""


REGULAR = ("100644", "100755")
"""Modes of a regular file; ``120000`` is a symbolic link, ``160000`` a submodule."""


def git(
    project_dir: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> bytes:
    result = subprocess.run(
        ["git", "-C", str(project_dir), *args],
        input=stdin,
        capture_output=True,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise GitError((lines or [f"git {args[0]} failed"])[-1])
    return result.stdout


def _split(output: bytes) -> list[str]:
    return [item.decode("utf-8", errors="surrogateescape") for item in output.split(b"\0") if item]


def resolve(project_dir: Path, ref: str) -> str:
    """The commit ``ref`` names; ``GitError`` saying so when it names none."""
    try:
        return git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except GitError:
        raise GitError(f"base {ref!r} is not a commit of this repository (fetch it first?)") from None


def changed_paths(project_dir: Path, commit: str) -> list[str]:
    """Files that differ between ``commit`` and the working tree, untracked ones included."""
    return sorted(set(_tracked_changes(project_dir, commit)) | set(_untracked(project_dir)))


def _tracked_changes(project_dir: Path, commit: str) -> list[str]:
    return _split(git(project_dir, "diff", "--name-only", "--relative", "--no-renames", "-z", commit, "--"))


def _untracked(project_dir: Path) -> list[str]:
    return _split(git(project_dir, "ls-files", "--others", "--exclude-standard", "-z"))


def read_revision(project_dir: Path, commit: str) -> tuple[Tree, list[str]]:
    """``Tree.read`` and ``changed_paths`` at once: their git commands run side by side."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        tree = pool.submit(Tree.read, project_dir, commit)
        tracked = pool.submit(_tracked_changes, project_dir, commit)
        untracked = pool.submit(_untracked, project_dir)
        return tree.result(), sorted(set(tracked.result()) | set(untracked.result()))


@dataclass(frozen=True)
class Entry:
    mode: str
    oid: str


def blob_id(data: bytes, algorithm: str = "sha1") -> str:
    """The id git gives a blob of ``data`` (``git hash-object``)."""
    return hashlib.new(algorithm, b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Tree:
    """The files of the project folder at one commit."""

    project_dir: Path
    commit: str
    entries: dict[str, Entry]
    _blobs: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    """The files read so far (a stack file is read to parse it, then written for its render)."""

    @classmethod
    def read(cls, project_dir: Path, commit: str) -> Tree:
        entries = {}
        for line in git(project_dir, "ls-tree", "-r", "-z", commit, "--", ".").split(b"\0"):
            if not line:
                continue
            meta, _, path = line.partition(b"\t")
            mode, _, oid = meta.decode().split(" ")
            entries[path.decode("utf-8", errors="surrogateescape")] = Entry(mode, oid)
        return cls(project_dir, commit, entries)

    @property
    def algorithm(self) -> str:
        """The repository's object hash (sha1, or sha256 for a SHA-256 repository)."""
        oid = next(iter(self.entries.values()), Entry("", "0" * 40)).oid
        return "sha256" if len(oid) == 64 else "sha1"

    def has_symlinks(self) -> bool:
        return any(entry.mode == "120000" for entry in self.entries.values())

    def is_dir(self, path: str) -> bool:
        """Whether some file's path starts with ``path/`` (a set lookup: called once per stack)."""
        return path.rstrip("/") + "/" in self._folders

    @cached_property
    def _folders(self) -> frozenset[str]:
        """Every ``folder/`` prefix of a file's path (``a/``, ``a/b/`` for ``a/b/c``)."""
        return frozenset(name[: i + 1] for name in self.entries for i, c in enumerate(name) if c == "/")

    def read_blobs(self, paths: list[str]) -> dict[str, bytes | None]:
        """The contents of the regular files ``paths`` at this commit (None: no such file)."""
        found: dict[str, bytes | None] = {p: self._blobs.get(p) for p in paths}
        wanted = [
            p
            for p in dict.fromkeys(paths)
            if found[p] is None and p in self.entries and self.entries[p].mode in REGULAR
        ]
        if not wanted:
            return found
        request = b"".join(self.entries[p].oid.encode() + b"\n" for p in wanted)
        output = git(self.project_dir, "cat-file", "--batch", stdin=request)
        at = 0
        for path in wanted:
            header_end = output.index(b"\n", at)
            size = int(output[at:header_end].split(b" ")[2])
            found[path] = self._blobs[path] = output[header_end + 1 : header_end + 1 + size]
            at = header_end + 1 + size + 1
        return found
