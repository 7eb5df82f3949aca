"""The sentinel test on every output surface, on both paths (``docs/secrets.md``).

Offline: a project in a git repository whose stack files and customer defaults file hold
``secure:`` values (their ciphertexts carry the sentinel) and plain values in fields that are
always secret (kubeconfigs, SSH keys, cloud-init), with a second commit that changes them. Every
command's output, every file it writes and every error message is searched for the sentinel.

Under the Pulumi CLI: the program under Pulumi's mock runtime with the config decrypted (the
sentinel in clear, as text and as a number), as ``pulumi preview``/``up`` hand it over.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from benchmarks.common import copy_project
from stacks.commands.cli import main
from stacks.commands.preview.engine import OfflineRun, run_offline
from stacks.commands.preview.render import render
from stacks.commands.preview.report import preview_text
from stacks.loading.problems import ConfigError
from stacks.loading.stack_file import StackConfigFile
from stacks.program.main import main as program

SENTINEL = "SENTINEL-c41d"
NUMBER = 604918273  # a secret number found nowhere else
KEY = f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5{SENTINEL}Key user@example"
CLOUD_INIT = f"#cloud-config\nruncmd:\n  - echo {SENTINEL}-cloud-init\n"
KUBECONFIG = f"apiVersion: v1\nkind: Config\nusers: [{{name: u, user: {{token: {SENTINEL}-token}}}}]\n"


def _secure(name: str, revision: int = 1) -> dict[str, str]:
    """A ``secure:`` value whose ciphertext carries the sentinel."""
    return {"secure": f"v1:{SENTINEL}-{name}-{revision}-c2FsdGVkLWNpcGhlcnRleHQ="}


def _defaults(revision: int) -> dict[str, Any]:
    return {
        "config": {
            "hikube-gpu:vms": {
                "ws": {"gpus": {"L40S": 1}, "sshKeys": [f"{KEY}{revision}"], "cloudInit": CLOUD_INIT}
            }
        }
    }


def _stack(revision: int) -> dict[str, Any]:
    """A valid tenant stack with a secret in every place one may be."""
    return {
        "config": {
            "hikube-gpu:defaults": "customers/acme.yaml",
            "hikube-gpu:platform": {"namespace": "tenant-acme"},
            "hikube-gpu:kubeconfig": _secure("kubeconfig", revision),
            "kubernetes:kubeconfig": KUBECONFIG,
            "hikube-gpu:quota": {"L40S": _secure("quota", revision), "A100": 2},
            "hikube-gpu:vms": {
                "db": {
                    "gpus": {"A100": revision},
                    "sshKeys": [KEY, _secure("key", revision)],
                    "cloudInit": _secure("cloud-init", revision),
                }
            },
            "hikube-gpu:clusters": {
                "c": {
                    "nodeGroups": {"g": {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 2}},
                    "workloads": {
                        "w": {
                            "image": "registry.example.com/serve:1",
                            "gpus": {"L40S": 1},
                            "args": ["--token", _secure("arg", revision)],
                            "env": {"PLAIN": f"visible-{revision}", "TOKEN": _secure("env", revision)},
                        }
                    },
                }
            },
        }
    }


def _broken(revision: int) -> dict[str, Any]:
    """An invalid stack: secrets where they cannot be, values of the wrong type in secret fields."""
    return {
        "config": {
            "hikube-gpu:platform": {"namespace": "tenant-broken"},
            "hikube-gpu:kubeconfig": [KUBECONFIG],
            "kubernetes:context": _secure("context", revision),
            "hikube-gpu:vms": {
                "a": {
                    "gpus": {"L40S": 1},
                    "instanceType": _secure("instance-type", revision),
                    "sshKeys": [NUMBER, KEY],
                    "cloudInit": f"#cloud-config\nruncmd: {SENTINEL}\n",
                }
            },
        }
    }


def _git(repo: Path, *args: str) -> None:
    command = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args]
    subprocess.run(command, capture_output=True, text=True, check=True)


def _write(repo: Path, revision: int) -> None:
    for path, document in {
        "customers/acme.yaml": _defaults(revision),
        "Pulumi.acme.yaml": _stack(revision),
        "Pulumi.broken.yaml": _broken(revision),
    }.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", f"revision {revision}")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("surfaces")
    copy_project(root, lambda name: not (name.startswith(("Pulumi.", "examples/")) and name != "Pulumi.yaml"))
    _git(root, "init", "-q", "-b", "main")
    _write(root, 1)
    _write(root, 2)
    return root


COMMANDS: dict[str, tuple[list[str], set[int]]] = {
    "list": (["list"], {0}),
    "list json": (["list", "--format", "json"], {0}),
    "config acme": (["config", "--stack", "acme", "--show-origin"], {0}),
    "config broken": (["config", "--stack", "broken", "--show-origin"], {0}),
    "preview acme": (["preview", "--stack", "acme"], {0}),
    "preview acme (mock runtime)": (["preview", "--stack", "acme", "--engine", "pulumi"], {0}),
    "preview broken": (["preview", "--stack", "broken"], {2}),
    "preview broken (mock runtime)": (["preview", "--stack", "broken", "--engine", "pulumi"], {2}),
    "render acme": (["render", "--stack", "acme", "--out", "{out}/render"], {0}),
    "render broken": (["render", "--stack", "broken", "--out", "{out}/broken"], {2}),
    "diff text": (["diff", "--base", "HEAD~1", "--workers", "2", "--full-report", "{out}/full.txt"], {2}),
    "diff markdown": (["diff", "--base", "HEAD~1", "--workers", "2", "--format", "markdown"], {2}),
    "changed text": (["changed", "--base", "HEAD~1", "--workers", "2"], {0}),
    "changed json": (["changed", "--base", "HEAD~1", "--workers", "2", "--format", "json"], {0}),
    "changed matrix": (["changed", "--base", "HEAD~1", "--workers", "2", "--format", "matrix"], {0}),
    "operator (refused)": (
        ["operator", "--out", "{out}/refused", "--repo-url", "https://git.example.com/f"],
        {2},
    ),
    "operator": (["operator", "--out", "{out}/operator", "--repo-url", "https://git.example.com/f"], {0}),
}
"""Every command of ``hikube-gpu`` that reads stack files, and the exit codes expected.
``operator`` refuses stacks that set a kubeconfig: it runs on a copy of the project without them."""


def _without_kubeconfigs(repo: Path, root: Path) -> Path:
    """The project's stack files and defaults without kubeconfigs, a secret context in each."""
    for name in ("Pulumi.yaml", ".pulumi-version", "customers/acme.yaml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes((repo / name).read_bytes())
    for document, name in ((_stack(2), "acme"), (_broken(2), "broken")):
        config = {k: v for k, v in document["config"].items() if not k.endswith(":kubeconfig")}
        config["hikube-gpu:platform"] = {"namespace": f"tenant-{name}", "context": _secure("context")}
        (root / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def outputs(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What each command printed (stdout and stderr) and wrote (every file under its --out)."""
    out = tmp_path_factory.mktemp("written")
    operator = _without_kubeconfigs(repo, tmp_path_factory.mktemp("operator"))
    seen: dict[str, str] = {}
    for name, (argv, codes) in COMMANDS.items():
        stdout, stderr = io.StringIO(), io.StringIO()  # a module fixture cannot take capsys
        project = operator if name == "operator" else repo
        args = [arg.format(out=out) for arg in argv] + ["--project-dir", str(project)]
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(args)
        assert code in codes, (name, code, stderr.getvalue())
        seen[name] = stdout.getvalue() + stderr.getvalue()
    for path in sorted(out.rglob("*")):
        if path.is_file():
            seen[f"file {path.relative_to(out)}"] = path.read_text(encoding="utf-8")
    return seen


def test_the_sentinel_shows_on_no_offline_surface(outputs: dict[str, str]) -> None:
    for surface, text in outputs.items():
        assert SENTINEL not in text, f"a secret leaked into {surface}"
        assert str(NUMBER) not in text, f"a secret number leaked into {surface}"
        assert "Traceback" not in text, surface


def test_the_surfaces_show_what_they_should(outputs: dict[str, str]) -> None:
    """Not vacuous: the secrets are there, masked; the stacks rendered, changed and failed."""
    config = outputs["config acme"].splitlines()
    assert 'hikube-gpu:vms.db.sshKeys = ["[secret]", "[secret]"]    # stack file' in config
    assert 'hikube-gpu:vms.ws.sshKeys = ["[secret]"]    # customers/acme.yaml' in config
    assert "hikube-gpu:clusters.c.workloads.w.env.PLAIN = visible-2    # stack file" in config
    assert "kubernetes:kubeconfig = [secret]    # stack file" in config
    assert 'hikube-gpu:kubeconfig = ["[secret]"]    # stack file' in outputs["config broken"]  # a list
    assert "[secret]" in outputs["file render/tenant-acme/vminstance-db.yaml"]
    assert "[secret]" in outputs["file render/tenant-acme/vminstance-ws.yaml"]
    broken = outputs["preview broken"]
    for problem in (
        "hikube-gpu:kubeconfig: expected a kubeconfig (its YAML or JSON text), got a list",
        "hikube-gpu:vms.a.instanceType: stored as a secret, but it becomes a plain field",
        "hikube-gpu:vms.a.sshKeys[0]: expected text, got a number ([secret])",
        "kubernetes:context: stored as a secret, but it becomes the provider's target",
    ):
        assert problem in broken
    assert outputs["preview broken (mock runtime)"] == broken
    assert "tenant-acme/vminstance-db.yaml" in outputs["diff text"]  # the A100 count changed
    assert "error: stack 'broken'" in outputs["diff markdown"]
    assert json.loads(outputs["changed json"].splitlines()[0]) == ["acme", "broken"]
    assert {name for name in outputs if name.startswith("file operator/stack-")} == {
        "file operator/stack-hikube-gpu-acme.yaml",
        "file operator/stack-hikube-gpu-broken.yaml",
    }
    assert "acme\thikube-gpu-acme-kubeconfig\t[encrypted]\t" in outputs["file operator/credentials.txt"]
    assert "stack 'acme' sets hikube-gpu:kubeconfig" in outputs["operator (refused)"]


# --- under the Pulumi CLI: decrypted secrets --------------------------------------------------


def _cli(
    config: dict[str, Any], secret_keys: list[str], root: Path | None, monkeypatch: pytest.MonkeyPatch
) -> OfflineRun:
    """The program given ``config`` (full key → value) decrypted, as the CLI hands it over."""
    monkeypatch.setattr(pulumi.runtime, "get_root_directory", lambda: str(root) if root else None)
    monkeypatch.setattr(pulumi, "get_stack", lambda: "cli")
    values = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    return run_offline(StackConfigFile("hikube-gpu", "cli", values, secret_keys), program)


CLEAR: dict[str, Any] = {
    "kubeconfig": KUBECONFIG,
    "quota": NUMBER,
    "key": KEY,
    "cloud-init": CLOUD_INIT,
    "arg": f"{SENTINEL}-arg",
    "env": f"{SENTINEL}-env",
    "context": f"{SENTINEL}-context",
    "instance-type": f"{SENTINEL}-type",
}
"""What each ``_secure(name)`` value decrypts to: a value of the type its field expects."""


NUMBERS = dict.fromkeys(CLEAR, NUMBER) | {"quota": 3}
"""Every secret stored as the secret number (``pulumi config set --secret --path`` stores digits
as a number), but the quota: a number the program hides anyway would hide the others too."""


def _decrypted(value: Any, clear: dict[str, Any]) -> Any:
    """A stack file's config with each ``secure:`` value replaced by what the CLI decrypts
    (``clear``, by the name ``_secure`` gave it)."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return clear[value["secure"].removeprefix(f"v1:{SENTINEL}-").rsplit("-", 2)[0]]
    if isinstance(value, dict):
        return {key: _decrypted(item, clear) for key, item in value.items()}
    if isinstance(value, list):
        return [_decrypted(item, clear) for item in value]
    return value


def _cli_project(root: Path, document: dict[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text("name: hikube-gpu\nruntime: python\n")
    (root / "Pulumi.cli.yaml").write_text(yaml.safe_dump(document))


def _surfaces(run: OfflineRun, out: Path) -> dict[str, str]:
    places = {
        "preview": preview_text(run) if run.failure is None else "",
        "errors": str(run.failure or ""),
        "logs": "\n".join(run.warnings + run.errors),
        "resource inputs": json.dumps([r.inputs for r in run.resources]),
        "stack outputs": json.dumps(run.outputs),
    }
    if run.failure is None:
        places["rendered files"] = "\n".join(p.read_text() for p in render(run, out))
    return places


CLI_CASES = {
    "valid": (_stack(1), CLEAR, True),  # every secret kept or checked
    "refused": (_broken(1), CLEAR, False),  # secrets that cannot stay secret
    "numbers": (_stack(1), NUMBERS, False),  # secrets stored as numbers: type errors at their paths
}


@pytest.mark.parametrize("stack_file", [True, False], ids=["stack file", "no stack file"])
@pytest.mark.parametrize("case", CLI_CASES)
def test_the_sentinel_shows_on_no_surface_under_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack_file: bool, case: str
) -> None:
    """With the stack file Pulumi tells exactly which values are secrets; without it (e.g.
    ``--config-file`` elsewhere) every value of a secret key counts as one."""
    document, decrypted, valid = CLI_CASES[case]
    written = {k: v for k, v in document["config"].items() if k != "hikube-gpu:defaults"}
    config = {"hikube-gpu:kind": "tenant", **_decrypted(written, decrypted)}
    secret_keys = sorted(key for key, value in written.items() if '"secure"' in json.dumps(value))
    if stack_file:
        _cli_project(tmp_path / "project", {"config": written})
    run = _cli(config, secret_keys, tmp_path / "project" if stack_file else None, monkeypatch)
    if valid:
        assert run.failure is None, run.failure
    else:
        assert isinstance(run.failure, ConfigError), run.failure
    for place, text in _surfaces(run, tmp_path / "out").items():
        assert SENTINEL not in text, f"a secret leaked into the {place}"
        assert str(NUMBER) not in text, f"a secret number leaked into the {place}"
