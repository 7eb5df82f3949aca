"""``hikube-gpu diff`` on a real temporary git repository with two commits."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from benchmarks.common import copy_project
from stacks.commands.cli import main
from stacks.commands.diff import diff_report
from stacks.commands.diff.compare import Comparison, compare
from stacks.commands.diff.objects import ObjectChange, StackDiff, diff_stack
from stacks.commands.diff.revision import StackRender
from stacks.commands.diff.risks import Risk, object_risks, quota_risks
from stacks.loading.stack_list import stack_file_path


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return result.stdout


def _edit_stack(repo: Path, stack: str, change: object) -> None:
    path = stack_file_path(repo, stack)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document["config"])  # type: ignore[operator]
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _second_commit(config: dict) -> None:  # type: ignore[type-arg]
    vms = config["hikube-gpu:vms"]
    del vms["ws-1"]  # a GPU VM goes away
    vms["trainer"]["gpus"] = {"A100": 1}  # trainer loses a GPU
    vms["trainer"]["dataDisks"]["scratch"] = {"size": "100Gi", "protect": False}  # a disk is added
    vms["trainer"]["disk"]["storageClass"] = "local"  # create-only field
    config["hikube-gpu:quota"]["A100"] = 4  # quota grows
    config["hikube-gpu:clusters"]["ml"]["nodeGroups"]["l40s"]["sharing"]["timeSlicing"]["replicas"] = 8


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this project in a new git repo: commit 1 as is, commit 2 with changed stacks."""
    root = tmp_path_factory.mktemp("repo")
    copy_project(root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base")
    _edit_stack(root, "dev", _second_commit)
    _edit_stack(root, "acme-vms", lambda c: c["hikube-gpu:vms"]["ws-alice"].update(gpus={"H200": 1}))
    shutil.copy2(root / "Pulumi.dev.yaml", root / "Pulumi.new-customer.yaml")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "change")
    return root


@pytest.fixture(scope="module")
def result(repo: Path) -> Comparison:
    return compare(repo, "HEAD~1", workers=2)


def test_added_removed_and_changed_objects(result: Comparison) -> None:
    dev = next(s for s in result.stacks if s.stack == "dev")
    assert dev.added == ["tenant-dev/vmdisk-trainer-scratch.yaml"]
    assert dev.removed == ["tenant-dev/vmdisk-ws-1-system.yaml", "tenant-dev/vminstance-ws-1.yaml"]
    assert [c.path for c in dev.changed] == [
        "tenant-dev/kubernetes-ml.yaml",
        "tenant-dev/vmdisk-trainer-system.yaml",
        "tenant-dev/vminstance-trainer.yaml",
    ]
    assert dev.unchanged == 5
    instance = next(c for c in dev.changed if c.path.endswith("vminstance-trainer.yaml"))
    assert "-  - name: nvidia.com/GA100_A100_PCIE_80GB" in instance.diff


def test_risky_changes_are_flagged(result: Comparison) -> None:
    dev = next(s for s in result.stacks if s.stack == "dev")
    messages = {(r.path, r.message) for r in dev.risks}
    assert ("tenant-dev/vminstance-ws-1.yaml", "deletes a GPU VM (1 GPU)") in messages
    assert (
        "tenant-dev/vminstance-trainer.yaml",
        "the VM loses GPUs (nvidia.com/GA100_A100_PCIE_80GB) and restarts",
    ) in messages
    assert (
        "tenant-dev/vmdisk-trainer-system.yaml",
        "VMDisk storageClass changes: it is create-only (the disk must be recreated)",
    ) in messages
    assert ("hikube-gpu:quota.A100", "GPU quota for A100 grows from 2 to 4") in messages


def test_a_new_stack_is_all_added_and_an_invalid_one_names_the_revision(result: Comparison) -> None:
    by_stack = {s.stack: s for s in result.stacks}
    assert len(by_stack["new-customer"].added) == 9  # the changed dev stack, copied
    assert by_stack["new-customer"].removed == []
    error = by_stack["acme-vms"].error or ""
    assert error.startswith("invalid at working tree: invalid stack configuration")
    assert "hikube-gpu:vms.ws-alice.gpus.H200" in error
    assert not by_stack["globex-ml"].has_changes
    assert by_stack["globex-ml"].error is None


def test_whether_a_stack_changed_needs_no_diff_lines(repo: Path, result: Comparison) -> None:
    """``changed`` asks only whether each stack changed: no diff lines, no object risks."""
    brief = compare(repo, "HEAD~1", workers=2, details=False)
    assert [(d.stack, d.has_changes, d.error) for d in brief.stacks] == [
        (d.stack, d.has_changes, d.error) for d in result.stacks
    ]
    assert all(not change.diff for d in brief.stacks for change in d.changed)


def test_markdown_report_snapshot(result: Comparison, snapshot: SnapshotAssertion) -> None:
    assert diff_report.markdown(result) == snapshot


def test_exit_codes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--base", "HEAD~1", "--stack", "dev", "--project-dir", str(repo)]) == 1
    assert "Risky changes:" in capsys.readouterr().out
    assert main(["diff", "--base", "HEAD", "--stack", "dev", "--project-dir", str(repo)]) == 0
    assert "No changes." in capsys.readouterr().out
    assert main(["diff", "--base", "HEAD~1", "--stack", "acme-vms", "--project-dir", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "error: stack 'acme-vms': invalid at working tree" in err
    assert main(["diff", "--base", "no-such-ref", "--project-dir", str(repo)]) == 2
    assert "error: base 'no-such-ref' is not a commit of this repository" in capsys.readouterr().err


def test_invalid_base_names_the_base_revision(repo: Path) -> None:
    path = stack_file_path(repo, "acme-vms")
    before = path.read_text(encoding="utf-8")
    path.write_text("# a comment: the stack file differs, so it renders\n" + before, encoding="utf-8")
    try:
        reverted = compare(repo, "HEAD", stacks=["acme-vms"], workers=1)  # HEAD has the bad config too
    finally:
        path.write_text(before, encoding="utf-8")
    (acme,) = reverted.stacks
    assert (acme.error or "").startswith("invalid at base HEAD:")


def test_a_stack_whose_inputs_did_not_change_is_not_rendered_even_when_invalid(repo: Path) -> None:
    """Its render cannot differ: nothing is rendered and it is reported unchanged."""
    (acme,) = compare(repo, "HEAD", stacks=["acme-vms"], workers=1).stacks
    assert (acme.rendered, acme.error, acme.has_changes) == (False, None, False)


# --- the pure parts ----------------------------------------------------------------------


def _obj(kind: str, spec: dict, urn: str = "urn:a", protect: bool = False) -> str:  # type: ignore[type-arg]
    header = f"# urn: {urn}\n" + ("# protect: true (pulumi refuses to delete it)\n" if protect else "")
    return header + yaml.safe_dump({"kind": kind, "metadata": {"name": "x"}, "spec": spec})


def test_risk_flags_one_by_one() -> None:
    disk = _obj("VMDisk", {"source": {"image": {"name": "ubuntu-2404"}}}, protect=True)
    assert [r.message for r in object_risks("d", disk, None)] == [
        "deletes a protected object: `pulumi up` will refuse until it is unprotected"
    ]
    moved = _obj("VMDisk", {"source": {"image": {"name": "ubuntu-2404"}}}, urn="urn:b")
    assert object_risks("d", disk, moved) == [
        Risk("d", "Pulumi URN changes: the object is replaced unless an alias keeps it")
    ]
    group = {"nodeGroups": {"g": {"gpus": [{"name": "nvidia.com/AD102GL_L40S"}]}}}
    swapped = {"nodeGroups": {"g": {"gpus": [{"name": "nvidia.com/H100_94GB"}]}}}
    assert object_risks("k", _obj("Kubernetes", group), _obj("Kubernetes", swapped)) == [
        Risk("k", "node group g changes GPU model: its nodes are replaced")
    ]
    old_chart = {"chart": {"spec": {"version": "v25.10.1"}}}
    new_chart = {"chart": {"spec": {"version": "v26.7.0"}}}
    assert object_risks("h", _obj("HelmRelease", old_chart), _obj("HelmRelease", new_chart)) == [
        Risk("h", "chart major version v25.10.1 → v26.7.0: read the upgrade notes")
    ]
    two = {"nodeGroups": {"g": {"gpus": [{"name": "nvidia.com/AD102GL_L40S"}] * 2}, "cpu": {"gpus": []}}}
    assert object_risks("k", _obj("Kubernetes", two), _obj("Kubernetes", group)) == [
        Risk("k", "node group g gets fewer GPUs per node (2 → 1)")
    ]
    assert object_risks("k", _obj("Kubernetes", two), _obj("Kubernetes", {"nodeGroups": {}})) == [
        Risk("k", "GPU node group g is removed: its nodes and pods go away")
    ]
    minor = {"chart": {"spec": {"version": "v26.3.1"}}}
    assert object_risks("h", _obj("HelmRelease", minor), _obj("HelmRelease", new_chart)) == []
    assert quota_risks({"L40S": 2}, {"L40S": 2, "H100": 1}) == [
        Risk("hikube-gpu:quota.H100", "GPU quota for H100 grows from 0 to 1")
    ]


def test_long_diffs_and_big_comments_are_trimmed_with_a_note() -> None:
    long = ObjectChange("ns/x.yaml", [f"+line {i}" for i in range(500)])
    stacks = [StackDiff(f"s{i}", changed=[long]) for i in range(80)]
    text = diff_report.markdown(Comparison("main", "working tree", stacks))
    assert "... 380 more diff lines not shown" in text
    assert len(text) < 65_536
    assert "left out to stay under GitHub's comment size limit" in text
    assert text.startswith(diff_report.MARKER)


def test_a_config_change_no_object_shows_is_noted() -> None:
    """Secret values render masked: a change to one alone must not read as 'no change'."""
    same = StackRender({"ns/vminstance-a.yaml": "# urn: u\nkind: VMInstance\nspec: {sshKeys: '[secret]'}\n"})
    result = diff_stack(
        "s", same, same, base_label="base", head_label="head", config_changes=["hikube-gpu:vms"]
    )
    assert result.has_changes
    assert result.notes[0].startswith(
        "config changed but no rendered object did (hikube-gpu:vms): secret values"
    )
    quiet = diff_stack("s", same, same, base_label="base", head_label="head", config_changes=[])
    assert not quiet.has_changes
