"""The checks of a ``GpuWorkload``'s args against the node groups it is placed on."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.gpus import GPU_MODELS
from components.catalog.namespaces import IN_TENANT_CLUSTER, owner_of
from components.checks.issues import Issue, prop
from components.checks.ports import duplicate_ports
from components.models.workload import GpuWorkloadArgs
from components.resolve.placement import Where, eligible_groups, group_placements, sharing_of
from components.resolve.sharing import mig_layout

STATEFULSET_NAME_MAX = 52
"""A StatefulSet's pods carry the label ``controller-revision-hash: <name>-<hash of up to 10
characters>``, a label value (at most 63): kubernetes/kubernetes v1.28.4
pkg/controller/history/controller_history.go:90-104 (ControllerRevisionName), the
statefulset controller copies it to each pod; kubernetes/kubernetes#64023 (open)."""


def check_workload(
    workload: GpuWorkloadArgs,
    where: Where,
    *,
    scope: str = "the given node groups",
    object_name: str | None = None,
) -> list[Issue]:
    """Every problem of a workload's args placed on ``where`` (a cluster's args or its groups'
    placement data); ``scope`` names them in messages, ``object_name`` is the name of the
    workload's Kubernetes object (when known)."""
    return list(_workload(workload, where, scope, object_name))


def _workload(
    workload: GpuWorkloadArgs, where: Where, scope: str, object_name: str | None
) -> Iterator[Issue]:
    if workload.kind == "StatefulSet" and object_name is not None and len(object_name) > STATEFULSET_NAME_MAX:
        # upstream: kubernetes/kubernetes v1.28.4 pkg/controller/history/controller_history.go:90-104; #64023
        yield Issue(
            prop(),
            f"a StatefulSet's name has at most {STATEFULSET_NAME_MAX} characters ({object_name!r} has "
            f"{len(object_name)}): its pods get the label controller-revision-hash '<name>-<10-character "
            "hash>', which holds at most 63, and the StatefulSet creates no pod with a longer one",
        )
    yield from duplicate_ports(("ports",), workload.ports)
    groups_by_name = {g.group: g for g in group_placements(where)}
    model = workload.model.value
    namespace = workload.namespace
    owner = owner_of(namespace, IN_TENANT_CLUSTER)
    if owner is not None:
        # upstream: components/catalog/namespaces.py (IN_TENANT_CLUSTER)
        # upstream: kubernetes/apimachinery v0.34.0 pkg/apis/meta/v1/types.go:279-288
        # upstream: cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/helmreleases/*.yaml (cozy-*)
        yield Issue(
            prop("namespace"),
            f"{namespace!r} belongs to {owner.owner}, but the stack creates its workloads' namespaces "
            "(and deletes them on destroy); use a namespace of your own (default gpu-workloads)",
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
    sharing = sharing_of(where, workload)
    if sharing.kind == "mps" and workload.gpus_per_pod > 1:
        # upstream: NVIDIA/k8s-device-plugin v0.17.1 api/config/v1/config.go:71-77, internal/rm/rm.go:81-92
        yield Issue(
            prop("gpus", model),
            f"asks for {workload.gpus_per_pod} per pod, but the {model} GPUs are shared with MPS and the "
            "device plugin refuses a container more than one MPS share (it forces "
            "failRequestsGreaterThanOne: the pod fails to start); ask for 1, or use a group without sharing",
        )
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
