"""The checks of a ``GpuWorkload``'s args against the node groups it is placed on."""

from __future__ import annotations

from collections.abc import Iterator

from components.builders.gpu_sharing import mig_layout
from components.builders.placement import Where, eligible_groups, group_placements, sharing_of
from components.builders.workload_namespace import RESERVED_NAMESPACES, RESERVED_PREFIXES
from components.catalog.gpus import GPU_MODELS
from components.checks.issues import Issue, prop
from components.models.workload import GpuWorkloadArgs


def check_workload(
    workload: GpuWorkloadArgs, where: Where, *, scope: str = "the given node groups"
) -> list[Issue]:
    """Every problem of a workload's args placed on ``where`` (a cluster's args or its groups'
    placement data); ``scope`` names them in messages."""
    return list(_workload(workload, where, scope))


def _workload(workload: GpuWorkloadArgs, where: Where, scope: str) -> Iterator[Issue]:
    groups_by_name = {g.group: g for g in group_placements(where)}
    model = workload.model.value
    namespace = workload.namespace
    if namespace in RESERVED_NAMESPACES or namespace.startswith(RESERVED_PREFIXES):
        yield Issue(
            prop("namespace"),
            f"{namespace!r} belongs to the cluster itself; "
            "use a namespace of your own (default gpu-workloads)",
        )
    if workload.node_group is not None:
        group = groups_by_name.get(workload.node_group)
        if group is None:
            known = ", ".join(sorted(groups_by_name)) or "none"
            yield Issue(prop("nodeGroup"), f"no node group {workload.node_group!r} (groups: {known})")
            return
        if workload.model not in group.gpus:
            yield Issue(prop("nodeGroup"), f"node group {workload.node_group} carries no {model} GPUs")
            return
    if not eligible_groups(where, workload):
        carried = [m.value for m in GPU_MODELS if any(m in g.gpus for g in groups_by_name.values())]
        yield Issue(
            prop("gpus", model),
            f"no node group of {scope} has {model} GPUs"
            + (f" (it has {', '.join(carried)})" if carried else " (it has no GPU node groups)"),
        )
        return
    yield from _workload_mig(where, workload)
    naming = next(iter(groups_by_name.values())).resource_naming
    if naming == "per-model" and sharing_of(where, workload).kind != "none":
        yield Issue(
            prop("gpus", model),
            f"{model} GPUs are shared ({sharing_of(where, workload).kind}) and shared GPUs are published "
            "under generic names; set resourceNaming: generic",
        )
        return


def _workload_mig(where: Where, workload: GpuWorkloadArgs) -> Iterator[Issue]:
    sharing = sharing_of(where, workload)
    model = workload.model.value
    if sharing.mig is None:
        if workload.mig_profile is not None:
            yield Issue(prop("migProfile"), f"the {model} node groups of this cluster do not use MIG")
        return
    offered = list(mig_layout(workload.model, sharing.mig))
    if workload.mig_profile is None and len(offered) > 1:
        yield Issue(prop("migProfile"), f"required: the {model} groups offer {', '.join(offered)}")
    elif workload.mig_profile is not None and workload.mig_profile not in offered:
        yield Issue(
            prop("migProfile"),
            f"{workload.mig_profile!r} is not offered by the {model} groups ({', '.join(offered)})",
        )
