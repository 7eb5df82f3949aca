"""What a deployed stack should look like, from the plan and builders the program itself uses.

VMs come from the planned ``VMInstance``/``VMDisk`` (tenant) and ``VirtualMachine`` (platform)
manifests; node groups from ``effective_node_groups`` and the profile's ``node_group_scale``
(Cozystack before v1.6 starts every group with 2 nodes, P2); the GPU resources a node should
publish from ``placement.node_resources`` (whole GPUs, time-sliced or MPS replicas, MIG
instances); platform node labels from ``gpu_operator_release.node_labels``. No fact is
restated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.builders.gpu_operator_release import node_labels
from components.builders.gpu_sharing import plan_sharing
from components.builders.manifest import Manifest
from components.builders.node_group import effective_node_groups, node_roles
from components.catalog.gpus import GpuModelName, gpu
from components.catalog.platform import PROFILES, NodeGroupScale
from components.models.cluster import GpuKubernetesClusterArgs
from components.plan.resources import Scope
from components.resolve.names import (
    TENANT_OPERATOR_NAMESPACE,
    kubeconfig_secret_name,
    role_label,
    vm_release_name,
)
from components.resolve.placement import advertised, group_placements, model_sharing, node_resources
from stacks.loading.problems import NAMESPACE
from stacks.program.cluster_summary import describe_sharing
from stacks.validation.config import PlatformStack, Stack, TenantStack

MIG_PREFIX = "nvidia.com/mig-"
RUNNING = frozenset({"Always", "RerunOnFailure"})
"""Run strategies under which the VM must be running (``Halted``: stopped; ``Manual``, ``Once``:
either)."""


@dataclass(frozen=True)
class VmExpectation:
    """One VM: a Cozystack ``VMInstance`` (tenant) or a raw KubeVirt ``VirtualMachine`` (platform)."""

    name: str
    namespace: str
    kubevirt_name: str
    """The KubeVirt VirtualMachine (and its VMI): ``vm-instance-<name>`` for a VMInstance."""
    gpus: tuple[str, ...]
    """The device names its VMI must carry (``spec.domain.devices.gpus[].deviceName``)."""
    run_strategy: str
    disks: tuple[str, ...] = ()
    """Its ``VMDisk`` apps (tenant)."""
    app: bool = True
    """A Cozystack ``VMInstance`` (False: a raw VM)."""

    @property
    def subject(self) -> str:
        return f"vm {self.name}"


@dataclass(frozen=True)
class Probe:
    """One smoke pod: one of ``resource`` on a node of the group, which should see one of ``models``."""

    resource: str
    models: tuple[GpuModelName, ...]
    mig_profile: str | None = None


@dataclass(frozen=True)
class GroupExpectation:
    cluster: str
    group: str
    role: str | None
    """The role label that tells the group's nodes (``node-role.kubernetes.io/<role>``); None
    when every role of the group is shared with another group."""
    scale: NodeGroupScale
    profile: str
    resources: dict[str, int]
    """GPU resources one node publishes (``status.allocatable``)."""
    models: dict[GpuModelName, int]
    sharing: str
    config_labels: dict[str, str] = field(default_factory=dict)
    """The labels node-feature-discovery puts on its nodes for shared models (``gpu_sharing``)."""
    probes: tuple[Probe, ...] = ()

    @property
    def subject(self) -> str:
        return f"{self.cluster}/{self.group}"

    @property
    def label(self) -> str | None:
        return role_label(self.role) if self.role else None


@dataclass(frozen=True)
class ClusterExpectation:
    name: str
    namespace: str
    kubeconfig_secret: str
    groups: tuple[GroupExpectation, ...]
    operator: bool
    """The cluster runs the GPU Operator add-on."""
    dcgm_exporter: bool
    operator_namespace: str = TENANT_OPERATOR_NAMESPACE
    args: GpuKubernetesClusterArgs | None = None
    """The cluster's validated args (smoke pods are built from them)."""

    @property
    def gpu_groups(self) -> tuple[GroupExpectation, ...]:
        return tuple(g for g in self.groups if g.models)


@dataclass(frozen=True)
class PlatformExpectation:
    nodes: dict[str, dict[str, str]]
    """Node → the labels its NodePatch sets."""
    workloads: dict[str, str]
    """Node → its workload mode (``container``, ``vm-passthrough``, ``vm-vgpu``)."""
    operator_namespace: str
    vms: tuple[VmExpectation, ...]


def planned_manifests(stack: Stack) -> list[Manifest]:
    """The Kubernetes objects the program registers for ``stack`` (``stacks.program.plan``)."""
    from stacks.program.plan import plan

    resources = plan(stack, Scope("verify", NAMESPACE)).resources
    return [r.manifest for r in resources if r.manifest is not None]


def tenant_vms(stack: TenantStack) -> tuple[VmExpectation, ...]:
    vms = []
    for manifest in planned_manifests(stack):
        if manifest.kind != "VMInstance":
            continue
        spec = manifest.body["spec"]
        vms.append(
            VmExpectation(
                name=manifest.name,
                namespace=manifest.namespace,
                kubevirt_name=vm_release_name(manifest.name),
                gpus=tuple(str(g["name"]) for g in spec["gpus"]),
                run_strategy=str(spec["runStrategy"]),
                disks=tuple(str(d["name"]) for d in spec["disks"]),
            )
        )
    return tuple(vms)


def _unique_role(name: str, roles: dict[str, list[str]]) -> str | None:
    """The first role of group ``name`` that no other group has."""
    others = {role for group, listed in roles.items() if group != name for role in listed}
    return next((role for role in roles[name] if role not in others), None)


def cluster_expectation(stack: TenantStack, name: str) -> ClusterExpectation:
    cluster = stack.clusters[name]
    profile = PROFILES[stack.platform.profile]
    app = profile.kubernetes
    groups = effective_node_groups(cluster, app)
    roles = {group: node_roles(group, args) for group, args in groups.items()}
    shared = plan_sharing(cluster, app.gpu_operator_mig_strategy)
    rule_labels = {
        model: dict(rule["labels"]) for model, rule in zip(shared.models, shared.nfd_rules, strict=True)
    }
    placements = {p.group: p for p in group_placements(cluster)}
    expected = []
    for group, args in groups.items():
        placement = placements.get(group)  # None: the platform's own md0
        labels: dict[str, str] = {}
        probes = []
        for model in args.gpus:
            if placement is None:
                break
            labels.update(rule_labels.get(model, {}))
            sharing = model_sharing(cluster, model)
            for resource in advertised(placement, model, sharing):
                mig = resource.removeprefix(MIG_PREFIX) if sharing.mig is not None else None
                probes.append(Probe(resource, (model,), mig))
        expected.append(
            GroupExpectation(
                cluster=name,
                group=group,
                role=_unique_role(group, roles),
                scale=app.node_group_scale(args.min_replicas, args.max_replicas),
                profile=profile.name,
                resources=node_resources(cluster, group) if placement is not None else {},
                models=dict(args.gpus),
                sharing=describe_sharing(args),
                config_labels=labels,
                probes=tuple(_merge(probes)),
            )
        )
    return ClusterExpectation(
        name=name,
        namespace=stack.platform.namespace or "",
        kubeconfig_secret=kubeconfig_secret_name(name),
        groups=tuple(expected),
        operator=cluster.gpu_operator_enabled,
        dcgm_exporter=cluster.addons.gpu_operator.dcgm_exporter.enabled,
        args=cluster,
    )


def _merge(probes: list[Probe]) -> list[Probe]:
    """One probe per resource: a ``nvidia.com/gpu`` pod on a node with several models may get any."""
    merged: dict[str, Probe] = {}
    for probe in probes:
        seen = merged.get(probe.resource)
        models = (*seen.models, *probe.models) if seen else probe.models
        merged[probe.resource] = Probe(probe.resource, models, probe.mig_profile)
    return list(merged.values())


def tenant_clusters(stack: TenantStack) -> tuple[ClusterExpectation, ...]:
    return tuple(cluster_expectation(stack, name) for name in sorted(stack.clusters))


def platform_expectation(stack: PlatformStack) -> PlatformExpectation:
    vms = []
    for manifest in planned_manifests(stack):
        if manifest.kind != "VirtualMachine":
            continue
        spec = manifest.body["spec"]
        devices = spec["template"]["spec"]["domain"]["devices"]
        vms.append(
            VmExpectation(
                name=manifest.name,
                namespace=manifest.namespace,
                kubevirt_name=manifest.name,
                gpus=tuple(str(g["deviceName"]) for g in devices.get("gpus", [])),
                run_strategy=str(spec.get("runStrategy", "Always")),
                app=False,
            )
        )
    return PlatformExpectation(
        nodes={name: node_labels(args) for name, args in sorted(stack.nodes.items())},
        workloads={name: args.workload for name, args in sorted(stack.nodes.items())},
        operator_namespace=stack.gpu_operator.namespace,
        vms=tuple(vms),
    )


def gfd_product(model: GpuModelName) -> str:
    """The ``nvidia.com/gpu.product`` label GPU Feature Discovery gives the model (catalog)."""
    return gpu(model).gfd_product
