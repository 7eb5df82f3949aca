"""What a preview with a read-only credential did not check, said where people read it (issue 21.3).

A preview runs with a credential that cannot write (Cozystack applies "dry-run" updates:
docs/deploying.md). pulumi-kubernetes v4.32.0 then shows the planned inputs instead of the API
server's answer, silently: a dry-run update refused with Forbidden is logged at verbosity 9
(``provider/pkg/provider/provider.go`` 2455–2457), a dry-run create at verbosity 1 (1800–1803),
and a client-side-apply provider (the tenant's) sends nothing for a new object (1728–1736). At
the verbosity the CLI runs by default none of this shows, so it is stated from what is known:
the credential is read-only (``hikube-gpu up --preview --read-only``, or
``HIKUBE_GPU_READ_ONLY_CREDENTIAL=1`` for ``pulumi preview``), hence the server validated none
of the changes shown.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

ENV = "HIKUBE_GPU_READ_ONLY_CREDENTIAL"
"""Set to ``1`` by ``hikube-gpu up --read-only`` (or by hand) for the program's warning."""

NOTE = (
    "Not validated by the API server: this preview ran with a read-only credential. Kubernetes "
    "refuses its dry-run writes and pulumi-kubernetes then shows the planned inputs instead of the "
    "server's answer (provider.go 2455-2457 for updates, 1800-1803 for creates; the tenant provider "
    "sends nothing for a new Cozystack app). The offline checks stand in for the server: config "
    "validation, the policy pack and the manifest diff."
)

COUNTED = ("create", "update", "replace", "create-replacement", "delete-replaced")
"""Operations whose objects a server-side dry run would have checked."""


def unvalidated(changes: dict[str, int]) -> int:
    """How many of a stack's changes the server would have validated with a write credential."""
    return sum(count for op, count in changes.items() if op in COUNTED)


def report_note(changes_by_stack: dict[str, dict[str, int]]) -> str:
    """The Markdown paragraph for a preview report (the job summary and the PR comment)."""
    count = sum(unvalidated(changes) for changes in changes_by_stack.values())
    stacks = sorted(stack for stack, changes in changes_by_stack.items() if unvalidated(changes))
    scope = f"{count} change(s) in {', '.join(stacks)}" if stacks else "no change to validate"
    return f"\n> **{scope}.** {NOTE}\n"


def is_set(environ: dict[str, str]) -> bool:
    return environ.get(ENV, "") not in ("", "0", "false")


@contextlib.contextmanager
def announced() -> Iterator[None]:
    """``ENV`` set for the block (the Pulumi processes started in it inherit it), then restored."""
    before = os.environ.get(ENV)
    os.environ[ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before
