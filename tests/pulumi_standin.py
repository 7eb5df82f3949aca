"""A stand-in ``pulumi`` executable for the Automation API tests (tests/test_deploy.py).

The Automation API runs ``pulumi`` from PATH and reads three things from it: stdout, stderr and
the engine events, which CLIs newer than 3.205 stream over gRPC to the ``--event-log tcp://``
address the SDK serves (pulumi/pulumi ``pkg/backend/display/display.go`` 200-210; the SDK's
``pulumi/automation/_stack.py`` ``_setup_event_log``). This script answers the commands the SDK
sends for ``up`` and ``preview`` the way the real CLI does, with the real CLI's messages
(pulumi/pulumi v3.259.0, the newest tag read; paths below):

- a command error is ``error: <message>`` on stderr (``sdk/go/common/diag/sink.go`` 191-209,
  written for ``cmdutil.DisplayErrorMessage``, ``sdk/go/common/util/cmdutil/exit.go`` 90-107);
- ``--expect-no-changes`` with changes: ``error: no changes were expected for preview but
  changes were proposed`` (``pkg/backend/backenderr/backenderr.go`` 237-242, raised at
  ``pkg/cmd/pulumi/operations/preview.go`` 635-636), exit 7 (``pkg/cmd/pulumi/cmd/exit_codes.go``
  36 and 106-109);
- a failed resource: a diagnostic of severity ``error`` with the resource's URN and the
  provider's error as message (``pkg/engine/update.go`` 1339-1340, ``sdk/go/common/diag/
  errors.go`` 28-30), shown on stdout under ``Diagnostics:`` and ``  <type> (<name>):``
  (``pkg/backend/display/progress.go`` 823-834, 469); the CLI then exits 1 and prints nothing
  more (a bail: ``exit_codes.go`` 82-85);
- an unknown stack: ``error: no stack named '<name>' found`` (``backenderr.go`` 43-48), exit 6;
- no backend login: ``error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI
  sessions`` (``backenderr.go`` 117-118), before any operation;
- a locked stack (a DIY backend): ``error: the stack is currently locked by 1 lock(s). Either wait
  for the other process(es) to end or delete the lock file with `pulumi cancel`.``
  (``pkg/backend/diy/lock.go`` 87-88), when the update starts.

What each stack does comes from the JSON file in ``$PULUMI_STANDIN``:
``{"stacks": {"<stack>": "ok" | "same" | "resource-error" | "drift" | "absent" | "locked" |
"no-login"}, "calls": path}``;
every command line is appended to ``calls``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

VERSION = "3.272.0"
PROJECT = "hikube-gpu"
VMI = "kubernetes:apps.cozystack.io/v1alpha1:VMInstance"
PROVIDER_ERROR = (
    'admission webhook "vminstance.apps.cozystack.io" denied the request: instanceType "u9.huge" not found'
)
"""The provider's text (any; not the CLI's): what a failing resource reports."""


def _urn(stack: str, kind: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::hikube-gpu:vm:GpuVirtualMachine${kind}::{name}"


def _events(stack: str, scenario: str, preview: bool) -> list[dict[str, Any]]:
    """The engine events of one run (``sdk/go/common/apitype/events.go`` field names)."""
    vmi = _urn(stack, VMI, "ws-1-instance")
    step = {"op": "update", "urn": vmi, "type": VMI, "provider": "", "diffs": ["spec"], "detailedDiff": None}
    events: list[dict[str, Any]] = [{"preludeEvent": {"config": {}}}]
    changes = {"same": 7}
    if scenario in ("drift", "resource-error", "ok"):
        events.append({"resourcePreEvent": {"metadata": step, "planning": preview}})
        changes = {"same": 6, "update": 1}
    if scenario == "resource-error":
        events.append(
            {
                "diagnosticEvent": {
                    "urn": vmi,
                    "prefix": "error: ",
                    "message": PROVIDER_ERROR + "\n",
                    "color": "never",
                    "severity": "error",
                }
            }
        )
    summary = {"maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": changes, "PolicyPacks": {}}
    events.append({"summaryEvent": summary})
    return [{"sequence": i, "timestamp": int(time.time()), **e} for i, e in enumerate(events)]


def _stream(address: str, events: list[dict[str, Any]]) -> None:
    """Send the events to the SDK's Events service, as the CLI's display does."""
    import grpc
    from pulumi.runtime.proto import events_pb2, events_pb2_grpc

    def requests() -> Iterator[Any]:
        for event in events:
            yield events_pb2.EventRequest(event=json.dumps(event))

    with grpc.insecure_channel(address.removeprefix("tcp://")) as channel:
        events_pb2_grpc.EventsStub(channel).StreamEvents(requests())


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def _operation(args: list[str], scenario: str, stack: str) -> int:
    preview = args[0] == "preview"
    if scenario == "locked":
        print(
            "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es)"
            " to end or delete the lock file with `pulumi cancel`.",
            file=sys.stderr,
        )
        return 1
    _stream(_option(args, "--event-log"), _events(stack, scenario, preview))
    verb = "Previewing update" if preview else "Updating"
    print(f"{verb} ({stack}):")
    if scenario in ("ok", "drift", "resource-error"):
        print(f" ~  {VMI} ws-1-instance {'update' if preview else 'updating'} [diff: ~spec]")
    if scenario == "resource-error":
        print(f" ~  {VMI} ws-1-instance **updating failed** [diff: ~spec]; error: {PROVIDER_ERROR}")
        print("Diagnostics:")
        print(f"  {VMI} (ws-1-instance):")
        print(f"    error: {PROVIDER_ERROR}")
        print("")
    print("Resources:")
    print("    ~ 1 to update" if scenario != "same" else "    7 unchanged")
    if scenario == "resource-error":
        return 1
    if scenario == "drift" and "--expect-no-changes" in args:
        print("error: no changes were expected for preview but changes were proposed", file=sys.stderr)
        return 7
    return 0


def main(argv: list[str]) -> int:  # noqa: PLR0911 (one return per command, as the CLI answers)
    with open(os.environ["PULUMI_STANDIN"], encoding="utf-8") as file:
        config = json.load(file)
    with open(config["calls"], "a", encoding="utf-8") as calls:
        calls.write(json.dumps(argv) + "\n")
    args = [a for a in argv if a != "--non-interactive"]
    if args == ["version"]:
        print(f"v{VERSION}")
        return 0
    stack = _option(args, "--stack") if "--stack" in args else args[-1]
    scenario = config["stacks"].get(stack, "ok")
    if scenario == "absent" and args[:2] == ["stack", "select"]:
        print(f"error: no stack named '{stack}' found", file=sys.stderr)
        return 6
    if scenario == "no-login" and args[0] == "stack":
        print(
            "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions",
            file=sys.stderr,
        )
        return 3
    if args[:2] in (["stack", "select"], ["stack", "init"]):
        return 0
    if args[:2] == ["stack", "output"]:
        print("{}")
        return 0
    if args[:2] == ["stack", "history"]:
        entry = {
            "kind": "update",
            "startTime": "2026-12-01T10:00:00.000Z",
            "endTime": "2026-12-01T10:00:03.000Z",
            "message": "",
            "environment": {},
            "config": {},
            "result": "succeeded",
            "resourceChanges": {"same": 6, "update": 1},
        }
        print(json.dumps([entry]))
        return 0
    if args[0] in ("up", "preview"):
        return _operation(args, scenario, stack)
    print(f"error: the stand-in does not know `pulumi {' '.join(args)}`", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
