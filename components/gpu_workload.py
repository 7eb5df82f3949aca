"""``GpuWorkload``: a Deployment, Job or StatefulSet requesting GPUs in a tenant cluster."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pulumi

from components.checks.issues import Issue, prop, raise_for_errors
from components.checks.workload import check_workload
from components.gpu_node_group import GpuNodeGroup
from components.inputs import (
    STAND_IN,
    InputArg,
    arg_values,
    item,
    model_args,
    prepare,
    secret_fields,
    split,
    validated,
    values_of,
)
from components.models.placement import GroupPlacementInput
from components.models.workload import GpuWorkloadArgs
from components.outputs import publish
from components.plan.resources import Planned
from components.plan.tenant import plan_workload
from components.plan.types import WORKLOAD_TYPE
from components.registration import OUTSIDE, plan_scope, register_plan
from components.resolve.placement import GroupPlacement

TYPE = WORKLOAD_TYPE

NodeGroups = Sequence[GpuNodeGroup | GroupPlacement | Mapping[str, Any] | pulumi.Output[Any]]
"""Where a workload may run: ``GpuNodeGroup``s, their ``placement`` data, or maps of the same
keys (``GroupPlacementInput``), any of which may be Outputs, or an Output of such a list."""

_CONTEXT = ("placement", "object_name")


@dataclass(frozen=True)
class _Prepared:
    args: GpuWorkloadArgs
    placement: list[GroupPlacement]


def _placement(value: Any, index: int) -> tuple[GroupPlacement | None, list[Issue]]:
    if isinstance(value, GpuNodeGroup):
        return value.placement, []
    if isinstance(value, GroupPlacement):
        return value, []
    if not isinstance(value, Mapping):
        return None, [Issue(prop("placement", index), "not a node group (GpuNodeGroup or its placement)")]
    args, issues = validated(GroupPlacementInput, value, "placement", index)
    if args is None:
        return None, issues
    return GroupPlacement(args.group, dict(args.gpus), args.sharing, args.resource_naming), []


class GpuWorkload(pulumi.ComponentResource):
    """A GPU workload placed on ``node_groups`` (``GpuNodeGroup``s of the cluster, or their
    ``placement`` data): ``<name>-<kind>`` (+ ``<name>-service``) named ``object_name``
    (default: the resource name) in the cluster, through the provider of ``opts``; its
    children wait for ``opts.depends_on`` (e.g. its namespace and quota).

    ``args``: a ``GpuWorkloadArgs``, or the same keys as a map whose ``INPUTS`` (namespace,
    image, command, args, env, envFromSecrets) may be Outputs, as may ``node_groups``.
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
    INPUTS = MappingProxyType(
        {
            "namespace": InputArg(STAND_IN, ("namespace",)),
            "image": InputArg(STAND_IN, ("image",)),
            "command": InputArg([], ("command",)),
            "args": InputArg([], ("args",)),
            "env": InputArg({}, ("env",)),
            "env_from_secrets": InputArg([], ("envFromSecrets",)),
            # The pods' node selector and GPU resource come from it, and the GPUs are checked against it.
            "placement": InputArg([], ("placement", "gpus", "nodeGroup", "migProfile")),
        }
    )
    """The args that take Outputs (they fill in the objects, never shape them; class attributes
    are left unannotated: the package host reads annotations as outputs)."""
    SECRET_OUTPUTS = frozenset[str]()

    def __init__(
        self,
        name: str,
        args: GpuWorkloadArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        node_groups: NodeGroups | pulumi.Output[Any],
        object_name: str | None = None,
    ) -> None:
        def validate(values: Mapping[str, Any]) -> _Prepared:
            model, issues = validated(GpuWorkloadArgs, model_args(values, _CONTEXT))
            placement: list[GroupPlacement] = []
            given = values["placement"]
            if not isinstance(given, list | tuple):
                issues.append(Issue("placement", "a list of node groups"))
                given = []
            for index, value in enumerate(given):
                group, problems = _placement(value, index)
                issues += problems
                placement += [group] if group is not None else []
            raise_for_errors("GpuWorkload", name, issues)
            assert model is not None
            return _Prepared(model, placement)

        prepared = prepare(
            "GpuWorkload",
            name,
            arg_values(args, placement=node_groups, object_name=object_name),
            inputs=self.INPUTS,
            validate=validate,
            check=lambda p: check_workload(p.args, p.placement, object_name=object_name or name),
            secret_text=secret_fields(GpuWorkloadArgs, self.INPUTS),
        )
        super().__init__(self.TYPE, name, None, opts)
        after = opts.depends_on if opts is not None and isinstance(opts.depends_on, list) else []
        scope, parent = plan_scope()

        def plan(p: _Prepared) -> tuple[list[Planned], dict[str, Any]]:
            return plan_workload(
                scope,
                name,
                p.args,
                parent,
                "",
                node_groups=p.placement,
                object_name=object_name or name,
                dependencies=(OUTSIDE,) if after else (),
            )

        now, later = split(prepared)
        planned, outputs = plan(now)
        known = None if later is None else later.apply(plan)
        # exactly the plan: one code path
        registered = register_plan(self, planned, after=after, later=item(known, 0))
        self.resources: dict[str, pulumi.CustomResource] = {
            resource.inputs["kind"].lower(): registered[resource.name] for resource in planned[1:]
        }
        values = values_of(outputs, item(known, 1))
        publish(
            self,
            {
                "namespace": values["namespace"],
                "gpu_resource": values["gpuResource"],
                "node_groups": values["nodeGroups"],
            },
        )
