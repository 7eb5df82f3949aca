"""The checks of a ``GpuKubernetesCluster``'s args: the cluster, its node groups (``check_node_group``),
how they share GPUs, and where each workload can run.

Paths are relative to the cluster's args (``nodeGroups.a100.sharing.mig``).
"""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.instance_types import instance_type
from components.catalog.node_allocatable import NODE_RESERVATIONS
from components.catalog.platform import PlatformProfile
from components.catalog.quantity import MIB, format_gib, parse_quantity
from components.checks.issues import Issue, prop
from components.checks.names import derived_name_issues
from components.checks.node_group import check_node_group
from components.checks.workload import check_workload
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.workload import GpuWorkloadArgs
from components.resolve.addons import addon_state
from components.resolve.instance_types import node_instance_type
from components.resolve.names import gpu_role, role_label
from components.resolve.placement import eligible_groups, mig_profile, per_node, sharing_of
from components.resolve.sharing import chart_mig_strategy


def check_cluster(profile: PlatformProfile, name: str, cluster: GpuKubernetesClusterArgs) -> list[Issue]:
    """Every problem of cluster ``name`` on ``profile`` (its node groups and workloads included)."""
    return list(_all(profile, name, cluster))


def _all(profile: PlatformProfile, name: str, cluster: GpuKubernetesClusterArgs) -> Iterator[Issue]:
    yield from _cluster(profile, name, cluster)
    group_problems = [
        issue.below("nodeGroups", g)
        for g, spec in cluster.node_groups.items()
        for issue in check_node_group(spec)
    ]
    group_problems += _node_group_names(profile, name, cluster)
    group_problems += _role_collisions(cluster)
    group_problems += _sharing_consistency(name, cluster)
    group_problems += _mps_with_mixed_strategy(profile, name, cluster)
    yield from group_problems
    yield from _platform_scaling(profile, name, cluster)
    if any(p.severity == "error" for p in group_problems):
        return  # workloads are checked against valid node groups only
    for workload_name, workload in cluster.workloads.items():
        yield from _workload(profile, name, cluster, workload_name, workload)


def _cluster(profile: PlatformProfile, name: str, cluster: GpuKubernetesClusterArgs) -> Iterator[Issue]:
    app = profile.kubernetes
    yield from derived_name_issues(
        profile.name,
        "cluster",
        path=prop(),
        names={"cluster": name},
        subject="cluster",
        advice="use a cluster name of at most {allowed} characters",
        addon_on=lambda addon: addon_state(cluster, addon) if addon in app.addons else None,
    )
    if cluster.version is not None and cluster.version not in app.versions:
        yield Issue(
            prop("version"),
            f"{cluster.version!r} is not a Kubernetes version of the {profile.name} platform; "
            f"choose {', '.join(app.versions)}",
        )
    presets = {
        "apiServer": cluster.control_plane.api_server,
        "controllerManager": cluster.control_plane.controller_manager,
        "scheduler": cluster.control_plane.scheduler,
        "konnectivity": cluster.control_plane.konnectivity,
    }
    for key, preset in presets.items():
        if preset is not None and preset not in app.presets:
            yield Issue(
                prop("controlPlane", key),
                f"{preset!r} is not a resources preset of the {profile.name} platform "
                f"(e.g. {app.default_presets[key]})",
            )
    if cluster.addons.fluxcd is not None and "fluxcd" not in app.addons:
        yield Issue(
            prop("addons", "fluxcd"),
            f"the {profile.name} platform has no fluxcd add-on (removed after Cozystack v1.1)",
        )
    operator = cluster.addons.gpu_operator.enabled
    if operator is False and cluster.has_gpus:
        sharing = [g for g, spec in cluster.node_groups.items() if spec.sharing.kind != "none"]
        yield Issue(
            prop("addons", "gpuOperator", "enabled"),
            "GPU sharing needs the GPU Operator (node groups " + ", ".join(sorted(sharing)) + ")"
            if sharing
            else "node groups have GPUs but the GPU Operator is off: pods cannot request them",
            "error" if sharing else "warning",
        )
    yield from _gpu_driver(profile, cluster)
    if cluster.resource_naming == "per-model" and cluster.workloads:
        yield Issue(
            prop("resourceNaming"),
            "per-model resource names (nvidia.com/AD102GL_L40S…) are published on passthrough hosts; "
            "the GPU Operator inside a tenant cluster publishes nvidia.com/gpu, so pods stay Pending "
            "unless your cluster publishes the per-model names",
            "warning",
        )


def _gpu_driver(profile: PlatformProfile, cluster: GpuKubernetesClusterArgs) -> Iterator[Issue]:
    """Where the workers' OS keeps the GPU Operator's driver container out (Talos, Cozystack v1.6+),
    the driver must already be on the GPU nodes: ``driver.enabled: false`` says the platform put
    it there; true, a driver version, or nothing said with GPU node groups cannot work."""
    app = profile.kubernetes
    workers = app.workers
    if workers.operator_driver or not cluster.gpu_operator_enabled:
        return
    driver = cluster.addons.gpu_operator.driver
    on = f"{workers.name} workers ({profile.name} platform, Cozystack {profile.cozystack_version})"
    no_container = (
        f"the GPU Operator's driver container cannot install the NVIDIA driver on {on}: NVIDIA "
        f"publishes no driver:<version>-{workers.name.lower()}<release> image"
    )
    needs = (
        "the driver must come from the worker image (NVIDIA's system extensions, their kernel modules loaded)"
    )
    if not app.loads_gpu_kernel_modules:
        needs += (
            ", which the Kubernetes app cannot ask for (vanilla default schematic, no kernel-module "
            "setting: cozystack#3563)"
        )
    if driver.enabled is True:
        # upstream: NVIDIA/gpu-operator v26.3.1 controllers/object_controls.go:3355-3358
        # upstream: NVIDIA/gpu-operator v26.3.1 controllers/state_manager.go:656-682
        # upstream: cozystack/cozystack v1.6.0 packages/apps/kubernetes/templates/cluster.yaml:97-104
        yield Issue(
            prop("addons", "gpuOperator", "driver", "enabled"),
            f"{no_container}; {needs}; once the platform team provides it, set false",
        )
    elif driver.enabled is None and cluster.has_gpus:
        # upstream: NVIDIA/gpu-operator v26.3.1 controllers/object_controls.go:3355-3358
        # upstream: cozystack/cozystack v1.6.0 packages/apps/kubernetes/templates/cluster.yaml:97-104
        # upstream: cozystack/cozystack v1.6.0 packages/apps/kubernetes/values.yaml:287
        yield Issue(
            prop("addons", "gpuOperator", "driver", "enabled"),
            f"is not set, but {no_container}; {needs}; once the platform team provides it, set false "
            "(until then GPU pods stay Pending)",
        )
    if driver.version is not None:
        # upstream: NVIDIA/gpu-operator v26.3.1 controllers/object_controls.go:3355-3358
        yield Issue(
            prop("addons", "gpuOperator", "driver", "version"),
            f"no driver container runs on {on}: the driver is the worker image's; remove it",
        )


def _node_group_names(
    profile: PlatformProfile, name: str, cluster: GpuKubernetesClusterArgs
) -> Iterator[Issue]:
    """The machines' deployment-name label and the GPU role label fit (``DERIVED_NAMES``)."""
    for group_name in sorted(cluster.node_groups):
        group = cluster.node_groups[group_name]
        role = gpu_role(group_name) if group.gpus else ""
        yield from derived_name_issues(
            profile.name,
            "nodeGroup",
            path=prop("nodeGroups", group_name),
            names={"cluster": name, "group": group_name, "role": role},
            subject="group",
            advice="use a node group name of at most {allowed} characters (or a shorter cluster name)",
        )


def _role_collisions(cluster: GpuKubernetesClusterArgs) -> Iterator[Issue]:
    """A GPU group's role label is its own: workloads are placed on a group by that label."""
    owner: dict[str, str] = {}
    for group_name in sorted(cluster.node_groups):
        if cluster.node_groups[group_name].gpus:
            role = gpu_role(group_name)
            first = owner.setdefault(role, group_name)
            if first != group_name:
                # upstream: cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/cluster.yaml:318-320
                yield Issue(
                    prop("nodeGroups", group_name),
                    f"its nodes get the role label {role_label(role)}, as node group {first}'s do, so "
                    f"workloads placed on either group also land on the other's nodes; rename one",
                )
    for group_name in sorted(cluster.node_groups):
        for index, role in enumerate(cluster.node_groups[group_name].roles):
            holder = owner.get(role)
            if holder is not None and holder != group_name:
                # upstream: cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/cluster.yaml:318-320
                yield Issue(
                    prop("nodeGroups", group_name, "roles", index),
                    f"{role_label(role)} is node group {holder}'s GPU role label: workloads placed on "
                    f"{holder} would also land on {group_name}'s nodes; choose another role",
                )


def _sharing_consistency(name: str, cluster: GpuKubernetesClusterArgs) -> Iterator[Issue]:
    """Sharing is selected per GPU model on each node, so every group of a model must agree."""
    first: dict[str, tuple[str, object]] = {}
    for group_name in sorted(cluster.node_groups):
        group = cluster.node_groups[group_name]
        for model in group.gpus:
            seen = first.setdefault(model.value, (group_name, group.sharing))
            if seen[1] != group.sharing:
                yield Issue(
                    prop("nodeGroups", group_name, "sharing"),
                    f"differs from node group {seen[0]}, which also carries {model.value}; in one cluster "
                    f"every node group of a GPU model shares it the same way",
                )


def _mps_with_mixed_strategy(
    profile: PlatformProfile, name: str, cluster: GpuKubernetesClusterArgs
) -> Iterator[Issue]:
    """P4: the device plugin exits with MPS under MIG strategy ``mixed``, and the chart's strategy
    (``mixed`` as soon as one group uses MIG) applies to every node of the cluster."""
    models = {model: group.sharing for group in cluster.node_groups.values() for model in group.gpus}
    strategy = chart_mig_strategy(models, profile.kubernetes.gpu_operator_mig_strategy)
    if strategy != "mixed":
        return
    mig_groups = sorted(g for g, spec in cluster.node_groups.items() if spec.sharing.kind == "mig")
    for group_name in sorted(cluster.node_groups):
        if cluster.node_groups[group_name].sharing.kind == "mps":
            yield Issue(
                prop("nodeGroups", group_name, "sharing", "mps"),
                f"MPS cannot run in a cluster whose GPU Operator uses MIG strategy mixed (node group "
                f"{', '.join(mig_groups)} uses MIG): the device plugin refuses it and advertises no GPUs; "
                "use timeSlicing here, or MIG and MPS in separate clusters",
            )


def _platform_scaling(
    profile: PlatformProfile, name: str, cluster: GpuKubernetesClusterArgs
) -> Iterator[Issue]:
    """What the platform does with a GPU group's replicas (P2) and with scale-from-zero (P8)."""
    app = profile.kubernetes
    for group_name in sorted(cluster.node_groups):
        group = cluster.node_groups[group_name]
        if not group.gpus:
            continue
        path = prop("nodeGroups", group_name)
        scale = app.node_group_scale(group.min_replicas, group.max_replicas)
        if scale.starts_above_min:
            beyond = (
                f", more than maxReplicas ({group.max_replicas}), so quota and capacity count {scale.start}"
                if scale.start > group.max_replicas
                else ""
            )
            yield Issue(
                path,
                f"asks for {group.min_replicas}-{group.max_replicas} nodes, but on the {profile.name} "
                f"platform (Cozystack {profile.cozystack_version}) it starts with "
                f"{scale.start} nodes{beyond} "
                f"and is set back to {scale.start} when the cluster's release is upgraded; "
                f"a roll-out can add up to {group.max_replicas} more (peak {scale.peak} nodes, "
                f"{scale.peak * group.gpu_count} GPUs)",
                "warning",
            )
        if group.min_replicas == 0 and not app.autoscaler_knows_gpus:
            yield Issue(
                prop("nodeGroups", group_name, "minReplicas"),
                "is 0, but the platform gives the cluster autoscaler no GPU or role labels for this group "
                "(only cpu/memory), so once it has scaled to 0 nodes GPU pods may stay Pending; "
                "set minReplicas: 1 to keep a GPU node",
                "warning",
            )


def _workload(
    profile: PlatformProfile,
    cluster_name: str,
    cluster: GpuKubernetesClusterArgs,
    name: str,
    workload: GpuWorkloadArgs,
) -> Iterator[Issue]:
    """The workload's own checks (``check_workload``, the ones ``GpuWorkload`` runs), then
    whether the groups' nodes are big enough for it."""
    issues = check_workload(workload, cluster, scope=f"cluster {cluster_name}", object_name=name)
    yield from (issue.below("workloads", name) for issue in issues)
    # The checks that leave no groups or resource to size against stop here (as they always did).
    if any(issue.path in ("nodeGroup", f"gpus.{workload.model.value}") for issue in issues):
        return
    if sharing_of(cluster, workload).mig is not None and mig_profile(cluster, workload) is None:
        return
    yield from _workload_capacity(
        profile, ("workloads", name), cluster, workload, eligible_groups(cluster, workload)
    )


def _workload_capacity(
    profile: PlatformProfile,
    path: tuple[str, ...],
    cluster: GpuKubernetesClusterArgs,
    workload: GpuWorkloadArgs,
    groups: list[str],
) -> Iterator[Issue]:
    model = workload.model.value
    unit = "MIG instances" if sharing_of(cluster, workload).mig is not None else f"{model} GPUs"
    largest = max(per_node(cluster, g, workload) for g in groups)
    if workload.gpus_per_pod > largest:
        yield Issue(
            prop(*path, "gpus", model),
            f"asks for {workload.gpus_per_pod} per pod but a node of {', '.join(groups)} offers at most "
            f"{largest} {unit}",
        )
        return
    yield from _workload_replicas(
        profile, path=path, cluster=cluster, workload=workload, groups=groups, unit=unit
    )
    yield from _workload_size(profile, path, cluster, workload, groups)


def _workload_replicas(
    profile: PlatformProfile,
    *,
    path: tuple[str, ...],
    cluster: GpuKubernetesClusterArgs,
    workload: GpuWorkloadArgs,
    groups: list[str],
    unit: str,
) -> Iterator[Issue]:
    """The pods against the nodes the groups hold, counted as the quota counts them (P2)."""
    app = profile.kubernetes
    nodes = {g: cluster.node_groups[g] for g in groups}
    scales = {g: app.node_group_scale(spec.min_replicas, spec.max_replicas) for g, spec in nodes.items()}
    held = sum(per_node(cluster, g, workload) * scales[g].steady_max for g in groups)
    at_max = sum(per_node(cluster, g, workload) * nodes[g].max_replicas for g in groups)
    wanted = workload.gpus_per_pod * workload.replicas
    verb = f"hold{'s' * (len(groups) == 1)}"
    where = ", ".join(groups)
    if held == at_max:
        counted = "at maxReplicas"
    else:
        start = app.node_group_start_replicas
        counted = (
            f"at the nodes the platform runs and the quota counts (max({start}, maxReplicas) per group "
            f"on the {profile.name} platform, Cozystack {profile.cozystack_version})"
        )
    if wanted > held:
        # upstream: cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/cluster.yaml:289-290, 303
        yield Issue(
            prop(*path, "replicas"),
            f"{workload.replicas} pods × {workload.gpus_per_pod} need {wanted} {unit}; {where} {verb} "
            f"{held} {counted}",
        )
    elif wanted > at_max:
        # upstream: cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/cluster.yaml:289-290, 303
        yield Issue(
            prop(*path, "replicas"),
            f"{workload.replicas} pods × {workload.gpus_per_pod} need {wanted} {unit}; {where} {verb} "
            f"{held} {counted}, but only {at_max} at maxReplicas: the autoscaler never adds a node past "
            "maxReplicas, so once it has removed one the pods it held stay Pending; raise maxReplicas",
            "warning",
        )


def _workload_size(
    profile: PlatformProfile,
    path: tuple[str, ...],
    cluster: GpuKubernetesClusterArgs,
    workload: GpuWorkloadArgs,
    groups: list[str],
) -> Iterator[Issue]:
    """CPU and memory per pod against what a node leaves to pods (``NODE_RESERVATIONS``)."""
    reservation = NODE_RESERVATIONS[profile.name]
    sized = []
    for group_name in groups:
        found = instance_type(node_instance_type(cluster.node_groups[group_name]) or "")
        if found is not None:
            sized.append((group_name, found, reservation.allocatable(found.vcpu, found.memory_bytes)))
    if not sized:
        return
    on = f"on the {profile.name} platform ({reservation.describe()})"
    if workload.cpu is not None:
        group_name, node, left = max(sized, key=lambda s: s[2].millicores)
        if parse_quantity(workload.cpu) * 1000 > left.millicores:
            # upstream: components/catalog/node_allocatable.py (NODE_RESERVATIONS)
            # upstream: cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/cluster.yaml:249-251
            # upstream: kubernetes/kubelet v0.34.0 config/v1beta1/types.go:550-559
            # upstream: cozystack/cozystack v1.4.0 packages/apps/kubernetes/templates/cluster.yaml:246-279
            yield Issue(
                prop(*path, "cpu"),
                f"{workload.cpu} per pod cannot be scheduled: a {node.name} node of {group_name} "
                f"({node.vcpu} vCPU) leaves pods {left.millicores}m {on}",
            )
    if workload.memory is not None:
        group_name, node, left = max(sized, key=lambda s: s[2].memory_bytes)
        if parse_quantity(workload.memory) > left.memory_bytes:
            # upstream: components/catalog/node_allocatable.py (NODE_RESERVATIONS)
            # upstream: cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/cluster.yaml:249-251
            # upstream: kubernetes/kubelet v0.34.0 config/v1beta1/types.go:550-559
            # upstream: cozystack/cozystack v1.4.0 packages/apps/kubernetes/templates/cluster.yaml:246-279
            yield Issue(
                prop(*path, "memory"),
                f"{workload.memory} per pod cannot be scheduled: a {node.name} node of {group_name} "
                f"({format_gib(node.memory_bytes)}) leaves pods {left.memory_bytes // MIB}Mi {on}",
            )
