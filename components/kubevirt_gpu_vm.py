"""``KubeVirtGpuVirtualMachine``: a raw KubeVirt VM with GPUs, and its cloud-init Secret."""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pulumi

from components.checks.issues import Issue, raise_for_errors
from components.checks.raw_vm import check_raw_vm
from components.inputs import (
    MODEL,
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
from components.models.kubevirt import KubeVirtGpuVmArgs, ResourceNaming
from components.plan.platform import plan_raw_vm
from components.plan.resources import Planned
from components.plan.types import RAW_VM_TYPE
from components.registration import OUTSIDE, plan_scope, register_plan
from components.resolve.names import raw_vm_resource

TYPE = RAW_VM_TYPE


@dataclass(frozen=True)
class _Prepared:
    args: KubeVirtGpuVmArgs
    namespace: str


class KubeVirtGpuVirtualMachine(pulumi.ComponentResource):
    """``<name>-cloud-init`` (a Secret: SSH keys, driver installer, your user data) and
    ``<name>-vm`` (the VirtualMachine, after the Secret) in ``namespace`` (default: the args'
    ``namespace``), both after ``opts.depends_on``, through the host cluster's provider of
    ``opts``. ``naming``: the KubeVirt passthrough's resource naming.

    ``args``: a ``KubeVirtGpuVmArgs``, or the same keys as a map whose ``INPUTS`` (namespace,
    sshKeys, cloudInit) may be Outputs, as may ``namespace``. Invalid args raise
    ``pulumi.InputPropertiesError``."""

    gpus: pulumi.Output[list[str]]
    """The device name of each passed-through GPU."""
    instance_type: pulumi.Output[str]
    """The cluster instancetype it runs on."""

    TYPE = TYPE
    INPUTS = MappingProxyType(
        {
            "namespace": InputArg(STAND_IN, ("namespace",)),
            "ssh_keys": InputArg([], ("sshKeys", "cloudInit")),  # MIME user data cannot take keys
            "cloud_init": InputArg(None, ("cloudInit",)),
        }
    )
    """The args that take Outputs (they fill in the objects, never shape them; class attributes
    are left unannotated: the package host reads annotations as outputs)."""
    SECRET_OUTPUTS = frozenset[str]()

    def __init__(
        self,
        name: str,
        args: KubeVirtGpuVmArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        namespace: Any = None,
        naming: ResourceNaming = "hikube",
    ) -> None:
        def validate(values: Mapping[str, Any]) -> _Prepared:
            model, issues = validated(KubeVirtGpuVmArgs, model_args(values, ()))
            where = model.namespace if model is not None else None
            if MODEL in values and values.get("namespace") is not None:
                where = values["namespace"]  # the namespace= argument, over a model's own
            if model is not None and where is None:
                issues.append(Issue("namespace", "required"))
            raise_for_errors("KubeVirtGpuVirtualMachine", name, issues)
            assert model is not None
            assert where is not None
            return _Prepared(model, where)

        values = arg_values(args)
        if namespace is not None:
            values["namespace"] = namespace
        prepared = prepare(
            "KubeVirtGpuVirtualMachine",
            name,
            values,
            inputs=self.INPUTS,
            validate=validate,
            check=lambda p: check_raw_vm(p.args),
            secret_text=secret_fields(KubeVirtGpuVmArgs, self.INPUTS),
        )
        super().__init__(self.TYPE, name, None, opts)
        depends_on = opts.depends_on if opts is not None and isinstance(opts.depends_on, list) else []
        scope, parent = plan_scope()
        outside = (OUTSIDE,) if depends_on else ()  # what opts.depends_on names, outside the plan

        def plan(p: _Prepared) -> tuple[list[Planned], dict[str, Any]]:
            return plan_raw_vm(
                scope, name, p.args, parent, "", namespace=p.namespace, naming=naming, dependencies=outside
            )

        now, later = split(prepared)
        planned, outputs = plan(now)
        known = None if later is None else later.apply(plan)
        # exactly the plan
        registered = register_plan(self, planned, after=depends_on, later=item(known, 0))
        self.vm = registered[raw_vm_resource(name)]
        values = values_of(outputs, item(known, 1))
        self.gpus = pulumi.Output.from_input(values["gpus"])
        self.instance_type = pulumi.Output.from_input(values["instanceType"])
        self.register_outputs({"gpus": self.gpus, "instanceType": self.instance_type})
