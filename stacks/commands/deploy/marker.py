"""The last deployed revision, so that no change is skipped: ``hikube-gpu deploy-plan`` and
``deploy-record`` (``.github/workflows/deploy.yml``, docs/fleet.md).

A deploy run used to deploy what changed since its own push's ``before`` commit. GitHub keeps one
running and one pending run per concurrency group and cancels the older pending one when a newer
push queues ("Control the concurrency of workflows and jobs", docs.github.com): the stacks that
only the cancelled push changed were never deployed. A run also could fail, or be cancelled by
hand, half-way.

So the deploy records what it did in an annotated git tag (``deployed/main`` by default), pushed by
the workflow's last job: the tag points at the revision the run deployed, and its message lists
the stacks of that run that did not succeed (``pending``). The next run deploys every stack whose
render or config changed since that revision, plus the pending ones. A run that is cancelled
before its last job, or whose push of the tag fails, moves nothing: the next run covers its
changes again. Git is the store because every run checks the repository out anyway, a tag keeps
its commit reachable whatever happens to the branch, and a push with the workflow's token starts
no new run ("Triggering a workflow from a workflow", docs.github.com).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from stacks.commands.deploy.orchestrate import SUCCEEDED

DEFAULT_TAG = "deployed/main"
HEADER = "hikube-gpu deploy marker"
"""First line of the tag message; the JSON follows after a blank line."""
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
"""The tagger, as GitHub names its Actions bot."""


class MarkerError(Exception):
    """The marker tag exists but cannot be read as one."""


@dataclass(frozen=True)
class Marker:
    revision: str
    """The commit the recorded run deployed."""
    pending: tuple[str, ...] = ()
    """Stacks of that run that did not succeed: the next run deploys them again."""


@dataclass(frozen=True)
class Plan:
    stacks: list[str]
    """What to deploy, sorted."""
    base: str | None
    """The recorded revision the changes are counted from; None: no record, every stack."""
    retried: list[str]
    """Stacks deployed again because they did not succeed last time."""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def read_marker(repo: Path, tag: str = DEFAULT_TAG) -> Marker | None:
    """The marker ``tag`` holds in ``repo``; None when there is no such tag."""
    ref = f"refs/tags/{tag}"
    if _git(repo, "rev-parse", "--verify", "--quiet", ref).returncode != 0:
        return None
    kind = _git(repo, "cat-file", "-t", ref).stdout.strip()
    if kind != "tag":
        raise MarkerError(f"{ref} is a lightweight tag, not a deploy marker (an annotated tag)")
    revision = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").stdout.strip()
    message = _git(repo, "for-each-ref", "--format=%(contents)", ref).stdout
    head, _, body = message.partition("\n\n")
    try:
        data = json.loads(body) if head.strip() == HEADER else None
    except ValueError:
        data = None
    pending = data.get("pending") if isinstance(data, dict) else None
    if not revision or not isinstance(pending, list) or not all(isinstance(s, str) for s in pending):
        raise MarkerError(f"{ref} is not a deploy marker (its message must start with {HEADER!r})")
    return Marker(revision, tuple(pending))


def plan(marker: Marker | None, stacks: list[str], changed_since: Callable[[str], list[str]]) -> Plan:
    """What a run deploys: every stack when nothing is recorded; else the stacks changed since
    the recorded revision and the recorded run's pending stacks (those that still exist)."""
    if marker is None:
        return Plan(sorted(stacks), None, [])
    existing = set(stacks)
    retried = sorted(s for s in marker.pending if s in existing)
    return Plan(sorted(set(changed_since(marker.revision)) | set(retried)), marker.revision, retried)


def record(revision: str, planned: list[str], results: Mapping[str, str]) -> Marker:
    """The marker after a run on ``revision``: every planned stack without a success is pending
    (failed, or never reported because its batch was cancelled or crashed)."""
    return Marker(revision, tuple(sorted(s for s in set(planned) if results.get(s) != SUCCEEDED)))


def message(marker: Marker) -> str:
    return f"{HEADER}\n\n{json.dumps({'pending': list(marker.pending)}, indent=1)}\n"


def write_marker(repo: Path, marker: Marker, tag: str = DEFAULT_TAG) -> None:
    """Create or move the annotated ``tag`` to ``marker.revision`` (pushing is the caller's)."""
    name, email = BOT
    result = subprocess.run(
        [
            *("git", "-C", str(repo), "-c", f"user.name={name}", "-c", f"user.email={email}"),
            *("tag", "--annotate", "--force", "--file=-", tag, marker.revision),
        ],
        input=message(marker),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MarkerError(f"cannot write tag {tag}: {result.stderr.strip()}")


def read_results(folder: Path) -> dict[str, str]:
    """Stack → result from every ``*.json`` that ``up --results`` wrote under ``folder``."""
    results: dict[str, str] = {}
    for path in sorted(folder.rglob("*.json")) if folder.is_dir() else []:
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise MarkerError(f"{path}: not JSON ({error})") from None
        if not isinstance(found, dict):
            raise MarkerError(f"{path}: not a {{stack: result}} map")
        results.update({str(k): str(v) for k, v in found.items()})
    return results
