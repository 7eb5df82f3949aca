"""A mutation fuzzer over stack-file TEXT, run through the real entry points.

Seeds are the example stacks (``Pulumi.*.yaml``) and the test stacks, with a secret sentinel
in ``secure:`` values. Each case applies 1-3 text mutations of the kinds a person, an editor
or a merge makes, then runs the loader (``load_stack_file``) and the real program under the
offline engine; a sample also runs ``python -m stacks preview --config-file`` and a few run
``python -m stacks diff`` in a two-commit temporary repository.

The oracle: every case ends (a wall-clock bound per case), as a valid stack or a clean error
(exit 0 or 2; no exception escapes, nothing logged as an error), with no traceback text and
no secret sentinel in any output.

    python -m tests.fuzz_mutation --cases 5000 [--seed 1] [--workers 2] [--cli 40] [--diff 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from benchmarks.common import PROJECT_DIR, copy_project

SENTINEL = "FUZZ-SECRET-SENTINEL-5d1e"
CASE_SECONDS = 30.0
"""Wall-clock bound of one in-process case (loader and program); past it the case hangs."""
CLI_SECONDS = 60.0
STALL_SECONDS = 10.0
"""The offline engine's stall bound in fuzz runs (the default is longer)."""

# --- seeds ---------------------------------------------------------------------------------


def _secret_seed() -> str:
    """The dev stack with ``secure:`` values holding the sentinel (kubeconfig, an SSH key)."""
    text = (PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    return text.rstrip("\n") + f"\n  hikube-gpu:kubeconfig:\n    secure: v1:{SENTINEL}-kubeconfig\n"


def _test_stacks() -> dict[str, str]:
    from tests.cluster_stacks import cluster_stack
    from tests.platform_stacks import platform_stack

    stacks = {"cluster": cluster_stack(), "platform": platform_stack("mixed")}
    return {
        f"test-{name}": yaml.safe_dump(
            {"config": {f"hikube-gpu:{key}": value for key, value in config.items()}}, sort_keys=False
        )
        for name, config in stacks.items()
    }


def seeds() -> dict[str, bytes]:
    """Seed name → stack file text: every example stack, the test stacks, a secret-bearing one."""
    texts = {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(
            [*PROJECT_DIR.glob("Pulumi.*.yaml"), *PROJECT_DIR.glob("examples/stacks/Pulumi.*.yaml")]
        )
    }
    texts |= _test_stacks()
    texts["secret-dev"] = _secret_seed()
    return {name: text.encode() for name, text in texts.items()}


# --- mutations ----------------------------------------------------------------------------

TOKENS = (
    "&a ", "*a", "!!binary ", "!!set ", "!!omap ", "!foo ", "? [a, b]\n: ", "{", "}", "[", "]", "- ", ": ",
    "2024-05-01", "2024-05-01T10:00:00Z", "-1", "0", "-0.5", "1e400", "1.0e400", "99999999999999999999999",
    "-5Gi", "0Gi", "1e3Gi", "~", "null", "yes", "off", "0x1F", "0o17", "1:30", ".inf", "-.nan", "'", '"',
    "#", "|", ">-", "%YAML 1.1", "@", "`", "<<: *a", "\t", "\x00", "\ufeff", "\u2028", "---\n", "...\n",
    "[" * 70 + "]" * 70, "[" * 2000, "{a: " * 80 + "}" * 80, "&a [*a]", "!!python/object:os.system ",
)  # fmt: skip
VALUES = (
    "-1", "0", "1e400", "-5Gi", "99999999999999999999999", "9223372036854775808", "2024-05-01", "~",
    "[]", "{}", "[1, 2]", "{1: a}", "!!binary aGVsbG8=", "!!set {a, b}", "&x [*x]", "true", "yes", "''",
    "'" + "x" * 300 + "'", "[" * 70 + "]" * 70, "1.5", "-65536", "65536", "4294967296", "0x10", "1:30",
    f"{{secure: v1:{SENTINEL}-value}}", "*undefined",
)  # fmt: skip
BOMB = "  hikube-gpu:bomb:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"    {chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7)
)

Lines = list[str]
Mutation = Callable[[random.Random, Lines], Lines]


def _at(rng: random.Random, lines: Lines) -> int:
    return rng.randrange(len(lines)) if lines else 0


def _delete(rng: random.Random, lines: Lines) -> Lines:
    index = _at(rng, lines)
    return lines[:index] + lines[index + 1 :]


def _duplicate(rng: random.Random, lines: Lines) -> Lines:
    index = _at(rng, lines)
    return lines[: index + 1] + lines[index : index + 1] + lines[index + 1 :]


def _swap(rng: random.Random, lines: Lines) -> Lines:
    if len(lines) < 2:
        return lines
    a, b = rng.sample(range(len(lines)), 2)
    lines = list(lines)
    lines[a], lines[b] = lines[b], lines[a]
    return lines


def _indent(rng: random.Random, lines: Lines) -> Lines:
    index = _at(rng, lines)
    lines = list(lines)
    if lines:
        change = rng.choice(("  ", " ", "\t", "-1", "-2", "-4"))
        line = lines[index]
        lines[index] = line[int(change[1:]) :] if change.startswith("-") else change + line
    return lines


def _insert_token(rng: random.Random, lines: Lines) -> Lines:
    index = _at(rng, lines)
    lines = list(lines) or [""]
    line = lines[index]
    position = rng.randint(0, len(line))
    lines[index] = line[:position] + rng.choice(TOKENS) + line[position:]
    return lines


def _replace_value(rng: random.Random, lines: Lines) -> Lines:
    candidates = [i for i, line in enumerate(lines) if re.search(r"(: |- )\S", line)]
    if not candidates:
        return _insert_token(rng, lines)
    index = rng.choice(candidates)
    lines = list(lines)
    lines[index] = re.sub(
        r"((?:: |- ))\S.*$", lambda m: m.group(1) + rng.choice(VALUES), lines[index], count=1
    )
    return lines


def _flip_key(rng: random.Random, lines: Lines) -> Lines:
    candidates = [i for i, line in enumerate(lines) if re.match(r"^\s*[-\w.:]+:", line)]
    if not candidates:
        return _insert_token(rng, lines)
    index = rng.choice(candidates)
    lines = list(lines)
    key = re.match(r"^(\s*)([-\w.:]+):", lines[index])
    assert key is not None
    new = rng.choice(
        (key[2].upper(), key[2][:-1], key[2] + "x", "1", "true", "~", "? [a, b]\n" + key[1], "<<")
    )
    lines[index] = key[1] + new + lines[index][key.end() - 1 :]
    return lines


def _merge_conflict(rng: random.Random, lines: Lines) -> Lines:
    if not lines:
        return ["<<<<<<< HEAD", "=======", ">>>>>>> branch"]
    start = _at(rng, lines)
    end = min(len(lines), start + rng.randint(1, 6))
    block = lines[start:end]
    theirs = _replace_value(rng, block) if rng.random() < 0.5 else block
    return [*lines[:start], "<<<<<<< HEAD", *block, "=======", *theirs, ">>>>>>> feature/x", *lines[end:]]


def _deep(rng: random.Random, lines: Lines) -> Lines:
    depth = rng.choice((40, 65, 300, 3000))
    nested = rng.choice(("[" * depth + "]" * depth, "{a: " * depth + "1" + "}" * depth))
    return [*lines, f"  hikube-gpu:deep: {nested}"]


def _bomb(rng: random.Random, lines: Lines) -> Lines:
    return [*lines, *BOMB.rstrip("\n").split("\n")]


def _secure(rng: random.Random, lines: Lines) -> Lines:
    candidates = [i for i, line in enumerate(lines) if re.search(r": \S", line)]
    if not candidates:
        return lines
    index = rng.choice(candidates)
    lines = list(lines)
    lines[index] = re.sub(r": \S.*$", f": {{secure: v1:{SENTINEL}-{index}}}", lines[index], count=1)
    return lines


TEXT_MUTATIONS: tuple[Mutation, ...] = (
    _delete, _duplicate, _swap, _indent, _insert_token, _insert_token, _replace_value, _replace_value,
    _flip_key, _merge_conflict, _deep, _bomb, _secure,
)  # fmt: skip


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _random_bytes(rng: random.Random, data: bytes) -> bytes:
    position = rng.randrange(len(data) + 1)
    return data[:position] + rng.randbytes(rng.randint(1, 16)) + data[position:]


def mutate(rng: random.Random, data: bytes) -> bytes:
    """1-3 mutations: mostly line edits, sometimes a truncation or random bytes."""
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.07:
            data = _truncate(rng, data)
        elif roll < 0.14:
            data = _random_bytes(rng, data)
        else:
            lines = data.decode("utf-8", errors="replace").split("\n")
            data = "\n".join(rng.choice(TEXT_MUTATIONS)(rng, lines)).encode("utf-8", errors="replace")
    return data


def case(seed: int, index: int, bases: dict[str, bytes]) -> tuple[str, bytes]:
    """Case ``index`` of run ``seed``: the seed stack it comes from and its mutated text."""
    rng = random.Random(f"{seed}:{index}")
    name = rng.choice(sorted(bases))
    return name, mutate(rng, bases[name])


# --- the oracle ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    index: int
    seed: str
    kind: str
    """``valid``, ``file error``, ``config error`` (clean ends) or ``crash``, ``hang``, ``leak``."""
    detail: str
    seconds: float

    @property
    def bad(self) -> bool:
        return self.kind in ("crash", "hang", "leak")


class _Hang(BaseException):
    """The case ran past its wall-clock bound (raised by SIGALRM in the main thread)."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _shape(message: str) -> str:
    """A message with its specifics removed, to count distinct outcomes."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "…", message.split("\n")[-1 if "problem" in message else 0])
    return re.sub(r"/\S+|\d[\d,.]*", "#", message)[:90]


def run_case(index: int, name: str, data: bytes, folder: Path) -> Outcome:
    """The loader, then the real program under the offline engine, in this process."""
    from stacks.commands.preview.engine import OfflineTimeout, run_offline
    from stacks.commands.preview.report import preview_text
    from stacks.loading.problems import ConfigError
    from stacks.loading.stack_file import StackFileError, load_stack_file
    from stacks.program.main import main as program

    path = folder / "Pulumi.fuzz.yaml"
    path.write_bytes(data)
    start = time.monotonic()
    texts: list[str] = []
    try:
        with _deadline(CASE_SECONDS):
            try:
                config = load_stack_file(PROJECT_DIR, "fuzz", path)
            except StackFileError as error:
                texts.append(str(error))
                kind, detail = "file error", _shape(str(error))
            else:
                run = run_offline(config, program, timeout=STALL_SECONDS)
                texts += [*run.errors, *run.warnings, str(run.failure or "")]
                if isinstance(run.failure, OfflineTimeout):
                    kind, detail = "hang", str(run.failure)
                elif isinstance(run.failure, ConfigError):
                    kind, detail = "config error", _shape(str(run.failure.problems[0]))
                elif run.failure is not None or run.errors:
                    kind, detail = "crash", f"not a clean end: {run.failure!r} {run.errors[:1]}"
                else:
                    texts.append(preview_text(run))
                    kind, detail = "valid", ""
    except _Hang:
        kind, detail = "hang", f"past {CASE_SECONDS:g} s"
    except Exception as error:  # the oracle: nothing escapes
        kind, detail = "crash", f"{type(error).__name__}: {str(error)[:200]}"
    if kind not in ("crash", "hang") and any(SENTINEL in text or "Traceback" in text for text in texts):
        kind, detail = "leak", "sentinel or traceback in the output"
    return Outcome(index, name, kind, detail, time.monotonic() - start)


def run_cli(index: int, name: str, data: bytes, folder: Path) -> Outcome:
    """``python -m stacks preview --config-file``: exit 0 or 2, no traceback, no sentinel."""
    path = folder / "Pulumi.fuzz.yaml"
    path.write_bytes(data)
    start = time.monotonic()
    command = [sys.executable, "-m", "stacks", "preview", "--config-file", str(path)]
    try:
        done = subprocess.run(command, check=False, capture_output=True, cwd=PROJECT_DIR, timeout=CLI_SECONDS)
    except subprocess.TimeoutExpired:
        return Outcome(index, name, "hang", f"cli past {CLI_SECONDS:g} s", time.monotonic() - start)
    return _cli_outcome(index, name, done, (0, 2), time.monotonic() - start)


def _cli_outcome(
    index: int, name: str, done: subprocess.CompletedProcess[bytes], codes: tuple[int, ...], seconds: float
) -> Outcome:
    output = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    if done.returncode not in codes or "Traceback" in output:
        return Outcome(index, name, "crash", f"exit {done.returncode}: {output[-300:]}", seconds)
    if SENTINEL in output:
        return Outcome(index, name, "leak", "sentinel in the output", seconds)
    return Outcome(index, name, f"cli exit {done.returncode}", "", seconds)


def diff_repo(folder: Path, base: bytes) -> Path:
    """A repository of this project's code with ``base`` committed as stack ``fuzz``."""
    root = folder / "repo"
    copy_project(root, lambda name: not (name.startswith("Pulumi.") and name != "Pulumi.yaml"))
    (root / "Pulumi.fuzz.yaml").write_bytes(base)
    git = ["git", "-C", str(root), "-c", "user.email=f@example.com", "-c", "user.name=f"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    return root


def run_diff(index: int, name: str, data: bytes, repo: Path) -> Outcome:
    """``python -m stacks diff --base HEAD`` with the mutated file in the working tree:
    exit 0 (no change), 1 (changes) or 2 (the stack failed), no traceback, no sentinel."""
    (repo / "Pulumi.fuzz.yaml").write_bytes(data)
    start = time.monotonic()
    command = [sys.executable, "-m", "stacks", "diff", "--base", "HEAD", "--project-dir", str(repo)]
    try:
        done = subprocess.run(
            [*command, "--workers", "1"], check=False, capture_output=True, cwd=repo, timeout=CLI_SECONDS * 2
        )
    except subprocess.TimeoutExpired:
        return Outcome(index, name, "hang", "diff past its bound", time.monotonic() - start)
    return _cli_outcome(index, name, done, (0, 1, 2), time.monotonic() - start)


# --- budgets ------------------------------------------------------------------------------


def fuzz(seed: int, indices: range, cli_every: int = 0) -> list[Outcome]:
    """Run the cases ``indices`` of run ``seed`` in this process (every ``cli_every``-th also
    through the CLI)."""
    bases = seeds()
    outcomes = []
    with tempfile.TemporaryDirectory() as folder:
        for index in indices:
            name, data = case(seed, index, bases)
            outcomes.append(run_case(index, name, data, Path(folder)))
            if cli_every and index % cli_every == 0:
                outcomes.append(run_cli(index, name, data, Path(folder)))
    return outcomes


def _worker(job: tuple[int, int, int, int]) -> list[dict[str, Any]]:
    seed, start, stop, cli_every = job
    return [vars(outcome) for outcome in fuzz(seed, range(start, stop), cli_every)]


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    kinds = Counter(o.kind for o in outcomes)
    distinct = Counter(f"{o.kind}: {o.detail}" for o in outcomes if not o.bad)
    return {
        "cases": len({o.index for o in outcomes}),
        "runs": len(outcomes),
        "kinds": dict(sorted(kinds.items())),
        "distinct_outcomes": len(distinct),
        "crashes": kinds["crash"],
        "hangs": kinds["hang"],
        "leaks": kinds["leak"],
        "slowest_seconds": round(max((o.seconds for o in outcomes), default=0.0), 2),
        "bad": [vars(o) for o in outcomes if o.bad][:50],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=max(1, (multiprocessing.cpu_count() or 1)))
    parser.add_argument("--cli", type=int, default=50, help="cases also run through the CLI")
    parser.add_argument("--diff", type=int, default=10, help="cases also run through `stacks diff`")
    parser.add_argument("--json", type=Path, help="write the summary here")
    args = parser.parse_args()
    started = time.monotonic()
    cli_every = max(1, args.cases // args.cli) if args.cli else 0
    chunk = 50
    jobs = [(args.seed, s, min(s + chunk, args.cases), cli_every) for s in range(0, args.cases, chunk)]
    outcomes: list[Outcome] = []
    with multiprocessing.get_context("spawn").Pool(args.workers, maxtasksperchild=4) as pool:
        for done, rows in enumerate(pool.imap_unordered(_worker, jobs), 1):
            outcomes += [Outcome(**row) for row in rows]
            print(f"\r{done}/{len(jobs)} chunks", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    bases = seeds()
    with tempfile.TemporaryDirectory() as folder:
        repo = diff_repo(Path(folder), bases["Pulumi.dev.yaml"]) if args.diff else Path(folder)
        for index in range(args.diff):
            name, data = case(args.seed, args.cases + index, {"Pulumi.dev.yaml": bases["Pulumi.dev.yaml"]})
            outcomes.append(run_diff(args.cases + index, name, data, repo))
    result = summary(outcomes) | {"seconds": round(time.monotonic() - started, 1), "seed": args.seed}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 1 if result["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
