"""Guardrails of the offline engine and the program: no hang, no leaked secret, stable identity."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pulumi
import pytest
from syrupy.assertion import SnapshotAssertion

from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.commands.preview.engine import OfflineTimeout, run_offline
from stacks.commands.preview.render import render
from stacks.commands.preview.report import preview_text
from stacks.loading.stack_file import StackConfigFile
from stacks.loading.stack_list import discover
from tests.cluster_stacks import cluster_stack
from tests.helpers import run_config
from tests.platform_stacks import platform_stack

# --- the preview never hangs --------------------------------------------------------------


def test_a_program_that_never_finishes_times_out_with_a_clear_message() -> None:
    def stuck() -> None:
        never: asyncio.Future[str] = asyncio.get_event_loop().create_future()
        pulumi.export("never", pulumi.Output.from_input(never))

    start = time.monotonic()
    run = run_offline(StackConfigFile(project="p", stack="s", config={}), stuck, timeout=1.0)
    assert time.monotonic() - start < 10
    assert isinstance(run.failure, OfflineTimeout)
    assert "did not finish within 1 s" in str(run.failure)


# --- secrets ----------------------------------------------------------------------------------

SENTINEL = "SENTINEL-7f3a9c"
KEY = f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{SENTINEL}Key user@example"
USER_DATA = f"#cloud-config\nruncmd:\n  - echo {SENTINEL}-cloud-init\n"
SCRIPT = f"#!/bin/sh\necho {SENTINEL}-script\n"
KUBECONFIG = f"apiVersion: v1\nkind: Config\nusers: [{{name: u, user: {{token: {SENTINEL}-token}}}}]\n"


def _secret_stacks() -> dict[str, dict[str, Any]]:
    tenant = cluster_stack()
    tenant["kubeconfig"] = KUBECONFIG
    tenant["vms"] = {
        "a": {"gpus": {"L40S": 1}, "sshKeys": [KEY], "cloudInit": USER_DATA},
        "b": {"gpus": {"L40S": 1}, "sshKeys": [KEY], "cloudInit": SCRIPT, "nvidiaDriver": {"install": True}},
        "c": {"gpus": {"L40S": 1}, "cloudInit": SCRIPT, "nvidiaDriver": {"install": False}},
    }
    platform = platform_stack("mixed", kubeconfig=KUBECONFIG)
    platform["vms"]["render"]["cloudInit"] = USER_DATA
    return {"tenant": tenant, "platform": platform}


@pytest.mark.parametrize("kind", ["tenant", "platform"])
def test_secret_values_never_reach_output(tmp_path: Path, kind: str) -> None:
    """SSH keys, cloud-init and kubeconfigs are marked with a sentinel; it appears nowhere."""
    run = run_config(tmp_path, _secret_stacks()[kind])
    assert run.failure is None, run.failure
    files = [p.read_text() for p in render(run, tmp_path / "out")]
    inputs = json.dumps([r.inputs for r in run.resources])
    places = {
        "rendered files": "\n".join(files),
        "preview": preview_text(run),
        "logs": "\n".join(run.warnings + run.errors),
        "resource inputs (Helm values included)": inputs,
        "stack outputs": json.dumps(run.outputs),
    }
    for place, text in places.items():
        assert SENTINEL not in text, f"a secret leaked into the {place}"
    assert '"[secret]"' in inputs  # the fields are there, masked: they were registered as secrets


def test_secret_fields_are_registered_as_pulumi_secrets(tmp_path: Path) -> None:
    run = run_config(tmp_path, _secret_stacks()["tenant"])
    by_name = {r.name: r for r in run.resources}
    assert by_name["a-instance"].inputs["spec"]["sshKeys"] == ["[secret]"]
    assert by_name["a-instance"].inputs["spec"]["cloudInit"] == "[secret]"
    assert by_name["tenant"].inputs["kubeconfig"] == "[secret]"


# --- stability ----------------------------------------------------------------------------------


def test_example_stack_urns_are_pinned(snapshot: SnapshotAssertion) -> None:
    """A refactor that changes a URN replaces the resource on `pulumi up`. If this snapshot
    changes, keep the old identity with an alias on the moved resource, e.g.
    ``pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-name")])`` (or ``parent=``/``type_=``
    for a move between components), then update the snapshot."""
    urns = {
        stack: sorted(r.urn for r in run_stack(PROJECT_DIR, stack).resources)
        for stack in discover(PROJECT_DIR, examples=True)
    }
    assert urns == snapshot


def _reversed_maps(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reversed_maps(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_maps(item) for item in value]
    return value


@pytest.mark.parametrize("kind", ["tenant", "platform"])
def test_map_order_in_the_config_does_not_matter(tmp_path: Path, kind: str) -> None:
    config = _secret_stacks()[kind]
    first = run_config(tmp_path / "a", config)
    second = run_config(tmp_path / "b", _reversed_maps(config))
    files_a = {str(p.relative_to(tmp_path / "ra")): p.read_bytes() for p in render(first, tmp_path / "ra")}
    files_b = {str(p.relative_to(tmp_path / "rb")): p.read_bytes() for p in render(second, tmp_path / "rb")}
    assert files_a == files_b
    assert [(r.urn, r.inputs) for r in first.resources] == [(r.urn, r.inputs) for r in second.resources]


@pytest.mark.parametrize("stack", discover(PROJECT_DIR, examples=True))
def test_the_same_config_gives_the_engine_the_same_inputs(stack: str) -> None:
    first, second = run_stack(PROJECT_DIR, stack), run_stack(PROJECT_DIR, stack)
    assert [(r.urn, r.inputs, r.dependencies) for r in first.resources] == [
        (r.urn, r.inputs, r.dependencies) for r in second.resources
    ]
