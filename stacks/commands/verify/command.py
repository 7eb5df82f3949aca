"""``hikube-gpu verify``: arguments, the run, the report (text and ``--json``).

Exit codes: 0 nothing differs (``can't tell`` lines included), 1 something differs, 2 verify
could not run (bad stack file or config, unusable kubeconfig, server unreachable);
130/143/129 stopped by SIGINT/SIGTERM/SIGHUP, after deleting what ``--smoke`` made.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stacks.commands.doctor.check import Check
from stacks.commands.doctor.command import add_live_stack_arguments

EXIT_DIFFERS = 1
EXIT_CANNOT_RUN = 2
DEFAULT_TIMEOUT = 180.0
READ_TIMEOUT = 30.0
CHECKS: dict[str, str] = {
    "vm-instance": "each VM's VMInstance app is Ready (tenant)",
    "vm-disks": "each VM's VMDisk apps are Ready (tenant)",
    "vm-running": "each VM runs (or is stopped, as runStrategy says) (both kinds)",
    "vm-gpus": "each running VM has the stack's GPUs attached (its VMI's devices) (both kinds)",
    "cluster": "each cluster's Kubernetes app is Ready and its API answers (tenant)",
    "node-count": "each node group has as many nodes as the platform runs (start, min, max, peak) (tenant)",
    "gpu-resources": "each GPU node publishes the GPU resources and counts the sharing gives (tenant)",
    "cluster-policy": "the GPU Operator's ClusterPolicy is ready (both kinds)",
    "operator-pods": "device plugin, GFD, DCGM (or sandbox plugin) pods Ready on each GPU node, "
    "crash loops with their last log line (both kinds)",
    "node-modes": "each GPU node carries the mode labels the stack sets (platform)",
    "kubevirt-permits": "KubeVirt permits every GPU name the VM nodes publish (platform)",
    "smoke": "--smoke: a pod per node group and GPU resource sees the catalog's model with nvidia-smi -L",
    "smoke-cleanup": "--smoke: the run's namespace is deleted",
}
NAME_WIDTH = max(len(name) for name in CHECKS) + 2


def add_parser(commands: Any, project_dir: Path | None) -> None:
    """Add ``verify`` to the CLI's subcommands; ``--help`` lists every check."""
    text = "check that a deployed stack's GPUs are usable (read-only; --smoke runs a GPU pod)"
    epilog = "checks:\n" + "\n".join(f"  {name:<{NAME_WIDTH}}{help_}" for name, help_ in CHECKS.items())
    epilog += (
        "\n\nexit codes: 0 nothing differs, 1 something differs, 2 cannot run;"
        "\n130/143/129 stopped by SIGINT/SIGTERM/SIGHUP (after deleting what --smoke made)"
    )
    verify = commands.add_parser(
        "verify",
        help=text,
        description=text,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_live_stack_arguments(verify, project_dir)
    verify.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds one check may take: each answer (at most {READ_TIMEOUT:g} s), and each smoke pod "
        f"(default: {DEFAULT_TIMEOUT:g})",
    )
    verify.add_argument(
        "--smoke",
        action="store_true",
        help="also run one short GPU pod per node group and GPU resource (creates and deletes a namespace)",
    )
    verify.add_argument(
        "--smoke-image", help="image with nvidia-smi for --smoke (default: a pinned CUDA base image)"
    )
    verify.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON to FILE")


def _fail(args: argparse.Namespace, label: str, message: str, code: int = EXIT_CANNOT_RUN) -> int:
    print(f"error: {label}: {message}", file=sys.stderr)
    _write_json(args, {"stack": args.stack, "error": message, "exit": code})
    return code


def _write_json(args: argparse.Namespace, report: dict[str, Any]) -> None:
    if args.json is not None:
        args.json.write_text(json.dumps({"command": "verify", **report}, indent=2) + "\n", encoding="utf-8")


def as_json(check: Check) -> dict[str, str]:
    return {
        "check": check.name,
        "subject": check.subject,
        "status": check.status,
        "detail": check.detail,
        "fix": check.fix,
    }


def run(args: argparse.Namespace) -> int:
    from stacks.commands.doctor.access import AccessError, choose, connect
    from stacks.commands.doctor.check import DIFFERS
    from stacks.commands.doctor.command import counts, format_report, insecure_tls
    from stacks.commands.doctor.reader import Unreachable
    from stacks.commands.doctor.stack import StackInput, read_stack
    from stacks.commands.interrupt import Interrupted, interruptible
    from stacks.commands.verify.run import Run
    from stacks.loading.problems import ConfigError
    from stacks.loading.stack_file import StackFileError

    label = f"stack {args.stack!r}" if args.config_file is None else str(args.config_file)
    if args.timeout <= 0:
        return _fail(args, label, "--timeout must be more than 0 seconds")
    try:
        given: StackInput = read_stack(args.project_dir, args.stack, args.config_file)
    except (StackFileError, ConfigError) as error:
        return _fail(args, label, str(error))
    stack = given.stack
    try:
        credentials = choose(
            args.kubeconfig, args.context, given.kubeconfig, given.kubeconfig_key, stack.platform.context
        )
        reader = connect(credentials, (5.0, min(READ_TIMEOUT, args.timeout)))
    except AccessError as error:
        return _fail(args, label, str(error))
    context = f", context {credentials.context}" if credentials.context else ""
    print(f"verify: {label} ({stack.kind}) on {reader.server} with {credentials.source}{context}")
    if not reader.verifies_tls:
        print(f"warning: {insecure_tls(reader.server)}", file=sys.stderr)
    if args.smoke and stack.kind == "platform":
        print(
            "note: --smoke runs pods in tenant clusters' node groups; a platform stack has none",
            file=sys.stderr,
        )
    verification = Run(reader, stack, smoke=args.smoke, image=args.smoke_image, seconds=args.timeout)
    try:
        with interruptible():
            checks = verification.checks()
    except Interrupted as stop:
        left = verification.leftovers()
        cleaned = "; ".join(left) if left else "nothing it made is left"
        return _fail(args, label, f"stopped by {stop}; {cleaned}", stop.exit_code)
    except Unreachable as error:
        return _fail(args, label, str(error))
    for namespace in verification.leftovers():
        print(f"error: {namespace}", file=sys.stderr)
    sys.stdout.write(format_report(checks, NAME_WIDTH))
    code = EXIT_DIFFERS if any(c.status == DIFFERS for c in checks) else 0
    _write_json(
        args,
        {
            "stack": args.stack,
            "kind": stack.kind,
            "server": reader.server,
            "smoke": args.smoke,
            "checks": [as_json(c) for c in checks],
            "counts": counts(checks),
            "exit": code,
        },
    )
    return code
