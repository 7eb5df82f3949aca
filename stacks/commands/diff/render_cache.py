"""A cache of stack renders, so that a render made once (by ``main``'s workflow, or by an earlier
``diff``) is not made again.

**Key.** A render is a function of what it reads, and the key holds all of it: the code (the
content hash of the revision's code files, ``stacks.commands.diff.affected.code_files``), the
interpreter and every installed distribution with its version (``environment``), the engine,
the stack's name, its stack file's path and content (git object id). Files a render reads
besides those (its customer defaults file, anything else) are recorded by the worker that made
it (``stacks.commands.diff.recorder``) and stored in the entry with what they held; an entry is used
only when each of them still holds that (``get``'s ``state``).

**Integrity.** An entry is its key, its recorded reads and the render's files, as canonical JSON,
compressed, stored with the SHA-256 of that JSON. An entry whose hash does not match (corrupted)
or whose JSON names another key (copied from elsewhere) is ignored and deleted, never used. This
protects against corruption and misplaced entries, not against someone who can write the cache:
only trusted runs may write it (in CI, ``main``'s; see docs/pull-requests.md).

Only renders that succeeded are stored: a failure is made again each time.

The cache is one SQLite file, ``renders.sqlite3``, in ``$HIKUBE_GPU_RENDER_CACHE`` (``off``:
no cache), by default ``$XDG_CACHE_HOME/hikube-gpu/renders`` (``~/.cache/hikube-gpu/renders``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sqlite3
import sys
import threading
import time
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

CACHE_ENV = "HIKUBE_GPU_RENDER_CACHE"
OFF = "off"
FILE_NAME = "renders.sqlite3"
FORMAT = 1
"""Changes when the key or the entry changes shape: older entries are then never found."""
TABLE = f"renders_v{FORMAT}"
MAX_ENTRY_BYTES = 256 * 1024 * 1024
"""An entry that decompresses to more than this is corrupted (a stack has at most 3,000 objects)."""
BUSY_SECONDS = 30


def location() -> Path | None:
    """Where the cache is (``$HIKUBE_GPU_RENDER_CACHE``, else the user's cache folder), or None
    when it is ``off``."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None and chosen.strip().lower() == OFF:
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hikube-gpu" / "renders"


def _distributions() -> list[str]:
    """Every installed distribution, as the folder that records it (``<name>-<version>.dist-info``)
    in each folder of ``sys.path``: its name and version, without parsing its metadata."""
    found = set()
    for folder in filter(None, sys.path):  # "": the project folder, code (affected.is_code)
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            found |= {e.name for e in entries if e.name.endswith((".dist-info", ".egg-info"))}
    return sorted(found)


@lru_cache(maxsize=1)
def environment() -> str:
    """The hash of everything outside the project a render's output may depend on: the
    interpreter, whether PyYAML has libyaml, and every installed distribution's version."""
    import yaml

    distributions = _distributions()
    facts = {
        "python": sys.version,
        "implementation": sys.implementation.cache_tag,
        "machine": platform.machine(),
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "distributions": distributions,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def key(*, code: str, engine: str, stack: str, stack_file: str, stack_oid: str) -> str:
    """The cache key of one render (see the module's docstring)."""
    parts = [FORMAT, environment(), code, engine, stack, stack_file, stack_oid]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _inflated(blob: object) -> bytes | None:
    """A compressed entry's bytes (None: not zlib, truncated, or larger than any entry)."""
    if not isinstance(blob, bytes | memoryview):
        return None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(bytes(blob), MAX_ENTRY_BYTES)
    except zlib.error:
        return None
    return data if inflater.eof and not inflater.unconsumed_tail else None


def _reads_id(reads: dict[str, str]) -> str:
    return hashlib.sha256(_canonical(reads)).hexdigest()


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


State = Callable[[str], str]
"""What a revision holds at a path (relative to the project): ``file <id>``, ``dir``, ``absent``."""


class RenderCache:
    """The cache in ``folder`` (created when missing). Thread-safe; writes are batched until
    ``flush``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._pending: list[tuple[str, str, str, bytes]] = []
        self._used: set[tuple[str, str]] = set()
        folder.mkdir(parents=True, exist_ok=True)
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        path = self.folder / FILE_NAME
        for attempt in (1, 2):
            try:
                db = sqlite3.connect(path, timeout=BUSY_SECONDS, check_same_thread=False)
                db.execute(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT NOT NULL, reads TEXT NOT NULL, "
                    "digest TEXT NOT NULL, entry BLOB NOT NULL, used REAL NOT NULL, PRIMARY KEY (key, reads))"
                )
                db.commit()
                return db
            except sqlite3.DatabaseError:
                if attempt == 2:
                    raise
                with contextlib.suppress(OSError):
                    path.unlink()  # not a database: a cache may always be dropped
        raise AssertionError("unreachable")

    def get(self, entry_key: str, state: State) -> dict[str, str] | None:
        """The files of a render stored under ``entry_key`` whose entry is intact, is that
        key's, and whose recorded files still hold what they held (``state``); else None. (A key
        has one entry per set of such files: a stack whose defaults file changed back and forth.)"""
        with self._lock:
            try:
                rows = self._db.execute(
                    f"SELECT reads, digest, entry FROM {TABLE} WHERE key = ?", (entry_key,)
                ).fetchall()
            except sqlite3.DatabaseError:
                return None
        for reads_id, digest, blob in rows:
            entry = self._verified(entry_key, digest, blob)
            if entry is None or _reads_id(entry["reads"]) != reads_id:
                self._drop(entry_key, reads_id)
                continue
            if all(state(path) == held for path, held in entry["reads"].items()):
                self._used.add((entry_key, reads_id))
                files: dict[str, str] = entry["files"]
                return files
        return None

    @staticmethod
    def _verified(entry_key: str, digest: object, blob: object) -> dict[str, dict[str, str]] | None:
        """The entry, when it is intact (its hash) and ``entry_key``'s (the key it holds)."""
        data = _inflated(blob)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            return None
        try:
            entry = json.loads(data)
        except ValueError:
            return None
        if not isinstance(entry, dict) or entry.get("key") != entry_key or entry.get("format") != FORMAT:
            return None
        reads, files = entry.get("reads"), entry.get("files")
        if not isinstance(reads, dict) or not isinstance(files, dict):
            return None
        if not all(isinstance(v, str) for v in (*reads.values(), *files.values())):
            return None
        return {"reads": reads, "files": files}

    def _drop(self, entry_key: str, reads_id: str) -> None:
        with self._lock, contextlib.suppress(sqlite3.DatabaseError):
            self._db.execute(f"DELETE FROM {TABLE} WHERE key = ? AND reads = ?", (entry_key, reads_id))
            self._db.commit()

    def put(self, entry_key: str, files: dict[str, str], reads: dict[str, str]) -> None:
        """Store a render (written at ``flush``): its files and the files it read besides the
        code and its stack file, with what they held."""
        data = _canonical({"format": FORMAT, "key": entry_key, "reads": reads, "files": files})
        row = (entry_key, _reads_id(reads), hashlib.sha256(data).hexdigest(), zlib.compress(data, 1))
        with self._lock:
            self._pending.append(row)
            self._used.add(row[:2])

    @property
    def waiting(self) -> int:
        """Renders stored since the last ``flush``."""
        return len(self._pending)

    def flush(self, *, used: bool = True) -> int:
        """Write the stored renders in one transaction (``used``: and mark every entry found or
        stored as used now); how many. A cache that another process keeps locked too long is
        left as it is."""
        with self._lock:
            rows, self._pending = self._pending, []
            now = time.time()
            try:
                self._db.executemany(
                    f"INSERT OR REPLACE INTO {TABLE} (key, reads, digest, entry, used) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(*row, now) for row in rows],
                )
                self._db.executemany(
                    f"UPDATE {TABLE} SET used = ? WHERE key = ? AND reads = ?",
                    [(now, *entry) for entry in sorted(self._used)] if used else [],
                )
                self._db.commit()
            except sqlite3.DatabaseError:
                with contextlib.suppress(sqlite3.DatabaseError):
                    self._db.rollback()
                return 0
        return len(rows)

    def keep_only_used(self) -> int:
        """Delete every entry that this cache did not find or store since it was opened (after
        ``flush``); how many were deleted."""
        with self._lock:
            stored = [tuple(row) for row in self._db.execute(f"SELECT key, reads FROM {TABLE}")]
            gone = [row for row in stored if row not in self._used]
            self._db.executemany(f"DELETE FROM {TABLE} WHERE key = ? AND reads = ?", gone)
            self._db.commit()
            self._db.execute("VACUUM")
        return len(gone)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_cache(folder: Path | None = None) -> RenderCache | None:
    """The cache at ``folder`` (default: ``location()``), or None when it is off or cannot be
    opened (a cache is never worth failing a diff)."""
    folder = folder if folder is not None else location()
    if folder is None:
        return None
    try:
        return RenderCache(folder)
    except (OSError, sqlite3.Error):
        return None
