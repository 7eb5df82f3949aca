"""How ``pulumi up`` waits for a Cozystack app: its ``Ready`` condition, with a timeout per kind.

Cozystack copies the HelmRelease's ``Ready`` and ``Released`` conditions into the app's status
(cozystack v1.1.2 ``pkg/registry/apps/application/rest.go:1096-1107``) and retries a failing
release every 5 minutes for ever (``:1148-1157``), so without a wait ``pulumi up`` reports
success for a VM whose release keeps failing (P6). The status carries no observed generation:
on an *update* the previous revision's ``Ready=True`` can satisfy the wait at once (P10), so
only creations are really awaited (docs/platform-behaviour.md, "What `pulumi up` waits for").
"""

from __future__ import annotations

READY_TIMEOUT_SECONDS: dict[str, int] = {
    "VMDisk": 1800,
    "VMInstance": 900,
    "Kubernetes": 2400,
}
"""A disk may import a large image (30 min); a VM release installs in minutes (15); a new
cluster (control plane, workers, add-ons) can take 20+ minutes (40)."""


def wait_for_ready(kind: str) -> dict[str, str]:
    """The pulumi-kubernetes annotations that make ``up`` wait for the app's ``Ready`` condition."""
    return {
        "pulumi.com/waitFor": "condition=Ready",
        "pulumi.com/timeoutSeconds": str(READY_TIMEOUT_SECONDS[kind]),
    }
