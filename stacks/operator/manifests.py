"""The Pulumi Kubernetes Operator (v2) objects that run every stack of the project from a
management cluster: a Flux ``GitRepository`` for the repository, a ServiceAccount bound to
``system:auth-delegator`` (the operator's workspaces authenticate with it), and one
``pulumi.com/v1`` ``Stack`` per stack. Pure functions of their arguments."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]
SOURCE_API = "source.toolkit.fluxcd.io/v1"
ENV_KEYS = ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
"""Keys of the credentials Secret handed to every stack's workspace (state backend, passphrase)."""
_INVALID = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class OperatorSettings:
    repo_url: str
    branch: str = "main"
    namespace: str = "pulumi-stacks"
    name: str = "hikube-gpu"
    """Prefix of every object name; the GitRepository and ServiceAccount are called this."""
    secret: str = "hikube-gpu-pulumi"
    """The Secret holding ``ENV_KEYS`` in ``namespace`` (created by hand, never rendered)."""
    directory: str = ""
    """The project folder inside the repository (where Pulumi.yaml is)."""
    image: str = "pulumi/pulumi-python:latest-nonroot"
    interval: str = "5m"
    resync_seconds: int = 600


def object_name(prefix: str, stack: str) -> str:
    """A DNS-1123 name for a stack's object: ``<prefix>-<stack>`` lower-cased, other characters as
    ``-``, with a short hash when that changed the name or it is too long (two stacks never share one)."""
    plain = f"{prefix}-{stack}"
    clean = _INVALID.sub("-", plain.lower()).strip("-")
    if clean == plain and len(clean) <= 63:
        return clean
    digest = hashlib.sha256(stack.encode()).hexdigest()[:8]
    return f"{clean[:54].rstrip('-')}-{digest}"


def git_repository(settings: OperatorSettings) -> Manifest:
    return {
        "apiVersion": SOURCE_API,
        "kind": "GitRepository",
        "metadata": {"name": settings.name, "namespace": settings.namespace},
        "spec": {"interval": settings.interval, "url": settings.repo_url, "ref": {"branch": settings.branch}},
    }


def service_account(settings: OperatorSettings) -> list[Manifest]:
    """The workspaces' identity and its ``system:auth-delegator`` binding (the operator's examples)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": settings.name, "namespace": settings.namespace},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{settings.namespace}:{settings.name}:system:auth-delegator"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:auth-delegator",
            },
            "subjects": [{"kind": "ServiceAccount", "name": settings.name, "namespace": settings.namespace}],
        },
    ]


def stack(settings: OperatorSettings, name: str) -> Manifest:
    """The operator's ``Stack`` for one stack: the program from the GitRepository, refreshed and
    updated on every new commit and every ``resync_seconds``; never destroyed with the object."""
    source: dict[str, Any] = {
        "sourceRef": {"apiVersion": SOURCE_API, "kind": "GitRepository", "name": settings.name}
    }
    if settings.directory:
        source["dir"] = settings.directory
    env = {key: {"type": "Secret", "secret": {"name": settings.secret, "key": key}} for key in ENV_KEYS}
    return {
        "apiVersion": "pulumi.com/v1",
        "kind": "Stack",
        "metadata": {
            "name": object_name(settings.name, name),
            "namespace": settings.namespace,
            "labels": {"app.kubernetes.io/part-of": settings.name},
        },
        "spec": {
            "stack": name,
            "serviceAccountName": settings.name,
            "fluxSource": source,
            "envRefs": env,
            "refresh": True,
            "destroyOnFinalize": False,
            "resyncFrequencySeconds": settings.resync_seconds,
            "workspaceTemplate": {"spec": {"image": settings.image}},
        },
    }


def manifests(settings: OperatorSettings, stacks: list[str]) -> dict[str, list[Manifest]]:
    """File name → the objects it holds: the source and identity once, then one file per stack."""
    files = {"source.yaml": [git_repository(settings)], "service-account.yaml": service_account(settings)}
    for name in stacks:
        files[f"stack-{object_name(settings.name, name)}.yaml"] = [stack(settings, name)]
    return files
