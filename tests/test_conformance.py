"""Conformance: every file ``render`` writes for the example stacks and the test stacks
validates, exactly as written (masked secrets included), against its upstream definition.
One test per rendered file, so a failure names the object."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR, run_stack
from stacks.commands.preview.engine import OfflineRun
from stacks.loading.stack_list import discover
from tests.cluster_stacks import cluster_stack
from tests.conformance import check_file, read_back, rendered
from tests.helpers import run_config, stack_config
from tests.platform_stacks import MODES, platform_stack

TEST_STACKS: dict[str, dict[str, Any]] = {
    "clusters-hikube": cluster_stack("hikube"),
    "clusters-cozystack-1.4": cluster_stack("cozystack-1.4"),
    "clusters-cozystack-1.6": cluster_stack("cozystack-1.6"),
    **{f"platform-{mode}": platform_stack(mode) for mode in MODES},
}

# The renders live as long as the test session (the directory is removed at exit).
RENDERS = tempfile.TemporaryDirectory(prefix="hikube-gpu-conformance-")


def _runs(scratch: Path) -> list[tuple[str, str, OfflineRun]]:
    runs = []
    for stack in discover(PROJECT_DIR, examples=True):
        profile = (stack_config(stack).get("platform") or {}).get("profile", "hikube")
        runs.append((stack, profile, run_stack(PROJECT_DIR, stack)))
    for name, config in TEST_STACKS.items():
        run = run_config(scratch / name, config)
        runs.append((name, (config.get("platform") or {}).get("profile", "hikube"), run))
    return runs


RUNS = _runs(Path(RENDERS.name) / "stacks")


def _cases() -> list[Any]:
    cases = []
    for stack, profile, run in RUNS:
        if run.failure is None:  # a failing stack fails test_every_stack_renders
            out = Path(RENDERS.name) / "render" / stack
            cases += [
                pytest.param(p, profile, id=f"{stack}/{p.relative_to(out)}") for p in rendered(run, out)
            ]
    return cases


CASES = _cases()


@pytest.mark.parametrize("run", [pytest.param(run, id=stack) for stack, _, run in RUNS])
def test_every_stack_renders(run: OfflineRun) -> None:
    assert run.failure is None, run.failure


@pytest.mark.parametrize(("path", "profile"), CASES)
def test_rendered_file_conforms_to_its_upstream_definition(path: Path, profile: str) -> None:
    assert check_file(path, profile)


def test_the_suite_covers_every_kind_we_render() -> None:
    kinds = {read_back(case.values[0])["kind"] for case in CASES}
    patches = {read_back(c.values[0])["kind"] for c in CASES if c.values[0].name.endswith(".patch.yaml")}
    assert {
        "VMInstance", "VMDisk", "Kubernetes", "Namespace", "ResourceQuota", "Service", "Deployment",
        "StatefulSet", "Job", "Secret", "HelmRelease", "HelmRepository", "VirtualMachine",
    } <= kinds  # fmt: skip
    assert {"Node", "KubeVirt"} <= patches
    assert len(CASES) >= 90


def test_masked_secrets_are_checked_as_written(tmp_path: Path) -> None:
    """A VM with SSH keys and user data renders them masked, in their schema types."""
    files = rendered(run_stack(PROJECT_DIR, "dev"), tmp_path)
    vm = next(p for p in files if p.name == "vminstance-trainer.yaml")
    spec = read_back(vm)["spec"]
    assert spec["sshKeys"] == ["[secret]"] * len(stack_config("dev")["vms"]["trainer"]["sshKeys"])
    assert spec["cloudInit"] == "[secret]"
    assert "# masked secrets: spec.cloudInit, spec.sshKeys\n" in vm.read_text(encoding="utf-8")
    assert check_file(vm, "hikube")


def _first(kind: str) -> Path:
    return next(case.values[0] for case in CASES if read_back(case.values[0])["kind"] == kind)


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("VMInstance", ("spec", "sshKeys"), "[secret]"),  # a list masked as one string
        ("Secret", ("stringData",), "[secret]"),
        ("VirtualMachine", ("spec", "template", "spec", "domain", "devices", "gpus", 0, "bogus"), 1),
        ("HelmRelease", ("spec", "interval"), 10),
        ("HelmRepository", ("spec", "url"), None),
    ],
)
def test_the_checks_reject_a_wrong_shape(
    tmp_path: Path, kind: str, path: tuple[Any, ...], value: Any
) -> None:
    """Guard: each check really fails on a document upstream rejects."""
    document = read_back(_first(kind))
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    broken = tmp_path / f"{kind.lower()}.yaml"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
        check_file(broken, "hikube")
