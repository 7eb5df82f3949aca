"""hikube-gpu components: reusable Pulumi ComponentResources for NVIDIA GPUs on Hikube/KubeVirt.

Data flows one way: ``models`` (validated args) → ``checks`` (what makes args valid, run by
each component) → ``builders`` (pure manifest functions) → the components here, which only
register what builders return. Every component is ``Component(name, args, opts, *, context)``;
the Kubernetes provider comes through ``opts``. See docs/components.md.
"""

from components.builders.placement import GroupPlacement
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
from components.tenant import Tenant

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
