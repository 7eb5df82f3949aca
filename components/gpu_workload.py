"""``GpuWorkload``: a Deployment, Job or StatefulSet requesting GPUs in a tenant cluster."""

from collections.abc import Sequence

import pulumi

from components.builders.names import workload_object_resource
from components.builders.placement import GroupPlacement, eligible_groups, resource_name
from components.builders.workload import build_workload
from components.checks import raise_for_errors
from components.checks.workload import check_workload
from components.gpu_node_group import GpuNodeGroup
from components.models.workload import GpuWorkloadArgs
from components.outputs import publish
from components.plan.types import WORKLOAD_TYPE
from components.registration import register_manifest

TYPE = WORKLOAD_TYPE


class GpuWorkload(pulumi.ComponentResource):
    """A GPU workload placed on ``node_groups`` (``GpuNodeGroup``s of the cluster, or their
    ``placement`` data): ``<name>-<kind>`` (+ ``<name>-service``) named ``object_name``
    (default: the resource name) in the cluster, through the provider of ``opts``; its
    children wait for ``opts.depends_on`` (e.g. its namespace and quota).

    Pods go to the groups that carry the workload's GPU model (or its ``nodeGroup``) and
    request the resource those groups publish. Invalid args raise ``pulumi.InputPropertiesError``.
    """

    namespace: pulumi.Output[str]
    """The workload's namespace."""
    gpu_resource: pulumi.Output[str]
    """The resource name the pods request (``nvidia.com/gpu``, ``nvidia.com/mig-…``, …)."""
    node_groups: pulumi.Output[list[str]]
    """The node groups its pods may run on."""

    TYPE = TYPE

    def __init__(
        self,
        name: str,
        args: GpuWorkloadArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        node_groups: Sequence[GpuNodeGroup | GroupPlacement],
        object_name: str | None = None,
    ) -> None:
        where = [g.placement if isinstance(g, GpuNodeGroup) else g for g in node_groups]
        raise_for_errors("GpuWorkload", name, check_workload(args, where))
        super().__init__(self.TYPE, name, None, opts)
        after = opts.depends_on if opts is not None and isinstance(opts.depends_on, list) else []
        child = pulumi.ResourceOptions(parent=self, depends_on=list(after))
        self.resources: dict[str, pulumi.CustomResource] = {}
        for manifest in build_workload(object_name or name, where, args):
            self.resources[manifest.kind.lower()] = register_manifest(
                workload_object_resource(name, manifest.kind), manifest, child
            )
        publish(
            self,
            {
                "namespace": args.namespace,
                "gpu_resource": resource_name(where, args),
                "node_groups": eligible_groups(where, args),
            },
        )
