"""GPU facts for the policy pack, GENERATED from components/catalog by policy/generate_tables.py.

Do not edit: run ``.venv/bin/python -m policy.generate_tables`` from the project root.
"""

from __future__ import annotations

# GPU models offered (catalog order).
MODELS = (
    "L40S",
    "A100",
    "H100",
)

# Device-plugin resource names per model: Hikube's, then NVIDIA's sandbox plugin's.
GPU_RESOURCE_NAMES = {
    "L40S": ("nvidia.com/AD102GL_L40S",),
    "A100": ("nvidia.com/GA100_A100_PCIE_80GB",),
    "H100": (
        "nvidia.com/H100_94GB",
        "nvidia.com/GH100_H100L_94GB",
    ),
}

# KubeVirt pciVendorSelector per model.
PCI_VENDOR_SELECTORS = {
    "L40S": "10DE:26B9",
    "A100": "10DE:20B5",
    "H100": "10DE:2321",
}

# NVIDIA's PCI vendor ID.
NVIDIA_PCI_VENDOR = "10DE"

# vCPUs per instance type.
VCPU = {
    "u1.nano": 1,
    "u1.micro": 1,
    "u1.small": 1,
    "u1.medium": 1,
    "u1.2xmedium": 2,
    "u1.large": 2,
    "u1.xlarge": 4,
    "u1.2xlarge": 8,
    "u1.4xlarge": 16,
    "u1.8xlarge": 32,
    "s1.small": 1,
    "s1.medium": 2,
    "s1.large": 4,
    "s1.xlarge": 8,
    "s1.3large": 12,
    "s1.2xlarge": 16,
    "s1.3xlarge": 24,
    "s1.4xlarge": 32,
    "s1.8xlarge": 64,
    "m1.large": 2,
    "m1.xlarge": 4,
    "m1.2xlarge": 8,
    "m1.4xlarge": 16,
    "m1.8xlarge": 32,
    "cx1.medium": 1,
    "cx1.large": 2,
    "cx1.xlarge": 4,
    "cx1.2xlarge": 8,
    "cx1.4xlarge": 16,
    "cx1.8xlarge": 32,
    "o1.nano": 1,
    "o1.micro": 1,
    "o1.small": 1,
    "o1.medium": 1,
    "o1.large": 2,
    "o1.xlarge": 4,
    "o1.2xlarge": 8,
    "o1.4xlarge": 16,
    "o1.8xlarge": 32,
    "d1.nano": 1,
    "d1.micro": 1,
    "d1.small": 1,
    "d1.medium": 1,
    "d1.2xmedium": 2,
    "d1.large": 2,
    "d1.xlarge": 4,
    "d1.2xlarge": 8,
    "d1.4xlarge": 16,
    "d1.8xlarge": 32,
}

# Instance-type series GPU VMs must not use, and why.
NO_GPU_SERIES = {
    "o1": (
        "o1 overcommits memory, and VFIO passthrough pins all "
        "guest RAM ('cannot limit locked memory'); use the "
        "u1 type of the same size"
    ),
}

# Hikube's sizing advice: fewest vCPUs per GPU.
MIN_VCPU_PER_GPU = 8

# Hikube's sizing advice: most vCPUs per GPU.
MAX_VCPU_PER_GPU = 16

# Eviction strategies a GPU passthrough VM may use (it cannot live-migrate).
EVICTION_STRATEGIES = (
    "None",
    "LiveMigrateIfPossible",
    "External",
)

# KubeVirt feature gate that lets a VM with one vGPU live-migrate.
VGPU_LIVE_MIGRATION_GATE = "VGPULiveMigration"

# The GPU Operator's chart name.
GPU_OPERATOR_CHART = "gpu-operator"

# NVIDIA's Helm repository.
GPU_OPERATOR_REPOSITORY = "https://helm.ngc.nvidia.com/nvidia"

# Per platform profile: nodes a Cozystack node group starts with (None: minReplicas).
NODE_GROUP_START_REPLICAS = {
    "hikube": 2,
    "cozystack-1.4": 2,
    "cozystack-1.6": None,
}

# Per platform profile: a node-group roll-out adds up to maxReplicas nodes first.
ROLLOUT_SURGE_IS_MAX_REPLICAS = {
    "hikube": True,
    "cozystack-1.4": True,
    "cozystack-1.6": True,
}

# The profile the pack assumes unless configured.
DEFAULT_PLATFORM = "hikube"
