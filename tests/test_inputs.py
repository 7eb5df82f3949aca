"""Args that take Outputs (``components/inputs.py``): they never shape the resources, holding
them as Outputs registers exactly what plain values register, and their problems surface
once the Outputs are known. Cases: every VM, cluster, workload and raw VM of the example and
test stacks."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest

from components import GpuKubernetesCluster, GpuVirtualMachine, GpuWorkload, KubeVirtGpuVirtualMachine, Tenant
from components.builders.node_group import effective_node_groups
from components.errors import InvalidArgs
from components.inputs import STAND_IN, InputArg, holds_outputs
from components.plan.platform import plan_raw_vm
from components.plan.resources import Scope
from components.plan.tenant import plan_cluster, plan_vm, plan_workload
from components.registration import shape
from components.resolve.placement import GroupPlacement
from stacks.validation.config import PlatformStack, TenantStack
from stacks.validation.validate import validate
from tests.cluster_stacks import EDGE, TRAIN, cluster_stack
from tests.helpers import SSH_KEY, base_config, stack_config
from tests.platform_stacks import MODES, platform_stack

SCOPE = Scope("test", "inputs")
CONFIGS: dict[str, dict[str, Any]] = {
    **{name: stack_config(name) for name in ("dev", "acme-vms", "globex-ml", "host-example")},
    "clusters": cluster_stack(),
    "clusters-cozystack-1.4": cluster_stack("cozystack-1.4", train=TRAIN, edge=EDGE),
    **{f"platform-{mode}": platform_stack(mode) for mode in MODES},
    "vm-user-data": base_config(
        vms={
            "lab": {
                "gpus": {"L40S": 1},
                "sshKeys": [SSH_KEY],
                "cloudInit": "#cloud-config\npackages: [git]\n",
            }
        }
    ),
}


def _cases() -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(component, name, raw args, context) for every VM, cluster, workload and raw VM."""
    for config in CONFIGS.values():
        stack = validate(copy.deepcopy(config)).stack
        if isinstance(stack, PlatformStack):
            for name, raw in sorted(config.get("vms", {}).items()):
                namespace = raw.get("namespace") or stack.platform.namespace or "gpu-vms"
                yield "KubeVirtGpuVirtualMachine", name, raw, {"namespace": namespace}
            continue
        assert isinstance(stack, TenantStack)
        tenant = {"namespace": stack.platform.namespace, "platform": stack.platform.profile}
        for name, raw in sorted(config.get("vms", {}).items()):
            yield "GpuVirtualMachine", name, raw, tenant
        for name, raw in sorted(config.get("clusters", {}).items()):
            yield "GpuKubernetesCluster", name, raw, tenant
            cluster = stack.clusters[name]
            groups = effective_node_groups(cluster, tenant_app(stack.platform.profile))
            placement = [
                GroupPlacement(g, dict(groups[g].gpus), groups[g].sharing, cluster.resource_naming)
                for g in cluster.node_groups
            ]
            for workload, spec in sorted(raw.get("workloads", {}).items()):
                yield "GpuWorkload", f"{name}-{workload}", spec, {"placement": placement}


def tenant_app(platform: str) -> Any:
    return Tenant("-", platform).profile.kubernetes


CASES = list(_cases())
IDS = [f"{component}-{name}" for component, name, _, _ in CASES]
COMPONENT = {
    "GpuVirtualMachine": GpuVirtualMachine,
    "GpuKubernetesCluster": GpuKubernetesCluster,
    "GpuWorkload": GpuWorkload,
    "KubeVirtGpuVirtualMachine": KubeVirtGpuVirtualMachine,
}


def test_the_cases_cover_every_component_that_takes_outputs() -> None:
    takes = {name for name, cls in COMPONENT.items() if cls.INPUTS}
    assert {component for component, _, _, _ in CASES} == takes
    assert len(CASES) >= 15


# --- the args that take Outputs never shape the resources (pure: the plans) ---------------------


def _plan(component: str, name: str, raw: dict[str, Any], context: dict[str, Any]) -> list[Any]:
    """The plan of one case, its args validated as the component validates them."""
    from components.gpu_virtual_machine import GpuVirtualMachineArgs
    from components.models.cluster import GpuKubernetesClusterArgs
    from components.models.kubevirt import KubeVirtGpuVmArgs
    from components.models.workload import GpuWorkloadArgs

    parent = SCOPE.root
    if component == "GpuVirtualMachine":
        args = GpuVirtualMachineArgs.model_validate(raw)
        return plan_vm(
            SCOPE, name, args, Tenant(context["namespace"], context["platform"]), parent=parent, provider=""
        )[0]
    if component == "GpuKubernetesCluster":
        cluster = GpuKubernetesClusterArgs.model_validate(raw)
        return plan_cluster(
            SCOPE,
            name,
            cluster,
            Tenant(context["namespace"], context["platform"]),
            parent=parent,
            provider="",
        )
    if component == "GpuWorkload":
        workload = GpuWorkloadArgs.model_validate(raw)
        return plan_workload(
            SCOPE,
            name,
            workload,
            parent,
            "",
            node_groups=context["placement"],
            object_name=name,
            dependencies=(),
        )[0]
    vm = KubeVirtGpuVmArgs.model_validate({**raw, "namespace": context["namespace"]})
    return plan_raw_vm(
        SCOPE, name, vm, parent, "", namespace=context["namespace"], naming="hikube", dependencies=()
    )[0]


def _stand_in(
    inputs: dict[str, InputArg], held: list[str], raw: dict[str, Any], context: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    raw, context = dict(raw), dict(context)
    for key in held:
        target = context if key in context else raw
        target[_config_key(key, target)] = inputs[key].stand_in
    return raw, context


def _config_key(python: str, values: dict[str, Any]) -> str:
    camel = "".join(part.title() if i else part for i, part in enumerate(python.split("_")))
    return python if python in values else camel


@pytest.mark.parametrize(("component", "name", "raw", "context"), CASES, ids=IDS)
def test_stand_ins_plan_the_very_resources_the_real_values_plan(
    component: str, name: str, raw: dict[str, Any], context: dict[str, Any]
) -> None:
    """Each arg that takes Outputs, alone and all together: the same types, names, parents,
    providers, dependencies and object kinds as with the real values."""
    inputs = dict(COMPONENT[component].INPUTS)
    real = [shape(p) for p in _plan(component, name, raw, context)]
    for held in [[key] for key in inputs] + [list(inputs)]:
        stood = [shape(p) for p in _plan(component, name, *_stand_in(inputs, held, raw, context))]
        assert stood == real, held


# --- holding them as Outputs registers what plain values register (under Pulumi's mocks) --------


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: dict[str, tuple[str, dict[str, Any], str | None]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id:
            return args.resource_id, {"data": {"super-admin.conf": "YXBpVmVyc2lvbjogdjEK"}}
        self.registered[args.name] = (args.typ, args.inputs, args.provider)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def _fresh_run(recorder: _Recorder, failing: bool = False) -> None:
    """A new event loop and Pulumi's mocks. ``failing``: the run is meant to fail, so the
    Outputs left holding its error are not reported when they are collected."""
    loop = asyncio.new_event_loop()
    if failing:
        loop.set_exception_handler(lambda loop, context: None)
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(recorder, project="inputs", stack="test", preview=False)


def _registered(
    build: Callable[[], pulumi.ComponentResource], failing: bool = False
) -> dict[str, tuple[str, dict[str, Any], str | None]]:
    """What ``build`` registers, in a run of its own; its outputs awaited."""
    recorder = _Recorder()
    _fresh_run(recorder, failing)

    @pulumi.runtime.test
    def run() -> Any:
        component = build()
        outputs = [getattr(component, name) for name in type(component).__annotations__]
        return pulumi.Output.all(*outputs)

    run()
    return recorder.registered


def _held(value: Any, key: str, secret_text: set[str]) -> Any:
    """``value`` as an Output (a secret for the secret args); a list's items each an Output."""
    if key in secret_text:
        return pulumi.Output.secret(value)
    if isinstance(value, list) and value:
        return [pulumi.Output.from_input(item) for item in value]
    return pulumi.Output.from_input(value)


def _build(
    component: str, name: str, raw: dict[str, Any], context: dict[str, Any], held: bool
) -> Callable[[], Any]:
    cls = COMPONENT[component]
    secret_text = {"sshKeys", "cloudInit", "ssh_keys", "cloud_init"}

    def wrap(key: str, value: Any) -> Any:
        python = key if key in cls.INPUTS else "".join("_" + c.lower() if c.isupper() else c for c in key)
        return _held(value, key, secret_text) if held and python in cls.INPUTS else value

    def make() -> Any:  # the Outputs are made in the run's event loop
        args = {key: wrap(key, value) for key, value in raw.items()}
        if component in ("GpuVirtualMachine", "GpuKubernetesCluster"):
            return cls(
                name, args, tenant=Tenant(wrap("namespace", context["namespace"]), context["platform"])
            )
        if component == "GpuWorkload":
            return cls(name, args, node_groups=wrap("placement", context["placement"]))
        return cls(name, args, namespace=wrap("namespace", context["namespace"]))

    return make


@pytest.mark.parametrize(("component", "name", "raw", "context"), CASES, ids=IDS)
def test_outputs_register_what_plain_values_register(
    component: str, name: str, raw: dict[str, Any], context: dict[str, Any]
) -> None:
    plain = _registered(_build(component, name, raw, context, held=False))
    held = _registered(_build(component, name, raw, context, held=True))
    assert sorted(held) == sorted(plain)
    for resource, registered in plain.items():
        assert held[resource] == registered, resource


# --- problems of an Output's value, and Outputs where plain values belong -----------------------


def test_an_output_where_a_plain_value_belongs_is_refused_at_once_with_its_path() -> None:
    recorder = _Recorder()
    _fresh_run(recorder)
    raised: list[InvalidArgs] = []

    def attempt() -> None:  # in the run's event loop, which settles the Output made here
        try:
            GpuVirtualMachine("vm", {"gpus": pulumi.Output.from_input({"L40S": 1})}, tenant=Tenant("t"))
        except InvalidArgs as error:
            raised.append(error)

    pulumi.runtime.test(attempt)()
    (error,) = raised
    assert [e["property_path"] for e in error.errors or []] == ["gpus"]
    assert "must be known when the component is constructed" in str(error)
    assert recorder.registered == {}


def test_a_problem_of_an_outputs_value_is_raised_once_it_is_known_and_registers_no_object() -> None:
    recorder = _Recorder()

    def build() -> Any:
        return GpuWorkload(
            "w",
            {"image": pulumi.Output.from_input("nvidia/cuda:12.4.1-base-ubuntu22.04"), "gpus": {"H100": 1}},
            node_groups=[pulumi.Output.from_input({"group": "l40s", "gpus": {"L40S": 1}})],
        )

    _fresh_run(recorder, failing=True)
    with pytest.raises(InvalidArgs) as raised:
        pulumi.runtime.test(lambda: pulumi.Output.all(build().gpu_resource))()
    assert [e["property_path"] for e in raised.value.errors or []] == ["gpus.H100"]
    assert [name for name, (typ, _, _) in recorder.registered.items() if typ.startswith("kubernetes:")] == []


def test_a_secret_args_problem_is_withheld_from_the_property_errors() -> None:
    """The engine prints a property error's value; a secret's problem goes to the message."""
    recorder = _Recorder()
    _fresh_run(recorder, failing=True)
    key = pulumi.Output.secret(["not-a-key AAAA"])
    with pytest.raises(InvalidArgs) as raised:
        pulumi.runtime.test(
            lambda: GpuVirtualMachine("vm", {"gpus": {"L40S": 1}, "sshKeys": key}, tenant=Tenant("t")).gpus
        )()
    assert raised.value.errors == []
    assert [e["property_path"] for e in raised.value.withheld] == ["sshKeys[0]"]
    assert "sshKeys[0]: not an OpenSSH public key" in raised.value.message
    assert "not-a-key" not in str(raised.value)


def test_holds_outputs_looks_inside_lists_and_maps() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())
    assert holds_outputs({"a": [1, {"b": pulumi.Output.from_input(2)}]})
    assert not holds_outputs({"a": [1, {"b": 2}], "c": STAND_IN})


def test_an_arg_that_would_shape_the_resources_cannot_take_outputs_unnoticed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guard behind ``INPUTS``: were ``dataDisks`` (which makes one VMDisk per disk) listed,
    the plan made once the Output is known would not be the one registered, and it says so."""
    wrong = {**GpuVirtualMachine.INPUTS, "data_disks": InputArg({}, ("dataDisks",))}
    monkeypatch.setattr(GpuVirtualMachine, "INPUTS", wrong)
    disks = {"scratch": {"size": "100Gi", "protect": False}}
    with pytest.raises(RuntimeError, match="changed which resources are planned"):
        _registered(
            lambda: GpuVirtualMachine(
                "vm", {"gpus": {"L40S": 1}, "dataDisks": pulumi.Output.from_input(disks)}, tenant=Tenant("t")
            ),
            failing=True,
        )
