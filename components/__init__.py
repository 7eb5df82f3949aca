"""hikube-gpu components: reusable Pulumi ComponentResources for NVIDIA GPUs on Hikube/KubeVirt.

Data flows one way: ``models`` (validated args) → ``builders`` (pure manifest
functions) → the components here, which only register what builders return.
"""

from components.gpu_kubernetes_cluster import GpuKubernetesCluster
from components.gpu_node_group import GpuNodeGroup
from components.gpu_virtual_machine import GpuVirtualMachine
from components.gpu_workload import GpuWorkload
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.node_group import NodeGroupArgs
from components.models.vm import GpuVirtualMachineArgs
from components.models.workload import GpuWorkloadArgs

__all__ = [
    "GpuKubernetesCluster",
    "GpuKubernetesClusterArgs",
    "GpuNodeGroup",
    "GpuVirtualMachine",
    "GpuVirtualMachineArgs",
    "GpuWorkload",
    "GpuWorkloadArgs",
    "NodeGroupArgs",
]
