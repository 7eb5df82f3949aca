"""A GPU Kubernetes cluster's admin kubeconfig is fetched for `up` only, never stored (issue 21.1).

Its provider takes the context ``<prefix>/<cluster>`` of the run's kubeconfig. ``hikube-gpu
up`` reads each cluster's admin Secret with the stack's own credential and appends it, renamed to
that context, to ``KUBECONFIG`` for the run only; a preview never reads it. Tested against a
stand-in API server (``tests.test_doctor``'s) and the program under Pulumi's mock runtime.
"""

from __future__ import annotations

import base64
import functools
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.resolve.names import KUBECONFIG_KEY
from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.deploy import automation
from stacks.commands.deploy.guest_access import fetch
from stacks.commands.deploy.orchestrate import Operation, Outcome
from stacks.commands.preview.engine import run_offline
from stacks.loading.stack_file import load_stack_file
from stacks.program.kubeconfig_loader import Environment, reached
from stacks.program.main import main as program
from tests.fake_api import FakeApi, kubeconfig, running
from tests.helpers import write_stack


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """The stand-in API server (answers only the paths it is told)."""
    with running(FakeApi()) as fake:
        yield fake


NAMESPACE = "tenant-acme"
SECRETS = f"/api/v1/namespaces/{NAMESPACE}/secrets"
ADMIN = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "kubernetes-ml-admin@kubernetes-ml",
    "clusters": [{"name": "kubernetes-ml", "cluster": {"server": "https://ml.acme.example:443"}}],
    "contexts": [
        {
            "name": "kubernetes-ml-admin@kubernetes-ml",
            "context": {"cluster": "kubernetes-ml", "user": "admin"},
        }
    ],
    "users": [{"name": "admin", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}}],
}


def admin_secret(cluster: str) -> dict[str, Any]:
    text = yaml.safe_dump(ADMIN).replace("kubernetes-ml", f"kubernetes-{cluster}")
    return {"kind": "Secret", "data": {KUBECONFIG_KEY: base64.b64encode(text.encode()).decode()}}


def project(tmp_path: Path, clusters: list[str]) -> Path:
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    (root / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    config = {
        "platform": {"namespace": NAMESPACE},
        "clusters": {name: {"nodeGroups": {"md0": {"instanceType": "u1.large"}}} for name in clusters},
    }
    write_stack(root, config, "acme")
    return root


def test_fetch_renames_each_admin_kubeconfig_to_its_context_and_lists_clusters_not_created(
    tmp_path: Path, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.serve(f"{SECRETS}/kubernetes-ml-admin-kubeconfig", admin_secret("ml"))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, api.url)))
    found = fetch(project(tmp_path, ["ml", "new"]), ["acme"])
    assert found.problems == []
    assert found.missing == {"acme": ["new"]}
    assert list(found.contexts) == [f"{NAMESPACE}/ml"]
    assert {(m, p) for m, p in api.requests} == {
        ("GET", f"{SECRETS}/kubernetes-ml-admin-kubeconfig"),
        ("GET", f"{SECRETS}/kubernetes-new-admin-kubeconfig"),
    }
    document = yaml.safe_load(found.text())
    assert "current-context" not in document  # appended last, it changes nothing before it
    guests = tmp_path / "guests"
    guests.write_text(found.text())
    chain = Environment(kubeconfig=f"{kubeconfig(tmp_path, api.url)}:{guests}", home=str(tmp_path))
    assert reached("", None, chain).server == api.url  # the tenant's context is still current
    assert reached("", f"{NAMESPACE}/ml", chain).server == "https://ml.acme.example:443"


class Recorder:
    """A stand-in engine recording the KUBECONFIG each Pulumi operation would inherit."""

    def __init__(self, on_first: Callable[[], None] = lambda: None, fail_first: bool = False) -> None:
        self.seen: list[tuple[str, Operation, str, str]] = []
        self.on_first, self.fail_first = on_first, fail_first

    def run(self, stack: str, operation: Operation, on_output: Callable[[str], None]) -> Outcome:
        chain = os.environ.get("KUBECONFIG", "")
        guests = Path(chain.rsplit(os.pathsep, 1)[-1])
        text = guests.read_text() if guests.name == "guests.kubeconfig" else ""
        if text:
            assert stat.S_IMODE(guests.stat().st_mode) == 0o600
        self.seen.append((stack, operation, chain, text))
        if len(self.seen) == 1:
            self.on_first()
            if self.fail_first:
                raise RuntimeError("configured Kubernetes cluster is unreachable")
        return Outcome({"same": 1})


def run_up(root: Path, engine: Recorder, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setattr(automation, "AutomationEngine", lambda *args: engine)
    return main(["up", "--stack", "acme", "--project-dir", str(root), *extra])


def test_up_runs_with_the_admin_contexts_for_the_run_only(
    tmp_path: Path, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.serve(f"{SECRETS}/kubernetes-ml-admin-kubeconfig", admin_secret("ml"))
    tenant = kubeconfig(tmp_path, api.url)
    monkeypatch.setenv("KUBECONFIG", str(tenant))
    engine = Recorder()
    assert run_up(project(tmp_path, ["ml"]), engine, monkeypatch) == 0
    ((stack, operation, chain, text),) = engine.seen
    assert (stack, operation) == ("acme", "up")
    assert chain.startswith(f"{tenant}{os.pathsep}")
    assert f"{NAMESPACE}/ml" in yaml.safe_load(text)["contexts"][0]["name"]
    assert os.environ["KUBECONFIG"] == str(tenant)  # restored
    assert not Path(chain.rsplit(os.pathsep, 1)[-1]).exists()  # deleted


def test_a_preview_never_reads_an_admin_kubeconfig(
    tmp_path: Path, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.serve(f"{SECRETS}/kubernetes-ml-admin-kubeconfig", admin_secret("ml"))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, api.url)))
    engine = Recorder()
    assert run_up(project(tmp_path, ["ml"]), engine, monkeypatch, "--preview") == 0
    assert [(s, o, text) for s, o, _, text in engine.seen] == [("acme", "preview", "")]
    assert api.requests == []


def test_a_new_cluster_gets_its_context_on_a_second_pass(
    tmp_path: Path, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first `up` creates the cluster (its objects inside cannot be reached yet and fail); its
    Secret now exists, so the stack runs once more with its context."""
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, api.url)))
    create = functools.partial(api.serve, f"{SECRETS}/kubernetes-ml-admin-kubeconfig", admin_secret("ml"))
    engine = Recorder(on_first=create, fail_first=True)
    assert run_up(project(tmp_path, ["ml"]), engine, monkeypatch) == 0
    assert [text != "" and f"{NAMESPACE}/ml" in text for _, _, _, text in engine.seen] == [False, True]


def test_the_program_warns_about_a_cluster_whose_context_the_run_lacks(tmp_path: Path) -> None:
    config = {
        "platform": {"namespace": NAMESPACE},
        "clusters": {"ml": {"nodeGroups": {"md0": {"instanceType": "u1.large"}}}},
    }
    path = write_stack(tmp_path / "stack", config)
    tenant = tmp_path / "tenant"
    tenant.write_text(
        yaml.safe_dump(
            {
                "current-context": "t",
                "clusters": [{"name": "t", "cluster": {"server": "https://api.example"}}],
                "contexts": [{"name": "t", "context": {"cluster": "t"}}],
            }
        )
    )
    environment = Environment(kubeconfig=str(tenant), home=str(tmp_path))
    run = run_offline(load_stack_file(PROJECT_DIR, "test", path), functools.partial(program, environment))
    assert run.failure is None, run.failure
    (warning,) = [w for w in run.warnings if w.startswith("hikube-gpu:clusters.ml:")]
    assert f"has no context {NAMESPACE}/ml" in warning
    guests = tmp_path / "guests"
    guests.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "g", "cluster": {"server": "https://ml.example"}}],
                "contexts": [{"name": f"{NAMESPACE}/ml", "context": {"cluster": "g"}}],
            }
        )
    )
    environment = Environment(kubeconfig=f"{tenant}:{guests}", home=str(tmp_path))
    run = run_offline(load_stack_file(PROJECT_DIR, "test", path), functools.partial(program, environment))
    assert not [w for w in run.warnings if w.startswith("hikube-gpu:clusters.ml:")]
