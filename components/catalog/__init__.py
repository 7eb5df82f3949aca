"""The catalog: GPU models and instance types, the single source of GPU facts."""

from components.catalog.gpus import (
    GPU_MODELS,
    OFFERED_MODELS,
    GpuModel,
    GpuModelName,
    MigProfile,
    gpu,
    sandbox_plugin_resource_name,
)
from components.catalog.instance_types import (
    INSTANCE_TYPES,
    MAX_VCPU_PER_GPU,
    MIN_GPU_VM_MEMORY,
    MIN_VCPU_PER_GPU,
    SERIES,
    InstanceType,
    default_for,
    instance_type,
    recommended_for,
)
from components.catalog.quantity import GIB, format_gib, parse_quantity

__all__ = [
    "GIB",
    "GPU_MODELS",
    "INSTANCE_TYPES",
    "MAX_VCPU_PER_GPU",
    "MIN_GPU_VM_MEMORY",
    "MIN_VCPU_PER_GPU",
    "OFFERED_MODELS",
    "SERIES",
    "GpuModel",
    "GpuModelName",
    "InstanceType",
    "MigProfile",
    "default_for",
    "format_gib",
    "gpu",
    "instance_type",
    "parse_quantity",
    "recommended_for",
    "sandbox_plugin_resource_name",
]
