"""``hikube-gpu``: exit codes, output streams, render folders, --config-file, secure values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.preview.engine import OfflineRun
from tests.helpers import SSH_KEY, base_config, run_config, with_vm, write_stack


def test_preview_prints_tree_capacity_and_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_stack(tmp_path, with_vm(instanceType="u1.xlarge"))
    assert main(["preview", "--config-file", str(config_file)]) == 0
    out = capsys.readouterr().out
    assert "hikube-gpu:vm:GpuVirtualMachine" in out
    assert "GPU capacity:" in out
    assert "  L40S      1            0     0     1       48 GB        362      -" in out
    assert (
        "Warnings (1):\n  warning: hikube-gpu:vms.gpu-1.instanceType: u1.xlarge gives 4 vCPU per GPU" in out
    )


def test_invalid_config_exits_2_with_errors_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_stack(tmp_path, with_vm(gpus={"H200": 1}))
    assert main(["render", "--config-file", str(config_file), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "hikube-gpu:vms.gpu-1.gpus.H200: 'H200' is not offered; choose L40S, A100, H100" in captured.err
    assert not (tmp_path / "out").exists()


def test_invalid_config_has_no_traceback_as_a_process(tmp_path: Path) -> None:
    config_file = write_stack(tmp_path, with_vm(running=True))
    result = subprocess.run(
        [sys.executable, "-m", "stacks", "preview", "--config-file", str(config_file)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {config_file}: invalid stack configuration (1 problem):")


def test_successful_preview_process_writes_nothing_to_stderr() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stacks", "preview"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert "Resources:\n    + 19 to create\n\n" in result.stdout


def test_missing_stack_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--stack", "no-such-stack"]) == 2
    assert "error: no stack 'no-such-stack' in " in capsys.readouterr().err


def test_render_writes_one_file_per_object_and_replaces_its_own_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = base_config(
        vms={"a": {"gpus": {"L40S": 1}}, "b": {"gpus": {"A100": 1}, "dataDisks": {"d": {"size": "1Gi"}}}}
    )
    config_file = write_stack(tmp_path, config)
    assert main(["render", "--config-file", str(config_file), "--out", str(out)]) == 0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml"))
    assert files == [
        "tenant-test/vmdisk-a-system.yaml",
        "tenant-test/vmdisk-b-d.yaml",
        "tenant-test/vmdisk-b-system.yaml",
        "tenant-test/vminstance-a.yaml",
        "tenant-test/vminstance-b.yaml",
    ]
    config_file = write_stack(tmp_path, base_config(vms={"a": {"gpus": {"L40S": 1}}}))
    assert main(["render", "--config-file", str(config_file), "--out", str(out)]) == 0
    assert len(list(out.rglob("*.yaml"))) == 2  # b's files are gone, not stale


def test_render_refuses_a_folder_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    config_file = write_stack(tmp_path, base_config())
    assert main(["render", "--config-file", str(config_file), "--out", str(tmp_path)]) == 2
    assert "was not written by a render" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_encrypted_values_are_placeholders_and_stay_secret(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.enc.yaml"
    document = {
        "config": {
            "hikube-gpu:platform": {"namespace": "tenant-enc"},
            "hikube-gpu:kubeconfig": {"secure": "v1:AAAAencryptedkubeconfig"},
            "hikube-gpu:vms": {"ws": {"gpus": {"L40S": 1}, "sshKeys": [{"secure": "v1:AAAAencryptedkey"}]}},
        }
    }
    path.write_text(yaml.safe_dump(document))
    from stacks.commands.cli import run_stack

    run = run_stack(PROJECT_DIR, "enc", path)
    assert run.failure is None
    provider = next(r for r in run.resources if r.type == "pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["namespace"] == "tenant-enc"
    text = str([r.inputs for r in run.resources])
    assert "encryptedkey" not in text
    assert "encryptedkubeconfig" not in text


def test_secret_sentinels_never_leave_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sentinel = "SENTINEL7f3a"
    config = base_config(
        kubeconfig=f"apiVersion: v1\nkind: Config\n# {sentinel}\n",
        vms={
            "ws": {
                "gpus": {"L40S": 1},
                "sshKeys": [f"ssh-ed25519 AAAA{sentinel} me@host"],
                "cloudInit": f"#cloud-config\nruncmd:\n  - echo {sentinel}\n",
            }
        },
    )
    run = run_config(tmp_path, config)
    assert run.failure is None
    assert sentinel not in repr(run.resources) + repr(run.outputs) + repr(run.warnings)
    config_file = write_stack(tmp_path, config)
    assert main(["render", "--config-file", str(config_file), "--out", str(tmp_path / "out")]) == 0
    assert main(["preview", "--config-file", str(config_file)]) == 0
    captured = capsys.readouterr()
    assert sentinel not in captured.out + captured.err
    assert all(sentinel not in p.read_text() for p in (tmp_path / "out").rglob("*.yaml"))


def test_map_order_in_the_config_does_not_change_the_output(tmp_path: Path) -> None:
    vms = {
        "b": {
            "gpus": {"A100": 1, "L40S": 1},
            "dataDisks": {"y": {"size": "1Gi"}, "x": {"size": "2Gi"}},
            "instanceType": "u1.4xlarge",
        },
        "a": {"sshKeys": [SSH_KEY], "gpus": {"L40S": 1}},
    }
    reordered = {name: dict(reversed(list(spec.items()))) for name, spec in reversed(list(vms.items()))}
    reordered["b"]["gpus"] = {"L40S": 1, "A100": 1}
    reordered["b"]["dataDisks"] = {"x": {"size": "2Gi"}, "y": {"size": "1Gi"}}
    first = run_config(tmp_path / "1", base_config(vms=vms))
    second = run_config(tmp_path / "2", base_config(vms=reordered))
    assert [(r.urn, r.inputs) for r in first.resources] == [(r.urn, r.inputs) for r in second.resources]


def test_logged_errors_fail_the_preview_like_pulumi(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = OfflineRun(stack="dev", project="hikube-gpu", errors=["provider exploded"])
    monkeypatch.setattr("stacks.commands.cli.run_stack", lambda *_args: failed)
    assert main(["preview"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: stack 'dev': provider exploded\n"


def test_a_duplicate_key_in_the_stack_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A node listed twice (in two modes) must not silently keep the last one."""
    path = tmp_path / "Pulumi.dup.yaml"
    path.write_text(
        "config:\n  hikube-gpu:kind: platform\n  hikube-gpu:nodes:\n"
        "    gpu-node-1: vm-passthrough\n    gpu-node-1: container\n",
        encoding="utf-8",
    )
    assert main(["preview", "--config-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "duplicate key 'gpu-node-1'" in err
    assert "line 5" in err
