"""Config errors a user understands: no internal class names, hints for the usual mistakes
of ``pulumi config set``, file paths printed once, "did you mean" for a stack name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stacks.commands.cli import PROJECT_DIR, main
from tests.helpers import base_config, by_path, problems_of, with_vm


def _message(tmp_path: Path, config: dict[str, Any], path: str) -> str:
    problems = by_path(problems_of(tmp_path, config))
    assert f"hikube-gpu:{path}" in problems, problems
    return problems[f"hikube-gpu:{path}"]


def test_a_map_of_settings_given_as_text_names_the_keys_not_a_class(tmp_path: Path) -> None:
    message = _message(tmp_path, with_vm(external="yes"), "vms.gpu-1.external")
    assert message == "expected a map of external settings, got text (keys: method, ports, guestFirewall)"


def test_vms_given_as_a_list_says_they_are_keyed_by_name(tmp_path: Path) -> None:
    config = base_config(vms=[{"gpus": {"L40S": 1}}])
    assert _message(tmp_path, config, "vms") == (
        "expected a map, got a list; `vms` is a map keyed by VM name: `vms: {ws-1: {gpus: {L40S: 1}}}`"
    )


def test_gpus_given_as_a_list_show_the_map_form(tmp_path: Path) -> None:
    assert _message(tmp_path, with_vm(gpus=["L40S"]), "vms.gpu-1.gpus") == (
        "expected a map, got a list; GPUs are counted by model: `gpus: {L40S: 1}`"
    )


def test_a_list_given_as_text_shows_both_ways_to_write_one(tmp_path: Path) -> None:
    assert _message(tmp_path, with_vm(subnets="a"), "vms.gpu-1.subnets") == (
        "expected a list, got text: `[a, b]` in the stack file, `vms.gpu-1.subnets[0]` with --path"
    )


@pytest.mark.parametrize("memory", [32, "32"])
def test_memory_without_a_unit_asks_for_one(tmp_path: Path, memory: Any) -> None:
    config = with_vm(resources={"cpu": 8, "memory": memory})
    assert _message(tmp_path, config, "vms.gpu-1.resources.memory") == (
        "32 has no unit, so it means 32 bytes; add one, e.g. 32Gi"
    )


def test_workload_memory_without_a_unit_asks_for_one(tmp_path: Path) -> None:
    workload = {"image": "x:1", "gpus": {"L40S": 1}, "memory": 16}
    cluster = {"nodeGroups": {"g": {"gpus": {"L40S": 1}}}, "workloads": {"w": workload}}
    assert _message(tmp_path, base_config(clusters={"c": cluster}), "clusters.c.workloads.w.memory") == (
        "16 has no unit, so it means 16 bytes; add one, e.g. 16Gi"
    )


def test_a_mig_profile_split_at_its_dot_by_config_set_path(tmp_path: Path) -> None:
    """``pulumi config set --path clusters.c.nodeGroups.g.sharing.mig.layout.1g.10gb 2``."""
    group = {"gpus": {"A100": 1}, "sharing": {"mig": {"layout": {"1g": {"10gb": 2}}}}}
    config = base_config(clusters={"c": {"nodeGroups": {"g": group}}})
    assert _message(tmp_path, config, "clusters.c.nodeGroups.g.sharing.mig.layout.1g") == (
        "`pulumi config set --path` read the dots of '1g.10gb' as nesting; write the key in brackets: "
        "pulumi config set --path 'clusters.c.nodeGroups.g.sharing.mig.layout[\"1g.10gb\"]' <value>"
    )


def test_a_number_where_text_is_expected_suggests_type_string(tmp_path: Path) -> None:
    """``pulumi config set --path vms.gpu-1.cloudInitSeed 2`` stores the number 2."""
    assert _message(tmp_path, with_vm(cloudInitSeed=2), "vms.gpu-1.cloudInitSeed") == (
        "expected text, got a number (2): `pulumi config set --path` stores digits and true/false "
        "as such; add `--type string` (or quote it in the stack file)"
    )


def test_a_missing_config_file_is_named_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "Pulumi.nope.yaml"
    assert main(["preview", "--config-file", str(missing)]) == 2
    assert capsys.readouterr().err == f"error: {missing}: no such file\n"


def test_an_unknown_stack_suggests_the_closest_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--stack", "dve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no stack 'dve' in {PROJECT_DIR}; did you mean 'dev'? (stacks: ")
    assert "dev, " in err
