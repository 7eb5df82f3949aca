"""Command line of the offline preview.

    hikube-gpu preview [--stack dev] [--config-file PATH]
    hikube-gpu render  [--stack dev] [--config-file PATH] --out DIR
    hikube-gpu diff    --base REF [--stack S]... [--format text|markdown] [--workers N]
    hikube-gpu list    [--format text|json]
    hikube-gpu doctor  [--stack S] [--kubeconfig PATH] [--context C]  (reads the live cluster)
    hikube-gpu verify  [--stack S] [--kubeconfig PATH] [--timeout N] [--smoke] [--json FILE]

Exit codes: 0 success (diff: no change), 1 the program logged errors (diff: something
changed), 2 invalid configuration, unreadable stack file, or a diff that could not be made
(stderr says why, no traceback); diff: 130/143/129 when stopped by SIGINT/SIGTERM/SIGHUP
(after removing its worktree, temporary folders and worker processes).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from stacks.commands.doctor.command import add_parser as add_doctor
from stacks.commands.fleet_cli import Command
from stacks.commands.fleet_cli import add_parsers as add_fleet
from stacks.commands.preview.runner import DEFAULT_ENGINE, ENGINES, Engine
from stacks.commands.project import PROJECT_DIR_HELP, NoProjectError, find_project
from stacks.commands.verify.command import add_parser as add_verify
from stacks.loading.stack_list import StackNameError, discover

if TYPE_CHECKING:
    from stacks.program.records import OfflineRun

# Each command imports what it needs when it runs: --help and list load neither the diff, the
# risks nor pydantic (tests/test_startup.py), and the Pulumi runtime only comes with
# `--engine pulumi` and the commands that deploy.

PROJECT_DIR = Path(__file__).resolve().parents[2]
"""This checkout (its pyproject.toml, its example project). The commands act on the project
found from the current folder instead (``stacks.commands.project``)."""
EXIT_FAILED = 1
EXIT_INVALID = 2
FLEET: dict[str, Command] = {}
"""The fleet commands (``stacks.commands.fleet_cli``) by name."""


EXIT_CODES = {
    "preview": "exit codes: 0 success; 1 the program logged errors (as pulumi preview would fail);\n"
    "2 invalid configuration or unreadable stack file (stderr lists each problem with its config path)",
    "render": "exit codes: 0 success; 1 the program logged errors;\n"
    "2 invalid configuration, unreadable stack file, or an output folder it did not write",
    "diff": "exit codes: 0 no change; 1 something changed; 2 a stack could not be rendered or the\n"
    "comparison failed (stderr says why); 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP, cleaned up",
    "list": "exit codes: 0 success; 2 a Pulumi.<stack>.yaml names a stack Pulumi would refuse",
}
"""The exit codes each command's ``--help`` ends with."""
COMMANDS = {
    "preview": (
        "print what the stack would deploy",
        "Run the Pulumi program offline (Pulumi's mock runtime: no CLI, login or cluster) and print\n"
        "the resource tree, the stack outputs, the GPU clusters and GPU capacity tables, and every\n"
        "warning. Nothing is deployed.",
    ),
    "render": (
        "write every Kubernetes object as YAML",
        "Run the program offline and write one YAML file per Kubernetes object the stack manages\n"
        "under OUT (<namespace>/<kind>-<name>.yaml; a Helm release as its Flux objects, a patch as\n"
        "<kind>-<name>.patch.yaml; secret fields masked). OUT must be empty or an earlier render.",
    ),
    "diff": (
        "compare the rendered objects of every stack at a git revision and now",
        "Render every stack at the git revision BASE (with that revision's code) and in the working\n"
        "tree, and list the objects added, removed and changed, with YAML diffs and the risky changes\n"
        "on top (the pull-request comment with --format markdown). A stack whose code, stack file and\n"
        "defaults file are the same at both is not rendered (unchanged); renders made before come from\n"
        "the render cache ($HIKUBE_GPU_RENDER_CACHE, off: none; see `cache`).",
    ),
    "list": (
        "list the stacks (Pulumi.<stack>.yaml files)",
        "List the project's stacks: one per Pulumi.<stack>.yaml file, sorted (--format json: a JSON array).",
    ),
}
"""Each visible command's one-line help and its ``--help`` description."""


def _version() -> str:
    import tomllib

    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return f"%(prog)s {project['version']}"


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str
) -> argparse.ArgumentParser:
    text, description = COMMANDS[name]
    return commands.add_parser(
        name,
        help=text,
        description=description,
        epilog=EXIT_CODES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hikube-gpu",
        description="The offline tools of hikube-gpu: preview, render and diff stacks without the Pulumi\n"
        "CLI or a cluster, list them, and check the live platform behind one (doctor). Each command\n"
        "acts on the Pulumi project of the current folder (the nearest Pulumi.yaml upward, as the\n"
        "Pulumi CLI finds it) or of -C DIR.",
        epilog="Run 'hikube-gpu <command> --help' for a command's options and exit codes.\n"
        "exit codes: 0 success; 1 the program logged errors (diff: something changed, doctor:\n"
        "something differs); 2 invalid configuration, unreadable stack file or a failed diff",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument(
        "-C", "--cwd", type=Path, metavar="DIR", help="run as if started in DIR (as pulumi -C DIR does)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    for name in ("preview", "render"):
        command = _command(commands, name)
        command.add_argument("--stack", "-s", default="dev", help="stack name (default: dev)")
        command.add_argument(
            "--config-file", type=Path, help="stack config file (default: Pulumi.<stack>.yaml)"
        )
        command.add_argument("--project-dir", type=Path, help=PROJECT_DIR_HELP)
        command.add_argument(
            "--engine",
            choices=ENGINES,
            default=DEFAULT_ENGINE,
            help="plan: from the stack's plan, without the Pulumi runtime (default); "
            "pulumi: run the program under Pulumi's mock runtime (for debugging)",
        )
        if name == "render":
            command.add_argument("--out", type=Path, required=True, help="output folder")
    diff = _command(commands, "diff")
    diff.add_argument("--base", required=True, help="git revision to compare with (e.g. origin/main)")
    diff.add_argument("--stack", "-s", action="append", help="only this stack (repeatable; default: all)")
    diff.add_argument("--format", choices=("text", "markdown"), default="text", help="report format")
    diff.add_argument("--workers", type=int, help="parallel render processes (default: one per core)")
    diff.add_argument("--full-report", type=Path, help="also write the whole report as text to this file")
    diff.add_argument("--project-dir", type=Path, help=PROJECT_DIR_HELP)
    listing = _command(commands, "list")
    listing.add_argument("--format", choices=("text", "json", "matrix"), default="text", help="output format")
    listing.add_argument("--batch-size", type=int, default=10, help="stacks per batch (--format matrix)")
    listing.add_argument("--project-dir", type=Path, help=PROJECT_DIR_HELP)
    listing.add_argument("--examples", action="store_true", help="include the examples (examples/stacks/)")
    # Internal: diff's worker. No help= keeps it out of the command list of --help.
    many = commands.add_parser("render-many", description="render several stacks into OUT/<stack>")
    many.add_argument("--out", type=Path, required=True)
    many.add_argument("--project-dir", type=Path, default=Path.cwd())
    many.add_argument("stacks", nargs="+")
    add_doctor(commands, None)  # None: the project found from the current folder (main)
    add_verify(commands, None)
    FLEET.update(add_fleet(commands, None))
    return parser


def run_stack(
    project_dir: Path, stack: str, config_file: Path | None = None, engine: Engine = DEFAULT_ENGINE
) -> OfflineRun:
    """Load a stack's config and make its run with ``engine`` (raises StackFileError)."""
    from stacks.commands.preview.runner import run_config
    from stacks.loading.stack_file import load_stack_file

    return run_config(load_stack_file(project_dir, stack, config_file), engine)


def _diff(args: argparse.Namespace) -> int:
    """Exit 0: no change; 1: changes; 2: a stack or the comparison failed (one ``error:`` line
    each on stderr, never a traceback or a secret); 128+N: stopped by signal N, cleaned up."""
    from stacks.commands.diff import diff_report
    from stacks.commands.diff.compare import ProgressPrinter, compare, error_line
    from stacks.commands.diff.render_cache import open_cache
    from stacks.commands.diff.revision import RevisionError
    from stacks.commands.interrupt import Interrupted, interruptible

    try:
        with interruptible():
            result = compare(
                args.project_dir,
                args.base,
                stacks=args.stack or None,
                workers=args.workers,
                progress=ProgressPrinter(),  # the render pool sets the total as stacks are added
                cache=open_cache(),  # $HIKUBE_GPU_RENDER_CACHE (off: none); stacks.commands.diff.render_cache
            )
    except Interrupted as stop:
        reason = f"stopped by {stop}; the worktree, temporary folders and renderers are gone"
        return _diff_failed(args, reason, stop.exit_code)
    except RevisionError as error:
        return _diff_failed(args, str(error), EXIT_INVALID)
    except Exception as error:  # a bug: its message could quote a stack file, so only its type
        return _diff_failed(args, f"the diff failed unexpectedly ({type(error).__name__})", EXIT_INVALID)
    sys.stdout.write(diff_report.markdown(result) if args.format == "markdown" else diff_report.text(result))
    if args.full_report is not None:  # the comment is bounded; this file is not (a CI artifact)
        args.full_report.write_text(diff_report.text(result), encoding="utf-8")
    for stack in result.stacks:
        if stack.error:
            print(f"error: {error_line(stack.stack, stack.error)}", file=sys.stderr)
    if result.has_errors:
        return EXIT_INVALID
    return EXIT_FAILED if result.has_changes else 0


def _diff_failed(args: argparse.Namespace, reason: str, code: int) -> int:
    from stacks.commands.diff import diff_report

    print(f"error: {reason}", file=sys.stderr)
    if args.format == "markdown":
        sys.stdout.write(diff_report.failure_markdown(args.base, reason))
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cwd is not None and not args.cwd.is_dir():
        print(f"error: -C {args.cwd}: no such folder", file=sys.stderr)
        return EXIT_INVALID
    # -C DIR: the project is found from DIR, and relative paths (--out, --config-file) start there.
    with contextlib.chdir(args.cwd) if args.cwd is not None else contextlib.nullcontext():
        if getattr(args, "project_dir", False) is None:
            try:
                args.project_dir = find_project(Path.cwd())
            except NoProjectError as error:
                print(f"error: {error}", file=sys.stderr)
                return EXIT_INVALID
        try:
            code = _command_of(args)
            sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
        except BrokenPipeError:
            return _reader_gone()
        return code


def _reader_gone() -> int:
    """The reader of stdout went away (``hikube-gpu list | head``): end quietly with the exit code
    of a Unix tool killed by SIGPIPE (128 + 13), stdout pointed at /dev/null so that the exit
    flush cannot fail again (Python's documentation, ``signal``: "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):  # a stdout without a file descriptor (tests)
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _command_of(args: argparse.Namespace) -> int:
    if args.command == "diff" or args.command in FLEET:
        return FLEET.get(args.command, _diff)(args)
    if args.command == "list":
        try:
            stacks = discover(args.project_dir, examples=args.examples)
        except StackNameError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_INVALID
        if args.format == "matrix":  # a GitHub Actions matrix (stacks.commands.diff.changed)
            from stacks.commands.diff.changed import matrix

            print(json.dumps(matrix(stacks, args.batch_size)))
        else:
            print(json.dumps(stacks) if args.format == "json" else "\n".join(stacks))
        return 0
    if args.command in ("doctor", "verify"):
        return _live(args)
    if args.command == "render-many":
        from stacks.commands.diff.many import render_many

        render_many(args.project_dir, args.stacks, args.out)
        return 0
    return _one_stack(args)


def _live(args: argparse.Namespace) -> int:
    """``doctor`` or ``verify``: the commands that read the live cluster (the client loads only here)."""
    if args.command == "doctor":
        from stacks.commands.doctor.command import run as doctor

        return doctor(args)
    from stacks.commands.verify.command import run as verify

    return verify(args)


def unknown_stack(project_dir: Path, stack: str) -> str | None:
    """Why ``stack`` is not a stack of the project (with the closest names), or None."""
    try:
        stacks = discover(project_dir, examples=True)
    except StackNameError as error:
        return str(error)
    if stack in stacks:
        return None
    close = difflib.get_close_matches(stack, stacks, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    known = f" (stacks: {', '.join(stacks)})" if stacks else " (it has no Pulumi.<stack>.yaml)"
    return f"no stack {stack!r} in {project_dir}{hint}{known}"


def _run_or_say_why(args: argparse.Namespace) -> OfflineRun | None:
    """Run the stack offline, or print why its config cannot be read (None)."""
    from stacks.loading.stack_file import StackFileError

    missing = None if args.config_file is not None else unknown_stack(args.project_dir, args.stack)
    if missing is not None:
        print(f"error: {missing}", file=sys.stderr)
        return None
    try:
        return run_stack(args.project_dir, args.stack, args.config_file, args.engine)
    except StackFileError as error:
        print(f"error: {error}", file=sys.stderr)  # the message names the file
        return None


def _hung(run: OfflineRun, engine: Engine) -> bool:
    """The program stopped waiting on something (only the mock runtime can hang)."""
    if engine != "pulumi":
        return False
    from stacks.commands.preview.engine import OfflineTimeout

    return isinstance(run.failure, OfflineTimeout)


def _one_stack(args: argparse.Namespace) -> int:
    """``preview`` or ``render`` of one stack."""
    from stacks.commands.preview.render import RenderError, render
    from stacks.commands.preview.report import preview_text

    label = f"stack {args.stack!r}" if args.config_file is None else str(args.config_file)
    run = _run_or_say_why(args)
    if run is None:
        return EXIT_INVALID
    if run.failure is not None:
        print(f"error: {label}: {run.failure}", file=sys.stderr)
        return EXIT_FAILED if _hung(run, args.engine) else EXIT_INVALID
    if run.errors:
        for error_line in run.errors:
            print(f"error: {label}: {error_line}", file=sys.stderr)
        return EXIT_FAILED
    if args.command == "preview":
        sys.stdout.write(preview_text(run))
        return 0
    try:
        written = render(run, args.out)
    except RenderError as error:  # a foreign --out folder, or two objects for one file
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {len(written)} files of {label} to {args.out}")
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
