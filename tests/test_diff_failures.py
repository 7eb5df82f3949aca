"""``hikube-gpu diff`` fails loudly: exit 2 (or 128+N on a signal) with one-line reasons,
no traceback, no secret, nothing left behind; quota changes are risks; names are escaped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from benchmarks.common import copy_project
from stacks.commands.cli import PROJECT_DIR, main
from stacks.commands.diff import diff_report
from stacks.commands.diff.compare import Comparison, compare
from stacks.commands.diff.objects import StackDiff
from stacks.commands.diff.revision import crash_reason
from stacks.commands.diff.risks import Risk, SecretQuota, quota_notes, quota_risks, stack_quota
from stacks.commands.diff.stack_source import redact
from stacks.commands.preview.render import RenderDirError, _prepare
from stacks.loading.stack_list import StackNameError, discover, name_problem

CIPHER = "v1:AAAAbm90LWEtcmVhbC1jaXBoZXJ0ZXh0LWJ1dC1sb25n"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5TopSecretKeyMaterial0123 me@example"
SECRETS = (CIPHER, "AAAAC3NzaC1lZDI1NTE5TopSecretKeyMaterial0123")


def _stack(quota: object = None, **extra: object) -> dict[str, object]:
    config: dict[str, object] = {
        "hikube-gpu:platform": {"namespace": "tenant-tiny"},
        "hikube-gpu:vms": {
            "ws": {
                "gpus": {"L40S": 1},
                "disk": {"image": "ubuntu-2404", "size": "50Gi"},
                "sshKeys": [SSH_KEY],
            }
        },
        **extra,
    }
    if quota is not None:
        config["hikube-gpu:quota"] = quota
    return {"config": config}


def _write(repo: Path, stack: str, document: object) -> None:
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    (repo / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message)


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project's code with one small stack (``tiny``), committed."""
    root = tmp_path_factory.mktemp("origin")
    copy_project(root, lambda name: not (name.startswith(("Pulumi.", "examples/")) and name != "Pulumi.yaml"))
    _write(root, "tiny", _stack({"L40S": 2}))
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "base")
    return root


@pytest.fixture
def repo(origin: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    return clone


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def diff(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(repo: Path, *args: str) -> tuple[int, str, str]:
        code = main(["diff", "--base", "HEAD", "--project-dir", str(repo), "--workers", "2", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text
        for secret in SECRETS:
            assert secret not in text


BROKEN_YAML = f"""config:
  hikube-gpu:kubeconfig: {{secure: {CIPHER}}}
  hikube-gpu:vms:
    ws:
      sshKeys: {SSH_KEY}: oops
"""


# --- broken stack files --------------------------------------------------------------------


@pytest.mark.parametrize("format", ["text", "markdown"])
def test_invalid_yaml_in_the_working_tree_is_exit_2_with_one_line(repo: Path, diff: Run, format: str) -> None:
    _write(repo, "tiny", BROKEN_YAML)
    code, out, err = diff(repo, "--format", format)
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: stack 'tiny': invalid at working tree: Pulumi.tiny.yaml:5:83: not valid YAML: "
        "mapping values are not allowed in this context"
    ]
    assert "Pulumi.tiny.yaml:5:83: not valid YAML" in out
    _no_secret(out, err)


def test_invalid_yaml_at_the_base_names_the_base(repo: Path, diff: Run) -> None:
    _write(repo, "tiny", BROKEN_YAML)
    _commit(repo, "broken")
    _write(repo, "tiny", _stack({"L40S": 2}))
    code, out, err = diff(repo)
    assert code == 2
    assert "error: stack 'tiny': invalid at base HEAD: Pulumi.tiny.yaml:5:83: not valid YAML: " in err
    _no_secret(out, err)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("config:\n  - a\n  - b\n", "'config:' of Pulumi.tiny.yaml must be a mapping, not a list"),
        ("- config\n", "Pulumi.tiny.yaml must be a mapping with 'config:', not a list"),
        ("config:\n  hikube-gpu:vms: " + "[" * 5000 + "]" * 5000 + "\n", "Pulumi.tiny.yaml:2:"),
        (
            f"config:\n  hikube-gpu:kubeconfig: {CIPHER}\n  hikube-gpu:kubeconfig: x\n",
            "Pulumi.tiny.yaml:3:3: duplicate key 'hikube-gpu:kubeconfig'",
        ),
        (
            "config:\n  a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(
                f"  b{i}: &b{i} [*{'a' if i == 0 else f'b{i - 1}'}"
                + f", *{'a' if i == 0 else f'b{i - 1}'}" * 9
                + "]\n"
                for i in range(9)
            ),
            "Pulumi.tiny.yaml:",
        ),
    ],
)
def test_a_stack_file_of_the_wrong_shape_is_exit_2(repo: Path, diff: Run, text: str, reason: str) -> None:
    _write(repo, "tiny", text)
    code, out, err = diff(repo)
    assert code == 2
    (line,) = (line for line in err.splitlines() if line.startswith("error: "))
    assert line.startswith(f"error: stack 'tiny': invalid at working tree: {reason}")
    _no_secret(out, err)


def _patch_renderer(repo: Path, code: str) -> None:
    """Change the worker (``render-many``) of the working tree's code."""
    many = repo / "stacks" / "commands" / "diff" / "many.py"
    many.write_text(many.read_text(encoding="utf-8") + "\n\n" + code, encoding="utf-8")


def test_a_crashing_renderer_fails_its_stack_by_type_only(repo: Path, diff: Run) -> None:
    _patch_renderer(
        repo,
        f"def render_one(project_dir: Path, stack: str) -> Rendered:\n    raise RuntimeError({SSH_KEY!r})\n",
    )
    code, out, err = diff(repo)
    assert code == 2
    assert (
        "error: stack 'tiny': invalid at working tree: the renderer crashed at working tree while "
        "rendering it (RuntimeError, exit 1)"
    ) in err.splitlines()
    _no_secret(out, err)


def test_a_renderer_that_renders_nothing_fails_its_stacks(repo: Path, diff: Run) -> None:
    """A worker that exits 0 without a render for a stack: the stack fails, it never reads as
    unchanged."""
    _patch_renderer(
        repo, "def render_many(project_dir: Path, stacks: list[str], out: Path) -> None:\n    pass\n"
    )
    code, _, err = diff(repo)
    assert code == 2
    assert (
        "error: stack 'tiny': invalid at working tree: the renderer at working tree ended without rendering it"
    ) in err.splitlines()


def test_a_renderer_message_that_quotes_a_secret_is_redacted(repo: Path, diff: Run) -> None:
    """Older code at the base may echo a value: whatever the stack file holds as a secret is hidden."""
    _write(repo, "tiny", _stack({"L40S": 2}, **{"hikube-gpu:kubeconfig": {"secure": CIPHER}}))
    _patch_renderer(
        repo,
        "def render_one(project_dir: Path, stack: str) -> Rendered:\n"
        f"    return Rendered({{}}, 'bad key {SSH_KEY} and {CIPHER}')\n",
    )
    code, out, err = diff(repo)
    assert code == 2
    assert "error: stack 'tiny': invalid at working tree: bad key [secret] and [secret]" in err.splitlines()
    _no_secret(out, err)


def test_a_renderer_message_names_files_without_the_temporary_worktree(repo: Path, diff: Run) -> None:
    _patch_renderer(
        repo,
        "def render_one(project_dir: Path, stack: str) -> Rendered:\n"
        "    return Rendered({}, f'{project_dir.resolve() / f\"Pulumi.{stack}.yaml\"}: refused')\n",
    )
    _commit(repo, "a renderer that refuses every stack")
    _patch_renderer(repo, "# code differs: the stack renders at both revisions\n")
    code, _, err = diff(repo)
    assert code == 2
    assert "error: stack 'tiny': invalid at base HEAD: Pulumi.tiny.yaml: refused" in err.splitlines()


def test_an_unknown_or_invalid_stack_option_is_exit_2(repo: Path, diff: Run) -> None:
    code, _, err = diff(repo, "--stack", "nope")
    assert (code, err.strip()) == (2, "error: no stack 'nope' at base HEAD or in the working tree")
    code, _, err = diff(repo, "--stack", "a|b")
    assert code == 2
    assert "error: --stack 'a|b': a stack name has 1 to 100 letters" in err


# --- quota ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quota_result(origin: Path, tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    repo = tmp_path_factory.mktemp("quota") / "repo"
    subprocess.run(["git", "clone", "-q", str(origin), str(repo)], check=True)
    for stack in ("prefixless", "quoted", "removed", "shrinks", "secret", "first"):
        quota = {"secure": CIPHER} if stack == "secret" else None if stack == "first" else {"L40S": 2}
        _write(repo, stack, _stack(quota))
    _commit(repo, "quota stacks")
    prefixless = _stack()
    prefixless["config"]["quota"] = {"L40S": 3}  # type: ignore[index]  # Pulumi reads it as hikube-gpu:quota
    _write(repo, "prefixless", prefixless)
    _write(repo, "quoted", _stack({"L40S": "4", "H100": "1"}))
    _write(repo, "removed", _stack())
    _write(repo, "shrinks", _stack({"L40S": 1}))
    _write(repo, "secret", _stack({"secure": CIPHER + "x"}))
    _write(repo, "first", _stack({"L40S": 1}))
    return compare(repo, "HEAD", workers=2)


@pytest.mark.parametrize(
    ("stack", "risks"),
    [
        ("prefixless", [Risk("hikube-gpu:quota.L40S", "GPU quota for L40S grows from 2 to 3")]),
        (
            "quoted",
            [
                Risk("hikube-gpu:quota.H100", "GPU quota for H100 grows from 0 to 1"),
                Risk("hikube-gpu:quota.L40S", "GPU quota for L40S grows from 2 to 4"),
            ],
        ),
        (
            "removed",
            [
                Risk(
                    "hikube-gpu:quota",
                    "no GPU quota: the stack may claim any number of GPUs (before: L40S 2)",
                )
            ],
        ),
        (
            "secret",
            [Risk("hikube-gpu:quota", "the GPU quota is a secret and changed: check that it does not grow")],
        ),
        ("shrinks", []),
        ("first", []),
    ],
)
def test_quota_changes_are_risks_not_secret_notes(
    quota_result: Comparison, stack: str, risks: list[Risk]
) -> None:
    diff = next(s for s in quota_result.stacks if s.stack == stack)
    assert diff.error is None
    assert diff.risks == risks
    assert diff.has_changes
    assert not any("secret value" in note for note in diff.notes)
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])


def test_quota_that_shrinks_or_is_first_set_is_a_note(quota_result: Comparison) -> None:
    notes = {s.stack: s.notes for s in quota_result.stacks}
    assert notes["shrinks"] == ["GPU quota for L40S shrinks from 2 to 1"]
    assert notes["first"] == ["a GPU quota is set (before: no limit): L40S 1"]


def test_quota_reading_follows_pulumi_and_the_program() -> None:
    assert stack_quota({"hikube-gpu:quota": {"L40S": "4", "A100": 2.0}}, "hikube-gpu") == {
        "L40S": 4,
        "A100": 2,
    }
    assert stack_quota({"hikube-gpu:quota": '{"L40S": 1}'}, "hikube-gpu") == {"L40S": 1}
    assert stack_quota({"hikube-gpu:vms": {}}, "hikube-gpu") is None
    assert stack_quota({"hikube-gpu:quota": {"L40S": {"secure": "c"}}}, "hikube-gpu") == {
        "L40S": SecretQuota("c")
    }
    assert quota_risks(None, {"L40S": 1}) == []
    assert quota_notes({"L40S": 2}, {}) == ["GPU quota for L40S shrinks from 2 to 0"]


def test_a_changed_secret_is_still_noted_with_its_key(repo: Path) -> None:
    key = SSH_KEY.replace("me@", "you@")
    document = _stack({"L40S": 2})
    document["config"]["hikube-gpu:vms"]["ws"]["sshKeys"] = [key]  # type: ignore[index]
    _write(repo, "tiny", document)
    (tiny,) = compare(repo, "HEAD", workers=1).stacks
    assert len(tiny.notes) == 1
    assert tiny.notes[0].startswith("config changed but no rendered object did (hikube-gpu:vms)")


# --- stack names and Markdown --------------------------------------------------------------


CRAFTED = ["Pulumi.x<!--.yaml", "Pulumi.a\nb.yaml", "Pulumi...yaml", "Pulumi....yaml", "Pulumi.a`b|c.yaml"]


def test_stack_files_with_names_pulumi_refuses_are_exit_2(
    repo: Path, diff: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in CRAFTED:
        (repo / name).write_text("config: {}\n", encoding="utf-8")
    with pytest.raises(StackNameError) as raised:
        discover(repo)
    for name in CRAFTED:
        assert repr(name) in str(raised.value)
    assert main(["list", "--project-dir", str(repo)]) == 2
    assert capsys.readouterr().err.startswith("error: stack files with an invalid stack name: ")
    code, out, err = diff(repo, "--format", "markdown")
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("error: working tree: stack files with an invalid stack name: ")
    assert "'Pulumi.a\\nb.yaml'" in err
    assert out.count("<!--") == 1  # the marker only
    assert "`" not in out.split("could not be made", 1)[1]


def test_pulumi_stack_names() -> None:
    for name in ("dev", "prod.eu-west_1", "A" * 100):
        assert name_problem(name) is None
    for name in ("", ".", "..", "a b", "a\nb", "a/b", "x<!--", "A" * 101):
        assert name_problem(name) is not None


def test_every_name_and_message_is_escaped_in_markdown() -> None:
    evil = "x<!--`|*\n| injected | row |"
    diff = StackDiff(evil, risks=[Risk("ns/`a`.yaml", "grows <b>")], notes=["<!-- hide"])
    broken = StackDiff("y", error="```\n</details><!--\n")
    text = diff_report.markdown(Comparison("main`x", "working tree", [diff, broken]))
    assert text.count("<!--") == 2  # the marker, and the error's line inside its code block
    assert "``main`x``" in text
    assert "| injected |" not in text
    assert "</details><!--" in text  # inside a code block that it cannot close
    assert "\n````\n```\n</details><!--\n````\n" in text
    assert "| x&#60;!--&#96;&#124;&#42;&#10;&#124; injected &#124; row &#124; | 0 | 0 | 0 | 0 |" in text
    assert "``ns/`a`.yaml``: grows &#60;b&#62;" in text
    assert "&#60;!-- hide" in text


# --- signals -------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """The render workers ``pid`` started (not the git commands it runs meanwhile)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) == pid and b"render-many" in command:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_removes_worktree_temp_folders_and_workers(repo: Path, tmp_path: Path, signum: int) -> None:
    _patch_renderer(
        repo,
        "import time\n\n_render_many = render_many\nrender_many = lambda *a: (time.sleep(120), _render_many(*a))\n",
    )
    _commit(repo, "slow renderer")  # base and working tree
    _patch_renderer(repo, "# code differs: the stack renders at both revisions, one worker each\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stacks",
            "diff",
            "--base",
            "HEAD",
            "--project-dir",
            str(repo),
            "--workers",
            "2",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(workers := _children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) == 2
    # the base renders from a folder of its code and inputs, written from git's objects
    assert [p.name.startswith("hikube-gpu-inputs-") for p in tmp.iterdir() if p.is_dir()].count(True) == 1
    started = time.monotonic()
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert time.monotonic() - started < 10
    assert err.strip().splitlines()[-1] == (
        f"error: stopped by {signal.Signals(signum).name}; the worktree, temporary folders and renderers are gone"
    )
    assert "Traceback" not in err
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert len(_git(repo, "worktree", "list", "--porcelain").split("worktree ")) == 2  # none made
    assert list(tmp.iterdir()) == []


# --- units ---------------------------------------------------------------------------------


def test_redaction_and_crash_reasons_never_show_a_value() -> None:
    cloud_init = "#cloud-config\npackages: [secret-tool]\nruncmd: [echo topsecretpassword]"
    text = "line 2 holds runcmd: [echo topsecretpassword] and ssh-rsa AAAAB3Nza"
    assert (
        redact(text, frozenset({cloud_init, "ssh-rsa AAAAB3Nza", "1"}))
        == "line 2 holds [secret] and [secret]"
    )
    traceback = f'Traceback (most recent call last):\n  File "x"\nyaml.scanner.ScannerError: bad\n    sshKeys: {SSH_KEY}\n    ^'
    assert crash_reason(traceback) == "yaml.scanner.ScannerError"
    assert crash_reason("Killed") == "no exception was printed"


@pytest.mark.parametrize("kind", ["file", "symlink", "dangling", "under-a-file"])
def test_render_out_that_is_not_a_folder_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / ".hikube-gpu-render").write_text("x")
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("keep me")
    elif kind == "symlink":
        out.symlink_to(target)
    elif kind == "dangling":
        out.symlink_to(tmp_path / "missing")
    else:
        (tmp_path / "file").write_text("keep me")
        out = tmp_path / "file" / "out"
    with pytest.raises(RenderDirError) as raised:
        _prepare(out)
    assert str(raised.value).startswith(str(out))
    assert (target / ".hikube-gpu-render").exists()


def test_render_cli_out_is_a_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = repo / "out.txt"
    out.write_text("keep me")
    assert main(["render", "--stack", "tiny", "--project-dir", str(repo), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {out} is a file, not a folder; choose another --out"
    assert out.read_text() == "keep me"


# --- the workflow --------------------------------------------------------------------------


def _diff_step() -> tuple[str, dict[str, object]]:
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "preview.yml").read_text())
    job = workflow["jobs"]["manifest-diff"]
    step = next(s for s in job["steps"] if s.get("id") == "diff")
    return step["run"], job


@pytest.mark.parametrize(("code", "failed"), [(0, "false"), (1, "false"), (2, "true"), (143, "true")])
def test_the_workflow_fails_on_any_other_exit_and_posts_no_secret(
    tmp_path: Path, code: int, failed: str
) -> None:
    script, job = _diff_step()
    fake = tmp_path / ".venv" / "bin" / "hikube-gpu"  # the command the step runs
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "#!/bin/sh\n"
        f"echo 'Traceback (most recent call last):' >&2\necho '    sshKeys: {SSH_KEY}' >&2\n"
        "echo \"error: stack 'x': invalid at working tree: <b> & more\" >&2\n"
        f"exit {code}\n"
    )
    fake.chmod(0o755)
    output = tmp_path / "output"
    env = {**os.environ, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    env["BASE_REF"] = "main"
    subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, check=True)
    assert f"exit-code={code}\nfailed={failed}\n" == output.read_text()
    comment = (tmp_path / "manifest-diff.md").read_text()
    assert comment.startswith(diff_report.MARKER)
    assert "error: stack 'x': invalid at working tree: &lt;b&gt; &amp; more" in comment
    _no_secret(comment)
    last = job["steps"][-1]  # type: ignore[index]
    assert last["if"] == "steps.diff.outputs.failed == 'true'"


def test_a_slow_deliver_does_not_hold_the_readers_and_its_failure_stops_the_run() -> None:
    """Renders are handed to one delivering thread (``revision.Handover``): the threads reading
    the workers go on while a diff is slow; a failure of ``deliver`` is raised to the caller."""
    import threading

    from stacks.commands.diff import revision

    release = threading.Event()
    got: list[str] = []

    def slow(index: int, stack: str, render: object, seen: object) -> None:
        release.wait(10)
        got.append(stack)

    handed = revision.Handover(slow)  # type: ignore[arg-type]
    for i in range(revision.HANDOVER):  # all queued while the first one is still delivered
        handed.give(0, f"s{i}", None, None)  # type: ignore[arg-type]
    assert len(got) == 0
    release.set()
    handed.finish()
    assert got == [f"s{i}" for i in range(revision.HANDOVER)]

    def failing(index: int, stack: str, render: object, seen: object) -> None:
        raise ValueError(f"cannot diff {stack}")

    handed = revision.Handover(failing)  # type: ignore[arg-type]
    handed.give(0, "a", None, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot diff a"):
        handed.finish()


def test_a_worker_pipe_holds_many_renders(tmp_path: Path) -> None:
    """A worker's stdout holds ``PIPE_BYTES`` (about 60 renders), not the 64 KiB default (4). Linux
    (CI's runners); elsewhere the pipe stays as it is."""
    import fcntl

    from stacks.commands.diff import revision

    workers = revision.Workers()
    process = workers.start([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, tmp_path / "err")
    try:
        assert process.stdout is not None
        assert fcntl.fcntl(process.stdout.fileno(), fcntl.F_GETPIPE_SZ) == revision.PIPE_BYTES
    finally:
        workers.stop()
