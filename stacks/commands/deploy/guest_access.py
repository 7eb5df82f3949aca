"""The admin kubeconfigs of a stack's GPU Kubernetes clusters: fetched for ``up``, never stored.

Each cluster's provider takes the context ``<prefix>/<cluster>`` of the kubeconfig the run
uses (``components.tenant.Tenant.guest_contexts``), so no credential is a provider input or in
the state, and a preview can hold a read-only one. For ``up``, ``fetch`` reads each cluster's
admin kubeconfig Secret (``kubernetes-<cluster>-admin-kubeconfig``, key ``super-admin.conf``)
with the stack's own credential, the one ``up`` writes with, and returns it renamed to that
context; ``hikube-gpu up`` puts it in a file (mode 600) at the end of ``KUBECONFIG`` for
the run and deletes it after, and ``hikube-gpu guest-kubeconfig`` writes it for
``pulumi up``. A cluster whose Secret does not exist yet (a new cluster) gets its context on a
second pass, once the first has created it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from components.resolve.names import KUBECONFIG_KEY, guest_context, kubeconfig_secret_name
from stacks.program.credentials import guest_context_prefix
from stacks.program.kubeconfig_loader import Environment, KubeconfigError, home_file, parse
from stacks.validation.config import TenantStack


@dataclass
class GuestKubeconfigs:
    """What ``fetch`` found, by stack: contexts with their cluster and user entries."""

    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """context name → ``{"cluster": …, "user": …}`` (the admin kubeconfig's entries)."""
    missing: dict[str, list[str]] = field(default_factory=dict)
    """stack → its clusters without an admin kubeconfig Secret yet (not created)."""
    problems: list[str] = field(default_factory=list)
    """Why a stack's or cluster's kubeconfig could not be read (never its text)."""

    def text(self) -> str:
        """A kubeconfig with one context per cluster found, and no current context (so that,
        appended to ``KUBECONFIG``, it changes nothing the files before it set)."""
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": name, "cluster": entry["cluster"]} for name, entry in self.contexts.items()
            ],
            "users": [{"name": name, "user": entry["user"]} for name, entry in self.contexts.items()],
            "contexts": [
                {"name": name, "context": {"cluster": name, "user": name}} for name in self.contexts
            ],
        }
        return yaml.safe_dump(document, sort_keys=False)


def fetch(project_dir: Path, stacks: list[str]) -> GuestKubeconfigs:
    """The admin kubeconfig of every GPU Kubernetes cluster of ``stacks``, as its context."""
    from stacks.commands.doctor.access import AccessError, choose, connect
    from stacks.commands.doctor.reader import Unreachable
    from stacks.commands.doctor.stack import read_stack
    from stacks.loading.problems import ConfigError
    from stacks.loading.stack_file import StackFileError

    found = GuestKubeconfigs()
    for stack in stacks:
        try:
            given = read_stack(project_dir, stack, None)
        except (StackFileError, ConfigError):
            continue  # the program reports it
        if not isinstance(given.stack, TenantStack) or not given.stack.clusters:
            continue
        valid = given.stack
        try:
            reader = connect(
                choose(None, None, given.kubeconfig, given.kubeconfig_key, valid.platform.context)
            )
        except AccessError as error:
            found.problems.append(f"stack {stack}: {error}")
            continue
        namespace, prefix = valid.platform.namespace, guest_context_prefix(valid)
        for cluster in sorted(valid.clusters):
            secret = kubeconfig_secret_name(cluster)
            try:
                answer = reader.get(f"/api/v1/namespaces/{namespace}/secrets/{secret}")
            except Unreachable as error:
                found.problems.append(f"stack {stack}: {error}")
                break
            if answer.missing:
                found.missing.setdefault(stack, []).append(cluster)
            elif not answer.ok:
                found.problems.append(f"stack {stack}: cluster {cluster}: {answer.why()}")
            else:
                try:
                    found.contexts[guest_context(prefix, cluster)] = _entries(
                        answer.body, f"{namespace}/{secret}"
                    )
                except KubeconfigError as error:
                    found.problems.append(f"stack {stack}: cluster {cluster}: {error}")
    return found


def _entries(secret: dict[str, Any], name: str) -> dict[str, Any]:
    """The cluster and user of the current context of the Secret's admin kubeconfig."""
    encoded = (secret.get("data") or {}).get(KUBECONFIG_KEY)
    if not encoded:
        raise KubeconfigError(f"Secret {name} has no {KUBECONFIG_KEY!r} key")
    try:
        text = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise KubeconfigError(f"Secret {name}: {KUBECONFIG_KEY} is not base64 text") from None
    config = parse(text, f"Secret {name}")
    context = config.contexts.get(config.current_context, {})
    cluster = config.clusters.get(str(context.get("cluster") or ""))
    user = config.users.get(str(context.get("user") or ""))
    if not cluster or user is None:
        raise KubeconfigError(f"Secret {name}: its current context names no cluster and user")
    return {"cluster": cluster, "user": user}


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by its owner only (a kubeconfig is a credential)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)


@contextlib.contextmanager
def appended_to_kubeconfig(text: str) -> Iterator[Path]:
    """``text`` in a private temporary file, appended to ``KUBECONFIG`` (``~/.kube/config`` when
    unset) for the block, then deleted and ``KUBECONFIG`` restored. Appended: client-go lets
    the first file win each name and the current context (``stacks.program.kubeconfig_loader``)."""
    before = os.environ.get("KUBECONFIG")
    with tempfile.TemporaryDirectory(prefix="hikube-gpu-guests-") as folder:
        path = Path(folder) / "guests.kubeconfig"
        write_private(path, text)
        base = before or home_file(Environment.current())
        os.environ["KUBECONFIG"] = f"{base}{os.pathsep}{path}"
        try:
            yield path
        finally:
            if before is None:
                os.environ.pop("KUBECONFIG", None)
            else:
                os.environ["KUBECONFIG"] = before


Results = list[Any]
"""``stacks.commands.deploy.orchestrate.StackResult``s (kept loose: this module runs them, not reads them)."""


def up_with_guest_contexts(
    project_dir: Path,
    stacks: list[str],
    run: Callable[[list[str]], Results],
    progress: TextIO,
    fetcher: Callable[[Path, list[str]], GuestKubeconfigs] = fetch,
) -> Results:
    """``run`` (an ``up`` of ``stacks``) with each cluster's admin context in ``KUBECONFIG``;
    the stacks that failed while a cluster of theirs had no Secret yet run once more, with the
    contexts of the clusters the first pass created."""
    guests = fetcher(project_dir, stacks)
    for problem in guests.problems:
        progress.write(f"warning: {problem}\n")
    with appended_to_kubeconfig(guests.text()):
        results = run(stacks)
    again = [r.stack for r in results if r.failed and guests.missing.get(r.stack)]
    if not again:
        return results
    progress.write(f"second pass for new clusters: {', '.join(again)}\n")
    created = fetcher(project_dir, again)
    for problem in created.problems:
        progress.write(f"warning: {problem}\n")
    with appended_to_kubeconfig(created.text()):
        rerun = {r.stack: r for r in run(again)}
    return [rerun.get(r.stack, r) for r in results]
