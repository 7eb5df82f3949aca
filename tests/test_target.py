"""No run against the wrong cluster (issue 20.4): ``hikube-gpu:platform.apiServer``.

The provider of a stack without its own kubeconfig loads the ambient one, and pulumi-kubernetes
replaces a provider whose cluster changed only when both kubeconfigs name one: never for ``""``.
The program, ``hikube-gpu up`` and ``doctor`` find the server the provider will reach the
way client-go finds it (``stacks.program.kubeconfig_loader``) and refuse another one, before anything
is sent. The upstream lines this relies on are read from the vendored sources.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.preview.engine import OfflineRun, run_offline
from stacks.loading.stack_file import load_stack_file
from stacks.program.kubeconfig_loader import Environment, KubeconfigError, reached, same_server
from stacks.program.main import WrongClusterError
from stacks.program.main import main as program
from tests.helpers import UPSTREAM, base_config, write_stack
from tests.platform_stacks import platform_stack

PROVIDER_GO = UPSTREAM / "pulumi-kubernetes" / "v4.32.0" / "provider.go"
UTIL_GO = UPSTREAM / "pulumi-kubernetes" / "v4.32.0" / "util.go"
CLIENT_GO = UPSTREAM / "client-go" / "v0.36.1"
A = "https://api.acme.example:6443"
B = "https://api.other.example:6443"


def lines(path: Path, first: int, last: int) -> str:
    return "\n".join(path.read_text().splitlines()[first - 1 : last])


# --- the upstream rules, read where the code and docs cite them -----------------------------------


def test_the_cluster_guard_of_pulumi_kubernetes_cannot_fire_for_an_empty_kubeconfig() -> None:
    guard = lines(PROVIDER_GO, 551, 559)
    assert "oldActiveCluster, oldFound := getActiveClusterFromConfig(oldConfig, olds)" in guard
    assert "if oldFound && found && !reflect.DeepEqual(oldActiveCluster, activeCluster) {" in guard
    assert "if config == nil || len(config.Clusters) == 0 {\n\t\treturn &clientapi.Cluster{}, false" in lines(
        UTIL_GO, 202, 204
    )
    assert 'if pathOrContents == "" {\n\t\treturn &clientapi.Config{}, nil' in lines(UTIL_GO, 138, 140)


def test_an_empty_kubeconfig_loads_client_gos_default_rules_with_the_context_override() -> None:
    assert 'ok && pathOrContents != "" {' in lines(PROVIDER_GO, 873, 873)
    assert 'CurrentContext: vars["kubernetes:config:context"],' in lines(PROVIDER_GO, 605, 611)
    default = lines(PROVIDER_GO, 897, 899)
    assert "loadingRules := clientcmd.NewDefaultClientConfigLoadingRules()" in default
    assert "clientcmd.NewInteractiveDeferredLoadingClientConfig(loadingRules, overrides, os.Stdin)" in default


def test_client_gos_loading_rules_are_those_the_loader_follows() -> None:
    rules = lines(CLIENT_GO / "loader.go", 164, 173)
    assert "fileList := filepath.SplitList(envVarFiles)" in rules
    assert "chain = append(chain, deduplicate(fileList)...)" in rules
    assert "chain = append(chain, RecommendedHomeFile)" in rules
    assert "if len(filename) == 0 {" in lines(CLIENT_GO / "loader.go", 221, 224)
    assert "if os.IsNotExist(err) {" in lines(CLIENT_GO / "loader.go", 228, 233)
    merge = lines(CLIENT_GO / "loader.go", 247, 273)
    assert "for i := len(kubeconfigs) - 1; i >= 0; i-- {" in merge  # the first file wins
    fallback = lines(CLIENT_GO / "merged_client_builder.go", 106, 128)
    assert "if !IsEmptyConfig(err) {" in fallback
    assert "if !config.loader.IsDefaultConfig(mergedConfig) {" in fallback
    assert "if config.icc.Possible() {" in fallback
    assert "return config.overrides.CurrentContext, true" in lines(CLIENT_GO / "client_config.go", 464, 467)
    possible = lines(CLIENT_GO / "client_config.go", 668, 673)
    assert 'os.Getenv("KUBERNETES_SERVICE_HOST") != ""' in possible
    assert 'os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token")' in possible


# --- the loader -----------------------------------------------------------------------------------


def kubeconfig(path: Path, current: str, **servers: str) -> Path:
    """A kubeconfig with one context and cluster per ``name=server``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "clusters": [{"name": n, "cluster": {"server": s}} for n, s in servers.items()],
                "contexts": [{"name": n, "context": {"cluster": n, "user": "u"}} for n in servers],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    return path


def env(tmp_path: Path, kubeconfig: str = "", **more: Any) -> Environment:
    return Environment(
        kubeconfig=kubeconfig, home=str(tmp_path / "home"), token_file=tmp_path / "no-token", **more
    )


def test_the_first_file_of_kubeconfig_wins_each_name_and_the_current_context(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "a", "acme", acme=A)
    second = kubeconfig(tmp_path / "b", "other", acme=B, other=B)
    both = env(tmp_path, f"{tmp_path / 'missing'}:{first}:{second}:{first}")
    found = reached("", None, both)
    assert found.server == A
    assert found.origin == f"context acme of KUBECONFIG={both.kubeconfig}"
    assert reached("", "other", both).server == B  # the context input picks another context
    assert set(found.kubeconfig.contexts) == {"acme", "other"}


def test_without_kubeconfig_the_home_file_then_its_legacy_name(tmp_path: Path) -> None:
    home = tmp_path / "home" / ".kube"
    kubeconfig(home / ".kubeconfig", "old", old=B)
    assert reached("", None, env(tmp_path)).server == B  # client-go migrates .kubeconfig to config
    kubeconfig(home / "config", "acme", acme=A)
    found = reached("", None, env(tmp_path))
    assert (found.server, found.origin) == (A, "context acme of ~/.kube/config")


def test_contexts_that_do_not_exist_fail_like_client_go(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "k", "gone", acme=A)
    with pytest.raises(KubeconfigError, match="context was not found for specified context: gone"):
        reached("", None, env(tmp_path, str(path)))
    with pytest.raises(KubeconfigError, match='context "nope" does not exist'):
        reached("", "nope", env(tmp_path, str(path)))


def test_a_name_twice_in_one_file_is_an_error(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "k", "acme", acme=A)
    document = yaml.safe_load(path.read_text())
    document["clusters"].append({"name": "acme", "cluster": {"server": B}})
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(KubeconfigError, match='duplicate name "acme" in clusters'):
        reached("", None, env(tmp_path, str(path)))


def test_no_cluster_named_falls_back_on_the_in_cluster_service_account(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("t")
    pod = env(tmp_path, str(tmp_path / "missing"), service_host="10.96.0.1", service_port="443")
    with pytest.raises(KubeconfigError, match="names no cluster, and this is not a pod"):
        reached("", None, pod)
    pod = Environment(**{**pod.__dict__, "token_file": token})
    assert (reached("", None, pod).server, reached("", None, pod).origin) == (
        "https://10.96.0.1:443",
        "the in-cluster ServiceAccount",
    )
    v6 = Environment(**{**pod.__dict__, "service_host": "fd00::1"})
    assert reached("", None, v6).server == "https://[fd00::1]:443"
    legacy_default = kubeconfig(tmp_path / "default", "d", d="http://localhost:8080")
    assert reached("", None, Environment(**{**pod.__dict__, "kubeconfig": str(legacy_default)})).server == (
        "https://10.96.0.1:443"  # client-go's default config counts as none
    )
    no_server = kubeconfig(tmp_path / "ns", "x", x="")
    with pytest.raises(KubeconfigError, match='no server found for cluster "x"'):
        reached("", None, Environment(**{**pod.__dict__, "kubeconfig": str(no_server)}))


def test_the_stacks_own_kubeconfig_wins_and_never_falls_back(tmp_path: Path) -> None:
    ambient = env(tmp_path, str(kubeconfig(tmp_path / "ambient", "other", other=B)))
    own = kubeconfig(tmp_path / "own", "acme", acme=f"{A}/k8s/clusters/c-1?x=1#f")
    assert reached(own.read_text(), None, ambient).server == f"{A}/k8s/clusters/c-1"  # query dropped
    assert reached(own.read_text(), None, ambient).origin == "context acme of the stack's kubeconfig"
    assert reached(str(own), None, ambient).origin == f"context acme of the kubeconfig file {own}"
    with pytest.raises(KubeconfigError, match="names no cluster"):
        reached("apiVersion: v1\nkind: Config\n", None, ambient)
    with pytest.raises(KubeconfigError) as error:
        reached("token: s3cr3t\n  : :\n", None, ambient)
    assert "s3cr3t" not in str(error.value)  # a kubeconfig's text is never echoed


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://API.acme.example:443", "https://api.acme.example", True),
        ("https://api.acme.example:6443/", "https://api.acme.example:6443", True),
        ("http://h", "https://h", False),
        ("https://h:6443", "https://h:6444", False),
        ("https://h/k8s/c-1", "https://h/k8s/c-2", False),
    ],
)
def test_servers_compare_as_urls(a: str, b: str, same: bool) -> None:
    assert same_server(a, b) is same


# --- the real program under Pulumi's mock runtime --------------------------------------------------


def run_with(tmp_path: Path, config: dict[str, Any], environment: Environment) -> OfflineRun:
    path = write_stack(tmp_path / "stack", config)
    return run_offline(load_stack_file(PROJECT_DIR, "test", path), functools.partial(program, environment))


def with_server(config: dict[str, Any], server: str | None, **platform: str) -> dict[str, Any]:
    config["platform"] = {**config.get("platform", {}), **platform}
    if server:
        config["platform"]["apiServer"] = server
    return config


@pytest.mark.parametrize("kind", ["tenant", "platform"])
def test_the_program_refuses_another_cluster_before_registering_anything(tmp_path: Path, kind: str) -> None:
    config = base_config() if kind == "tenant" else platform_stack("mixed")
    other = env(tmp_path, str(kubeconfig(tmp_path / "kc", "other", other=B)))
    run = run_with(tmp_path, with_server(config, A), other)
    assert isinstance(run.failure, WrongClusterError)
    message = str(run.failure)
    assert f"belongs to {A} (hikube-gpu:platform.apiServer)" in message
    assert f"reaches {B} (context other of KUBECONFIG={other.kubeconfig})" in message
    assert [r.type for r in run.resources] == ["pulumi:pulumi:Stack"]  # no provider, nothing else


def test_the_program_runs_against_its_own_cluster_quietly(tmp_path: Path) -> None:
    both = env(tmp_path, str(kubeconfig(tmp_path / "kc", "other", other=B, acme=f"{A}/")))
    run = run_with(
        tmp_path, with_server(base_config(), "https://API.acme.example:6443", context="acme"), both
    )
    assert run.failure is None, run.failure
    assert any(r.type == "pulumi:providers:kubernetes" for r in run.resources)
    assert not [w for w in run.warnings if "apiServer" in w]


def test_a_stack_without_api_server_is_told_the_command_that_records_it(tmp_path: Path) -> None:
    run = run_with(tmp_path, base_config(), env(tmp_path, str(kubeconfig(tmp_path / "kc", "acme", acme=A))))
    assert run.failure is None, run.failure
    (warning,) = [w for w in run.warnings if w.startswith("hikube-gpu:platform.apiServer:")]
    assert f"this run reaches {A} (context acme of KUBECONFIG=" in warning
    assert f"pulumi config set --path hikube-gpu:platform.apiServer {A} --stack test" in warning


def test_an_operator_pod_with_its_own_service_account_is_refused(tmp_path: Path) -> None:
    """The workspace pod's ServiceAccount reaches the management cluster, not the tenant's."""
    token = tmp_path / "token"
    token.write_text("t")
    pod = Environment(home=str(tmp_path), service_host="10.96.0.1", service_port="443", token_file=token)
    run = run_with(tmp_path, with_server(base_config(), A), pod)
    assert isinstance(run.failure, WrongClusterError)
    assert "reaches https://10.96.0.1:443 (the in-cluster ServiceAccount)" in str(run.failure)


def test_the_offline_tools_check_nothing(tmp_path: Path) -> None:
    """``hikube-gpu preview`` reaches no cluster: no environment, no check, no warning."""
    path = write_stack(tmp_path, with_server(base_config(), A))
    run = run_offline(load_stack_file(PROJECT_DIR, "test", path), program)
    assert run.failure is None
    assert not [w for w in run.warnings if "apiServer" in w]


# --- hikube-gpu up ----------------------------------------------------------------------------

FAKE_PULUMI = """#!/usr/bin/env bash
echo "$*" >> "$PULUMI_CALLS"
echo "pulumi stand-in: no backend here" >&2
exit 1
"""


def run_env(bin_dir: Path, calls: Path, kubeconfig: Path, home: Path) -> dict[str, str]:
    path = f"{bin_dir}:{os.environ['PATH']}"
    return {
        **os.environ,
        "PATH": path,
        "PULUMI_CALLS": str(calls),
        "KUBECONFIG": str(kubeconfig),
        "HOME": str(home),
    }


def test_stacks_up_refuses_a_stack_of_another_cluster_without_starting_pulumi(tmp_path: Path) -> None:
    """Before the Automation API starts the CLI (whose ``up --refresh`` would refresh the state
    against the wrong cluster before the program runs)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    write_stack(project, with_server(base_config(), A), "acme")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    calls = tmp_path / "calls"
    other = kubeconfig(tmp_path / "kc", "other", other=B)
    result = subprocess.run(
        [sys.executable, "-m", "stacks", "up", "--stack", "acme", "--refresh", "--project-dir", str(project)],
        cwd=PROJECT_DIR,
        env=run_env(bin_dir, calls, other, tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert f"belongs to {A}" in result.stderr
    assert f"reaches {B}" in result.stderr
    assert not calls.exists()  # Pulumi never started
    own = kubeconfig(tmp_path / "own", "acme", acme=A)
    result = subprocess.run(
        [sys.executable, "-m", "stacks", "up", "--stack", "acme", "--project-dir", str(project)],
        cwd=PROJECT_DIR,
        env=run_env(bin_dir, calls, own, tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert calls.exists(), result.stderr  # its own cluster: handed to Pulumi (the stand-in fails)


def test_stacks_up_runs_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stacks.commands.deploy import automation
    from tests.test_deploy import StandIn

    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    write_stack(project, with_server(base_config(), A), "acme")
    write_stack(project, with_server(base_config(), B), "other")
    engine = StandIn()
    monkeypatch.setattr(automation, "AutomationEngine", lambda *args: engine)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kc", "other", other=B)))
    code = main(["up", "--all", "--project-dir", str(project)])
    assert code == 1
    assert engine.calls == [("other", "up")]
    assert "acme: failed" in capsys.readouterr().err


def test_the_pulumi_entry_point_checks_the_ambient_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``__main__.py``, the file ``pulumi preview``/``up`` run, passes the process's environment."""
    import runpy

    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kc", "other", other=B)))
    path = write_stack(tmp_path / "stack", with_server(base_config(), A))
    run = run_offline(
        load_stack_file(PROJECT_DIR, "test", path), lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"))
    )
    assert isinstance(run.failure, WrongClusterError)
    assert f"reaches {B}" in str(run.failure)
