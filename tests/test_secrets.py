"""Secret config values: kept Pulumi secrets end to end, used only in checks, or refused.

Configs are given two ways: offline (a stack file with ``secure:`` values the offline reader
cannot decrypt) and the way the Pulumi CLI gives them (decrypted JSON per top-level key,
``PULUMI_CONFIG_SECRET_KEYS`` naming the keys that contain a secret).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from stacks.commands.preview.engine import OfflineRun, run_offline
from stacks.commands.preview.render import render
from stacks.commands.preview.report import capacity_table, preview_text
from stacks.loading.customer_defaults import as_cli_value
from stacks.loading.problems import ConfigError, Problem
from stacks.loading.pulumi_config import Secrets, secret_leaves
from stacks.loading.secret_paths import ALWAYS, CHECKED, KEPT, matches, under
from stacks.loading.stack_file import StackConfigFile
from stacks.program.main import main as program
from stacks.validation.secrets import redact
from tests.helpers import by_path, objects, problems_of, reference, run_config
from tests.platform_stacks import platform_stack
from tests.upstream.refresh import numbered_excerpt

SENTINEL = "SENTINEL-5b1e"
QUOTA = 7919  # a number found nowhere else in a rendered stack
KEY = f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{SENTINEL}Key user@example"
USER_DATA = f"#cloud-config\nruncmd:\n  - echo {SENTINEL}-cloud-init\n"
KUBECONFIG = f"apiVersion: v1\nkind: Config\nusers: [{{name: u, user: {{token: {SENTINEL}-token}}}}]\n"
SECURE = {"secure": "v1:c2FsdA==:Y2lwaGVydGV4dA=="}
REFUSED = "which cannot be secret; store it with `pulumi config set` (no --secret)"


def _tenant() -> tuple[dict[str, Any], set[tuple[str | int, ...]]]:
    """A tenant config with a sentinel in every field that may be a secret, and those leaves."""
    config = {
        "kind": "tenant",
        "platform": {"namespace": "tenant-test"},
        "kubeconfig": KUBECONFIG,
        "quota": {"L40S": QUOTA, "A100": 8},
        "vms": {"a": {"gpus": {"L40S": 1}, "sshKeys": [KEY], "cloudInit": USER_DATA}},
        "clusters": {
            "c": {
                "nodeGroups": {"g": {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 2}},
                "workloads": {
                    "w": {
                        "image": "registry.example.com/serve:1",
                        "gpus": {"L40S": 1},
                        "args": ["--token", f"{SENTINEL}-arg"],
                        "env": {"PLAIN": "visible", "TOKEN": f"{SENTINEL}-env"},
                    }
                },
            }
        },
    }
    leaves: set[tuple[str | int, ...]] = {
        ("kubeconfig",),
        ("quota", "L40S"),
        ("vms", "a", "sshKeys", 0),
        ("vms", "a", "cloudInit"),
        ("clusters", "c", "workloads", "w", "args", 1),
        ("clusters", "c", "workloads", "w", "env", "TOKEN"),
    }
    return config, leaves


def _platform() -> tuple[dict[str, Any], set[tuple[str | int, ...]]]:
    config = platform_stack("mixed", kubeconfig=KUBECONFIG)
    config["vms"]["render"]["sshKeys"] = [KEY]
    config["vms"]["render"]["cloudInit"] = USER_DATA
    return config, {("kubeconfig",), ("vms", "render", "sshKeys", 0), ("vms", "render", "cloudInit")}


def _mark(value: Any, leaves: set[tuple[str | int, ...]], at: tuple[str | int, ...] = ()) -> Any:
    """``value`` as written in a stack file, with ``secure:`` at ``leaves``."""
    if at in leaves:
        return SECURE
    if isinstance(value, dict):
        return {key: _mark(item, leaves, (*at, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark(item, leaves, (*at, index)) for index, item in enumerate(value)]
    return value


def _project(folder: Path, stack: str, config: dict[str, Any], leaves: set[tuple[str | int, ...]]) -> None:
    """A project folder whose stack file marks ``leaves`` secure, as ``pulumi config set --secret`` would."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text("name: hikube-gpu\nruntime: python\n")
    marked = {f"hikube-gpu:{key}": _mark(value, leaves, (key,)) for key, value in config.items()}
    (folder / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": marked}))


def _as_cli(
    config: dict[str, Any],
    leaves: set[tuple[str | int, ...]],
    root: Path | None,
    monkeypatch: pytest.MonkeyPatch,
    *,
    ambient: dict[str, str] | None = None,
    ambient_secret: tuple[str, ...] = (),
) -> OfflineRun:
    """Run the program with the config decrypted, as the CLI hands it over (JSON per key, the
    top-level keys that contain a secret), the project folder at ``root`` (None: unknown);
    ``ambient``: ``kubernetes:*`` values, those named in ``ambient_secret`` stored as secrets."""
    monkeypatch.setattr(pulumi.runtime, "get_root_directory", lambda: str(root) if root else None)
    values = {
        f"hikube-gpu:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
    }
    values |= {f"kubernetes:{key}": value for key, value in (ambient or {}).items()}
    secret_keys = sorted(
        {f"hikube-gpu:{leaf[0]}" for leaf in leaves} | {f"kubernetes:{k}" for k in ambient_secret}
    )
    return run_offline(StackConfigFile("hikube-gpu", "cli", values, secret_keys), program)


def _everywhere(run: OfflineRun, tmp_path: Path) -> dict[str, str]:
    files = [p.read_text() for p in render(run, tmp_path / "out")]
    return {
        "rendered files": "\n".join(files),
        "preview": preview_text(run),
        "logs": "\n".join(run.warnings + run.errors),
        "resource inputs (Helm values included)": json.dumps([r.inputs for r in run.resources]),
        "stack outputs": json.dumps(run.outputs),
    }


# --- every field that may be a secret stays one ------------------------------------------------


@pytest.mark.parametrize("kind", ["tenant", "platform"])
def test_every_secret_field_is_covered_by_the_sentinel_configs(kind: str) -> None:
    """A field added to KEPT or CHECKED needs a sentinel here too."""
    _, leaves = _tenant() if kind == "tenant" else _platform()
    for pattern in KEPT[kind] + CHECKED[kind]:
        if pattern != ("quota",):  # the whole quota as one secret: tested offline below
            assert any(matches(leaf, pattern) for leaf in leaves), pattern


@pytest.mark.parametrize("kind", ["tenant", "platform"])
def test_fields_that_are_always_secret_may_be_stored_as_secrets(kind: str) -> None:
    """What ``config`` masks and messages hide in plain text (``ALWAYS``) is kept a secret when
    stored as one (``KEPT``), in both stack kinds."""
    for field in ALWAYS:
        assert any(under(pattern, [field]) for pattern in KEPT[kind]), field


@pytest.mark.parametrize("kind", ["tenant", "platform"])
def test_secrets_given_by_the_cli_reach_no_output_and_are_registered_as_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    config, leaves = _tenant() if kind == "tenant" else _platform()
    _project(tmp_path / "project", "cli", config, leaves)
    run = _as_cli(config, leaves, tmp_path / "project", monkeypatch)
    assert run.failure is None, run.failure
    for place, text in _everywhere(run, tmp_path).items():
        assert SENTINEL not in text, f"a secret leaked into the {place}"
        assert str(QUOTA) not in text, f"the secret quota leaked into the {place}"
    providers = {r.name: r for r in run.resources if r.type == "pulumi:providers:kubernetes"}
    assert providers["tenant" if kind == "tenant" else "host"].inputs["kubeconfig"] == "[secret]"
    if kind == "platform":
        secret = next(r.inputs for r in run.resources if r.type == "kubernetes:core/v1:Secret")
        assert set(secret["stringData"].values()) == {"[secret]"}
        return
    vm = objects(run)["VMInstance/a"]["spec"]
    assert vm["sshKeys"] == ["[secret]"]
    assert vm["cloudInit"] == "[secret]"
    container = objects(run)["Deployment/w"]["spec"]["template"]["spec"]["containers"][0]
    # exactly the secret values are secrets: the plain ones stay readable
    assert container["env"] == [{"name": "PLAIN", "value": "visible"}, {"name": "TOKEN", "value": "[secret]"}]
    assert container["args"] == ["--token", "[secret]"]
    assert run.outputs["gpuCapacity"]["L40S"]["quotaSecret"] is True
    assert run.outputs["gpuCapacity"]["A100"]["quotaSecret"] is True
    assert "[secret]" in capacity_table(run.outputs["gpuCapacity"])


def test_without_the_stack_file_every_value_of_a_secret_key_that_can_be_secret_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, leaves = _tenant()
    run = _as_cli(config, leaves, None, monkeypatch)
    assert run.failure is None, run.failure
    container = objects(run)["Deployment/w"]["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [
        {"name": "PLAIN", "value": "[secret]"},
        {"name": "TOKEN", "value": "[secret]"},
    ]
    assert container["image"] == "registry.example.com/serve:1"  # a plain field stays plain
    # values deployed in plain text (node counts) are shown by the preview: messages may quote them
    assert any("it starts with 2 nodes and is set back to 2" in w for w in run.warnings), run.warnings
    assert (
        "hikube-gpu:clusters: Pulumi says this key holds a secret, but the stack file that tells which of "
        "its values are was not found: every value that can stay secret is kept secret, the others are "
        "deployed as plain values"
    ) in run.warnings


def test_a_secret_quota_given_by_the_cli_is_checked_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {
        "kind": "tenant",
        "platform": {"namespace": "tenant-test"},
        "quota": {"L40S": 3},
        "vms": {"big": {"gpus": {"L40S": 5}, "instanceType": "u1.8xlarge"}},
    }
    leaves: set[tuple[str | int, ...]] = {("quota", "L40S")}
    _project(tmp_path, "cli", config, leaves)
    run = _as_cli(config, leaves, tmp_path, monkeypatch)
    assert isinstance(run.failure, ConfigError)
    assert by_path(run.failure.problems)["hikube-gpu:quota.L40S"] == (
        "the stack asks for 5 L40S GPUs (big: 5) but its quota is [secret]"
    )


# --- offline: secret values of every type -----------------------------------------------------


def test_a_secret_quota_offline_validates_skips_its_check_and_shows_as_secret(tmp_path: Path) -> None:
    run = run_config(
        tmp_path,
        {
            "platform": {"namespace": "tenant-test"},
            "quota": {"L40S": SECURE},
            "vms": {"a": {"gpus": {"L40S": 1}, "sshKeys": [SECURE]}},
        },
    )
    assert run.failure is None, run.failure
    assert "hikube-gpu:quota.L40S: can't check offline: the value is a secret" in run.warnings
    table = capacity_table(run.outputs["gpuCapacity"])
    assert table.splitlines()[1].endswith("[secret]")
    assert str(2**31 - 1) not in preview_text(run)


def test_a_whole_quota_stored_as_one_secret_offline(tmp_path: Path) -> None:
    run = run_config(
        tmp_path,
        {"platform": {"namespace": "tenant-test"}, "quota": SECURE, "vms": {"a": {"gpus": {"L40S": 1}}}},
    )
    assert run.failure is None, run.failure
    assert "hikube-gpu:quota: can't check offline: the value is a secret" in run.warnings
    assert all(row["quotaSecret"] for row in run.outputs["gpuCapacity"].values())


def test_a_secret_env_value_offline_is_a_secret_in_the_deployment(tmp_path: Path) -> None:
    config, _ = _tenant()
    del config["kubeconfig"]
    config["clusters"]["c"]["workloads"]["w"]["env"]["TOKEN"] = SECURE
    run = run_config(tmp_path, config)
    assert run.failure is None, run.failure
    env = objects(run)["Deployment/w"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "PLAIN", "value": "visible"}, {"name": "TOKEN", "value": "[secret]"}]


@pytest.mark.parametrize(
    ("change", "path", "becomes"),
    [
        (lambda vm: vm["external"].update(ports=[SECURE]), "vms.a.external.ports[0]", "a LoadBalancer port"),
        (lambda vm: vm["gpus"].update(L40S=SECURE), "vms.a.gpus.L40S", "the VM's GPU count"),
        (
            lambda vm: vm.update(instanceType=SECURE),
            "vms.a.instanceType",
            "a plain field of a deployed object",
        ),
    ],
)
def test_a_secret_that_would_land_in_a_plain_field_is_refused(
    tmp_path: Path, change: Any, path: str, becomes: str
) -> None:
    vm: dict[str, Any] = {"gpus": {"L40S": 1}, "external": {"ports": [22]}}
    change(vm)
    problems = by_path(problems_of(tmp_path, {"platform": {"namespace": "tenant-test"}, "vms": {"a": vm}}))
    assert problems == {f"hikube-gpu:{path}": problems[f"hikube-gpu:{path}"]}  # one problem, no type error
    assert problems[f"hikube-gpu:{path}"].startswith(f"stored as a secret, but it becomes {becomes}")
    assert problems[f"hikube-gpu:{path}"].endswith(REFUSED)


# --- which values are secret ------------------------------------------------------------------


def _file_leaves(leaves: dict[str, list[tuple[str | int, ...]]] | None) -> Any:
    return lambda: leaves


def test_placeholders_left_offline_name_the_secret_values_exactly() -> None:
    raw = {"vms": {"a": {"gpus": {"L40S": 1}, "sshKeys": ["[encrypted]", "ssh-ed25519 AAAA x"]}}}
    secrets = secret_leaves(raw, lambda key: key == "hikube-gpu:vms", _file_leaves(None))
    assert secrets == Secrets(frozenset({("vms", "a", "sshKeys", 0)}))


def test_the_stack_file_markers_refine_a_secret_key_when_they_fit() -> None:
    raw = {"vms": {"a": {"gpus": {"L40S": 1}, "cloudInit": "#!/bin/sh"}}}
    fits = _file_leaves({"hikube-gpu:vms": [("a", "cloudInit")]})
    assert secret_leaves(raw, lambda key: key == "hikube-gpu:vms", fits) == Secrets(
        frozenset({("vms", "a", "cloudInit")})
    )
    stale = _file_leaves({"hikube-gpu:vms": [("b", "cloudInit")]})  # not this config's file
    secrets = secret_leaves(raw, lambda key: key == "hikube-gpu:vms", stale)
    assert secrets.inferred == {"vms"}
    assert secrets.leaves == {("vms", "a", "gpus", "L40S"), ("vms", "a", "cloudInit")}


# --- no message shows a secret, of any type, on either path --------------------------------------

NUMBER = 918273645  # a secret number found nowhere else


def _typed_secrets() -> tuple[dict[str, Any], set[tuple[str | int, ...]]]:
    """A tenant config whose secret ``env`` values and ``args`` are a number, true and a short
    number (``pulumi config set --secret --path`` stores digits and true/false as such)."""
    config, _ = _tenant()
    workload = config["clusters"]["c"]["workloads"]["w"]
    workload["env"] = {"PLAIN": "visible", "TOKEN": NUMBER, "DEBUG": True}
    workload["args"] = ["--port", 7]
    base = ("clusters", "c", "workloads", "w")
    return config, {(*base, "env", "TOKEN"), (*base, "env", "DEBUG"), (*base, "args", 1)}


def _messages(run: OfflineRun) -> str:
    assert isinstance(run.failure, ConfigError), run.failure
    return "\n".join([str(run.failure), *run.warnings, *run.errors])


@pytest.mark.parametrize("stack_file", [True, False], ids=["stack file", "no stack file"])
def test_a_decrypted_secret_of_any_type_is_never_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack_file: bool
) -> None:
    """Under the CLI the program sees decrypted values: the type error names the type, not the
    value, whether the stack file says exactly which values are secret or not."""
    config, leaves = _typed_secrets()
    if stack_file:
        _project(tmp_path, "cli", config, leaves)
    run = _as_cli(config, leaves, tmp_path if stack_file else None, monkeypatch)
    text = _messages(run)
    where = "hikube-gpu:clusters.c.workloads.w"
    assert f"{where}.env.TOKEN: expected text, got a number ([secret]): " in text
    assert f"{where}.env.DEBUG: expected text, got true/false ([secret]): " in text
    assert f"{where}.args[1]: expected text, got a number ([secret]): " in text
    for shown in (str(NUMBER), "(true)", "(7)", SENTINEL):
        assert shown not in text


def test_a_value_of_a_field_that_is_always_secret_is_never_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSH keys and cloud-init are secrets even when stored in plain text: offline as under the CLI."""
    config, _ = _tenant()
    config["vms"]["a"]["sshKeys"] = [NUMBER, True]
    offline = _messages(run_config(tmp_path / "offline", config))
    cli = _messages(_as_cli(config, set(), None, monkeypatch))
    for text in (offline, cli):
        assert "hikube-gpu:vms.a.sshKeys[0]: expected text, got a number ([secret])" in text
        assert "hikube-gpu:vms.a.sshKeys[1]: expected text, got true/false ([secret])" in text
        assert str(NUMBER) not in text
        assert "(true)" not in text


# --- kubernetes:* provider config: one rule for both paths ----------------------------------------


def _offline_with_ambient(tmp_path: Path, ambient: dict[str, Any]) -> OfflineRun:
    config = {"platform": {}, "vms": {"a": {"gpus": {"L40S": 1}}}}
    tmp_path.mkdir(parents=True, exist_ok=True)
    document = {
        "config": {"hikube-gpu:vms": config["vms"], **{f"kubernetes:{k}": v for k, v in ambient.items()}}
    }
    (tmp_path / "Pulumi.amb.yaml").write_text(yaml.safe_dump(document))
    from stacks.commands.cli import PROJECT_DIR, run_stack

    return run_stack(PROJECT_DIR, "amb", tmp_path / "Pulumi.amb.yaml", engine="pulumi")


@pytest.mark.parametrize("key", ["namespace", "context"])
def test_a_secret_kubernetes_namespace_or_context_is_refused_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """Offline it cannot be decrypted; under the CLI it would be deployed in plain text (the
    tenant namespace of every object): both refuse it with the same message, nothing registered."""
    ambient = {"namespace": "tenant-amb", key: f"{key}-secret-value"}
    offline = _offline_with_ambient(tmp_path, {**ambient, key: SECURE})
    cli = _as_cli(
        {"vms": {"a": {"gpus": {"L40S": 1}}}},
        set(),
        None,
        monkeypatch,
        ambient=ambient,
        ambient_secret=(key,),
    )
    for run in (offline, cli):
        assert isinstance(run.failure, ConfigError), run.failure
        assert by_path(run.failure.problems) == {
            f"kubernetes:{key}": "stored as a secret, but it becomes the provider's target (namespace or "
            "context), which cannot be secret; store it with `pulumi config set` (no --secret)"
        }
        assert [r.type for r in run.resources if r.type != "pulumi:pulumi:Stack"] == []
        assert f"{key}-secret-value" not in _messages(run)


def test_a_secret_kubernetes_kubeconfig_stays_a_secret_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ambient = {"namespace": "tenant-amb", "kubeconfig": KUBECONFIG}
    offline = _offline_with_ambient(tmp_path, {**ambient, "kubeconfig": SECURE})
    cli = _as_cli(
        {"vms": {"a": {"gpus": {"L40S": 1}}}},
        set(),
        None,
        monkeypatch,
        ambient=ambient,
        ambient_secret=("kubeconfig",),
    )
    for run in (offline, cli):
        assert run.failure is None, run.failure
        provider = next(r for r in run.resources if r.type == "pulumi:providers:kubernetes")
        assert provider.inputs["kubeconfig"] == "[secret]"
    assert SENTINEL not in json.dumps([r.inputs for r in cli.resources])


def test_the_cli_hands_structured_config_to_the_program_as_json_text() -> None:
    """What the kubeconfig rule rests on, read in Pulumi's source: ``Map.Decrypt`` gives the
    program each key's ``marshalText``, which is a string as is and anything else as JSON. The
    offline reader hands values over the same way (``stacks.loading.stack_file``)."""
    decrypt = "\n".join(
        numbered_excerpt(reference("pulumi", "v3.259.0", "config-map.go.txt").read_text()).values()
    )
    assert "v, err := pt.marshalText()" in decrypt
    assert "result[k] = v" in decrypt
    marshal = numbered_excerpt(reference("pulumi", "v3.259.0", "config-plaintext.go.txt").read_text())
    assert marshal[258].strip() == "case string:"
    assert marshal[259].strip() == "return v, nil"
    assert marshal[263].strip() == "bytes, err := json.Marshal(c.GoValue())"
    assert as_cli_value("apiVersion: v1") == "apiVersion: v1"
    for value in (["apiVersion: v1"], 12345, True, {"apiVersion": "v1"}):
        assert json.loads(as_cli_value(value)) == value


NOT_TEXT = [(["apiVersion: v1"], "a list"), (12345, "a number"), (True, "true/false")]


@pytest.mark.parametrize(("value", "what"), NOT_TEXT, ids=["list", "number", "bool"])
@pytest.mark.parametrize("key", ["hikube-gpu:kubeconfig", "kubernetes:kubeconfig"])
def test_a_kubeconfig_that_is_not_text_is_refused_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: Any, what: str
) -> None:
    """Pulumi hands a list written in the stack file to the program as its JSON text, which would
    have become the provider's kubeconfig. The same rule offline (the stack file) and under the CLI."""
    namespace, _, name = key.partition(":")
    config: dict[str, Any] = {"platform": {"namespace": "tenant-a"}, "vms": {"a": {"gpus": {"L40S": 1}}}}
    if namespace == "hikube-gpu":
        offline = run_config(tmp_path, {**config, name: value})
        cli = _as_cli({**config, name: json.dumps(value)}, set(), None, monkeypatch)
    else:
        offline = _offline_with_ambient(tmp_path, {"namespace": "tenant-a", name: value})
        cli = _as_cli(config, set(), None, monkeypatch, ambient={name: json.dumps(value)})
    for run in (offline, cli):
        assert isinstance(run.failure, ConfigError), run.failure
        message = by_path(run.failure.problems)[key]
        assert message.startswith(f"expected a kubeconfig (its YAML or JSON text), got {what}; ")
        assert "apiVersion" not in message
        assert "12345" not in message


def test_a_kubeconfig_in_json_text_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kubectl config view -o json`` is a kubeconfig; a map in the stack file arrives as the same text."""
    kubeconfig = json.dumps({"apiVersion": "v1", "kind": "Config", "users": [{"name": SENTINEL}]})
    config: dict[str, Any] = {"platform": {"namespace": "tenant-a"}, "vms": {"a": {"gpus": {"L40S": 1}}}}
    run = _as_cli({**config, "kubeconfig": kubeconfig}, {("kubeconfig",)}, None, monkeypatch)
    assert run.failure is None, run.failure
    assert run_config(tmp_path, {**config, "kubeconfig": json.loads(kubeconfig)}).failure is None


def test_redaction_hides_long_secrets_anywhere_and_short_ones_near_their_place() -> None:
    hidden = [
        ("hikube-gpu:quota", "4"),  # the whole quota stored as one secret
        ("hikube-gpu:clusters.c.workloads.w.env.DEBUG", "true"),
        ("hikube-gpu:vms.a.sshKeys[0]", "ssh-ed25519 AAAAlongkey"),
    ]
    problems = [
        Problem("hikube-gpu:quota.L40S", "the stack asks for 5 L40S GPUs but its quota is 4"),
        Problem("hikube-gpu:vms.b.gpus.L40S", "asks for 4 GPUs; key ssh-ed25519 AAAAlongkey"),
        Problem(
            "hikube-gpu:clusters.c.workloads.w.env.DEBUG",
            "expected text, got true/false (true): stores digits and true/false as such",
        ),
    ]
    assert [p.message for p in redact(problems, hidden)] == [
        "the stack asks for 5 L40S GPUs but its quota is [secret]",
        "asks for 4 GPUs; key [secret]",  # a short secret elsewhere is an ordinary word
        "expected text, got true/false ([secret]): stores digits and true/false as such",
    ]


def test_under_the_cli_a_stack_file_outside_the_project_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``stackConfigDir`` symlinked outside the project: its markers are not trusted, every value
    of a secret key counts as secret (the offline tools refuse the project outright)."""
    config, leaves = _tenant()
    _project(tmp_path / "elsewhere", "cli", config, leaves)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "Pulumi.yaml").write_text("name: hikube-gpu\nstackConfigDir: environments\n")
    (tmp_path / "project" / "environments").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    monkeypatch.setattr(pulumi, "get_stack", lambda: "cli")
    run = _as_cli(config, leaves, tmp_path / "project", monkeypatch)
    assert run.failure is None, run.failure
    container = objects(run)["Deployment/w"]["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [
        {"name": "PLAIN", "value": "[secret]"},
        {"name": "TOKEN", "value": "[secret]"},
    ]
    assert any(w.startswith("hikube-gpu:clusters: Pulumi says this key holds a secret") for w in run.warnings)
