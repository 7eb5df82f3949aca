"""``GpuWorkload``: a Deployment, Job or StatefulSet requesting GPUs in a tenant cluster."""

from collections.abc import Sequence

import pulumi

from components.builders.placement import GroupPlacement
from components.checks import raise_for_errors
from components.checks.workload import check_workload
from components.gpu_node_group import GpuNodeGroup
from components.models.workload import GpuWorkloadArgs
from components.outputs import publish
from components.plan.tenant import plan_workload
from components.plan.types import WORKLOAD_TYPE
from components.registration import OUTSIDE, plan_scope, register_plan

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
        raise_for_errors("GpuWorkload", name, check_workload(args, where, object_name=object_name or name))
        super().__init__(self.TYPE, name, None, opts)
        after = opts.depends_on if opts is not None and isinstance(opts.depends_on, list) else []
        scope, parent = plan_scope()
        planned, outputs = plan_workload(
            scope,
            name,
            args,
            parent,
            "",
            node_groups=list(where),
            object_name=object_name or name,
            dependencies=(OUTSIDE,) if after else (),
        )
        registered = register_plan(self, planned, after=after)  # exactly the plan: one code path
        self.resources: dict[str, pulumi.CustomResource] = {
            resource.inputs["kind"].lower(): registered[resource.name] for resource in planned[1:]
        }
        publish(
            self,
            {
                "namespace": outputs["namespace"],
                "gpu_resource": outputs["gpuResource"],
                "node_groups": outputs["nodeGroups"],
            },
        )
