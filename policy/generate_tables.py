"""Write ``policy/catalog_tables.py``: the pack's GPU tables, generated from the project's catalog.

The pack runs in its own virtualenv and cannot import the project, so the facts it needs are
copied here by code, never by hand. Run from the project root after a catalog change::

    .venv/bin/python -m policy.generate_tables

``tests/test_policy_shapes.py`` fails while the written module differs from ``render()``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from components.catalog import gpu_operator, kubevirt
from components.catalog.gpus import GPU_MODELS, NVIDIA_PCI_VENDOR
from components.catalog.instance_types import (
    INSTANCE_TYPES,
    MAX_VCPU_PER_GPU,
    MIN_VCPU_PER_GPU,
    SERIES,
)
from components.catalog.platform import PROFILES

TARGET = Path(__file__).with_name("catalog_tables.py")
Table = str | int | bool | None | tuple["Table", ...] | Mapping[str, "Table"]

_HEADER = '''"""GPU facts for the policy pack, GENERATED from components/catalog by policy/generate_tables.py.

Do not edit: run ``.venv/bin/python -m policy.generate_tables`` from the project root.
"""

from __future__ import annotations

'''


def _string(text: str, indent: int) -> str:
    """A string literal; long ones as parenthesised implicit concatenation of short lines."""
    if len(text) <= 80:
        return json.dumps(text)
    words = text.split(" ")
    lines = [" ".join(words[i : i + 8]) for i in range(0, len(words), 8)]
    lines = [line + " " for line in lines[:-1]] + lines[-1:]
    inner = " " * (indent + 4)
    return "(\n" + "".join(f"{inner}{json.dumps(line)}\n" for line in lines) + " " * indent + ")"


def _literal(value: Table, indent: int = 0) -> str:
    """A Python literal in the layout ``ruff format`` keeps (one item a line, trailing commas)."""
    if isinstance(value, str):
        return _string(value, indent)
    if value is None or isinstance(value, bool | int):
        return repr(value)
    inner = " " * (indent + 4)
    if isinstance(value, Mapping):
        items = [f"{inner}{json.dumps(k)}: {_literal(v, indent + 4)},\n" for k, v in value.items()]
        opening, closing = "{", "}"
    elif len(value) < 2:  # a short tuple stays on one line
        return "(" + "".join(f"{_literal(v)}," for v in value) + ")"
    else:
        items = [f"{inner}{_literal(v, indent + 4)},\n" for v in value]
        opening, closing = "(", ")"
    return opening + ("\n" + "".join(items) + " " * indent if items else "") + closing


def _d1_sizes() -> Iterator[tuple[str, int]]:
    """d1 (dedicated CPU) has u1's sizes (catalog: ``kubevirt.RAW_VM_SERIES``)."""
    if "d1" in kubevirt.RAW_VM_SERIES:
        for name, spec in INSTANCE_TYPES.items():
            if spec.series == "u1":
                yield "d1." + name.split(".", 1)[1], spec.vcpu


def tables() -> dict[str, tuple[str, Table]]:
    """Name → (comment, value) of every generated constant."""
    vcpu = {name: spec.vcpu for name, spec in INSTANCE_TYPES.items()} | dict(_d1_sizes())
    return {
        "MODELS": ("GPU models offered (catalog order).", tuple(m.value for m in GPU_MODELS)),
        "GPU_RESOURCE_NAMES": (
            "Device-plugin resource names per model: Hikube's, then NVIDIA's sandbox plugin's.",
            {
                m.value: tuple(dict.fromkeys((g.hikube_resource_name, g.upstream_resource_name)))
                for m, g in GPU_MODELS.items()
            },
        ),
        "PCI_VENDOR_SELECTORS": (
            "KubeVirt pciVendorSelector per model.",
            {m.value: g.pci_vendor_selector for m, g in GPU_MODELS.items()},
        ),
        "NVIDIA_PCI_VENDOR": ("NVIDIA's PCI vendor ID.", NVIDIA_PCI_VENDOR),
        "VCPU": ("vCPUs per instance type.", vcpu),
        "NO_GPU_SERIES": (
            "Instance-type series GPU VMs must not use, and why.",
            {s.name: s.reason for s in SERIES.values() if not s.gpu_allowed},
        ),
        "MIN_VCPU_PER_GPU": ("Hikube's sizing advice: fewest vCPUs per GPU.", MIN_VCPU_PER_GPU),
        "MAX_VCPU_PER_GPU": ("Hikube's sizing advice: most vCPUs per GPU.", MAX_VCPU_PER_GPU),
        "EVICTION_STRATEGIES": (
            "Eviction strategies a GPU passthrough VM may use (it cannot live-migrate).",
            kubevirt.EVICTION_STRATEGIES,
        ),
        "VGPU_LIVE_MIGRATION_GATE": (
            "KubeVirt feature gate that lets a VM with one vGPU live-migrate.",
            kubevirt.FEATURE_GATES["VGPULiveMigration"].name,
        ),
        "GPU_OPERATOR_CHART": ("The GPU Operator's chart name.", gpu_operator.CHART),
        "GPU_OPERATOR_REPOSITORY": ("NVIDIA's Helm repository.", gpu_operator.REPOSITORY),
        "NODE_GROUP_START_REPLICAS": (
            "Per platform profile: nodes a Cozystack node group starts with (None: minReplicas).",
            {p.name: p.kubernetes.node_group_start_replicas for p in PROFILES.values()},
        ),
        "ROLLOUT_SURGE_IS_MAX_REPLICAS": (
            "Per platform profile: a node-group roll-out adds up to maxReplicas nodes first.",
            {p.name: p.kubernetes.rollout_surge_is_max_replicas for p in PROFILES.values()},
        ),
        "DEFAULT_PLATFORM": ("The profile the pack assumes unless configured.", next(iter(PROFILES))),
    }


def render() -> str:
    """The text of ``catalog_tables.py``."""
    body = [f"# {comment}\n{name} = {_literal(value)}\n" for name, (comment, value) in tables().items()]
    return _HEADER + "\n".join(body)


def main() -> None:
    TARGET.write_text(render())
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
