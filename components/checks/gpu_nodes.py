"""The checks of a ``GpuOperator``'s ``nodes``: one workload mode per node, known configs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from components.catalog.gpu_operator import BUILTIN_MIG_CONFIGS, VM_WORKLOADS
from components.catalog.gpus import GPU_MODELS
from components.checks.issues import Issue, prop
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs


def _builtin_mig_configs() -> set[str]:
    names = set(BUILTIN_MIG_CONFIGS)
    names |= {f"all-{p.name}" for model in GPU_MODELS.values() for p in model.mig_profiles}
    return names


def check_nodes(args: GpuOperatorArgs, nodes: Mapping[str, NodeArgs]) -> Iterator[Issue]:
    """Each node's mode against the operator's configs (paths ``nodes.<node>…``)."""
    mig_names = ({"all-disabled"} | set(args.mig_configs)) if args.mig_configs else _builtin_mig_configs()
    for name, node in nodes.items():
        path = ("nodes", name)
        if node.workload in VM_WORKLOADS:
            extra = [
                key for key, value in (("sharing", node.sharing), ("mig", node.mig)) if value is not None
            ]
            if extra:
                yield Issue(
                    prop(*path),
                    f"is {node.workload} but also has {' and '.join(extra)}, which only container nodes use; "
                    "a node runs one workload type (vfio-manager binds all its GPUs)",
                )
                continue
        if node.sharing is not None and node.sharing not in args.sharing_configs:
            known = ", ".join(sorted(args.sharing_configs)) or "none defined"
            yield Issue(
                prop(*path, "sharing"),
                f"no gpuOperator.sharingConfigs entry {node.sharing!r} ({known})",
            )
        if node.mig is not None and node.mig not in mig_names:
            hint = (
                "custom migConfigs replace the built-in layouts; use all-disabled or "
                + ", ".join(sorted(args.mig_configs))
                if args.mig_configs
                else "e.g. all-disabled, all-balanced, all-1g.10gb"
            )
            yield Issue(prop(*path, "mig"), f"{node.mig!r} is not a MIG layout ({hint})")
