"""The components as reusable units in any Pulumi program (no stack config layer), under
Pulumi's own test mocks: they check their own args, take the provider through ``opts`` and
publish typed outputs."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import typing
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import (
    GpuKubernetesCluster,
    GpuKubernetesClusterArgs,
    GpuNodeGroup,
    GpuOperator,
    GpuOperatorArgs,
    GpuVirtualMachine,
    GpuVirtualMachineArgs,
    GpuWorkload,
    GpuWorkloadArgs,
    GroupPlacement,
    KubeVirtArgs,
    KubeVirtGpuPassthrough,
    KubeVirtGpuVirtualMachine,
    KubeVirtGpuVmArgs,
    NodeArgs,
    NodeGroupArgs,
    Tenant,
)
from components.models.sharing import Sharing
from components.package import schema as package_schema

ADMIN_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []  # test-only admin kubeconfig\n"
TENANT = Tenant("tenant-lib")
ROOT = Path(__file__).resolve().parents[1]


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []
        self.read: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id:  # Resource.get: the platform's kubeconfig Secret exists
            self.read.append(args)
            encoded = base64.b64encode(ADMIN_KUBECONFIG.encode()).decode()
            return args.resource_id, {"data": {"super-admin.conf": encoded}}
        self.created.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None

    def named(self) -> dict[str, pulumi.runtime.MockResourceArgs]:
        return {a.name: a for a in self.created}


MOCKS = _Mocks()


@pytest.fixture(autouse=True)
def _mocks() -> None:
    """These mocks for every test here (other modules set their own)."""
    policy = asyncio.get_event_loop_policy()
    try:  # an earlier test's asyncio.run may have left no loop (or a closed one)
        if policy.get_event_loop().is_closed():
            raise RuntimeError("closed")
    except RuntimeError:
        policy.set_event_loop(policy.new_event_loop())
    pulumi.runtime.set_mocks(MOCKS, project="library", stack="test", preview=False)


def _vm(**fields: Any) -> GpuVirtualMachineArgs:
    return GpuVirtualMachineArgs.model_validate({"gpus": {"H100": 1}, **fields})


@pulumi.runtime.test
def test_vm_outputs_children_and_provider_from_opts() -> pulumi.Output[None]:
    provider = k8s.Provider("cluster", namespace="tenant-lib")
    args = _vm(gpus={"H100": 2}, dataDisks={"scratch": {"size": "500Gi", "protect": False}})
    vm = GpuVirtualMachine("infer", args, pulumi.ResourceOptions(provider=provider), tenant=TENANT)

    def check(values: list[Any]) -> None:
        name, namespace, gpus, instance_type, service = values[:5]
        assert (name, namespace, service) == ("infer", "tenant-lib", "vm-instance-infer")
        assert gpus == ["nvidia.com/H100_94GB", "nvidia.com/H100_94GB"]
        assert instance_type == "u1.4xlarge"
        names = MOCKS.named()
        assert {"infer", "infer-disk-system", "infer-disk-scratch", "infer-instance"} <= set(names)
        assert names["infer"].typ == "hikube-gpu:vm:GpuVirtualMachine"
        assert names["infer-instance"].typ == "kubernetes:apps.cozystack.io/v1alpha1:VMInstance"
        assert names["infer-disk-scratch"].inputs["spec"]["storage"] == "500Gi"
        # The children use the provider given to the component through opts.
        for child in ("infer-instance", "infer-disk-system", "infer-disk-scratch"):
            assert "pulumi:providers:kubernetes::cluster::" in (names[child].provider or "")

    # Waiting on the children's ids makes the check run after they are registered.
    children = [vm.instance.id, *(disk.id for disk in vm.disks.values())]
    outputs = [vm.vm_name, vm.namespace, vm.gpus, vm.instance_type, vm.service_name]
    return pulumi.Output.all(*outputs, *children).apply(check)


@pulumi.runtime.test
def test_a_providers_list_in_opts_reaches_the_children_too() -> pulumi.Output[None]:
    provider = k8s.Provider("listed", namespace="tenant-lib")
    vm = GpuVirtualMachine("listed-vm", _vm(), pulumi.ResourceOptions(providers=[provider]), tenant=TENANT)

    def check(_: Any) -> None:
        assert "pulumi:providers:kubernetes::listed::" in (MOCKS.named()["listed-vm-instance"].provider or "")

    return vm.instance.id.apply(check)


@pytest.mark.parametrize(
    ("fields", "path", "reason"),
    [
        (
            {"instanceType": "o1.xlarge"},
            "instanceType",
            "'o1.xlarge' cannot host GPUs: o1 overcommits memory",
        ),
        (
            {"instanceType": "u1.2xlarge", "resources": {"cpu": 8, "memory": "32Gi"}},
            "resources",
            "instanceType and resources are mutually exclusive",
        ),
        ({"instanceType": "u9.huge"}, "instanceType", "unknown instance type 'u9.huge'"),
        ({"gpus": {"H100": 5}}, "instanceType", "required for 5 GPUs: no u1 type has 8 vCPU per GPU"),
        ({"instanceType": "u1.small"}, "instanceType", "u1.small has 2Gi of memory"),
        ({"disk": {"size": "5"}}, "disk.size", "5 is less than 1Gi"),
    ],
    ids=[
        "overcommit",
        "type-and-resources",
        "unknown-type",
        "no-default-size",
        "too-little-memory",
        "tiny-disk",
    ],
)
def test_bad_vm_args_fail_inside_the_component_naming_the_property(
    fields: dict[str, Any], path: str, reason: str
) -> None:
    name = f"bad-{len(MOCKS.created)}"
    with pytest.raises(pulumi.InputPropertiesError) as raised:
        GpuVirtualMachine(name, _vm(**fields), tenant=TENANT)
    errors = raised.value.errors or []
    assert [e["property_path"] for e in errors] == [path]
    assert reason in errors[0]["reason"]
    assert f"{path}: " in str(raised.value)
    assert not [a for a in MOCKS.created if a.name.startswith(name)], "nothing is registered"


def test_bad_args_of_the_other_components_name_their_properties() -> None:
    with pytest.raises(pulumi.InputPropertiesError) as group:
        GpuNodeGroup("g", NodeGroupArgs.model_validate({"gpus": {"L40S": 1}, "instanceType": "o1.2xlarge"}))
    assert [e["property_path"] for e in group.value.errors or []] == ["instanceType"]

    cluster = GpuKubernetesClusterArgs.model_validate(
        {
            "nodeGroups": {"l40s": {"gpus": {"L40S": 1}, "instanceType": "u9.huge"}},
            "workloads": {
                "smi": {"kind": "Job", "image": "nvidia/cuda:12.4.1-base-ubuntu22.04", "gpus": {"L40S": 1}}
            },
        }
    )
    with pytest.raises(pulumi.InputPropertiesError) as cluster_error:
        GpuKubernetesCluster("c", cluster, tenant=TENANT)
    assert [e["property_path"] for e in cluster_error.value.errors or []] == ["nodeGroups.l40s.instanceType"]

    raw = KubeVirtGpuVmArgs.model_validate({"gpus": {"L40S": 1}, "evictionStrategy": "LiveMigrate"})
    with pytest.raises(pulumi.InputPropertiesError) as raw_error:
        KubeVirtGpuVirtualMachine("raw", raw, namespace="gpu-vms")
    assert [e["property_path"] for e in raw_error.value.errors or []] == ["evictionStrategy"]

    workload = GpuWorkloadArgs.model_validate(
        {"image": "nvidia/cuda:12.4.1-base-ubuntu22.04", "gpus": {"H100": 1}}
    )
    with pytest.raises(pulumi.InputPropertiesError) as workload_error:
        GpuWorkload("w", workload, node_groups=[GroupPlacement("l40s", {"L40S": 1})])  # type: ignore[dict-item]
    assert [e["property_path"] for e in workload_error.value.errors or []] == ["gpus.H100"]
    assert "no node group of the given node groups has H100 GPUs (it has L40S)" in str(workload_error.value)


@pulumi.runtime.test
def test_cluster_reads_the_admin_kubeconfig_as_a_secret_for_its_provider() -> pulumi.Output[None]:
    provider = k8s.Provider("tenant", namespace="tenant-lib")
    args = GpuKubernetesClusterArgs.model_validate(
        {
            "nodeGroups": {"l40s": {"gpus": {"L40S": 1}, "maxReplicas": 2}},
            "workloads": {
                "smi": {"kind": "Job", "image": "nvidia/cuda:12.4.1-base-ubuntu22.04", "gpus": {"L40S": 1}}
            },
        }
    )
    cluster = GpuKubernetesCluster("lab", args, pulumi.ResourceOptions(provider=provider), tenant=TENANT)

    def check(values: list[Any]) -> None:
        kubeconfig, is_secret, name, secret_name = values[:4]
        assert kubeconfig == ADMIN_KUBECONFIG
        assert is_secret
        assert (name, secret_name) == ("lab", "kubernetes-lab-admin-kubeconfig")
        assert [a.resource_id for a in MOCKS.read] == ["tenant-lib/kubernetes-lab-admin-kubeconfig"]
        assert "pulumi:providers:kubernetes::tenant::" in (MOCKS.read[0].provider or "")
        names = MOCKS.named()
        assert names["lab-provider"].typ == "pulumi:providers:kubernetes"
        job = names["lab-smi-job"]
        assert "pulumi:providers:kubernetes::lab-provider::" in (job.provider or "")
        spec = job.inputs["spec"]["template"]["spec"]
        assert spec["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 1}
        assert spec["nodeSelector"] == {"node-role.kubernetes.io/gpu-l40s": ""}
        assert names["lab-l40s"].typ == "hikube-gpu:k8s:GpuNodeGroup"

    job = cluster.workloads["smi"].resources["job"]
    return pulumi.Output.all(
        pulumi.Output.unsecret(cluster.kubeconfig),
        pulumi.Output.is_secret(cluster.kubeconfig),
        cluster.cluster_name,
        cluster.kubeconfig_secret,
        job.id,
    ).apply(check)


@pulumi.runtime.test
def test_a_workload_is_placed_from_a_node_groups_outputs() -> pulumi.Output[None]:
    group = GpuNodeGroup(
        "a100",
        NodeGroupArgs.model_validate(
            {"gpus": {"A100": 1}, "maxReplicas": 3, "sharing": {"mig": {"profile": "3g.40gb"}}}
        ),
    )
    args = GpuWorkloadArgs.model_validate(
        {"image": "nvidia/cuda:12.4.1-base-ubuntu22.04", "gpus": {"A100": 1}}
    )
    workload = GpuWorkload("infer-a100", args, node_groups=[group])
    plain = GpuWorkload(
        "infer-plain",
        args,
        node_groups=[
            GroupPlacement("spare", {"A100": 2}, Sharing.model_validate({"timeSlicing": {"replicas": 4}}))
        ],  # type: ignore[dict-item]
    )

    def check(values: list[Any]) -> None:
        role, selector, max_gpus, sharing, resource, groups, plain_resource = values[:7]
        assert (role, max_gpus, sharing) == ("gpu-a100", 3, "mig")
        pod = MOCKS.named()["infer-a100-deployment"].inputs["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == selector == {"node-role.kubernetes.io/gpu-a100": ""}
        assert resource == "nvidia.com/mig-3g.40gb"
        assert pod["containers"][0]["resources"]["limits"] == {resource: 1}
        assert groups == ["a100"]
        assert plain_resource == "nvidia.com/gpu"
        plain_pod = MOCKS.named()["infer-plain-deployment"].inputs["spec"]["template"]["spec"]
        assert plain_pod["nodeSelector"] == {"node-role.kubernetes.io/gpu-spare": ""}

    return pulumi.Output.all(
        group.role,
        group.node_selector,
        group.max_gpus,
        group.sharing,
        workload.gpu_resource,
        workload.node_groups,
        plain.gpu_resource,
        workload.resources["deployment"].id,
        plain.resources["deployment"].id,
    ).apply(check)


@pulumi.runtime.test
def test_platform_components_are_exported_and_typed() -> pulumi.Output[None]:
    host = k8s.Provider("host")
    opts = pulumi.ResourceOptions(provider=host)
    operator = GpuOperator(
        "op",
        GpuOperatorArgs(),
        opts,
        nodes={"gpu-1": NodeArgs.model_validate({"workload": "vm-passthrough"})},
    )
    passthrough = KubeVirtGpuPassthrough(
        "pt", KubeVirtArgs.model_validate({"version": "1.6", "gpus": ["L40S"]}), opts
    )
    raw = KubeVirtGpuVirtualMachine(
        "raw-ok", KubeVirtGpuVmArgs.model_validate({"gpus": {"L40S": 1}}), opts, namespace="gpu-vms"
    )

    def check(values: list[Any]) -> None:
        namespace, sandbox, permitted, gpus, instance_type = values[:5]
        assert namespace == "gpu-operator"
        assert sandbox is True
        assert permitted == {"L40S": "nvidia.com/AD102GL_L40S"}
        assert gpus == ["nvidia.com/AD102GL_L40S"]
        assert instance_type == "u1.2xlarge"
        names = MOCKS.named()
        for child in ("op-release", "op-node-gpu-1", "pt-patch", "raw-ok-vm"):
            assert "pulumi:providers:kubernetes::host::" in (names[child].provider or ""), child

    return pulumi.Output.all(
        operator.namespace,
        operator.sandbox_workloads,
        passthrough.permitted,
        raw.gpus,
        raw.instance_type,
        operator.release.id,
        passthrough.patch.id,
        raw.vm.id,
        *(patch.id for patch in operator.nodes.values()),
    ).apply(check)


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    GpuVirtualMachine,
    GpuKubernetesCluster,
    GpuNodeGroup,
    GpuWorkload,
    GpuOperator,
    KubeVirtGpuPassthrough,
    KubeVirtGpuVirtualMachine,
]


@pytest.mark.parametrize("component", COMPONENTS, ids=[c.__name__ for c in COMPONENTS])
def test_outputs_are_declared_on_the_class_as_typed_outputs(
    component: type[pulumi.ComponentResource],
) -> None:
    hints = inspect.get_annotations(component, eval_str=True)
    assert hints, f"{component.__name__} declares no outputs"
    for attribute, hint in hints.items():
        assert typing.get_origin(hint) is pulumi.Output, f"{component.__name__}.{attribute}: {hint}"
    parameters = list(inspect.signature(component.__init__).parameters)
    assert parameters[:4] == ["self", "name", "args", "opts"]
    assert "provider" not in parameters


# The multi-language package: the classes Pulumi's component provider host serves.


def _host_construct(component: str, name: str, inputs: dict[str, Any]) -> pulumi.ComponentResource:
    """What the host's ``construct`` does with a program's (camelCase) inputs, without the engine."""
    host = package_schema.provider()
    mapped = host.map_inputs(inputs, host._component_defs[component])
    served: pulumi.ComponentResource = host._components[component](name, mapped, None)
    return served


@pulumi.runtime.test
def test_the_package_serves_a_vm_under_the_new_token_with_the_old_one_as_alias() -> pulumi.Output[None]:
    vm = _host_construct(
        "GpuVirtualMachine",
        "llm-serve",
        {"namespace": "tenant-acme", "gpus": {"H100": 1}, "dataDisks": {"models": {"size": "200Gi"}}},
    )
    assert isinstance(vm, GpuVirtualMachine)
    pinned = (ROOT / "tests" / "__snapshots__" / "test_guardrails.ambr").read_text(encoding="utf-8")

    def check(values: list[Any]) -> None:
        # Under the mocks the program's root Stack resource is the parent of both.
        urn, alias, instance_type = (str(v).replace("pulumi:pulumi:Stack$", "") for v in values[:3])
        assert urn == "urn:pulumi:test::library::hikube-gpu:index:GpuVirtualMachine::llm-serve"
        assert alias == "urn:pulumi:test::library::hikube-gpu:vm:GpuVirtualMachine::llm-serve"
        # The alias is the URN the Python program registers (pinned for the acme-vms example):
        # a stack that moves to the package keeps its VM (and, through it, its children).
        as_acme = alias.replace("urn:pulumi:test::library::", "urn:pulumi:acme-vms::hikube-gpu::")
        assert f"'{as_acme}'" in pinned
        assert instance_type == "u1.2xlarge"
        disk = MOCKS.named()["llm-serve-disk-models"]
        assert disk.inputs["spec"]["storage"] == "200Gi"

    return pulumi.Output.all(vm.urn, vm._aliases[0], vm.instance_type, vm.instance.id).apply(check)  # type: ignore[attr-defined]


def test_the_package_reports_bad_inputs_with_their_property_paths() -> None:
    with pytest.raises(pulumi.InputPropertyError) as missing:  # the host's own check
        _host_construct("GpuVirtualMachine", "p1", {"gpus": {"H100": 1}})
    assert missing.value.property_path == "namespace"
    with pytest.raises(pulumi.InputPropertiesError) as model:
        _host_construct(
            "GpuVirtualMachine", "p2", {"namespace": "t", "gpus": {"H100": 1}, "runStrategy": "Sometimes"}
        )
    assert [e["property_path"] for e in model.value.errors or []] == ["runStrategy"]
    with pytest.raises(pulumi.InputPropertiesError) as check:
        _host_construct(
            "GpuVirtualMachine", "p3", {"namespace": "t", "gpus": {"H100": 1}, "instanceType": "o1.xlarge"}
        )
    assert [e["property_path"] for e in check.value.errors or []] == ["instanceType"]


@pulumi.runtime.test
def test_the_package_places_a_workload_from_placement_inputs() -> pulumi.Output[None]:
    workload = _host_construct(
        "GpuWorkload",
        "pkg-infer",
        {
            "image": "nvidia/cuda:12.4.1-base-ubuntu22.04",
            "gpus": {"A100": 1},
            "placement": [{"group": "a100", "gpus": {"A100": 1}, "sharing": {"mig": {"profile": "3g.40gb"}}}],
        },
    )
    assert isinstance(workload, GpuWorkload)

    def check(values: list[Any]) -> None:
        assert values[0] == "nvidia.com/mig-3g.40gb"
        pod = MOCKS.named()["pkg-infer-deployment"].inputs["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"node-role.kubernetes.io/gpu-a100": ""}

    return pulumi.Output.all(workload.gpu_resource, workload.resources["deployment"].id).apply(check)


def test_the_checked_in_schema_is_what_the_host_serves() -> None:
    """Fails when a model, a docstring or a component changed without
    ``python -m components.package.schema``."""
    served = package_schema.render()
    assert package_schema.SCHEMA_FILE.read_text(encoding="utf-8") == served, (
        "schema/components.schema.json is stale: run python -m components.package.schema"
    )
    resources = json.loads(served)["resources"]
    assert sorted(resources) == sorted(f"hikube-gpu:index:{c.__name__}" for c in COMPONENTS)
    vm = resources["hikube-gpu:index:GpuVirtualMachine"]
    assert vm["requiredInputs"] == ["gpus", "namespace"]
    assert vm["properties"]["instanceType"]["description"].startswith("The instance type")


def test_the_platform_components_check_their_args_too() -> None:
    with pytest.raises(pulumi.InputPropertiesError) as operator:
        GpuOperator(
            "op-bad",
            GpuOperatorArgs.model_validate({"version": "v1.0.0"}),
            nodes={"gpu-1": NodeArgs.model_validate({"workload": "container", "sharing": "nope"})},
        )
    assert [e["property_path"] for e in operator.value.errors or []] == ["nodes.gpu-1.sharing", "version"]
    with pytest.raises(pulumi.InputPropertiesError) as passthrough:
        KubeVirtGpuPassthrough("pt-bad", KubeVirtArgs.model_validate({"version": "0.9", "gpus": ["L40S"]}))
    assert [e["property_path"] for e in passthrough.value.errors or []] == ["version"]
    assert not [a for a in MOCKS.created if a.name.startswith(("op-bad", "pt-bad"))]


@pytest.mark.parametrize("requested", ["o1.xlarge", "u9.huge"])
def test_vms_node_groups_and_raw_vms_resolve_instance_types_with_one_message_set(requested: str) -> None:
    """One resolver (``resolve_instance_type``): the same words wherever a type is refused."""
    reasons = []
    attempts = [
        lambda: GpuVirtualMachine("r-vm", _vm(instanceType=requested), tenant=TENANT),
        lambda: GpuNodeGroup(
            "r-group", NodeGroupArgs.model_validate({"gpus": {"L40S": 1}, "instanceType": requested})
        ),
        lambda: KubeVirtGpuVirtualMachine(
            "r-raw",
            KubeVirtGpuVmArgs.model_validate({"gpus": {"L40S": 1}, "instanceType": requested}),
            namespace="n",
        ),
    ]
    for attempt in attempts:
        with pytest.raises(pulumi.InputPropertiesError) as raised:
            attempt()
        (error,) = raised.value.errors or []
        assert error["property_path"] == "instanceType"
        reasons.append(error["reason"])
    if requested.startswith("o1."):
        assert len(set(reasons)) == 1, reasons
        assert reasons[0].startswith("'o1.xlarge' cannot host GPUs: o1 overcommits memory")
    else:  # the choices differ (a raw VM takes u1 or d1), the sentence does not
        assert (
            reasons[0]
            == reasons[1]
            == "unknown instance type 'u9.huge'; choose a u1, s1, m1 or cx1 type (e.g. u1.2xlarge)"
        )
        assert reasons[2] == "unknown instance type 'u9.huge'; choose a u1 or d1 type (e.g. u1.2xlarge)"
