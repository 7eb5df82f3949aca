"""How long ``python -m stacks diff`` takes: the example stacks sequential vs parallel, and
how 50 stacks compare with one (imports are paid per worker process, not per stack). The
working tree's code differs from the commit by a comment, so every stack renders at both
revisions (without a cache; ``benchmarks.fleet_bench`` measures changes on a fleet).

    python -m benchmarks.diff_bench [--repeat 3] [--json benchmarks/results/diff.json]
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.common import copy_project, timed
from stacks.commands.diff.compare import compare, default_workers
from stacks.commands.diff.many import discover


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=b@example.com", "-c", "user.name=bench", *args],
        check=True,
        capture_output=True,
    )


def project_copy(extra_stacks: int = 0) -> Path:
    """This project's tracked files in a fresh one-commit repo, plus ``extra_stacks`` dev copies."""
    root = Path(tempfile.mkdtemp(prefix="hikube-gpu-bench-"))
    copy_project(root, untracked=False)
    dev = (root / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    for index in range(extra_stacks):
        (root / f"Pulumi.customer-{index:03d}.yaml").write_text(
            dev.replace("tenant-dev", f"tenant-c{index:03d}"), encoding="utf-8"
        )
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "bench")
    with (root / "components" / "builders" / "names.py").open("a", encoding="utf-8") as code:
        code.write("\n# the code differs: every stack renders at both revisions\n")
    return root


def run(repeat: int) -> dict[str, Any]:
    cores = default_workers()
    examples = project_copy()
    many = project_copy(extra_stacks=50)
    try:
        stacks = discover(examples, examples=True)
        sequential = timed(lambda: compare(examples, "HEAD", workers=1), repeat)
        parallel = timed(lambda: compare(examples, "HEAD", workers=cores), repeat)
        one = timed(lambda: compare(many, "HEAD", stacks=["dev"], workers=cores), repeat)
        fifty = [s for s in discover(many) if s.startswith("customer-")]
        all_fifty = timed(lambda: compare(many, "HEAD", stacks=fifty, workers=cores), repeat)
    finally:
        shutil.rmtree(examples, ignore_errors=True)
        shutil.rmtree(many, ignore_errors=True)
    return {
        "machine": {"python": platform.python_version(), "cores": cores, "system": platform.platform()},
        "repeat": repeat,
        "example_stacks": len(stacks),
        "examples_sequential_s": round(sequential[0], 3),
        "examples_parallel_s": round(parallel[0], 3),
        "parallel_speedup": round(sequential[0] / parallel[0], 2),
        "one_stack_s": round(one[0], 3),
        "fifty_stacks_s": round(all_fifty[0], 3),
        "fifty_vs_one": round(all_fifty[0] / one[0], 2),
        "spread": {
            "examples_sequential": round(sequential[1], 3),
            "examples_parallel": round(parallel[1], 3),
            "one_stack": round(one[1], 3),
            "fifty_stacks": round(all_fifty[1], 3),
        },
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        ("example stacks, 1 worker", f"{result['examples_sequential_s']} s"),
        (f"example stacks, {result['machine']['cores']} workers", f"{result['examples_parallel_s']} s"),
        ("parallel speed-up", f"{result['parallel_speedup']}x"),
        ("1 stack", f"{result['one_stack_s']} s"),
        ("50 stacks", f"{result['fifty_stacks_s']} s"),
        ("50 stacks / 1 stack", f"{result['fifty_vs_one']}x"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"diff benchmark ({result['example_stacks']} example stacks, median of {result['repeat']})"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def main() -> None:
    os.environ.setdefault("CI", "1")  # the diff's progress: plain lines
    common.main(__doc__.split("\n")[0], run, table, repeat=3)


if __name__ == "__main__":
    main()
