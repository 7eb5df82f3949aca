"""Secrets are masked with their type and shape kept, and only where a value exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from stacks.commands.preview.engine import SECRET_MASK, mask, plain
from tests.helpers import SSH_KEY, run_config, with_vm


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(value, struct)
    return struct


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def test_mask_keeps_types_lengths_and_keys() -> None:
    secret = {"keys": ["a", "b", "c"], "data": {"userdata": "x", "n": 3, "f": 1.5, "on": True, "none": None}}
    assert mask(secret) == {
        "keys": [SECRET_MASK] * 3,
        "data": {"userdata": SECRET_MASK, "n": 0, "f": 0, "on": False, "none": None},
    }
    assert mask("") == SECRET_MASK
    assert mask([]) == []


def test_plain_masks_secrets_in_place_and_names_their_paths() -> None:
    masked: list[str] = []
    value = plain(
        _struct(
            {
                "spec": {
                    "sshKeys": _secret(["ssh-ed25519 AAAA one", "ssh-ed25519 AAAA two"]),
                    "port": _secret(2222),
                    "plain": "visible",
                },
                "stringData": _secret({"userdata": "#cloud-config"}),
            }
        ),
        masked,
    )
    assert value == {
        "spec": {"sshKeys": [SECRET_MASK, SECRET_MASK], "port": 0, "plain": "visible"},
        "stringData": {"userdata": SECRET_MASK},
    }
    assert sorted(masked) == ["spec.port", "spec.sshKeys", "stringData"]


def test_a_secret_output_masks_like_a_secret_and_an_unknown_one_as_a_string() -> None:
    output = {rpc._special_sig_key: rpc._special_output_value_sig, "secret": True}
    value = plain(_struct({"known": {**output, "value": ["k"]}, "unknown": output}))
    assert value == {"known": [SECRET_MASK], "unknown": SECRET_MASK}


def test_a_vm_without_keys_or_user_data_renders_the_chart_defaults_in_clear(tmp_path: Path) -> None:
    run = run_config(tmp_path, with_vm(nvidiaDriver={"install": False}))
    vm = next(r for r in run.resources if r.type.endswith(":VMInstance"))
    assert vm.inputs["spec"]["sshKeys"] == []
    assert vm.inputs["spec"]["cloudInit"] == ""
    assert vm.masked == ()


def test_a_vm_with_keys_masks_each_key(tmp_path: Path) -> None:
    run = run_config(tmp_path, with_vm(sshKeys=[SSH_KEY, SSH_KEY.replace("test@", "other@")]))
    vm = next(r for r in run.resources if r.type.endswith(":VMInstance"))
    assert vm.inputs["spec"]["sshKeys"] == [SECRET_MASK, SECRET_MASK]
    assert vm.inputs["spec"]["cloudInit"] == SECRET_MASK  # the driver's cloud-config
    assert vm.masked == ("spec.cloudInit", "spec.sshKeys")
