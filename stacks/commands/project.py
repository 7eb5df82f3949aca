"""Which project a command acts on: the nearest ``Pulumi.yaml`` from the current folder up,
found the way the Pulumi CLI finds it (no Pulumi import: every command starts here).

Pulumi's ``DetectProjectPathFrom`` (pulumi/pulumi v3.259.0,
``sdk/go/common/workspace/paths.go`` lines 101-129) walks from the folder to the root
(``fsutil.WalkUpDirs``, ``sdk/go/common/util/fsutil/walkup.go`` line 80) and stops at the
first folder with a project file, trying the extensions of ``encoding.Exts`` in order:
``.json``, ``.yaml``, ``.yml`` (``sdk/go/common/encoding/marshal.go`` lines 37-42,
``findProjectInDir`` in ``paths.go`` line 212); a file it cannot stat is no project file
(``isMarkupFile``, line 254). ``pulumi -C DIR`` / ``--cwd DIR`` changes into DIR first
(``pkg/cmd/pulumi/pulumi.go`` lines 318 and 451); ``hikube-gpu -C DIR`` does the same.
(v3.259.0: the newest tag of the copy read; ``.pulumi-version`` pins a later release.)
"""

from __future__ import annotations

from pathlib import Path

PROJECT_FILES = ("Pulumi.json", "Pulumi.yaml", "Pulumi.yml")
"""The names Pulumi looks for in each folder, in its order (``encoding.Exts``)."""
READ = "Pulumi.yaml"
"""The only one of them this project's loader reads (``stacks.loading.stack_file``)."""
PROJECT_DIR_HELP = "folder holding Pulumi.yaml (default: the nearest one from the current folder up)"


class NoProjectError(Exception):
    """No project file from the folder up to the root, or one hikube-gpu cannot read."""


def _project_file(folder: Path) -> Path | None:
    for name in PROJECT_FILES:
        try:
            if (folder / name).is_file():
                return folder / name
        except OSError:  # cannot be stat'ed: not a project file, as in Pulumi's isMarkupFile
            continue
    return None


def find_project(start: Path) -> Path:
    """The folder of the nearest project file from ``start`` up (``NoProjectError`` if none,
    or if the nearest is a ``Pulumi.json`` or ``Pulumi.yml``, which the loader does not read)."""
    start = start.absolute()
    for folder in (start, *start.parents):
        found = _project_file(folder)
        if found is None:
            continue
        if found.name != READ:
            raise NoProjectError(f"{found}: hikube-gpu reads the project from {READ}; rename it")
        return folder
    raise NoProjectError(
        f"no {READ} in {start} or any folder above it: run hikube-gpu inside a Pulumi project, "
        "or give one with -C DIR"
    )
