"""Test helpers: run configs through the real program offline, read the vendored upstream files."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.commands.preview.engine import OfflineRun
from stacks.loading.problems import ConfigError, Problem
from stacks.loading.pulumi_config import decode
from stacks.loading.stack_file import load_stack_file

UPSTREAM = Path(__file__).parent / "upstream"
"""Upstream definitions vendored with the tests (tests/upstream/SOURCES.md says where from)."""

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnlyForUnitTests test@example"

BASE: dict[str, Any] = {
    "kind": "tenant",
    "platform": {"namespace": "tenant-test"},
    "vms": {"gpu-1": {"gpus": {"L40S": 1}, "sshKeys": [SSH_KEY]}},
}


def base_config(**overrides: Any) -> dict[str, Any]:
    """A valid one-VM tenant config; keyword arguments replace top-level keys."""
    config = copy.deepcopy(BASE)
    config.update(copy.deepcopy(overrides))
    return config


def with_vm(**vm: Any) -> dict[str, Any]:
    """The base config with VM ``gpu-1`` replaced by ``vm`` (plus its gpus, unless given)."""
    spec = {"gpus": {"L40S": 1}, **vm}
    return base_config(vms={"gpu-1": spec})


def write_stack(tmp_path: Path, config: dict[str, Any], stack: str = "test") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"Pulumi.{stack}.yaml"
    document = {"config": {f"hikube-gpu:{key}": value for key, value in config.items()}}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def run_config(tmp_path: Path, config: dict[str, Any], stack: str = "test") -> OfflineRun:
    """Run the real program offline (Pulumi's mock runtime) with ``config`` as the stack's
    ``hikube-gpu:*`` keys; ``tests/test_plan.py`` proves the plan the CLI uses equals it."""
    return run_stack(PROJECT_DIR, stack, write_stack(tmp_path, config, stack), engine="pulumi")


def problems_of(tmp_path: Path, config: dict[str, Any]) -> list[Problem]:
    """The config errors of an invalid stack; asserts that nothing was registered."""
    run = run_config(tmp_path, config)
    assert isinstance(run.failure, ConfigError), f"expected a config error, got {run.failure!r}"
    registered = [r.type for r in run.resources if r.type != "pulumi:pulumi:Stack"]
    assert registered == [], "an invalid stack must register nothing"
    return run.failure.problems


def by_path(problems: list[Problem]) -> dict[str, str]:
    return {p.path: p.message for p in problems}


def expect_problem(tmp_path: Path, config: dict[str, Any], path: str, message: str) -> None:
    """The stack fails with a problem at ``path`` whose message contains ``message``."""
    problems = by_path(problems_of(tmp_path, config))
    assert path in problems, f"no problem at {path}; got {problems}"
    assert message in problems[path], problems[path]


def expect_warning(tmp_path: Path, config: dict[str, Any], warning: str) -> OfflineRun:
    """The stack deploys, and one of its warnings starts with ``warning``."""
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    assert any(w.startswith(warning) for w in run.warnings), run.warnings
    return run


def objects(run: OfflineRun) -> dict[str, dict[str, Any]]:
    """Kubernetes objects of a run keyed by ``Kind/name``."""
    return {
        f"{r.inputs['kind']}/{r.inputs['metadata']['name']}": r.inputs
        for r in run.resources
        if r.custom and not r.read and r.type.startswith("kubernetes:")
    }


def stack_config(stack: str) -> dict[str, Any]:
    """A stack file's ``hikube-gpu:*`` keys as the program reads them (prefix removed)."""
    config = load_stack_file(PROJECT_DIR, stack).config
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("hikube-gpu:")}
    return {key: decode(key, value) for key, value in raw.items()}


def reference(*parts: str) -> Path:
    """A vendored upstream file under tests/upstream; a missing one fails the test."""
    path = UPSTREAM.joinpath(*parts)
    if not path.is_file():
        pytest.fail(f"upstream definition {path} is missing (see tests/upstream/SOURCES.md)", pytrace=False)
    return path


def reference_json(*parts: str) -> Any:
    return json.loads(reference(*parts).read_text(encoding="utf-8"))


@functools.cache
def reference_data(*parts: str) -> Any:
    """A vendored JSON or YAML file, parsed (cached: callers must not modify it)."""
    path = reference(*parts)
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else load_yaml(text)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml when available (the large CRDs load 10x faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
