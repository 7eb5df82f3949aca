"""The GPU catalog page: GPU models and instance types, from ``components/catalog``."""

from __future__ import annotations

from components.catalog.gpus import GPU_MODELS
from components.catalog.instance_types import (
    INSTANCE_TYPES,
    MAX_VCPU_PER_GPU,
    MIN_VCPU_PER_GPU,
    SERIES,
    default_for,
)
from tools.gen_docs import GENERATED_NOTE


def _gpus() -> list[str]:
    lines = [
        "| Model | Architecture | Memory | INT8 TOPS | Use case | KubeVirt vGPU |",
        "|---|---|---|---|---|---|",
    ]
    for model in GPU_MODELS.values():
        lines.append(
            f"| {model.model.value} | {model.architecture} | {model.memory_gb} GB {model.memory_type} "
            f"| {model.int8_tops} | {model.use_case} | {'yes' if model.kubevirt_vgpu else 'no'} |"
        )
    lines += [
        "",
        "| Model | Hikube resource name (`spec.gpus[].name`) | PCI ID | Upstream plugin name "
        "| GFD product label | MIG profiles (most per GPU) |",
        "|---|---|---|---|---|---|",
    ]
    for model in GPU_MODELS.values():
        mig = ", ".join(f"{p.name} ×{p.per_gpu}" for p in model.mig_profiles) or "none"
        lines.append(
            f"| {model.model.value} | `{model.hikube_resource_name}` | `{model.pci_vendor_selector}` "
            f"| `{model.upstream_resource_name}` | `{model.gfd_product}` | {mig} |"
        )
    notes = [f"- **{m.model.value}**: {m.note}" for m in GPU_MODELS.values() if m.note]
    return lines + (["", *notes] if notes else [])


def _instance_types() -> list[str]:
    lines = ["| Series | Description | GPUs |", "|---|---|---|"]
    for series in SERIES.values():
        gpus = "yes" if series.gpu_allowed else f"refused: {series.reason}"
        lines.append(f"| `{series.name}` | {series.description} | {gpus} |")
    lines += ["", "| Instance type | vCPU | Memory |", "|---|---|---|"]
    for item in INSTANCE_TYPES.values():
        lines.append(f"| `{item.name}` | {item.vcpu} | {item.memory_gib:g} GiB |")
    defaults = []
    for count in range(1, 9):
        chosen = default_for(count)
        defaults.append(f"{count} → `{chosen.name}`" if chosen else f"{count} → none (set one)")
    lines += [
        "",
        f"Without `instanceType` (or `resources`), a GPU VM or node group gets the smallest u1 type "
        f"with at least {MIN_VCPU_PER_GPU} vCPU per GPU; {MIN_VCPU_PER_GPU}-{MAX_VCPU_PER_GPU} vCPU per "
        f"GPU is Hikube's advice. By GPU count: {', '.join(defaults)}.",
    ]
    return lines


def page() -> str:
    return "\n".join(
        [
            GENERATED_NOTE,
            "# GPU catalog",
            "",
            "Generated from `components/catalog/gpus.py` and `components/catalog/instance_types.py`,",
            "the one table every check, builder and policy reads. Performance figures are Hikube's.",
            "What the names mean and where each is used: [Resource names](../concepts/resource-names.md).",
            "",
            "## GPU models",
            "",
            *_gpus(),
            "",
            "## Instance types",
            "",
            *_instance_types(),
            "",
        ]
    )
