"""Which stacks a project has, where their files are, and what marks a render folder. No
Pulumi import: the diff orchestrator and ``hikube-gpu list`` start fast.

Stacks are the ``Pulumi.<stack>.yaml`` files of Pulumi.yaml's ``stackConfigDir`` (default: the
project folder), as the Pulumi CLI finds them. Examples are the ``Pulumi.<stack>.yaml`` files
of ``examples/stacks/``: rendered, diffed and tested offline, never previewed live or deployed.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from pathlib import Path
from typing import Any

from stacks.loading import yaml_subset
from stacks.loading.limits import MAX_FILE_BYTES, LimitError

RENDER_MARKER = ".hikube-gpu-render"
"""File a render writes into its folder; a render only replaces folders that have it."""

STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
"""A stack name Pulumi accepts: 1-100 letters, digits, ``-``, ``_``, ``.``
(pulumi ``sdk/go/common/tokens/stack_name.go``, ``ParseStackName``)."""
FOLDER_NAMES = frozenset({".", ".."})
"""Names Pulumi accepts but that also name folders: a render is written to ``<out>/<stack>``."""


EXAMPLES_DIR = Path("examples") / "stacks"
"""Where the example stacks live, relative to the project folder."""


class StackNameError(ValueError):
    """A stack file or ``--stack`` names a stack Pulumi (or a render folder) cannot have, or
    Pulumi.yaml's ``stackConfigDir`` cannot be used."""


@functools.lru_cache(maxsize=8)
def _parsed(data: bytes) -> Any:
    """Pulumi.yaml's value, parsed once per content (callers only read it)."""
    return yaml_subset.load(data)


def _project_file(project_dir: Path) -> Any:
    try:
        with (project_dir / "Pulumi.yaml").open("rb") as file:
            return _parsed(file.read(MAX_FILE_BYTES + 1))
    except FileNotFoundError:
        return None
    except (OSError, LimitError) as error:
        raise StackNameError(f"Pulumi.yaml cannot be read: {error}") from None


def inside(project_dir: Path, path: Path) -> bool:
    """``path`` is in the project folder once symlinks are followed (a missing path is
    judged by the part of it that exists)."""
    return path.resolve().is_relative_to(project_dir.resolve())


def stack_dir_of(project: Any) -> str:
    """The stack folder a parsed Pulumi.yaml names (``stackConfigDir``), relative to the project
    folder with ``/`` separators; ``""`` for the project folder itself. ``StackNameError`` for a
    name that leads outside it (``stack_config_dir`` also follows symlinks)."""
    folder = project.get("stackConfigDir") if isinstance(project, dict) else None
    if folder is None or folder == "":
        return ""
    if not isinstance(folder, str) or Path(folder).is_absolute() or ".." in Path(folder).parts:
        raise StackNameError("Pulumi.yaml: stackConfigDir must be a folder inside the project")
    posix = Path(folder).as_posix()
    return "" if posix == "." else posix


def stack_config_dir(project_dir: Path) -> Path:
    """The folder of the stack files: Pulumi.yaml's ``stackConfigDir``, relative to the
    project folder (default: the project folder itself). A folder that leads outside the
    project, by its name or through a symlink, is refused: whatever it holds would be read
    and shown as this project's stacks."""
    folder = stack_dir_of(_project_file(project_dir))
    if not folder:
        return project_dir
    if not inside(project_dir, project_dir / folder):
        raise StackNameError(
            "Pulumi.yaml: stackConfigDir must be a folder inside the project; "
            f"{folder!r} is a symlink that leads outside it"
        )
    return project_dir / folder


def stack_file_path(project_dir: Path, stack: str) -> Path:
    """``Pulumi.<stack>.yaml`` in the stack folder, else in ``examples/stacks/`` if it is an
    example; the stack folder's path when neither exists (its error names that file). A stack
    file that is a symlink leading outside the project is refused (``StackNameError``)."""
    path = stack_config_dir(project_dir) / f"Pulumi.{stack}.yaml"
    example = project_dir / EXAMPLES_DIR / f"Pulumi.{stack}.yaml"
    chosen = example if not path.exists() and example.exists() else path
    if not inside(project_dir, chosen):
        raise StackNameError(_outside(project_dir, chosen))
    return chosen


def _outside(project_dir: Path, path: Path) -> str:
    shown = path.relative_to(project_dir) if path.is_relative_to(project_dir) else path
    return f"{shown.as_posix()} is a symlink that leads outside the project; a stack file must be in it"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a stack name, or None."""
    if name in FOLDER_NAMES:
        return "'.' and '..' name folders, not stacks"
    if not STACK_NAME.fullmatch(name):
        return "a stack name has 1 to 100 letters, digits, '-', '_' or '.' (Pulumi's rule)"
    return None


def _names(project_dir: Path, folder: Path) -> tuple[list[str], list[str], list[str]]:
    """The stack names of ``folder``'s stack files, the files whose name Pulumi refuses (with
    why), and the files that are symlinks leading outside the project."""
    names, refused, outside = [], [], []
    folder_inside = inside(project_dir, folder)  # then a file that is no symlink is inside too
    for entry in _stack_entries(folder):
        name = entry.name.removeprefix("Pulumi.").removesuffix(".yaml")
        problem = name_problem(name)
        path = folder / entry.name
        if problem is not None:
            refused.append(f"{entry.name!r} ({problem})")
        elif (entry.is_symlink() or not folder_inside) and not inside(project_dir, path):
            outside.append(_outside(project_dir, path))
        else:
            names.append(name)
    return names, refused, outside


def _stack_entries(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` that ``folder.glob("Pulumi.*.yaml")`` finds, sorted by name:
    one listing (its entries know whether they are symlinks) instead of a path and an
    ``lstat`` each (a fleet's folder holds thousands)."""
    try:
        with os.scandir(folder) as entries:
            found = [entry for entry in entries if fnmatch.fnmatchcase(entry.name, "Pulumi.*.yaml")]
    except OSError:
        return []
    return sorted(found, key=lambda entry: entry.name)


def stack_of_file(file_name: str) -> str | None:
    """The stack a file named ``Pulumi.<stack>.yaml`` is for (None for other names), as the
    ``Pulumi.*.yaml`` glob of ``discover`` finds it."""
    if (
        len(file_name) >= len("Pulumi..yaml")
        and file_name.startswith("Pulumi.")
        and file_name.endswith(".yaml")
    ):
        return file_name[len("Pulumi.") : -len(".yaml")]
    return None


def names_in(file_names: list[str], example_names: list[str] | None = None) -> list[str]:
    """``discover``'s names and errors from lists of file names (of the stack folder and, when
    given, of the examples folder) instead of folders: the stacks a revision's file list holds
    (symlinks are ``stacks.commands.diff.git_tree``'s to check)."""
    names, refused = _names_of(file_names)
    if example_names is not None:
        extra, also_refused = _names_of(example_names)
        refused += also_refused
        names = _with_examples(names, extra)
    _refuse(refused)
    return names


def _with_examples(names: list[str], examples: list[str]) -> list[str]:
    """The stacks and the example stacks, sorted; ``StackNameError`` when an example is named
    like a stack."""
    clash = sorted(set(names) & set(examples))
    if clash:
        raise StackNameError(f"{EXAMPLES_DIR} has stacks named like real ones: {', '.join(clash)}")
    return sorted(names + examples)


def _refuse(refused: list[str]) -> None:
    """``StackNameError`` naming every stack file whose name Pulumi would refuse, if any."""
    if refused:
        raise StackNameError(f"stack files with an invalid stack name: {', '.join(refused)}; rename them")


def _names_of(file_names: list[str]) -> tuple[list[str], list[str]]:
    names, refused = [], []
    for file_name in sorted(file_names):
        name = stack_of_file(file_name)
        if name is None:
            continue
        problem = name_problem(name)
        if problem is None:
            names.append(name)
        else:
            refused.append(f"{file_name!r} ({problem})")
    return names, refused


def discover(project_dir: Path, *, examples: bool = False) -> list[str]:
    """The stacks of a project: one per ``Pulumi.<stack>.yaml`` in its stack folder, sorted;
    with ``examples``, the example stacks too.

    Raises ``StackNameError`` naming every file whose stack name Pulumi would refuse, every
    stack file that is a symlink leading outside the project, and an example named like a stack.
    """
    names, refused, outside = _names(project_dir, stack_config_dir(project_dir))
    if examples:
        extra, also_refused, also_outside = _names(project_dir, project_dir / EXAMPLES_DIR)
        refused += also_refused
        outside += also_outside
        names = _with_examples(names, extra)
    _refuse(refused)
    if outside:
        raise StackNameError("; ".join(outside))
    return names


def examples(project_dir: Path) -> list[str]:
    """The example stacks (``examples/stacks/Pulumi.<stack>.yaml``), sorted."""
    return sorted(set(discover(project_dir, examples=True)) - set(discover(project_dir)))
