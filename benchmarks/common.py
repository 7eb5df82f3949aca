"""What every benchmark shares: timing with medians and spread, and the command line."""

from __future__ import annotations

import argparse
import json
import statistics
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
