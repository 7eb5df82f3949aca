"""The checks of a ``GpuOperator``'s args and its ``nodes`` (paths: the args' keys, and
``nodes.<node>`` for a node)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from components.catalog.gpu_operator import CHART_VERSIONS, VM_WORKLOADS
from components.catalog.namespaces import ON_HOST_CLUSTER, owner_of
from components.checks.gpu_nodes import check_nodes
from components.checks.issues import Issue, prop
from components.checks.node_group import mig_layout_problems
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs
from components.resolve.gpu_operator import uses_vgpu


def check_operator(args: GpuOperatorArgs, nodes: Mapping[str, NodeArgs]) -> list[Issue]:
    """Every problem of the operator's args and its nodes' modes, errors and warnings."""
    return [*_operator(args, nodes), *check_nodes(args, nodes)]


def _operator(args: GpuOperatorArgs, nodes: Mapping[str, NodeArgs]) -> Iterator[Issue]:
    if args.version not in CHART_VERSIONS:
        yield Issue(
            prop("version"),
            f"{args.version!r} is not a chart version whose keys hikube-gpu knows; "
            f"choose {', '.join(CHART_VERSIONS)}",
        )
    owner = owner_of(args.namespace, ON_HOST_CLUSTER)
    if owner is not None:
        # upstream: components/catalog/namespaces.py (ON_HOST_CLUSTER)
        # upstream: kubernetes/apimachinery v0.34.0 pkg/apis/meta/v1/types.go:279-288
        # upstream: cozystack/cozystack v1.1.2 packages/core/platform/sources/gpu-operator.yaml:23
        # upstream: kubevirt/kubevirt v1.6.3 hack/config-default.sh:32,35
        yield Issue(
            prop("namespace"),
            f"{args.namespace!r} belongs to {owner.owner}, but the operator's namespace is created by "
            "this stack and deleted by pulumi destroy (with everything in it); use a namespace of its "
            "own (default gpu-operator)",
        )
    vm_users = sorted(n for n, node in nodes.items() if node.workload in VM_WORKLOADS)
    if args.default_workload in VM_WORKLOADS:
        vm_users.insert(0, f"defaultWorkload {args.default_workload}")
    if args.sandbox_workloads is False and vm_users:
        yield Issue(
            prop("sandboxWorkloads"),
            "must be on for VM GPU nodes (" + ", ".join(vm_users) + "); the operator would "
            "ignore their workload label and install the container stack",
        )
    if uses_vgpu(args, dict(nodes)) and not (args.vgpu_manager.repository and args.vgpu_manager.version):
        # Point at what asks for vGPU: a vm-vgpu node, else the default workload.
        vgpu_nodes = sorted(n for n, node in nodes.items() if node.workload == "vm-vgpu")
        where = prop("nodes", vgpu_nodes[0]) if vgpu_nodes else prop("defaultWorkload")
        yield Issue(
            where,
            "vm-vgpu needs your licensed vGPU manager image: "
            "set gpuOperator.vgpuManager.repository and .version",
        )
    for name, per_model in args.mig_configs.items():
        for model, layout in per_model.items():
            yield from mig_layout_problems(prop("migConfigs", name, model.value), model.value, layout)
    if args.mig_strategy == "mixed":
        for name in sorted(args.sharing_configs):
            if args.sharing_configs[name].as_sharing().kind == "mps":
                yield Issue(
                    prop("sharingConfigs", name),
                    "MPS cannot run with gpuOperator.migStrategy mixed: the chart's strategy reaches every "
                    "device plugin and the plugin refuses MPS under it (no GPUs advertised); "
                    "choose migStrategy single or none, or time-slicing",
                )
    if (args.mig_configs or any(n.mig for n in nodes.values())) and args.mig_strategy == "none":
        yield Issue(
            prop("migStrategy"),
            "is none, so MIG layouts give no MIG devices to pods; choose single or mixed",
            "warning",
        )
