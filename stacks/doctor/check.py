"""One line of the doctor's report, and the checks it knows (for ``doctor --help``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


CHECKS: dict[str, str] = {
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
