"""hikube-gpu components: reusable Pulumi ComponentResources for NVIDIA GPUs on Hikube/KubeVirt.

Data flows one way: ``models`` (validated args) → ``checks`` (what makes args valid, run by
each component) → ``builders`` (pure manifest functions) → the components here, which only
register what builders return. Every component is ``Component(name, args, opts, *, context)``;
the Kubernetes provider comes through ``opts``. See docs/components.md.

The names below are imported on first use (PEP 562), so that code that only builds or
plans (``components.builders``, ``components.plan``) does not load the Pulumi runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from components.gpu_kubernetes_cluster import GpuKubernetesCluster
    from components.gpu_node_group import GpuNodeGroup
    from components.gpu_operator import GpuOperator
    from components.gpu_virtual_machine import GpuVirtualMachine
    from components.gpu_workload import GpuWorkload
    from components.kubevirt_gpu_passthrough import KubeVirtGpuPassthrough
    from components.kubevirt_gpu_vm import KubeVirtGpuVirtualMachine
    from components.models.cluster import GpuKubernetesClusterArgs
    from components.models.gpu_operator import GpuOperatorArgs, NodeArgs
    from components.models.kubevirt import KubeVirtArgs, KubeVirtGpuVmArgs
    from components.models.node_group import NodeGroupArgs
    from components.models.vm import GpuVirtualMachineArgs
    from components.models.workload import GpuWorkloadArgs
    from components.resolve.placement import GroupPlacement
    from components.tenant import Tenant

_WHERE = {
    "GpuKubernetesCluster": "components.gpu_kubernetes_cluster",
    "GpuKubernetesClusterArgs": "components.models.cluster",
    "GpuNodeGroup": "components.gpu_node_group",
    "GpuOperator": "components.gpu_operator",
    "GpuOperatorArgs": "components.models.gpu_operator",
    "GpuVirtualMachine": "components.gpu_virtual_machine",
    "GpuVirtualMachineArgs": "components.models.vm",
    "GpuWorkload": "components.gpu_workload",
    "GpuWorkloadArgs": "components.models.workload",
    "GroupPlacement": "components.resolve.placement",
    "KubeVirtArgs": "components.models.kubevirt",
    "KubeVirtGpuPassthrough": "components.kubevirt_gpu_passthrough",
    "KubeVirtGpuVirtualMachine": "components.kubevirt_gpu_vm",
    "KubeVirtGpuVmArgs": "components.models.kubevirt",
    "NodeArgs": "components.models.gpu_operator",
    "NodeGroupArgs": "components.models.node_group",
    "Tenant": "components.tenant",
}

__all__ = [
    "GpuKubernetesCluster",
    "GpuKubernetesClusterArgs",
    "GpuNodeGroup",
    "GpuOperator",
    "GpuOperatorArgs",
    "GpuVirtualMachine",
    "GpuVirtualMachineArgs",
    "GpuWorkload",
    "GpuWorkloadArgs",
    "GroupPlacement",
    "KubeVirtArgs",
    "KubeVirtGpuPassthrough",
    "KubeVirtGpuVirtualMachine",
    "KubeVirtGpuVmArgs",
    "NodeArgs",
    "NodeGroupArgs",
    "Tenant",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
