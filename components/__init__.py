"""hikube-gpu components: reusable Pulumi ComponentResources for NVIDIA GPUs on Hikube/KubeVirt.

Data flows one way: ``models`` (validated args) → ``builders`` (pure manifest
functions) → the components here, which only register what builders return.
"""

from components.gpu_virtual_machine import GpuVirtualMachine
from components.models.vm import GpuVirtualMachineArgs

__all__ = ["GpuVirtualMachine", "GpuVirtualMachineArgs"]
