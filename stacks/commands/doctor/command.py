"""``hikube-gpu doctor``: arguments, the run, and the report.

Exit codes: 0 nothing differs (``can't tell`` lines included), 1 something differs,
2 the doctor could not run (bad stack file or config, unusable kubeconfig, server unreachable,
a credential for another cluster than ``hikube-gpu:platform.apiServer``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from stacks.commands.doctor.check import CHECKS, DIFFERS, Check
from stacks.commands.project import PROJECT_DIR_HELP

EXIT_DIFFERS = 1
EXIT_CANNOT_RUN = 2
STATUS_WIDTH = 11
NAME_WIDTH = max(len(name) for name in CHECKS) + 2


def add_live_stack_arguments(parser: argparse.ArgumentParser, project_dir: Path | None) -> None:
    """The arguments of a command that reads a stack and reaches its cluster (doctor, verify):
    the stack, its config file and project, the kubeconfig and the context."""
    parser.add_argument("--stack", "-s", default="dev", help="stack name (default: dev)")
    parser.add_argument("--config-file", type=Path, help="stack config file (default: Pulumi.<stack>.yaml)")
    parser.add_argument("--project-dir", type=Path, default=project_dir, help=PROJECT_DIR_HELP)
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        help="kubeconfig file (default: the stack's kubeconfig unless it is a secret, then KUBECONFIG, "
        "then ~/.kube/config)",
    )
    parser.add_argument(
        "--context", help="kubeconfig context (default: hikube-gpu:platform.context, then current)"
    )


def add_parser(commands: Any, project_dir: Path | None) -> None:
    """Add ``doctor`` to the CLI's subcommands; ``--help`` lists every check."""
    text = "check the live platform behind a stack, read-only (GET and access reviews only)"
    epilog = "checks:\n" + "\n".join(f"  {name:<{NAME_WIDTH}}{help_}" for name, help_ in CHECKS.items())
    epilog += "\n\nexit codes: 0 nothing differs, 1 something differs, 2 cannot run (or the credential\n"
    epilog += "reaches another server than hikube-gpu:platform.apiServer: nothing is sent)"
    doctor = commands.add_parser(
        "doctor",
        help=text,
        description=text,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_live_stack_arguments(doctor, project_dir)


def insecure_tls(server: str) -> str:
    """The one line said for a kubeconfig with ``insecure-skip-tls-verify`` (not one per request)."""
    return (
        f"the certificate of {server} is not checked (insecure-skip-tls-verify in the kubeconfig): "
        "anyone on the way can read and change the answers"
    )


def _fail(label: str, message: str) -> int:
    print(f"error: {label}: {message}", file=sys.stderr)
    return EXIT_CANNOT_RUN


def _other_cluster(wanted: str | None, server: str, credential: str) -> str | None:
    """Why the doctor refuses to read ``server`` for a stack of ``wanted`` (None: it does not)."""
    from stacks.program.kubeconfig_loader import same_server
    from stacks.program.target import API_SERVER_PATH

    if wanted is None or same_server(server, wanted):
        return None
    return (
        f"the stack belongs to {wanted} ({API_SERVER_PATH}), but {credential} reaches {server}: "
        f"nothing was sent; pass that cluster's kubeconfig (--kubeconfig, --context) or fix {API_SERVER_PATH}"
    )


def _api_server_check(wanted: str | None, server: str, stack: str) -> Check:
    from stacks.commands.doctor.check import CANT_TELL, OK
    from stacks.program.target import API_SERVER_PATH, record_command

    if wanted is not None:
        return Check("api-server", OK, f"{server} is {API_SERVER_PATH}")
    return Check(
        "api-server",
        CANT_TELL,
        f"{API_SERVER_PATH} is not set: nothing stops a run with another cluster's credential",
        f"if {server} is this stack's cluster, record it: {record_command(server, stack)}",
    )


def format_report(checks: list[Check], name_width: int = NAME_WIDTH) -> str:
    """One line per check (``status  name  [subject: ]detail``), its fix below, then the counts."""
    lines = []
    for check in checks:
        detail = f"{check.subject}: {check.detail}" if check.subject else check.detail
        lines.append(f"{check.status:<{STATUS_WIDTH}}{check.name:<{name_width}}{detail}")
        if check.fix:
            lines.append(f"{'':<{STATUS_WIDTH}}{'':<{name_width}}fix: {check.fix}")
    lines.append(counts_line(checks))
    return "\n".join(lines) + "\n"


def counts(checks: list[Check]) -> dict[str, int]:
    return {status: sum(c.status == status for c in checks) for status in ("ok", "differs", "can't tell")}


def counts_line(checks: list[Check]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts(checks).items())


def run(args: argparse.Namespace) -> int:
    from stacks.commands.doctor.access import AccessError, choose, connect
    from stacks.commands.doctor.facts import platform_facts, tenant_facts
    from stacks.commands.doctor.platform import platform_checks
    from stacks.commands.doctor.reader import Unreachable
    from stacks.commands.doctor.stack import StackInput, read_stack
    from stacks.loading.problems import ConfigError
    from stacks.loading.stack_file import StackFileError
    from stacks.validation.config import TenantStack

    label = f"stack {args.stack!r}" if args.config_file is None else str(args.config_file)
    try:
        given: StackInput = read_stack(args.project_dir, args.stack, args.config_file)
    except StackFileError as error:
        return _fail(label, str(error))
    except ConfigError as error:
        return _fail(label, str(error))
    stack = given.stack
    try:
        credentials = choose(
            args.kubeconfig, args.context, given.kubeconfig, given.kubeconfig_key, stack.platform.context
        )
        reader = connect(credentials)
    except AccessError as error:
        return _fail(label, str(error))
    context = f", context {credentials.context}" if credentials.context else ""
    refusal = _other_cluster(stack.platform.api_server, reader.server, f"{credentials.source}{context}")
    if refusal:
        return _fail(label, refusal)
    target = _api_server_check(stack.platform.api_server, reader.server, args.stack)
    print(f"doctor: {label} ({stack.kind}) on {reader.server} with {credentials.source}{context}")
    if not reader.verifies_tls:
        print(f"warning: {insecure_tls(reader.server)}", file=sys.stderr)
    try:
        if isinstance(stack, TenantStack):
            from stacks.commands.doctor.tenant import tenant_checks

            checks = tenant_checks(stack, tenant_facts(reader, stack))
        else:
            checks = platform_checks(stack, platform_facts(reader, stack))
    except Unreachable as error:
        return _fail(label, str(error))
    sys.stdout.write(format_report([target, *checks]))
    return EXIT_DIFFERS if any(c.status == DIFFERS for c in checks) else 0
