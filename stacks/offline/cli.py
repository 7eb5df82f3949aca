"""Command line of the offline preview.

    python -m stacks preview [--stack dev] [--config-file PATH]
    python -m stacks render  [--stack dev] [--config-file PATH] --out DIR

Exit codes: 0 success, 1 the program logged errors (as ``pulumi preview`` would fail),
2 invalid configuration or unreadable stack file (stderr says why, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stacks.offline.engine import OfflineRun, run_offline
from stacks.offline.render import RenderDirError, render
from stacks.offline.report import preview_text
from stacks.offline.stack_file import StackFileError, load_stack_file
from stacks.program import main as program

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXIT_FAILED = 1
EXIT_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stacks", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("preview", "print what the stack would deploy"),
        ("render", "write every Kubernetes object as YAML"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--stack", "-s", default="dev", help="stack name (default: dev)")
        command.add_argument(
            "--config-file", type=Path, help="stack config file (default: Pulumi.<stack>.yaml)"
        )
        command.add_argument(
            "--project-dir", type=Path, default=PROJECT_DIR, help="folder holding Pulumi.yaml"
        )
        if name == "render":
            command.add_argument("--out", type=Path, required=True, help="output folder")
    return parser


def run_stack(project_dir: Path, stack: str, config_file: Path | None = None) -> OfflineRun:
    """Load a stack's config and run the program offline (raises StackFileError)."""
    return run_offline(load_stack_file(project_dir, stack, config_file), program)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    label = f"stack {args.stack!r}" if args.config_file is None else str(args.config_file)
    try:
        run = run_stack(args.project_dir, args.stack, args.config_file)
    except StackFileError as error:
        print(f"error: {label}: {error}", file=sys.stderr)
        return EXIT_INVALID
    if run.failure is not None:
        print(f"error: {label}: {run.failure}", file=sys.stderr)
        return EXIT_INVALID
    if run.errors:
        for error_line in run.errors:
            print(f"error: {label}: {error_line}", file=sys.stderr)
        return EXIT_FAILED
    if args.command == "preview":
        sys.stdout.write(preview_text(run))
        return 0
    try:
        written = render(run, args.out)
    except RenderDirError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {len(written)} files of stack {args.stack!r} to {args.out}")
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
