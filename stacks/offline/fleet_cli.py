"""The fleet commands of ``python -m stacks`` / ``hikube-gpu``: ``config`` (the merged config of
a stack and where each value comes from) and ``changed`` (the stacks a change touches), ``up``
(deploy through Pulumi's Automation API) and ``operator`` (Pulumi Kubernetes Operator objects)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_FAILED = 1
EXIT_INVALID = 2

Command = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> int:
    from stacks import customer_defaults
    from stacks.offline.stack_file import (
        StackFileError,
        _project,
        _project_defaults,
        _stack_path,
        _stack_values,
    )

    try:
        project_file, project = _project(args.project_dir)
        path = _stack_path(args.project_dir, project_file, args.stack)
        rows = customer_defaults.origins(
            args.project_dir,
            project,
            _stack_values(path, project),
            _project_defaults(project_file, project),
        )
    except (StackFileError, customer_defaults.DefaultsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    for place, value, where in rows:
        shown = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
        print(f"{place} = {shown}" + (f"    # {where}" if args.show_origin else ""))
    return 0


def _changed(args: argparse.Namespace) -> int:
    from stacks.offline.changed import find_changed, matrix
    from stacks.offline.compare import ProgressPrinter
    from stacks.offline.interrupt import Interrupted, interruptible
    from stacks.offline.revision import RevisionError
    from stacks.offline.stack_list import StackNameError

    try:
        with interruptible():
            found = find_changed(
                args.project_dir, args.base, workers=args.workers, progress=ProgressPrinter()
            )
    except Interrupted as stop:
        print(f"error: stopped by {stop}", file=sys.stderr)
        return stop.exit_code
    except (RevisionError, StackNameError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    for stack, reason in found.errors.items():
        print(f"error: stack {stack!r}: {reason}", file=sys.stderr)
    why = "the code changed: every stack rendered" if found.code_changed else "stack or defaults files"
    print(f"{len(found.stacks)} stack(s) changed; {found.candidates} rendered ({why})", file=sys.stderr)
    if args.format == "matrix":
        print(json.dumps(matrix(found.stacks, args.batch_size, args.max_jobs)))
    elif args.format == "json":
        print(json.dumps(found.stacks))
    else:
        print("\n".join(found.stacks))
    return 0


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], project_dir: Path
) -> dict[str, Command]:
    """Add the fleet commands; their runners by name."""
    config = commands.add_parser(
        "config",
        help="print a stack's config merged with its customer defaults",
        description="Print every value of the stack's config after merging its customer defaults file\n"
        "(hikube-gpu:defaults) and Pulumi.yaml's defaults; --show-origin says where each value comes\n"
        "from. secure: values print as [secret].",
        epilog="exit codes: 0 success; 2 unreadable stack or defaults file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config.add_argument("--stack", "-s", default="dev", help="stack name (default: dev)")
    config.add_argument("--show-origin", action="store_true", help="name the file each value comes from")
    config.add_argument("--project-dir", type=Path, default=project_dir, help="folder holding Pulumi.yaml")
    changed = commands.add_parser(
        "changed",
        help="list the stacks whose render or config changed since a git revision",
        description="List the stacks (not the examples) whose rendered objects or config, customer\n"
        "defaults included, differ between BASE and the working tree, as `diff` computes them. Only\n"
        "stacks whose stack or defaults file changed are rendered, unless the code changed.\n"
        "--format matrix prints a GitHub Actions matrix: batches of --batch-size stacks, never more\n"
        "than --max-jobs (256) batches.",
        epilog="exit codes: 0 success (whether or not a stack changed); 2 the comparison could not be made",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    changed.add_argument("--base", required=True, help="git revision to compare with (e.g. origin/main)")
    changed.add_argument("--format", choices=("text", "json", "matrix"), default="text", help="output format")
    changed.add_argument("--batch-size", type=int, default=10, help="stacks per batch (--format matrix)")
    changed.add_argument("--max-jobs", type=int, default=256, help="most batches (--format matrix)")
    changed.add_argument("--workers", type=int, help="parallel render processes (default: one per core)")
    changed.add_argument("--project-dir", type=Path, default=project_dir, help="folder holding Pulumi.yaml")
    return {"config": _config, "changed": _changed}
