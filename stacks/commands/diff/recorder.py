"""What one render reads, observed from inside the worker that makes it (``render-many``).

The diff caches a render under the code's content hash and the stack file's; anything else the
render reads must be recorded with it, or a change to that file would go unseen. So, while a
stack renders, the worker records every file it opens or probes (``open``, ``io.open``,
``os.open``, ``os.stat``, ``os.lstat``) under the project folder and the code's folder, with
what it found there (``file <git object id>``, ``dir``, ``absent``, ``link``), and every module
file it has loaded from those folders. A render that lists a folder there (``os.listdir``,
``os.scandir``: also ``glob``, ``os.walk`` and ``pathlib``) or opens a file there for writing is
marked ``untrusted``: it is never cached. The orchestrator (``stacks.commands.diff.renders``) decides
what the record means.

The functions are wrapped where they live (a Python-level audit hook would see every audited
event, ``id()`` calls included, and cost the render 40%): code that reads a project file must go
through them, as ``pathlib``, ``open`` and everything in this project do.
"""

from __future__ import annotations

import builtins
import io
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stacks.commands.diff.git_tree import blob_id

RECORD_ENV = "HIKUBE_GPU_RENDER_RECORD"
"""Set (to the repository's object hash, ``sha1`` or ``sha256``) to make workers record."""
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


_SEEN: dict[tuple[str, str], tuple[tuple[int, ...], str]] = {}
"""What ``state`` found at a path, with the ``lstat`` it found it with (when that is trusted)."""
RACY_NS = 2_000_000_000
"""A file changed less than this before it was looked at may change again without its ``lstat``
showing it (a file system that keeps whole seconds): it is read each time (git's "racy clean")."""


def _signature(info: os.stat_result) -> tuple[int, ...]:
    """What changes when anything is written to the file (``st_ctime_ns`` cannot be set back)."""
    return (info.st_mode, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def state(path: str, algorithm: str) -> str:
    """What is at ``path`` (absolute, normalized): ``file <git blob id>``, ``dir``, ``absent``, or
    ``link`` (reached through a symbolic link), ``other``, ``unreadable``. A path whose ``lstat``
    did not change since it was last looked at is not resolved and read again (renders read the
    same few files: they cost a worker ~60 system calls a render otherwise)."""
    try:
        info = os.lstat(path)
    except OSError:
        return "absent"
    signature = _signature(info)
    known = _SEEN.get((path, algorithm))
    if known is not None and known[0] == signature:
        return known[1]
    found = _state(path, info, algorithm)
    if max(info.st_mtime_ns, info.st_ctime_ns) < time.time_ns() - RACY_NS:
        _SEEN[(path, algorithm)] = (signature, found)
    return found


def _state(path: str, info: os.stat_result, algorithm: str) -> str:
    if stat.S_ISLNK(info.st_mode) or os.path.realpath(path) != path:
        return "link"
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    if not stat.S_ISREG(info.st_mode):
        return "other"
    try:
        with io.open(path, "rb") as file:  # noqa: UP020 (the recorder is off while it looks)
            return f"file {blob_id(file.read(), algorithm)}"
    except OSError:
        return "unreadable"


Wrapped = Callable[..., Any]
IMPORT_SYSTEM = "<frozen importlib"


def _importing() -> bool:
    """Whether a module is being imported (the import system is on the stack)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.startswith(IMPORT_SYSTEM):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


DISTRIBUTIONS = os.path.join("importlib", "metadata", "__init__.py")
"""``importlib.metadata`` lists ``sys.path`` (the project folder first) for installed
distributions; they are part of the environment (``render_cache.environment``, and
``affected.is_code`` for a ``*.dist-info`` folder in the project)."""


def _by_imports() -> bool:
    """Whether the import system, or ``importlib.metadata`` looking for distributions, called:
    their listings are no render's."""
    caller = sys._getframe(2).f_code.co_filename
    return caller.startswith(IMPORT_SYSTEM) or caller.endswith(DISTRIBUTIONS)


class Recorder:
    """Records the reads of the renders of one worker process (its wrappers stay installed)."""

    def __init__(self, roots: list[Path], algorithm: str) -> None:
        self.roots = tuple(sorted({os.path.realpath(root) + os.sep for root in roots}))
        self.algorithm = algorithm
        self._paths: set[str] | None = set()  # from the start: what imports read is every render's
        self._untrusted = False
        self._startup: tuple[set[str], bool] | None = None
        self._modules: set[str] = set()
        self._module_count = 0
        opened = self._opening(io.open)
        builtins.open = io.open = opened
        os.open = self._opening(os.open, flags=True)
        os.stat = self._probing(os.stat)
        os.lstat = self._probing(os.lstat)
        os.listdir = self._listing(os.listdir)
        os.scandir = self._listing(os.scandir)

    def _inside(self, path: Any, *, root: bool = False) -> str | None:
        """``path`` made absolute when it is inside a root (or, with ``root``, is one)."""
        if isinstance(path, int) or path is None:
            return None
        try:
            absolute = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            return None
        return absolute if (absolute + os.sep if root else absolute).startswith(self.roots) else None

    def _seen(self, inside: str, *, untrusted: bool = False) -> None:
        """Record a path; one a module reads while it is imported is read for every render that
        follows (the module is not imported again)."""
        assert self._paths is not None
        self._paths.add(inside)
        self._untrusted |= untrusted
        if self._startup is not None and _importing():
            self._startup[0].add(inside)
            self._startup = (self._startup[0], self._startup[1] or untrusted)

    def _opening(self, function: Wrapped, *, flags: bool = False) -> Wrapped:
        def opening(file: Any, mode: Any = "r", *args: Any, **kwargs: Any) -> Any:
            if self._paths is not None:
                inside = self._inside(file)
                if inside is not None:
                    writes = bool(mode & WRITE_FLAGS) if flags else any(c in str(mode) for c in "wax+")
                    self._seen(inside, untrusted=writes)
            return function(file, mode, *args, **kwargs)

        return opening

    def _probing(self, function: Wrapped) -> Wrapped:
        def probing(path: Any, *args: Any, **kwargs: Any) -> Any:
            if self._paths is not None:
                inside = self._inside(path)
                if inside is not None:
                    self._seen(inside)
            return function(path, *args, **kwargs)

        return probing

    def _listing(self, function: Wrapped) -> Wrapped:
        def listing(path: Any = ".", *args: Any, **kwargs: Any) -> Any:
            if self._paths is not None and self._inside(path, root=True) is not None and not _by_imports():
                self._untrusted = True
                if self._startup is not None and _importing():
                    self._startup = (self._startup[0], True)
            return function(path, *args, **kwargs)

        return listing

    def _loaded(self) -> list[str]:
        """Module files loaded from the roots since the last call."""
        if len(sys.modules) == self._module_count:
            return []
        self._module_count = len(sys.modules)
        found = []
        for module in list(sys.modules.values()):
            file = getattr(module, "__file__", None)
            if isinstance(file, str):
                inside = self._inside(file)
                if inside is not None and inside not in self._modules:
                    self._modules.add(inside)
                    found.append(inside)
        return sorted(found)

    @contextmanager
    def recording(self) -> Iterator[dict[str, Any]]:
        """Record one render; the dict is filled when it ends: ``read`` (absolute path → what
        was there), ``modules`` (module files loaded since the last record), ``untrusted``."""
        record: dict[str, Any] = {}
        if self._startup is None:  # what was read before the first render is read for every render
            self._startup = (set(self._paths or ()), self._untrusted)
        self._paths, self._untrusted = set(self._startup[0]), self._startup[1]
        try:
            yield record
        finally:
            paths, self._paths = self._paths, None
            record["read"] = {path: state(path, self.algorithm) for path in sorted(paths)}
            record["modules"] = self._loaded()
            record["untrusted"] = self._untrusted


_STARTED: list[Recorder] = []


def start() -> Recorder | None:
    """Start recording when the orchestrator asked for it (``RECORD_ENV``), before the worker
    imports anything else (``stacks/__main__.py``): files read while modules are imported are
    then part of every render's record. Its roots: the working folder (the project) and the
    folder the ``stacks`` package is imported from."""
    algorithm = os.environ.get(RECORD_ENV)
    if not algorithm:
        return None
    if not _STARTED:
        code = Path(sys.modules["stacks"].__file__ or ".").resolve().parents[1]
        _STARTED.append(Recorder([Path.cwd(), code], algorithm))
    return _STARTED[0]


def from_environment(project_dir: Path) -> Recorder | None:
    """The worker's recorder (``start``), when it records and renders the working folder."""
    recorder = start()
    if recorder is None or os.path.realpath(project_dir) + os.sep not in recorder.roots:
        return None
    return recorder
