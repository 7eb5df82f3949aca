"""Semantic rules of a ``platform`` stack: GPU Operator, node modes, KubeVirt, raw GPU VMs."""

from __future__ import annotations

from collections.abc import Iterator

from components.builders.gpu_operator_release import sandbox_enabled, uses_vgpu
from components.catalog.gpu_operator import BUILTIN_MIG_CONFIGS, CHART_VERSIONS, VM_WORKLOADS
from components.catalog.gpus import GPU_MODELS, gpu
from components.catalog.kubevirt import (
    FEATURE_GATES,
    GPU_GATE_GA,
    MDEV_CONFIGURATION_FIELD,
    VERSIONS,
    parse_version,
)
from components.checks.node_group import mig_layout_problems
from components.checks.raw_vm import check_raw_vm
from components.models.kubevirt import KubeVirtArgs, KubeVirtGpuVmArgs
from stacks.config import PlatformStack
from stacks.problems import Problem, config_path


def check_platform(stack: PlatformStack) -> list[Problem]:
    """Every semantic problem of a platform stack, errors and warnings."""
    problems = list(_operator(stack))
    problems += _nodes(stack)
    if stack.kubevirt is not None:
        problems += _kubevirt(stack, stack.kubevirt)
    for name, vm in stack.vms.items():
        problems += _vm(stack, name, vm)
    return problems


def _builtin_mig_configs() -> set[str]:
    names = set(BUILTIN_MIG_CONFIGS)
    names |= {f"all-{p.name}" for model in GPU_MODELS.values() for p in model.mig_profiles}
    return names


def _operator(stack: PlatformStack) -> Iterator[Problem]:
    args = stack.gpu_operator
    if args.version not in CHART_VERSIONS:
        yield Problem(
            config_path("gpuOperator", "version"),
            f"{args.version!r} is not a chart version whose keys hikube-gpu knows; "
            f"choose {', '.join(CHART_VERSIONS)}",
        )
    vm_users = sorted(n for n, node in stack.nodes.items() if node.workload in VM_WORKLOADS)
    if args.default_workload in VM_WORKLOADS:
        vm_users.insert(0, f"defaultWorkload {args.default_workload}")
    if args.sandbox_workloads is False and vm_users:
        yield Problem(
            config_path("gpuOperator", "sandboxWorkloads"),
            "must be on for VM GPU nodes (" + ", ".join(vm_users) + "); the operator would "
            "ignore their workload label and install the container stack",
        )
    if uses_vgpu(args, stack.nodes) and not (args.vgpu_manager.repository and args.vgpu_manager.version):
        # Point at what asks for vGPU: a vm-vgpu node, else the default workload.
        vgpu_nodes = sorted(n for n, node in stack.nodes.items() if node.workload == "vm-vgpu")
        where = (
            config_path("nodes", vgpu_nodes[0])
            if vgpu_nodes
            else config_path("gpuOperator", "defaultWorkload")
        )
        yield Problem(
            where,
            "vm-vgpu needs your licensed vGPU manager image: "
            "set gpuOperator.vgpuManager.repository and .version",
        )
    for name, per_model in args.mig_configs.items():
        for model, layout in per_model.items():
            where = config_path("gpuOperator", "migConfigs", name, model.value)
            for issue in mig_layout_problems(where, model.value, layout):
                yield Problem(issue.path, issue.message, issue.severity)
    if args.mig_strategy == "mixed":
        for name in sorted(args.sharing_configs):
            if args.sharing_configs[name].as_sharing().kind == "mps":
                yield Problem(
                    config_path("gpuOperator", "sharingConfigs", name),
                    "MPS cannot run with gpuOperator.migStrategy mixed: the chart's strategy reaches every "
                    "device plugin and the plugin refuses MPS under it (no GPUs advertised); "
                    "choose migStrategy single or none, or time-slicing",
                )
    if (args.mig_configs or any(n.mig for n in stack.nodes.values())) and args.mig_strategy == "none":
        yield Problem(
            config_path("gpuOperator", "migStrategy"),
            "is none, so MIG layouts give no MIG devices to pods; choose single or mixed",
            "warning",
        )


def _nodes(stack: PlatformStack) -> Iterator[Problem]:
    args = stack.gpu_operator
    mig_names = ({"all-disabled"} | set(args.mig_configs)) if args.mig_configs else _builtin_mig_configs()
    for name, node in stack.nodes.items():
        path = ("nodes", name)
        if node.workload in VM_WORKLOADS:
            extra = [
                key for key, value in (("sharing", node.sharing), ("mig", node.mig)) if value is not None
            ]
            if extra:
                yield Problem(
                    config_path(*path),
                    f"is {node.workload} but also has {' and '.join(extra)}, which only container nodes use; "
                    "a node runs one workload type (vfio-manager binds all its GPUs)",
                )
                continue
        if node.sharing is not None and node.sharing not in args.sharing_configs:
            known = ", ".join(sorted(args.sharing_configs)) or "none defined"
            yield Problem(
                config_path(*path, "sharing"),
                f"no gpuOperator.sharingConfigs entry {node.sharing!r} ({known})",
            )
        if node.mig is not None and node.mig not in mig_names:
            hint = (
                "custom migConfigs replace the built-in layouts; use all-disabled or "
                + ", ".join(sorted(args.mig_configs))
                if args.mig_configs
                else "e.g. all-disabled, all-balanced, all-1g.10gb"
            )
            yield Problem(config_path(*path, "mig"), f"{node.mig!r} is not a MIG layout ({hint})")
    if not sandbox_enabled(args, stack.nodes) and stack.kubevirt is not None:
        reason = (
            "gpuOperator.sandboxWorkloads is off"
            if args.sandbox_workloads is False
            else "defaultWorkload is container and no node is vm-*"
        )
        yield Problem(
            config_path("kubevirt"), f"permits GPUs for VMs, but no node runs VMs ({reason})", "warning"
        )


def _kubevirt(stack: PlatformStack, args: KubeVirtArgs) -> Iterator[Problem]:
    version = parse_version(args.version)
    if version is None or f"{version[0]}.{version[1]}" not in VERSIONS:
        yield Problem(
            config_path("kubevirt", "version"),
            f"{args.version!r} is not a KubeVirt version hikube-gpu supports; choose {', '.join(VERSIONS)}",
        )
        return
    yield from _feature_gates(args, version)
    for index, profile in enumerate(args.vgpu_profiles):
        if not gpu(profile.model).kubevirt_vgpu:
            yield Problem(
                config_path("kubevirt", "vgpuProfiles", index, "model"),
                f"{profile.model.value} is not in NVIDIA's list of GPUs supported for KubeVirt vGPU "
                "(use PCI passthrough)",
            )
    if uses_vgpu(stack.gpu_operator, stack.nodes) and not args.vgpu_profiles:
        yield Problem(
            config_path("kubevirt", "vgpuProfiles"),
            "vm-vgpu nodes exist but no vGPU type is permitted: VMs cannot request vGPUs",
            "warning",
        )
    if args.resource_naming == "hikube":
        for model in args.gpus:
            spec = gpu(model)
            if spec.hikube_resource_name != spec.upstream_resource_name:
                yield Problem(
                    config_path("kubevirt", "resourceNaming"),
                    f"{spec.hikube_resource_name} ({model.value}) is Hikube's alias; the sandbox device "
                    f"plugin publishes {spec.upstream_resource_name} unless it is configured with that alias "
                    "(otherwise use resourceNaming: upstream)",
                    "warning",
                )


def _feature_gates(args: KubeVirtArgs, version: tuple[int, int]) -> Iterator[Problem]:
    shown = f"{version[0]}.{version[1]}"
    for index, gate_name in enumerate(args.feature_gates):
        path = config_path("kubevirt", "featureGates", index)
        gate = FEATURE_GATES.get(gate_name)
        if gate is None:
            yield Problem(
                path,
                f"{gate_name!r} is not a feature gate hikube-gpu knows; check it exists in KubeVirt {shown}",
                "warning",
            )
        elif version < gate.since:
            yield Problem(
                path,
                f"{gate_name} does not exist in KubeVirt {shown} (added in {gate.since[0]}.{gate.since[1]})",
            )
        elif gate.name == "GPU" and version >= GPU_GATE_GA:
            yield Problem(path, f"GPU is GA since KubeVirt 1.4 and must not be listed on {shown}; remove it")
        elif gate.name == "HostDevices":
            yield Problem(
                path,
                "HostDevices is only needed for domain.devices.hostDevices; GPU VMs use gpus[]",
                "warning",
            )
        elif gate.name == "DisableMDEVConfiguration" and version >= MDEV_CONFIGURATION_FIELD:
            yield Problem(
                path,
                f"deprecated on KubeVirt {shown}: the patch sets mediatedDevicesConfiguration.enabled: false",
                "warning",
            )


def _vm(stack: PlatformStack, name: str, vm: KubeVirtGpuVmArgs) -> Iterator[Problem]:
    path = ("vms", name)
    if vm.namespace is None and stack.platform.namespace is None:
        yield Problem(
            config_path(*path, "namespace"),
            "required: set it, or hikube-gpu:platform.namespace for every VM",
        )
    if stack.kubevirt is None:
        yield Problem(
            config_path(*path, "gpus"),
            "GPU VMs need hikube-gpu:kubevirt: its permittedHostDevices names the devices they use",
        )
    else:
        for model in vm.gpus:
            if model not in stack.kubevirt.gpus:
                yield Problem(
                    config_path(*path, "gpus", model.value),
                    f"{model.value} is not permitted in KubeVirt (kubevirt.gpus: "
                    f"{', '.join(m.value for m in stack.kubevirt.gpus)}); the VM would be rejected",
                )
    where = config_path(*path)
    for issue in check_raw_vm(vm):  # the component's own checks (KubeVirtGpuVirtualMachine)
        yield Problem(issue.under(where), issue.message, issue.severity)
