"""A fleet of customer stacks: stackConfigDir, the examples folder, customer defaults, `changed`,
CI batching and the size of the pull-request comment (docs/fleet.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.common import copy_project
from stacks.commands.cli import PROJECT_DIR, main, run_stack
from stacks.commands.diff import diff_report
from stacks.commands.diff.changed import MAX_JOBS, batches, find_changed, matrix
from stacks.commands.diff.compare import Comparison, compare
from stacks.commands.diff.objects import ObjectChange, StackDiff
from stacks.commands.diff.risks import Risk
from stacks.commands.preview.engine import OfflineRun
from stacks.loading import customer_defaults
from stacks.loading.pulumi_config import decode
from stacks.loading.stack_file import StackFileError, load_stack_file
from stacks.loading.stack_list import StackNameError, discover, examples
from tests.helpers import load_yaml, stack_config
from tests.test_operator import _errors as crd_errors
from tests.test_operator import _published as published

CUSTOMERS = 250
ENVIRONMENTS = ("dev", "staging", "prod", "qa")
STACK_DIR = "environments"


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _dump(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False), encoding="utf-8")


def _project(root: Path, stack_dir: str | None = STACK_DIR) -> None:
    text = (PROJECT_DIR / "Pulumi.yaml").read_text(encoding="utf-8")
    if stack_dir is not None:
        text += f"stackConfigDir: {stack_dir}\n"
    (root / "Pulumi.yaml").write_text(text, encoding="utf-8")


def _customer_defaults(gpus: int = 1) -> dict[str, Any]:
    return {
        "hikube-gpu:quota": {"L40S": 2},
        "hikube-gpu:vms": {"ws": {"gpus": {"L40S": gpus}, "disk": {"image": "ubuntu-2404", "size": "50Gi"}}},
    }


def _stack(customer: str, env: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "hikube-gpu:defaults": f"customers/{customer}.yaml",
        "hikube-gpu:platform": {"namespace": f"tenant-{customer}-{env}"},
    }
    if env == "prod":  # maps merge: prod keeps the default GPUs and image, with a larger disk
        config["hikube-gpu:vms"] = {"ws": {"disk": {"size": "100Gi"}}}
    return config


# --- layout: stackConfigDir and the examples --------------------------------------------------


def test_tools_honour_stack_config_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path)
    config = {**_customer_defaults(), "hikube-gpu:platform": {"namespace": "tenant-acme-dev"}}
    _dump(tmp_path / STACK_DIR / "Pulumi.acme-dev.yaml", config)
    _dump(tmp_path / "Pulumi.stray.yaml", {})  # outside stackConfigDir: not a stack
    assert main(["list", "--format", "json", "--project-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out) == ["acme-dev"]
    assert main(["preview", "--stack", "acme-dev", "--project-dir", str(tmp_path)]) == 0
    assert "tenant-acme-dev" in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["render", "--stack", "acme-dev", "--project-dir", str(tmp_path), "--out", str(out)]) == 0
    assert any(out.rglob("*.yaml"))
    assert main(["preview", "--stack", "stray", "--project-dir", str(tmp_path)]) == 2
    assert "no stack 'stray'" in capsys.readouterr().err


@pytest.mark.parametrize("folder", ["/etc", "../elsewhere"])
def test_a_stack_config_dir_outside_the_project_is_refused(tmp_path: Path, folder: str) -> None:
    _project(tmp_path, folder)
    with pytest.raises(StackNameError, match="stackConfigDir must be a folder inside the project"):
        discover(tmp_path)


def _leads_outside(tmp_path: Path) -> tuple[Path, Path]:
    """A project folder and, beside it, a folder with a stack file of its own."""
    root, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    root.mkdir()
    config = {**_customer_defaults(), "hikube-gpu:platform": {"namespace": "tenant-other"}}
    _dump(elsewhere / "Pulumi.other.yaml", config)
    return root, elsewhere


def _refused_everywhere(root: Path, stack: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``list``, ``preview``, ``render`` and ``config`` all refuse, with exit 2 and ``message``."""
    out = root.parent / "out"
    commands = (
        ["list", "--examples"],
        ["preview", "--stack", stack],
        ["render", "--stack", stack, "--out", str(out)],
        ["config", "--stack", stack, "--show-origin"],
    )
    for command in commands:
        assert main([*command, "--project-dir", str(root)]) == 2, command
        captured = capsys.readouterr()
        assert message in captured.err, (command, captured.err)
        assert "tenant-other" not in captured.out + captured.err
    assert not out.exists()


def test_a_stack_config_dir_that_is_a_symlink_leading_outside_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, elsewhere = _leads_outside(tmp_path)
    _project(root, "environments")
    (root / "environments").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(StackNameError, match="'environments' is a symlink that leads outside it"):
        discover(root)
    _refused_everywhere(root, "other", "stackConfigDir must be a folder inside the project", capsys)


def test_a_symlink_inside_the_project_is_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, "environments")
    config = {**_customer_defaults(), "hikube-gpu:platform": {"namespace": "tenant-inside"}}
    _dump(tmp_path / "stacks-2026" / "Pulumi.acme-dev.yaml", config)
    (tmp_path / "environments").symlink_to(tmp_path / "stacks-2026", target_is_directory=True)
    assert discover(tmp_path) == ["acme-dev"]
    assert main(["preview", "--stack", "acme-dev", "--project-dir", str(tmp_path)]) == 0
    assert "tenant-inside" in capsys.readouterr().out


@pytest.mark.parametrize("folder", [None, STACK_DIR, "examples/stacks"])
def test_a_stack_file_that_is_a_symlink_leading_outside_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str | None
) -> None:
    root, elsewhere = _leads_outside(tmp_path)
    _project(root, None if folder == "examples/stacks" else folder)
    link = root / (folder or ".") / "Pulumi.other.yaml"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere / "Pulumi.other.yaml")
    with pytest.raises(StackNameError, match="is a symlink that leads outside the project"):
        discover(root, examples=True)
    with pytest.raises(
        StackFileError, match=r"Pulumi\.other\.yaml is a symlink that leads outside the project"
    ):
        load_stack_file(root, "other")
    _refused_everywhere(root, "other", "is a symlink that leads outside the project", capsys)


def test_examples_are_rendered_offline_but_are_not_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert discover(PROJECT_DIR) == ["dev"]  # what live previews, drift checks and deploys see
    assert examples(PROJECT_DIR) == ["acme-vms", "globex-ml", "host-example"]
    assert not list(PROJECT_DIR.glob("Pulumi.*-*.yaml"))  # the examples left the root
    assert main(["list", "--examples", "--project-dir", str(PROJECT_DIR)]) == 0
    assert capsys.readouterr().out.split() == ["acme-vms", "dev", "globex-ml", "host-example"]
    assert main(["preview", "--stack", "acme-vms"]) == 0
    assert "hikube-gpu-acme-vms" in capsys.readouterr().out  # the stack name, so the URNs, stay


def test_an_example_named_like_a_stack_is_refused(tmp_path: Path) -> None:
    _project(tmp_path, None)
    _dump(tmp_path / "Pulumi.dev.yaml", {})
    _dump(tmp_path / "examples" / "stacks" / "Pulumi.dev.yaml", {})
    with pytest.raises(StackNameError, match="named like real ones: dev"):
        discover(tmp_path, examples=True)


def test_the_console_script_is_declared_and_installed_by_make() -> None:
    pyproject = (PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8")
    assert 'hikube-gpu = "stacks.commands.cli:main"' in pyproject
    assert (
        "pip install --quiet --disable-pip-version-check --no-deps -e ."
        in (PROJECT_DIR / "Makefile").read_text()
    )


# --- customer defaults ---------------------------------------------------------------------------


def test_merge_rules_maps_merge_lists_replace_null_deletes() -> None:
    under = {"a": {"x": 1, "y": [1, 2], "z": {"k": 1}}, "b": 1}
    over = {"a": {"y": [3], "z": None, "w": {"n": None, "m": 2}}}
    assert customer_defaults.merge(under, over) == {"a": {"x": 1, "y": [3], "w": {"m": 2}}, "b": 1}
    secret = {"secure": "v1:AAAA"}
    assert customer_defaults.merge({"k": {"a": 1}}, {"k": secret}) == {"k": secret}  # a secret is a value


def _defaults_project(tmp_path: Path, defaults: dict[str, Any], stack: dict[str, Any]) -> Path:
    _project(tmp_path, None)
    _dump(tmp_path / "customers" / "acme.yaml", defaults)
    _dump(tmp_path / "Pulumi.acme-prod.yaml", stack)
    return tmp_path


def test_a_stack_gets_its_customer_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = {**_stack("acme", "prod"), "hikube-gpu:vms": {"ws": {"disk": {"size": "100Gi"}, "sshKeys": None}}}
    defaults = _customer_defaults()
    defaults["hikube-gpu:vms"]["ws"]["sshKeys"] = ["ssh-ed25519 AAAAC3Nz default@example"]
    root = _defaults_project(tmp_path, defaults, stack)
    config = load_stack_file(root, "acme-prod").config
    assert "hikube-gpu:defaults" not in config
    assert json.loads(config["hikube-gpu:quota"]) == {"L40S": 2}
    assert json.loads(config["hikube-gpu:vms"]) == {
        "ws": {"gpus": {"L40S": 1}, "disk": {"image": "ubuntu-2404", "size": "100Gi"}}
    }
    assert main(["config", "--stack", "acme-prod", "--show-origin", "--project-dir", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "hikube-gpu:vms.ws.disk.size = 100Gi    # stack file" in lines
    assert "hikube-gpu:vms.ws.disk.image = ubuntu-2404    # customers/acme.yaml" in lines
    assert "hikube-gpu:kind = tenant    # Pulumi.yaml" in lines
    assert main(["preview", "--stack", "acme-prod", "--project-dir", str(root)]) == 0


def test_config_masks_every_secret_whichever_file_it_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``secure:`` values inside lists, and fields that are always secret (kubeconfigs, SSH keys,
    cloud-init), stored in plain text in the stack file or the customer defaults file."""
    cipher = "v1:Q0lQSEVSVEVYVC1vZi1hLXNlY3JldA=="
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5PlainDefaultKey default@example"
    defaults = _customer_defaults()
    defaults["hikube-gpu:vms"]["ws"].update(sshKeys=[key], cloudInit="#cloud-config\nruncmd: [echo hi]\n")
    stack = {
        **_stack("acme", "prod"),
        "hikube-gpu:kubeconfig": "apiVersion: v1\nusers: [{name: u, user: {token: plain-token}}]\n",
        "kubernetes:kubeconfig": "apiVersion: v1\nusers: [{name: u, user: {token: ambient-token}}]\n",
        "hikube-gpu:vms": {
            "db": {"gpus": {"L40S": 1}, "sshKeys": ["ssh-ed25519 AAAA in@stack", {"secure": cipher}]}
        },
        "hikube-gpu:clusters": {
            "c": {
                "workloads": {
                    "w": {"args": ["--token", {"secure": cipher}], "env": {"T": {"secure": cipher}}}
                }
            }
        },
    }
    root = _defaults_project(tmp_path, defaults, stack)
    assert main(["config", "--stack", "acme-prod", "--show-origin", "--project-dir", str(root)]) == 0
    out = capsys.readouterr().out
    for secret in (cipher, "PlainDefaultKey", "echo hi", "plain-token", "ambient-token", "in@stack"):
        assert secret not in out
    lines = out.splitlines()
    assert 'hikube-gpu:vms.ws.sshKeys = ["[secret]"]    # customers/acme.yaml' in lines
    assert "hikube-gpu:vms.ws.cloudInit = [secret]    # customers/acme.yaml" in lines
    assert 'hikube-gpu:vms.db.sshKeys = ["[secret]", "[secret]"]    # stack file' in lines
    assert 'hikube-gpu:clusters.c.workloads.w.args = ["--token", "[secret]"]    # stack file' in lines
    assert "hikube-gpu:clusters.c.workloads.w.env.T = [secret]    # stack file" in lines
    assert "hikube-gpu:kubeconfig = [secret]    # stack file" in lines
    assert "kubernetes:kubeconfig = [secret]    # stack file" in lines
    assert "hikube-gpu:vms.ws.disk.image = ubuntu-2404    # customers/acme.yaml" in lines  # the rest is shown


def test_the_program_merges_like_the_offline_tools(tmp_path: Path) -> None:
    """`pulumi up` hands the program the stack file's keys only: it merges the same way."""
    root = _defaults_project(tmp_path, _customer_defaults(), _stack("acme", "prod"))
    offline = {
        key.removeprefix("hikube-gpu:"): decode(key.removeprefix("hikube-gpu:"), value)
        for key, value in load_stack_file(root, "acme-prod").config.items()
        if key != "hikube-gpu:kind"
    }
    given = {
        key.removeprefix("hikube-gpu:"): decode(key, customer_defaults.as_cli_value(value))
        for key, value in _stack("acme", "prod").items()
    }
    assert customer_defaults.apply_program(root, "hikube-gpu", given, decode) == offline


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        (
            {"hikube-gpu:vms": {"ws": {"sshKeys": [{"secure": "v1:AAAA"}]}}},
            "hikube-gpu:vms.ws.sshKeys.0 is a secure: value; secrets stay in the encrypted stack file",
        ),
        ({"hikube-gpu:defaults": "customers/other.yaml"}, "cannot name another defaults file"),
        ({"kubernetes:context": "admin"}, "only hikube-gpu: keys may have defaults, not kubernetes:context"),
        (
            {"hikube-gpu:kubeconfig": "apiVersion: v1"},
            "a kubeconfig is a credential; keep it in the stack file",
        ),
    ],
)
def test_bad_defaults_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], defaults: dict[str, Any], message: str
) -> None:
    root = _defaults_project(tmp_path, defaults, _stack("acme", "prod"))
    with pytest.raises(StackFileError, match=r"customers/acme\.yaml"):
        load_stack_file(root, "acme-prod")
    assert main(["preview", "--stack", "acme-prod", "--project-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "v1:AAAA" not in err


@pytest.mark.parametrize(
    ("name", "message"),
    [("customers/nobody.yaml", "no such defaults file"), ("../outside.yaml", "inside the project folder")],
)
def test_a_missing_or_outside_defaults_file_is_an_error(tmp_path: Path, name: str, message: str) -> None:
    root = _defaults_project(tmp_path, {}, {**_stack("acme", "prod"), "hikube-gpu:defaults": name})
    with pytest.raises(StackFileError, match=message):
        load_stack_file(root, "acme-prod")


def test_a_defaults_file_that_is_a_symlink_leading_outside_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, elsewhere = _leads_outside(tmp_path)
    _dump(elsewhere / "acme.yaml", _customer_defaults())
    _project(root, None)
    _dump(root / "Pulumi.acme-prod.yaml", _stack("acme", "prod"))
    (root / "customers").mkdir()
    (root / "customers" / "acme.yaml").symlink_to(elsewhere / "acme.yaml")
    message = "'customers/acme.yaml' must be a path inside the project folder; it is a symlink that leads outside it"
    with pytest.raises(StackFileError, match=message):
        load_stack_file(root, "acme-prod")
    with pytest.raises(customer_defaults.DefaultsError, match=message):  # the program, under `pulumi up`
        customer_defaults.apply_program(root, "hikube-gpu", {"defaults": "customers/acme.yaml"}, decode)
    for command in (["preview"], ["config", "--show-origin"]):
        assert main([*command, "--stack", "acme-prod", "--project-dir", str(root)]) == 2
        assert message in capsys.readouterr().err


# --- 1,000 stacks in a repository with stackConfigDir -------------------------------------------

CODE = ("components/", "stacks/", "policy/")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project's code, a first commit without stacks, then 250 customers × 4 environments
    (1,000 stacks) under ``environments/``, sharing one defaults file per customer."""
    root = tmp_path_factory.mktemp("fleet")
    copy_project(
        root,
        lambda name: name.startswith(CODE) or name in ("__main__.py", "pyproject.toml", ".pulumi-version"),
    )
    _project(root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "code")
    _git(root, "tag", "code")
    for index in range(CUSTOMERS):
        customer = f"c{index:03d}"
        _dump(root / "customers" / f"{customer}.yaml", _customer_defaults())
        for env in ENVIRONMENTS:
            _dump(root / STACK_DIR / f"Pulumi.{customer}-{env}.yaml", _stack(customer, env))
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "1,000 stacks")
    return root


def test_list_finds_1000_stacks(fleet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--format", "json", "--project-dir", str(fleet)]) == 0
    stacks = json.loads(capsys.readouterr().out)
    assert len(stacks) == CUSTOMERS * len(ENVIRONMENTS) == 1000
    assert stacks[:4] == ["c000-dev", "c000-prod", "c000-qa", "c000-staging"]


def test_changed_finds_1000_new_stacks(fleet: Path) -> None:
    found = find_changed(fleet, "code")
    assert len(found.stacks) == 1000
    assert (found.candidates, found.errors) == (1000, {})


def test_a_customer_defaults_change_marks_exactly_its_stacks(fleet: Path) -> None:
    path = fleet / "customers" / "c042.yaml"
    before = path.read_text(encoding="utf-8")
    try:
        _dump(path, _customer_defaults(gpus=2))
        found = find_changed(fleet, "HEAD")
        assert found.stacks == [f"c042-{env}" for env in sorted(ENVIRONMENTS)]
        assert (found.candidates, found.code_changed, found.errors) == (4, False, {})  # not 1,000
        diff = compare(fleet, "HEAD", stacks=["c042-prod"], workers=1).stacks[0]
        assert any("L40S" in line for change in diff.changed for line in change.diff)
    finally:
        path.write_text(before, encoding="utf-8")
    assert find_changed(fleet, "HEAD").stacks == []


def test_a_comment_in_a_stack_file_renders_it_but_changes_nothing(fleet: Path) -> None:
    path = fleet / STACK_DIR / "Pulumi.c007-qa.yaml"
    before = path.read_text(encoding="utf-8")
    try:
        path.write_text("# reviewed\n" + before, encoding="utf-8")
        found = find_changed(fleet, "HEAD")
        assert (found.stacks, found.candidates) == ([], 1)
    finally:
        path.write_text(before, encoding="utf-8")


def test_the_operator_runs_1000_stacks_each_on_the_published_image_with_its_own_credential(
    fleet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "operator"
    argv = ["operator", "--out", str(out), "--repo-url", "https://git.example.com/fleet.git"]
    assert main([*argv, "--project-dir", str(fleet)]) == 0
    capsys.readouterr()
    stacks = [load_yaml(path.read_text()) for path in sorted(out.glob("stack-*.yaml"))]
    assert len(stacks) == CUSTOMERS * len(ENVIRONMENTS) == 1000
    version = (fleet / ".pulumi-version").read_text().strip()
    images = {s["spec"]["workspaceTemplate"]["spec"]["image"] for s in stacks}
    assert images == {f"pulumi/pulumi:{version}-nonroot"}
    assert all(published(image) for image in images)  # what pulumi-docker-containers publishes
    secrets = {
        s["spec"]["workspaceTemplate"]["spec"]["podTemplate"]["spec"]["volumes"][0]["secret"]["secretName"]
        for s in stacks
    }
    assert len(secrets) == 1000
    assert len((out / "credentials.txt").read_text().splitlines()) == 5 + 1000
    for stack in stacks[:: len(stacks) // 10]:
        assert crd_errors(stack) == []


def test_batches_of_1000_stacks_fit_the_matrix_limit() -> None:
    stacks = [f"s{i:05d}" for i in range(1000)]
    assert [len(b) for b in batches(stacks, 10)] == [10] * 100
    for count, size in ((1000, 1), (1000, 3), (100_000, 10), (257, 1)):
        names = [f"s{i:06d}" for i in range(count)]
        chunks = batches(names, size)
        assert len(chunks) <= MAX_JOBS
        assert [s for chunk in chunks for s in chunk] == names
        assert all(chunks)
    entries = matrix(stacks, 1)
    assert len(entries) == 250
    assert entries[0] == {"batch": "1/250", "stacks": "s00000 s00001 s00002 s00003"}
    assert batches([], 5) == []


# --- the pull-request comment --------------------------------------------------------------------


def _risky(index: int) -> StackDiff:
    name = f"customer-{index:05d}-" + "x" * 60
    change = ObjectChange(f"tenant-{index}/vminstance-ws.yaml", [f"+line {i}" for i in range(300)])
    risks = [Risk(f"hikube-gpu:quota.L40S{i}", "GPU quota for L40S grows from 0 to 4 " * 3) for i in range(3)]
    return StackDiff(
        name, added=[f"tenant-{index}/a-{i}.yaml" for i in range(20)], changed=[change], risks=risks
    )


@pytest.mark.parametrize("count", [1, 300, 1000, 5000])
def test_the_comment_stays_under_githubs_limit_for_any_number_of_stacks(count: int) -> None:
    stacks = [_risky(i) for i in range(count)] + [StackDiff(f"quiet-{i}", unchanged=3) for i in range(count)]
    text = diff_report.markdown(Comparison("origin/main", "working tree", stacks))
    assert len(text) <= diff_report.MAX_COMMENT_CHARS < 65_536
    assert text.startswith(diff_report.MARKER)
    if count >= 300:
        assert "more risky change(s): see the full report" in text
        assert "more changed stack(s): see the full report" in text
        assert f"| _{count} unchanged stack(s)_ |" in text
        assert "`manifest-diff` artifact" in text
    else:
        assert "| quiet-0 | 0 | 0 | 0 | 3 |" in text  # a small comment keeps every row


# --- adopting what exists (hikube-gpu:import) ------------------------------------------------------


def _dev_with(tmp_path: Path, adopt: object) -> OfflineRun:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    document["config"]["hikube-gpu:import"] = adopt
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return run_stack(PROJECT_DIR, "dev", path)


def test_import_adopts_the_named_vms_and_clusters_objects(tmp_path: Path) -> None:
    run = _dev_with(tmp_path, {"vms": ["trainer"], "clusters": ["ml"]})
    assert (run.failure, run.errors) == (None, [])
    disks = {
        f"trainer-disk-{d}" for d in ("system", *stack_config("dev")["vms"]["trainer"].get("dataDisks", {}))
    }
    imported = {r.name: r for r in run.resources if r.imported}
    assert set(imported) == {"trainer-instance", "ml-cluster", *disks}
    for resource in imported.values():  # the provider's id: <namespace>/<name> of the object
        metadata = resource.inputs["metadata"]
        assert resource.imported == f"{metadata['namespace']}/{metadata['name']}"
    plain = run_stack(PROJECT_DIR, "dev")
    assert [r.urn for r in plain.resources] == [r.urn for r in run.resources]  # same identities
    assert not any(r.imported for r in plain.resources)


@pytest.mark.parametrize(
    ("adopt", "message"),
    [
        (
            {"vms": ["nope"]},
            "hikube-gpu:import.vms[0]: 'nope' is not a VM of this stack (vms: trainer, ws-1)",
        ),
        ({"disks": ["x"]}, "hikube-gpu:import.disks: expected vms or clusters"),
        (["trainer"], "hikube-gpu:import: expected a map: vms: [names], clusters: [names]"),
    ],
)
def test_import_of_something_the_stack_lacks_is_a_config_error(
    tmp_path: Path, adopt: object, message: str
) -> None:
    run = _dev_with(tmp_path, adopt)
    assert message in str(run.failure)
    assert [r for r in run.resources if r.custom] == []  # nothing registered
