"""Every API answer is untrusted: ``doctor`` and ``verify`` against mutated recorded objects.

For each recorded world (doctor's tenant and platform, verify's tenant and platform), a baseline
run records every field the checks read (each ``Json`` value built from an answer). Each case
then serves the world with one change and runs the command through the real client:

- shape: a field that is read becomes ``null``, or a value of another JSON type (a list for an
  object, a number for a string…); a field that was absent becomes ``null``;
- transport: an answer becomes a 500, JSON cut in half, a connection closed mid-body, a JSON
  list instead of an object, or an answer slower than the read timeout.

The property: no traceback; the run ends with 0 or 1 (one bad answer never stops it); and every
check either says what the unmutated world made it say, word for word, or says "can't tell".
So a malformed answer never produces a verdict the real objects would not give.

By default a seeded sample of the shape cases runs (``SAMPLE`` per world, every transport case
always); ``HIKUBE_GPU_ALL_MUTATIONS=1`` runs every case.
"""

from __future__ import annotations

import copy
import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.doctor import shape
from stacks.commands.doctor.shape import Json, where_of
from tests.fake_api import Answer, FakeApi, kubeconfig, running, status

SAMPLE = 60
SEED = 23
DELAY = 1.5
"""Seconds a slow answer takes; runs with a slow answer wait at most ``SLOW_TIMEOUT`` for one."""
SLOW_TIMEOUT = 0.4


@dataclass(frozen=True)
class Outcome:
    code: int
    lines: dict[tuple[str, str], tuple[str, str]]
    """(check, subject) → (status, the whole line with its fix)."""
    text: str


Runner = Callable[[bool], Outcome]
"""Runs the command once (``slow``: with a read timeout shorter than ``DELAY``)."""


def doctor_outcome(code: int, out: str, err: str) -> Outcome:
    lines: dict[tuple[str, str], tuple[str, str]] = {}
    rows = out.splitlines()
    for index, row in enumerate(rows):
        status_ = "can't tell" if row.startswith("can't tell") else row.split(" ", 1)[0]
        if status_ not in ("ok", "differs", "can't tell") or not row[11:12].strip():
            continue
        name = row[11:].split()[0]
        fix = rows[index + 1] if index + 1 < len(rows) and rows[index + 1].strip().startswith("fix:") else ""
        lines[(name, "")] = (status_, row + "\n" + fix)
    return Outcome(code, lines, out + err)


def verify_outcome(code: int, out: str, err: str, report: Path) -> Outcome:
    found = json.loads(report.read_text()) if report.exists() else {"checks": []}
    lines = {
        (c["check"], c["subject"]): (c["status"], f"{c['detail']} | {c['fix']}") for c in found["checks"]
    }
    return Outcome(code, lines, out + err)


def record_reads(monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, tuple[Any, ...], bool]]:
    """Record (request path, field, present) of every ``Json`` built from an answer."""
    seen: set[tuple[str, tuple[Any, ...], bool]] = set()
    original = Json.__init__

    def recording(self: Json, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        seen.add((self.source, self.keys, self.present))

    monkeypatch.setattr(Json, "__init__", recording)
    return seen


def other_type(value: Any) -> Any:
    """A value of another JSON type than ``value`` (every reader wants exactly one type)."""
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return {"mutated": 1}
    if isinstance(value, dict):
        return ["mutated"]
    return "mutated"


def set_at(body: Any, keys: tuple[Any, ...], value: Any) -> bool:
    """Set the field at ``keys`` of ``body`` (a missing last key is added); False if unreachable."""
    node = body
    for key in keys[:-1]:
        if (isinstance(key, int) and isinstance(node, list) and key < len(node)) or (
            isinstance(key, str) and isinstance(node, dict) and key in node
        ):
            node = node[key]
        else:
            return False
    last = keys[-1]
    if (isinstance(last, int) and isinstance(node, list) and last < len(node)) or (
        isinstance(last, str) and isinstance(node, dict)
    ):
        node[last] = value
    else:
        return False
    return True


def get_at(body: Any, keys: tuple[Any, ...]) -> Any:
    for key in keys:
        body = body[key]
    return body


@dataclass(frozen=True)
class Case:
    name: str
    api: FakeApi
    path: str
    answer: Answer
    slow: bool = False


def shape_cases(apis: list[FakeApi], reads: set[tuple[str, tuple[Any, ...], bool]]) -> list[Case]:
    cases = []
    for source, keys, present in sorted(reads, key=lambda r: (r[0], where_of(r[1]), r[2])):
        if not keys:
            continue
        for api in apis:
            route = api.routes.get(source)
            if (
                not isinstance(route, Answer)
                or not isinstance(route.body, dict)
                or not 200 <= route.code < 300
            ):
                continue
            replacements = [None]
            if present:
                try:
                    replacements.append(other_type(get_at(route.body, keys)))
                except (KeyError, IndexError, TypeError):
                    continue
            for value in replacements:
                body = copy.deepcopy(route.body)
                if set_at(body, keys, value):
                    label = f"{source} {where_of(keys)} = {shape.kind_of(value)}"
                    cases.append(Case(label, api, source, Answer(route.code, body)))
    return cases


def transport_cases(apis: list[FakeApi]) -> list[Case]:
    cases = []
    for api in apis:
        for path, route in sorted(api.routes.items()):
            if not isinstance(route, Answer) or not 200 <= route.code < 300 or route.body is None:
                continue
            data = json.dumps(route.body).encode()
            cases += [
                Case(f"{path} 500", api, path, Answer(500, status(500, "InternalError"))),
                Case(f"{path} cut JSON", api, path, Answer(route.code, raw=data[: len(data) // 2])),
                Case(f"{path} closed mid-body", api, path, Answer(route.code, route.body, cut=True)),
                Case(f"{path} JSON list", api, path, Answer(route.code, raw=b"[]")),
                Case(f"{path} slow", api, path, Answer(route.code, route.body, delay=DELAY), slow=True),
            ]
    return cases


def sample(cases: list[Case]) -> list[Case]:
    if os.environ.get("HIKUBE_GPU_ALL_MUTATIONS") or len(cases) <= SAMPLE:
        return cases
    return random.Random(SEED).sample(cases, SAMPLE)


def assert_property(baseline: Outcome, mutated: Outcome, case: str) -> None:
    assert "Traceback" not in mutated.text, f"{case}:\n{mutated.text}"
    assert mutated.code in (0, 1), f"{case}: exit {mutated.code}\n{mutated.text}"
    for key, (status_, line) in mutated.lines.items():
        if status_ == "can't tell":
            continue
        assert baseline.lines.get(key) == (status_, line), (
            f"{case}: {key} says {status_}, unmutated: {baseline.lines.get(key)}\n{line}"
        )


def check_world(apis: list[FakeApi], run: Runner, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """Run every case of the world; (shape cases run, transport cases run)."""
    with monkeypatch.context() as patch:
        reads = record_reads(patch)
        baseline = run(False)
    assert "Traceback" not in baseline.text
    assert reads, "the baseline read nothing"
    shapes = sample(shape_cases(apis, reads))
    transports = transport_cases(apis)
    for case in [*shapes, *transports]:
        original = case.api.routes[case.path]
        case.api.answer(case.path, case.answer)
        try:
            assert_property(baseline, run(case.slow), case.name)
        finally:
            case.api.routes[case.path] = original
    print(f"{len(shapes)} field cases, {len(transports)} transport cases")  # shown with pytest -s
    return len(shapes), len(transports)


# --- the worlds ----------------------------------------------------------------------------------


@pytest.fixture
def doctor_api() -> Iterator[FakeApi]:
    from tests.test_doctor import DoctorApi

    with running(DoctorApi()) as api:
        yield api


def doctor_runner(
    tmp_path: Path,
    api: FakeApi,
    stack: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Runner:
    config = kubeconfig(tmp_path, api.url)

    def run(slow: bool) -> Outcome:
        with monkeypatch.context() as patch:
            if slow:
                patch.setattr("stacks.commands.doctor.reader.TIMEOUT", (5.0, SLOW_TIMEOUT))
            code = main(
                [
                    "doctor",
                    "--config-file",
                    str(stack),
                    "--project-dir",
                    str(PROJECT_DIR),
                    "--kubeconfig",
                    str(config),
                ]
            )
        captured = capsys.readouterr()
        return doctor_outcome(code, captured.out, captured.err)

    return run


@pytest.mark.parametrize("kind", ["tenant", "platform"])
def test_doctor_never_gives_a_verdict_on_a_malformed_answer(
    tmp_path: Path,
    doctor_api: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    from tests.test_doctor import FIXTURES

    world = doctor_api.tenant() if kind == "tenant" else doctor_api.platform()
    if kind == "platform":  # the operator Deployment the doctor reads when the release Secrets fail
        world.serve("/apis/apps/v1/namespaces/gpu-operator/deployments/gpu-operator", {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "gpu-operator", "namespace": "gpu-operator", "labels": {"helm.sh/chart": "gpu-operator-v26.7.0"}},
        })  # fmt: skip
    stack = FIXTURES / f"stack-{kind}.yaml"
    shapes, transports = check_world(
        [world], doctor_runner(tmp_path, world, stack, capsys, monkeypatch), monkeypatch
    )
    assert shapes >= 20
    assert transports >= 15


def verify_runner(tmp_path: Path, api: FakeApi, stack: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    config = kubeconfig(tmp_path, api.url)
    report = tmp_path / "verify.json"

    def run(slow: bool) -> Outcome:
        report.unlink(missing_ok=True)
        timeout = ["--timeout", str(SLOW_TIMEOUT)] if slow else []
        code = main(["verify", "--config-file", str(stack), "--project-dir", str(PROJECT_DIR), "--kubeconfig", str(config),
                     "--json", str(report), *timeout])  # fmt: skip
        captured = capsys.readouterr()
        return verify_outcome(code, captured.out, captured.err, report)

    return run


def test_verify_never_gives_a_verdict_on_a_malformed_answer_of_a_tenant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.verify_world import FIXTURES, tenant_world

    with tenant_world() as world:
        run = verify_runner(tmp_path, world.api, FIXTURES / "stack-tenant.yaml", capsys)
        shapes, transports = check_world([world.api, world.guest], run, monkeypatch)
    assert shapes >= SAMPLE
    assert transports >= 30


def test_verify_never_gives_a_verdict_on_a_malformed_answer_of_a_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.verify_world import FIXTURES, host_world

    with running(FakeApi()) as api:
        host_world(api)
        run = verify_runner(tmp_path, api, FIXTURES / "stack-platform.yaml", capsys)
        shapes, transports = check_world([api], run, monkeypatch)
    assert shapes >= SAMPLE
    assert transports >= 20


def test_the_property_catches_a_verdict_on_a_malformed_object(
    tmp_path: Path, doctor_api: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard: with the old lenient reading of a list (non-objects dropped), a mutated answer makes
    instance-types say "differs", and the property fails."""
    from tests.test_doctor import FIXTURES

    world = doctor_api.tenant()
    run = doctor_runner(tmp_path, world, FIXTURES / "stack-tenant.yaml", capsys, monkeypatch)
    baseline = run(False)

    def lenient(fetched):
        return [Json(i, fetched.path) for i in fetched.body.get("items", []) if isinstance(i, dict)]

    monkeypatch.setattr("stacks.commands.doctor.tenant.items", lenient)
    body = copy.deepcopy(
        world.body("/apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes")
    )
    body["items"] = [None if i["metadata"]["name"] == "u1.4xlarge" else i for i in body["items"]]
    world.serve("/apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes", body)
    with pytest.raises(AssertionError, match="instance-types"):
        assert_property(baseline, run(False), "lenient items")
