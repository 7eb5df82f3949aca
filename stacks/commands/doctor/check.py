"""One line of the doctor's (and verify's) report, and the checks the doctor knows (for ``--help``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from stacks.commands.doctor.shape import Malformed

if TYPE_CHECKING:
    from stacks.commands.doctor.reader import Fetched

Status = Literal["ok", "differs", "can't tell"]
OK: Status = "ok"
DIFFERS: Status = "differs"
CANT_TELL: Status = "can't tell"


@dataclass(frozen=True)
class Check:
    """What one check found: ``detail`` says what, ``fix`` how to make it ok (empty when ok)."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    subject: str = ""
    """What the check looked at, when a check runs once per thing (``ml/gpu``, ``vm ws-1``)."""


MALFORMED_FIX = (
    "the API server (or a proxy in front of it) sent an answer of the wrong shape; "
    "run again, and check the server if it stays"
)


def fix_for(fetched: Fetched, denied: str) -> str:
    """The fix for an answer that could not be used: ``denied`` only for a 403 (a 404 or a
    failing server is not a permission problem)."""
    if fetched.denied:
        return denied
    if fetched.missing:
        return (
            f"a 404 is not a permission problem: this server does not serve {fetched.path} "
            "(the wrong server, context or API prefix?); check that --kubeconfig and --context "
            "point at the cluster the stack deploys to"
        )
    if fetched.code == 0:
        return "run again (a slow or overloaded API server, or a proxy that cuts answers off?)"
    if fetched.code >= 500:
        return f"the API server failed ({fetched.code}); run again later, or ask the platform team"
    if fetched.problem:
        return MALFORMED_FIX
    return f"the server refused the request ({fetched.code}); check the kubeconfig and the server"


def guarded(name: str, check: Callable[[], Check], subject: str = "") -> Check:
    """``check()``, or "can't tell" when an answer it reads is malformed (never a verdict on it)."""
    try:
        return check()
    except Malformed as error:
        return Check(name, CANT_TELL, f"malformed answer: {error}", MALFORMED_FIX, subject)


CHECKS: dict[str, str] = {
    "api-server": "the credential reaches hikube-gpu:platform.apiServer (else exit 2, nothing sent)",
    "cozystack-version": "the Cozystack release behind the API fits hikube-gpu:platform.profile (both kinds)",
    "namespace": "the tenant namespace exists and the credential can read its apps (tenant)",
    "gpu-quota": "the namespace's ResourceQuota allows the GPU resource names the stack asks for (tenant)",
    "instance-types": "the cluster instance types the stack's VMs and node groups use exist (tenant)",
    "write-access": "the credential cannot write apps.cozystack.io objects, so previews are safe (tenant)",
    "nodes": "the Nodes named in hikube-gpu:nodes exist (platform)",
    "kubevirt-version": "KubeVirt's observed version matches hikube-gpu:kubevirt.version (platform)",
    "kubevirt-feature-gates": "KubeVirt's feature gates are those the stack's patch sets (platform)",
    "kubevirt-permitted-devices": "KubeVirt permits the GPUs the stack's patch permits (platform)",
    "gpu-resource-names": "the Nodes publish the GPU resource names KubeVirt is told to use (platform)",
    "gpu-operator-release": "the installed GPU Operator chart version is gpuOperator.version (platform)",
    "vm-namespaces": "the namespaces of the raw KubeVirt VMs exist (platform)",
}
