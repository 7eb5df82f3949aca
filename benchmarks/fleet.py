"""A realistic fleet in a scratch git repository, for the fleet benchmark and its smoke test.

A copy of this project whose ``Pulumi.yaml`` sets ``stackConfigDir: environments``, ``N`` stack
files generated from the dev stack (``environments/Pulumi.sNNNNN.yaml``), and one customer
defaults file per 10 stacks (``customers/cNNNN.yaml``, holding the quota and the cluster), all
committed. ``change`` adds one commit on top: one stack file, one defaults file, or a builder.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Literal

import yaml

from benchmarks.common import PROJECT_DIR, copy_project

STACK_DIR = "environments"
PER_CUSTOMER = 10
"""Stacks per customer defaults file."""
Change = Literal["stack", "defaults", "builder"]
CHANGES: tuple[Change, ...] = ("stack", "defaults", "builder")
DESCRIBE = {
    "stack": "one stack file changed",
    "defaults": f"one defaults file changed ({PER_CUSTOMER} stacks)",
    "builder": "a builder changed (every render differs)",
}
BUILDER = Path("components/builders/manifest.py")
BUILDER_FROM = 'MANAGED_BY = {"app.kubernetes.io/managed-by": "hikube-gpu"}'
BUILDER_TO = 'MANAGED_BY = {"app.kubernetes.io/managed-by": "hikube-gpu-fleet"}'
SHARED = ("hikube-gpu:quota", "hikube-gpu:clusters")
"""The dev stack's keys that move to the customer's defaults file."""


def git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.email=b@example.com", "-c", "user.name=bench", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def stack_name(index: int) -> str:
    return f"s{index:05d}"


def customer(index: int) -> str:
    """The defaults file of stack ``index``, relative to the project."""
    return f"customers/c{index // PER_CUSTOMER:04d}.yaml"


def _dev() -> dict[str, object]:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    config: dict[str, object] = document["config"]
    return config


def _template(dev: dict[str, object], disk: str = "100Gi") -> str:
    """A stack file's text with ``__STACK__`` and ``__DEFAULTS__`` for its name and defaults file."""
    config = {key: value for key, value in dev.items() if key not in SHARED}
    config["hikube-gpu:defaults"] = "__DEFAULTS__"
    config["hikube-gpu:platform"] = {"profile": "hikube", "namespace": "tenant-__STACK__"}
    vms = yaml.safe_load(yaml.safe_dump(config["hikube-gpu:vms"]))
    vms["ws-1"]["disk"]["size"] = disk
    config["hikube-gpu:vms"] = vms
    return yaml.safe_dump({"config": config}, sort_keys=False)


def _stack_text(index: int, template: str) -> str:
    return template.replace("__STACK__", stack_name(index)).replace("__DEFAULTS__", customer(index))


def _defaults_text(dev: dict[str, object], l40s: int = 5) -> str:
    config = {key: dev[key] for key in SHARED}
    config["hikube-gpu:quota"] = {**dev["hikube-gpu:quota"], "L40S": l40s}  # type: ignore[dict-item]
    return yaml.safe_dump({"config": config}, sort_keys=False)


def build(stacks: int, root: Path | None = None) -> Path:
    """A committed fleet of ``stacks`` stacks (tag ``fleet``); the repository's folder."""
    root = root or Path(tempfile.mkdtemp(prefix="hikube-gpu-fleet-"))
    copy_project(root)
    (root / "Pulumi.dev.yaml").unlink()
    with (root / "Pulumi.yaml").open("a", encoding="utf-8") as project:
        project.write(f"stackConfigDir: {STACK_DIR}\n")
    dev = _dev()
    (root / STACK_DIR).mkdir()
    (root / "customers").mkdir()
    for index in range(0, stacks, PER_CUSTOMER):
        (root / customer(index)).write_text(_defaults_text(dev), encoding="utf-8")
    template = _template(dev)
    for index in range(stacks):
        path = root / STACK_DIR / f"Pulumi.{stack_name(index)}.yaml"
        path.write_text(_stack_text(index, template), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "fleet")
    git(root, "tag", "fleet")
    return root


def changed_stacks(stacks: int, kind: Change) -> list[str]:
    """The stacks whose render ``change(kind)`` changes, sorted."""
    middle = stacks // 2
    if kind == "stack":
        return [stack_name(middle)]
    if kind == "defaults":
        first = middle - middle % PER_CUSTOMER
        return [stack_name(i) for i in range(first, min(stacks, first + PER_CUSTOMER))]
    return [stack_name(i) for i in range(stacks)]


def change(root: Path, stacks: int, kind: Change) -> list[str]:
    """Commit one change of ``kind`` on top of the fleet (reset to ``fleet`` first); the paths
    it changed."""
    git(root, "reset", "-q", "--hard", "fleet")
    middle = stacks // 2
    dev = _dev()
    if kind == "stack":
        path = Path(STACK_DIR, f"Pulumi.{stack_name(middle)}.yaml")
        (root / path).write_text(_stack_text(middle, _template(dev, disk="120Gi")), encoding="utf-8")
    elif kind == "defaults":
        path = Path(customer(middle))
        (root / path).write_text(_defaults_text(dev, l40s=6), encoding="utf-8")
    else:
        path = BUILDER
        text = (root / path).read_text(encoding="utf-8")
        assert BUILDER_FROM in text, f"{path} no longer has {BUILDER_FROM!r}"
        (root / path).write_text(text.replace(BUILDER_FROM, BUILDER_TO), encoding="utf-8")
    git(root, "commit", "-qam", f"change: {kind}")
    return [path.as_posix()]
