"""The Pulumi Kubernetes Operator (v2.9.0) objects that run every stack of the project from a
management cluster: a Flux ``GitRepository`` for the repository, a ServiceAccount bound to
``system:auth-delegator`` (the operator's workspaces authenticate with it), and one
``pulumi.com/v1`` ``Stack`` per stack, whose workspace gets the stack's own cluster credential.
Pure functions of their arguments.

Each rule below is the operator's, read at pulumi/pulumi-kubernetes-operator v2.9.0 (vendored in
tests/upstream/pulumi-kubernetes-operator/v2.9.0; tests/test_operator.py checks each against it):

- the workspace pod runs the image ``workspaceTemplate.spec.image`` as uid/gid 1000 under the
  restricted profile (``operator/internal/controller/auto/workspace_controller.go`` 838-842, the
  default profile: ``operator/internal/webhook/auto/v1alpha1/workspace_webhook.go`` 63-64); the
  ``-nonroot`` variant, built for that user, exists for ``pulumi/pulumi`` only
  (pulumi/pulumi-docker-containers#308; its ``release.yml``);
- the workspace agent authenticates the operator with TokenReviews and SubjectAccessReviews, so
  its ServiceAccount needs ``system:auth-delegator`` (``agent/pkg/server/auth.go`` 41-60, 80-86);
- ``envRefs`` become the workspace's environment: a ``Secret`` ref a ``secretKeyRef`` in the
  Stack's namespace, a ``Literal`` its value (``operator/internal/controller/pulumi/
  stack_controller.go`` 1418-1470);
- ``workspaceTemplate`` is a strategic merge patch over the generated Workspace
  (``stack_controller.go`` 1718-1732), whose pod template is merged the same way over the
  StatefulSet's (``workspace_controller.go`` 869-876, 1045-1085): containers, volumes, mounts
  and env merge by name or mount path;
- a Flux-sourced Stack runs again on a new commit only, unless ``continueResyncOnCommitMatch``:
  then every ``resyncFrequencySeconds`` (at least 60) after a success (``stack_controller.go``
  1249-1275, 841-843, 1384-1390).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from components.resolve.names import guest_context

Manifest = dict[str, Any]
SOURCE_API = "source.toolkit.fluxcd.io/v1"
ENV_KEYS = ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
"""Keys of the credentials Secret handed to every stack's workspace (state backend, passphrase)."""
WORKSPACE_USER = 1000
"""uid and gid of the workspace pod under the restricted profile (``workspace_controller.go``
841-842), the ``pulumi`` user of the ``-nonroot`` image (``docker/pulumi/Dockerfile`` 200-204)."""
KUBECONFIG_KEY = "kubeconfig"
"""The key of each stack's kubeconfig Secret."""
KUBECONFIG_DIR = "/var/run/secrets/hikube-gpu/kubeconfig"
KUBECONFIG_PATH = f"{KUBECONFIG_DIR}/config"
"""Where the workspace reads the stack's kubeconfig: ``KUBECONFIG`` points here."""
KUBECONFIG_VOLUME = "hikube-gpu-kubeconfig"
KUBECONFIG_MODE = 0o444
"""Readable by the workspace user whatever owns the file (the kubelet writes Secret files as
root); the pod runs nothing else."""
MIN_RESYNC_SECONDS = 60
"""The operator never resyncs more often (``stack_controller.go`` 1384-1390)."""
_INVALID = re.compile(r"[^a-z0-9-]+")


def workspace_image(pulumi_version: str) -> str:
    """The workspace image for the pinned CLI: the ``-nonroot`` variant of ``pulumi/pulumi`` (it
    holds Python too), the only ``-nonroot`` image published."""
    return f"pulumi/pulumi:{pulumi_version}-nonroot"


@dataclass(frozen=True)
class OperatorSettings:
    repo_url: str
    image: str
    """``workspace_image(<.pulumi-version>)``."""
    branch: str = "main"
    namespace: str = "pulumi-stacks"
    name: str = "hikube-gpu"
    """Prefix of every object name; the GitRepository and ServiceAccount are called this."""
    secret: str = "hikube-gpu-pulumi"
    """The Secret holding ``ENV_KEYS`` in ``namespace`` (created by hand, never rendered)."""
    directory: str = ""
    """The project folder inside the repository (where Pulumi.yaml is)."""
    git_secret: str | None = None
    """A Secret in ``namespace`` with the repository's credentials (Flux ``spec.secretRef``)."""
    interval: str = "5m"
    resync_seconds: int = 3600
    """Run ``up`` again this long after a success, new commit or not (it corrects drift); 0: only
    on a new commit."""


def settings_problems(settings: OperatorSettings) -> list[str]:
    """What makes the settings unusable, one line each (the command prints them and exits 2).
    The URL's scheme is the GitRepository CRD's (``.spec.url`` pattern ``^(http|https|ssh)://``,
    fluxcd/source-controller v1.7.4); credentials belong in ``.spec.secretRef``. Messages never
    repeat the URL (it may hold a token)."""
    problems = []
    url = urlsplit(settings.repo_url)
    if url.scheme not in ("http", "https", "ssh"):
        problems.append(
            "--repo-url must be an http(s):// or ssh:// URL (Flux GitRepository .spec.url), "
            f"not {url.scheme + '://' if url.scheme else 'a scp-like or bare path'}"
        )
    elif url.password is not None or (url.username is not None and url.scheme != "ssh"):
        problems.append(
            "--repo-url holds credentials: the GitRepository would store them in plain text; "
            "put them in a Secret and name it with --git-secret (Flux GitRepository .spec.secretRef)"
        )
    if settings.resync_seconds and settings.resync_seconds < MIN_RESYNC_SECONDS:
        problems.append(
            f"--resync-seconds must be 0 (only on a new commit) or at least {MIN_RESYNC_SECONDS}: "
            "the operator never resyncs more often"
        )
    return problems


def object_name(prefix: str, stack: str) -> str:
    """A DNS-1123 name for a stack's object: ``<prefix>-<stack>`` lower-cased, other characters as
    ``-``, with a short hash when that changed the name or it is too long (two stacks never share one)."""
    plain = f"{prefix}-{stack}"
    clean = _INVALID.sub("-", plain.lower()).strip("-")
    if clean == plain and len(clean) <= 63:
        return clean
    digest = hashlib.sha256(stack.encode()).hexdigest()[:8]
    return f"{clean[:54].rstrip('-')}-{digest}"


def kubeconfig_secret(settings: OperatorSettings, stack: str) -> str:
    """The Secret holding ``stack``'s kubeconfig (key ``kubeconfig``), made by hand."""
    return f"{object_name(settings.name, stack)}-kubeconfig"


def git_repository(settings: OperatorSettings) -> Manifest:
    spec: dict[str, Any] = {
        "interval": settings.interval,
        "url": settings.repo_url,
        "ref": {"branch": settings.branch},
    }
    if settings.git_secret:
        spec["secretRef"] = {"name": settings.git_secret}
    return {
        "apiVersion": SOURCE_API,
        "kind": "GitRepository",
        "metadata": {"name": settings.name, "namespace": settings.namespace},
        "spec": spec,
    }


def service_account(settings: OperatorSettings) -> list[Manifest]:
    """The workspaces' identity and its ``system:auth-delegator`` binding, named as the agent's
    own error message asks (``auth.go`` 41-60)."""
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


def workspace_template(settings: OperatorSettings, stack: str) -> Manifest:
    """The image, the restricted profile, and the stack's kubeconfig Secret mounted read-only
    into the ``pulumi`` container."""
    return {
        "spec": {
            "image": settings.image,
            "securityProfile": "restricted",
            "podTemplate": {
                "spec": {
                    "containers": [
                        {
                            "name": "pulumi",
                            "volumeMounts": [
                                {"name": KUBECONFIG_VOLUME, "mountPath": KUBECONFIG_DIR, "readOnly": True}
                            ],
                        }
                    ],
                    "volumes": [
                        {
                            "name": KUBECONFIG_VOLUME,
                            "secret": {
                                "secretName": kubeconfig_secret(settings, stack),
                                "items": [
                                    {"key": KUBECONFIG_KEY, "path": KUBECONFIG_PATH.rpartition("/")[2]}
                                ],
                                "defaultMode": KUBECONFIG_MODE,
                            },
                        }
                    ],
                }
            },
        }
    }


def stack(settings: OperatorSettings, name: str) -> Manifest:
    """The operator's ``Stack`` for one stack: the program from the GitRepository, refreshed and
    updated on every new commit and, with a resync period, again after each success; never
    destroyed with the object."""
    source: dict[str, Any] = {
        "sourceRef": {"apiVersion": SOURCE_API, "kind": "GitRepository", "name": settings.name}
    }
    if settings.directory:
        source["dir"] = settings.directory
    env: dict[str, Any] = {
        key: {"type": "Secret", "secret": {"name": settings.secret, "key": key}} for key in ENV_KEYS
    }
    env["KUBECONFIG"] = {"type": "Literal", "literal": {"value": KUBECONFIG_PATH}}
    spec: dict[str, Any] = {
        "stack": name,
        "serviceAccountName": settings.name,
        "fluxSource": source,
        "envRefs": env,
        "refresh": True,
        "destroyOnFinalize": False,
    }
    if settings.resync_seconds:
        spec["continueResyncOnCommitMatch"] = True
        spec["resyncFrequencySeconds"] = settings.resync_seconds
    spec["workspaceTemplate"] = workspace_template(settings, name)
    return {
        "apiVersion": "pulumi.com/v1",
        "kind": "Stack",
        "metadata": {
            "name": object_name(settings.name, name),
            "namespace": settings.namespace,
            "labels": {"app.kubernetes.io/part-of": settings.name},
        },
        "spec": spec,
    }


def manifests(settings: OperatorSettings, stacks: list[str]) -> dict[str, list[Manifest]]:
    """File name → the objects it holds: the source and identity once, then one file per stack."""
    files = {"source.yaml": [git_repository(settings)], "service-account.yaml": service_account(settings)}
    for name in stacks:
        files[f"stack-{object_name(settings.name, name)}.yaml"] = [stack(settings, name)]
    return files


@dataclass(frozen=True)
class StackContexts:
    """The contexts a stack's kubeconfig Secret must hold (``credentials.txt``)."""

    context: str | None
    """``hikube-gpu:platform.context``; None: the kubeconfig's current context."""
    guests: tuple[str, ...]
    """One per GPU Kubernetes cluster (``<context or namespace>/<cluster>``): the operator runs
    ``pulumi up``, so nothing adds the clusters' admin contexts for it (docs/fleet.md)."""

    @classmethod
    def of(cls, context: str | None, namespace: str | None, clusters: list[str]) -> StackContexts:
        prefix = context or namespace
        guests = tuple(guest_context(prefix, c) for c in clusters) if prefix else ()
        return cls(context, guests)


def credentials_text(settings: OperatorSettings, contexts: dict[str, StackContexts]) -> str:
    """``credentials.txt``: the kubeconfig Secret each Stack needs, the context it must hold
    when the stack sets ``hikube-gpu:platform.context``, and its GPU clusters' contexts
    (docs/fleet.md)."""
    lines = [
        f"# One Secret per Stack in namespace {settings.namespace}, key {KUBECONFIG_KEY!r}: a kubeconfig",
        "# for the cluster the stack deploys to, with the least privilege `up` needs (docs/fleet.md,",
        "# deploy/rbac/). 'context': the context the kubeconfig must hold (hikube-gpu:platform.context);",
        "# '-': its current context is used. 'guest contexts': each GPU cluster's admin context, added once"
        " the cluster exists (hikube-gpu guest-kubeconfig --stack S).",
        "# stack\tsecret\tcontext\tguest contexts",
    ]
    lines += [
        f"{s}\t{kubeconfig_secret(settings, s)}\t{c.context or '-'}\t{','.join(c.guests) or '-'}"
        for s, c in contexts.items()
    ]
    return "\n".join(lines) + "\n"
