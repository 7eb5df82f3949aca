"""Reading ``hikube-gpu:*`` and the ambient ``kubernetes:*`` config the way Pulumi passes it."""

from __future__ import annotations

import contextvars
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import config as runtime_config

from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.loading.pulumi_config import (
    Secrets,
    read_ambient_kubernetes,
    read_secrets,
    read_stack_config,
    with_ambient_defaults,
)


def _read(config: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    def inner() -> tuple[dict[str, Any], dict[str, str]]:
        runtime_config.set_all_config(config, [])
        return read_stack_config(), read_ambient_kubernetes()

    return contextvars.copy_context().run(inner)


def test_structured_values_arrive_as_json_text() -> None:
    raw, ambient = _read(
        {
            "hikube-gpu:kind": "tenant",
            "hikube-gpu:vms": '{"ws": {"gpus": {"L40S": 1}}}',
            "hikube-gpu:kubeconfig": '{"apiVersion": "v1"}',
            "hikube-gpu:typo": "x",
            "other:key": "ignored",
            "kubernetes:namespace": "tenant-a",
        }
    )
    assert raw == {
        "kind": "tenant",
        "vms": {"ws": {"gpus": {"L40S": 1}}},
        "kubeconfig": '{"apiVersion": "v1"}',  # a kubeconfig stays text even when it is JSON
        "typo": "x",  # kept, so validation can reject it
    }
    assert ambient == {"namespace": "tenant-a"}


def test_ambient_kubernetes_config_fills_only_what_is_missing() -> None:
    ambient = {"namespace": "tenant-amb", "context": "ctx", "kubeconfig": "kc"}
    assert with_ambient_defaults({}, ambient) == {
        "platform": {"namespace": "tenant-amb", "context": "ctx"},
        "kubeconfig": "kc",
    }
    own = {"platform": {"namespace": "mine"}, "kubeconfig": "own"}
    assert with_ambient_defaults(own, ambient) == {
        "platform": {"namespace": "mine", "context": "ctx"},
        "kubeconfig": "own",
    }


def test_program_uses_kubernetes_namespace_when_platform_has_none(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.amb.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "kubernetes:namespace": "tenant-amb",
                    "hikube-gpu:vms": {"ws": {"gpus": {"A100": 1}}},
                }
            }
        )
    )
    run = run_stack(PROJECT_DIR, "amb", path)
    assert run.failure is None
    namespaces = {r.inputs["metadata"]["namespace"] for r in run.custom_resources() if "metadata" in r.inputs}
    assert namespaces == {"tenant-amb"}


def test_keys_given_only_in_pulumi_config_env_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's language host passes config in PULUMI_CONFIG; a typo there is still seen."""
    monkeypatch.setenv(
        "PULUMI_CONFIG", json.dumps({"hikube-gpu:vm": '{"a": 1}', "hikube-gpu:kind": "tenant"})
    )
    raw, _ = _read({})
    assert raw == {"kind": "tenant", "vm": {"a": 1}}


def test_secret_keys_come_from_the_runtime_and_leaves_from_the_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the CLI only ``hikube-gpu:vms`` is known to be secret; the stack file (in the
    project's stackConfigDir) says it is the cloud-init of VM ``a``."""
    (tmp_path / "Pulumi.yaml").write_text("name: hikube-gpu\nstackConfigDir: stacks-config\n")
    (tmp_path / "stacks-config").mkdir()
    (tmp_path / "stacks-config" / "Pulumi.cli.yaml").write_text(
        yaml.safe_dump(
            {"config": {"hikube-gpu:vms": {"a": {"gpus": {"L40S": 1}, "cloudInit": {"secure": "v1:x"}}}}}
        )
    )
    monkeypatch.setattr(pulumi.runtime, "get_root_directory", lambda: str(tmp_path))
    monkeypatch.setattr(pulumi, "get_stack", lambda: "cli")
    vms = '{"a": {"gpus": {"L40S": 1}, "cloudInit": "#!/bin/sh"}}'

    def inner() -> Secrets:
        runtime_config.set_all_config(
            {"hikube-gpu:vms": vms, "hikube-gpu:kind": "tenant"}, ["hikube-gpu:vms"]
        )
        return read_secrets(read_stack_config())

    assert contextvars.copy_context().run(inner) == Secrets(frozenset({("vms", "a", "cloudInit")}))
