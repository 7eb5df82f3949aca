"""A small derandomized budget of the mutation fuzzer (``tests/fuzz_mutation.py``); the long
budget is ``make fuzz``. Every case must end cleanly: no crash, no hang, no leaked secret."""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import fuzz_mutation as fm

SEED = 20261129
CASES = 150


def test_seeds_cover_every_example_stack_and_carry_the_secret_sentinel() -> None:
    seeds = fm.seeds()
    examples = {path.name for path in fm.PROJECT_DIR.glob("Pulumi.*.yaml")}
    assert examples <= set(seeds)
    assert any(fm.SENTINEL.encode() in text for text in seeds.values())


def test_mutations_are_deterministic_and_change_the_text() -> None:
    bases = fm.seeds()
    first = [fm.case(SEED, index, bases) for index in range(20)]
    assert first == [fm.case(SEED, index, bases) for index in range(20)]
    assert sum(data != bases[name] for name, data in first) >= 18


def test_every_mutated_stack_ends_cleanly_in_process() -> None:
    start = time.monotonic()
    outcomes = fm.fuzz(SEED, range(CASES))
    bad = [o for o in outcomes if o.bad]
    assert bad == [], bad[:5]
    kinds = Counter(o.kind for o in outcomes)
    assert {"valid", "file error", "config error"} <= set(kinds), kinds  # the budget reaches every end
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("index", [3, 11])
def test_mutated_stacks_end_cleanly_through_the_cli(tmp_path: Path, index: int) -> None:
    name, data = fm.case(SEED, index, fm.seeds())
    outcome = fm.run_cli(index, name, data, tmp_path)
    assert not outcome.bad, outcome


def test_a_mutated_stack_ends_cleanly_through_the_diff(tmp_path: Path) -> None:
    base = fm.seeds()["Pulumi.dev.yaml"]
    repo = fm.diff_repo(tmp_path, base)
    data = fm.mutate(random.Random(SEED), base)
    outcome = fm.run_diff(0, "Pulumi.dev.yaml", data, repo)
    assert not outcome.bad, outcome


def test_the_oracle_catches_a_crash_and_a_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle is not vacuous: an escaping exception is a crash, the sentinel a leak."""

    def explode() -> None:
        raise RecursionError("boom")

    monkeypatch.setattr("stacks.program.main.main", explode)
    data = fm.seeds()["Pulumi.dev.yaml"]
    with tempfile.TemporaryDirectory() as folder:
        assert fm.run_case(0, "dev", data, Path(folder)).kind == "crash"
    monkeypatch.undo()
    leaky = data + f"\n  hikube-gpu:{fm.SENTINEL}: 1\n".encode()
    with tempfile.TemporaryDirectory() as folder:
        assert fm.run_case(0, "dev", leaky, Path(folder)).kind == "leak"
