"""The stack-file loader is total: any bytes end in a valid stack or a clean error (exit 2)
with the file and line, within bounded time; structured config JSON likewise; quantities and
counts are bounded at the structural layer; the offline timeout detects a stall, not size."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import ScalarNode

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.preview.engine import OfflineTimeout, run_offline
from stacks.loading import yaml_subset
from stacks.loading.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_INTEGER, MAX_STACK_OBJECTS, LimitError
from stacks.loading.problems import ConfigError
from stacks.loading.pulumi_config import decode
from stacks.loading.stack_file import StackConfigFile, StackFileError, load_stack_file
from stacks.program.main import main as program
from stacks.validation.config import MAX_QUOTA
from tests.helpers import base_config, expect_problem, run_config, with_vm

SECRET = "v1:LOADER-SECRET-9c1f"

VM = "config:\n  hikube-gpu:platform: {namespace: tenant-a}\n  hikube-gpu:vms:\n    ws-1:\n      gpus: {L40S: 1}\n"


def _load(tmp_path: Path, text: str | bytes) -> StackConfigFile:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return load_stack_file(PROJECT_DIR, "t", path)


def _refused(tmp_path: Path, text: str | bytes, message: str, line: int | None = None) -> str:
    with pytest.raises(StackFileError) as raised:
        _load(tmp_path, text)
    error = str(raised.value)
    assert str(tmp_path / "Pulumi.t.yaml") in error
    assert message in error, error
    if line is not None:
        assert f"line {line}," in error, error
    return error


# --- the accepted subset: what the Pulumi CLI reads ------------------------------------------


def test_a_timestamp_is_text_as_in_the_pulumi_cli(tmp_path: Path) -> None:
    config = _load(tmp_path, VM + "      cloudInitSeed: 2024-05-01\n")
    assert '"cloudInitSeed": "2024-05-01"' in config.config["hikube-gpu:vms"]
    run = run_stack_text(tmp_path, VM + "      cloudInitSeed: 2024-05-01\n")
    assert run.failure is None, run.failure


def run_stack_text(tmp_path: Path, text: str) -> Any:
    return run_offline(_load(tmp_path, text), program)


def test_yes_no_on_off_and_sexagesimal_numbers_are_text(tmp_path: Path) -> None:
    config = _load(tmp_path, "config:\n  hikube-gpu:x: {on: yes, t: 1:30, b: true}\n")
    assert config.config["hikube-gpu:x"] == '{"b": true, "on": "yes", "t": "1:30"}'


def test_aliases_and_merge_keys_are_expanded(tmp_path: Path) -> None:
    text = "config:\n  hikube-gpu:a: &d {x: 1, y: 2}\n  hikube-gpu:b: {<<: *d, y: 3}\n"
    config = _load(tmp_path, text)
    assert config.config["hikube-gpu:b"] == '{"x": 1, "y": 3}'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!binary aGVsbG8=", "tag 'tag:yaml.org,2002:binary' is not supported"),
        ("!!set {a, b}", "tag 'tag:yaml.org,2002:set' is not supported"),
        ("!custom x", "tag '!custom' is not supported"),
        ("!!python/object:os.system x", "is not supported"),
        (".inf", "infinite or not a number"),
        ("1.0e+400", "infinite or not a number"),
        ("1" + "0" * 400, "integer is out of range"),
        ("-9223372036854775809", "integer is out of range"),
    ],
)
def test_values_outside_json_are_refused_with_the_line(tmp_path: Path, value: str, message: str) -> None:
    _refused(tmp_path, VM + f"      cloudInitSeed: {value}\n", message, line=6)


@pytest.mark.parametrize(
    "text",
    [
        VM + "    1:\n      gpus: {L40S: 1}\n",  # vms: {ws-1: …, 1: …}
        VM + "    ? [a, b]\n    : {gpus: {L40S: 1}}\n",
        VM + "    ~: {gpus: {L40S: 1}}\n",
        "config:\n  1: x\n",
    ],
)
def test_map_keys_must_be_text(tmp_path: Path, text: str) -> None:
    _refused(tmp_path, text, "a map key must be text")


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    _refused(tmp_path, VM + "    ws-1: {gpus: {A100: 1}}\n", "duplicate key 'ws-1'", line=6)


# --- limits: depth, expansion, size ---------------------------------------------------------


def test_a_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, "config:\n  hikube-gpu:x: &a [*a]\n", "contains it", line=2)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
def test_deep_nesting_is_refused_before_it_is_built(tmp_path: Path, depth: int) -> None:
    _refused(tmp_path, "config:\n  hikube-gpu:x: " + "[" * depth + "]" * depth + "\n", "nest")


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["config:", "  hikube-gpu:a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in "bcdefg":
        previous = chr(ord(level) - 1)
        lines.append(f"  hikube-gpu:{level}: &{level} [{', '.join([f'*{previous}'] * 10)}]")
    text = "\n".join(lines) + "\n"
    assert len(text) < 600  # 10^7 leaves once expanded
    start = time.monotonic()
    _refused(tmp_path, text, "once aliases are expanded")
    assert time.monotonic() - start < 5


def test_a_file_past_the_size_limit_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, VM + "#" * MAX_FILE_BYTES, f"larger than {MAX_FILE_BYTES:,} bytes")


@pytest.mark.parametrize("data", [b"\xff\xfe config", b"config:\n  a: \x00\n", b"config: [\n", b"- 1\n- 2\n"])
def test_bytes_that_are_not_a_stack_file_are_a_clean_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(StackFileError):
        _load(tmp_path, data)


def test_an_error_never_quotes_a_secure_value(tmp_path: Path) -> None:
    """PyYAML's messages quote the offending line; ours give its line and column only."""
    text = VM + f"  hikube-gpu:kubeconfig:\n    secure: {SECRET}: x: y\n"
    error = _refused(tmp_path, text, "line 7")
    assert SECRET not in error


def test_the_cli_exits_2_with_the_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(VM + "      cloudInitSeed: !!binary aGVsbG8=\n", encoding="utf-8")
    assert main(["preview", "--config-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}, line 6, column 22" in err
    assert "Traceback" not in err


# --- structured config JSON in the real program ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5_000 + "]" * 5_000, "nest deeper than"),
        ('{"a": ' * 100 + "1" + "}" * 100, "nest deeper than"),
        ("[1e400]", "too large for a 64-bit float"),
        ("[NaN]", "NaN is not a JSON number"),
        ("[" + "9" * 5_000 + "]", "integer is out of range"),
        ("9" * 5_000, "integer is out of range"),
    ],
)
def test_json_config_past_the_limits_is_a_config_error_in_the_program(text: str, message: str) -> None:
    config = StackConfigFile("hikube-gpu", "t", {"hikube-gpu:vms": text, "hikube-gpu:quota": text})
    run = run_offline(config, program)
    assert isinstance(run.failure, ConfigError), run.failure
    problems = {p.path: p.message for p in run.failure.problems}
    assert message in problems["hikube-gpu:vms"]
    assert message in problems["hikube-gpu:quota"]


def test_json_that_is_not_json_stays_text() -> None:
    assert decode("vms", "[not json") == "[not json"


# --- quantities and counts: positive, bounded, one problem with its path -----------------------


@pytest.mark.parametrize(
    ("vm", "path", "message"),
    [
        ({"disk": {"size": -1}}, "disk.size", "-1 is not more than 0"),
        ({"disk": {"size": 0}}, "disk.size", "0 is not more than 0"),
        ({"disk": {"size": "0Gi"}}, "disk.size", "0Gi is not more than 0"),
        ({"disk": {"size": "-5Gi"}}, "disk.size", "not a Kubernetes quantity"),
        ({"disk": {"size": "1e400"}}, "disk.size", "not a Kubernetes quantity"),
        ({"disk": {"size": "9000Ei"}}, "disk.size", "larger than Kubernetes allows"),
        ({"dataDisks": {"d": {"size": -3}}}, "dataDisks.d.size", "not more than 0"),
        ({"resources": {"cpu": -2, "memory": "8Gi"}}, "resources.cpu", "greater than 0"),
        ({"resources": {"cpu": 4096, "memory": "8Gi"}}, "resources.cpu", "less than or equal to 1024"),
        ({"resources": {"cpu": 4, "memory": -1}}, "resources.memory", "not more than 0"),
        ({"gpus": {"L40S": 17}}, "gpus.L40S", "less than or equal to 16"),
        ({"gpus": {"L40S": -1}}, "gpus.L40S", "greater than 0"),
        ({"external": {"ports": [-22]}}, "external.ports[0]", "not a TCP/UDP port"),
    ],
)
def test_absurd_vm_quantities_are_config_errors(
    tmp_path: Path, vm: dict[str, Any], path: str, message: str
) -> None:
    expect_problem(tmp_path, with_vm(**vm), f"hikube-gpu:vms.gpu-1.{path}", message)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"replicas": 2**40}, "workloads.w.replicas", "less than or equal to 2147483647"),
        ({"replicas": 0}, "workloads.w.replicas", "greater than 0"),
        ({"gpus": {"L40S": 113}}, "workloads.w.gpus.L40S", "less than or equal to 112"),
        ({"backoffLimit": -1, "kind": "Job"}, "workloads.w.backoffLimit", "greater than or equal to 0"),
        ({"cpu": "-1"}, "workloads.w.cpu", "not a Kubernetes quantity"),
        ({"memory": 0}, "workloads.w.memory", "not more than 0"),
    ],
)
def test_absurd_workload_counts_are_config_errors(
    tmp_path: Path, change: dict[str, Any], path: str, message: str
) -> None:
    workload = {"image": "nginx:1", "gpus": {"L40S": 1}, **change}
    group = {"gpus": {"L40S": 1}, "maxReplicas": 2}
    cluster = {"version": "v1.33", "nodeGroups": {"g": group}, "workloads": {"w": workload}}
    expect_problem(tmp_path, base_config(clusters={"c": cluster}), f"hikube-gpu:clusters.c.{path}", message)


def test_node_group_sizes_and_quota_are_bounded(tmp_path: Path) -> None:
    group = {"gpus": {"L40S": 1}, "maxReplicas": 6000, "minReplicas": -1}
    cluster = {"version": "v1.33", "nodeGroups": {"g": group}}
    config = base_config(clusters={"c": cluster}, quota={"L40S": MAX_QUOTA + 1})
    run = run_config(tmp_path, config)
    assert isinstance(run.failure, ConfigError), run.failure
    problems = {p.path: p.message for p in run.failure.problems}
    assert "less than or equal to 5000" in problems["hikube-gpu:clusters.c.nodeGroups.g.maxReplicas"]
    assert "greater than or equal to 0" in problems["hikube-gpu:clusters.c.nodeGroups.g.minReplicas"]
    assert "less than or equal to" in problems["hikube-gpu:quota.L40S"]


# --- scale: a clear limit before the work, and a timeout that measures a stall ---------------------


def test_a_stack_past_the_size_limit_is_refused_before_the_work(tmp_path: Path) -> None:
    vms = {f"vm-{i}": {"gpus": {"L40S": 1}} for i in range(MAX_STACK_OBJECTS + 1)}
    start = time.monotonic()
    expect_problem(tmp_path, base_config(vms=vms), "hikube-gpu:vms", f"at most {MAX_STACK_OBJECTS:,}")
    assert time.monotonic() - start < 20


def test_a_program_that_keeps_registering_is_not_a_hang() -> None:
    """It runs 2.5 s with a stall bound of 1 s; a total-time bound would stop it."""

    def slow() -> None:
        async def later(step: int) -> int:
            await asyncio.sleep(0.5 * step)
            return step

        for step in range(1, 6):
            pulumi.Output.from_input(asyncio.ensure_future(later(step))).apply(
                lambda n: pulumi.ComponentResource("t:index:Step", f"step-{n}")
            )

    run = run_offline(StackConfigFile(project="p", stack="s", config={}), slow, timeout=1.0)
    assert run.failure is None, run.failure
    assert len([r for r in run.resources if r.type == "t:index:Step"]) == 5


def test_a_program_busy_working_is_not_a_hang() -> None:
    def busy() -> None:
        time.sleep(2.0)  # synchronous work: the event loop cannot tick
        pulumi.ComponentResource("t:index:Done", "done")

    run = run_offline(StackConfigFile(project="p", stack="s", config={}), busy, timeout=1.0)
    assert run.failure is None, run.failure


def test_a_stalled_program_still_times_out() -> None:
    def stuck() -> None:
        pulumi.ComponentResource("t:index:First", "first")
        never: asyncio.Future[str] = asyncio.get_event_loop().create_future()
        pulumi.export("never", pulumi.Output.from_input(never))

    start = time.monotonic()
    run = run_offline(StackConfigFile(project="p", stack="s", config={}), stuck, timeout=1.0)
    assert isinstance(run.failure, OfflineTimeout)
    assert "of its last progress" in str(run.failure)
    assert time.monotonic() - start < 10


def test_deeply_nested_cloud_init_is_a_config_error(tmp_path: Path) -> None:
    """Found by the mutation fuzzer: ``[`` × 2000 in a ``cloudInit`` block crashed the program
    with a RecursionError from PyYAML's recursive composer."""
    user_data = "#cloud-config\nruncmd: " + "[" * 2000 + "]" * 2000 + "\n"
    expect_problem(tmp_path, with_vm(cloudInit=user_data), "hikube-gpu:vms.gpu-1.cloudInit", "too deeply")


def test_the_size_problem_sits_at_the_key_that_names_the_most(tmp_path: Path) -> None:
    groups = {f"g{i}": {"maxReplicas": 1} for i in range(MAX_STACK_OBJECTS)}
    cluster = {"version": "v1.33", "nodeGroups": groups}
    expect_problem(
        tmp_path,
        base_config(clusters={"c": cluster}),
        "hikube-gpu:clusters",
        f"at most {MAX_STACK_OBJECTS:,}",
    )


_INT_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.from_regex(r"[-+]?(0[0-7]*|0x[0-9a-f]+|0o[0-7]+|0b[01]+|[1-9][0-9_]*)", fullmatch=True),
)


@settings(max_examples=500, deadline=None)
@given(_INT_TEXT)
def test_integers_read_as_yaml_1_1_reads_them(text: str) -> None:
    """The reader's short path for plain decimal integers (``yaml_subset._DECIMAL``) gives what
    PyYAML's YAML 1.1 constructor gives, and the same refusal out of range, for any int text."""
    node = ScalarNode("tag:yaml.org,2002:int", text)
    try:
        expected: object = yaml.SafeLoader("").construct_object(node)
    except ValueError:
        expected = "not a number"
    if isinstance(expected, int) and abs(expected) > MAX_INTEGER:
        expected = "out of range"
    try:
        got: object = yaml_subset._Builder().number(node)
    except LimitError as error:
        got = "out of range" if "out of range" in str(error) else "not a number"
    assert got == expected
    assert type(got) is type(expected)
