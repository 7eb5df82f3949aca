"""What every benchmark shares: timing with medians and spread, and the command line."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(median seconds, spread = (max - min) / median, the last result) of ``repeat`` runs."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return median, (max(times) - min(times)) / median if median else 0.0, result


def main(
    description: str,
    run: Callable[[int], dict[str, Any]],
    table: Callable[[dict[str, Any]], str],
    repeat: int,
) -> None:
    """``--repeat N`` and ``--json PATH``: run, print the table, write the result."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.repeat)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")


PROJECT_DIR = Path(__file__).resolve().parents[1]


def copy_project(
    root: Path, keep: Callable[[str], bool] = lambda _name: True, *, untracked: bool = True
) -> None:
    """Copy this project's files that ``keep`` accepts (by repository-relative name) into
    ``root``: the tracked ones and, with ``untracked``, the new ones git does not ignore, so a
    test or benchmark repository sees the working tree as it is."""
    command = ["git", "-C", str(PROJECT_DIR), "ls-files", "--cached"]
    if untracked:
        command += ["--others", "--exclude-standard"]
    names = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        source = PROJECT_DIR / name
        if source.is_file() and keep(name):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)


def page_command(
    argv: list[str] | None,
    *,
    description: str,
    results: Path,
    page_path: Path,
    page: Callable[[dict[str, Any]], str],
    module: str,
) -> int:
    """The command of a generated performance page: write ``page`` of the ``--json`` results to
    ``--out``, or with ``--check`` exit 1 when the page there is not up to date."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, default=results)
    parser.add_argument("--out", type=Path, default=page_path)
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not up to date")
    args = parser.parse_args(argv)
    text = page(json.loads(args.json.read_text(encoding="utf-8")))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python -m {module}", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0
