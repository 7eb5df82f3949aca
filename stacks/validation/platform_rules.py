"""Semantic rules of a ``platform`` stack: GPU Operator, node modes, KubeVirt, raw GPU VMs."""

from __future__ import annotations

from collections.abc import Iterator

from components.checks.gpu_operator import check_operator
from components.checks.kubevirt import check_passthrough
from components.checks.raw_vm import check_raw_vm
from components.models.kubevirt import KubeVirtArgs, KubeVirtGpuVmArgs
from components.resolve.gpu_operator import sandbox_enabled, uses_vgpu
from stacks.loading.problems import NAMESPACE, Problem, config_path
from stacks.validation.config import PlatformStack


def check_platform(stack: PlatformStack) -> list[Problem]:
    """Every semantic problem of a platform stack, errors and warnings."""
    problems = list(_operator(stack))
    problems += _nodes(stack)
    if stack.kubevirt is not None:
        problems += _kubevirt(stack, stack.kubevirt)
    for name, vm in stack.vms.items():
        problems += _vm(stack, name, vm)
    return problems


def _operator(stack: PlatformStack) -> Iterator[Problem]:
    """The operator's own checks (``GpuOperator``'s): ``nodes.<node>`` paths are top-level keys."""
    for issue in check_operator(stack.gpu_operator, stack.nodes):
        path = f"{NAMESPACE}:{issue.path}" if issue.path.startswith("nodes.") else None
        yield Problem(path or issue.under(config_path("gpuOperator")), issue.message, issue.severity)


def _nodes(stack: PlatformStack) -> Iterator[Problem]:
    """Whole-stack: KubeVirt permits GPUs for VMs that no node runs."""
    args = stack.gpu_operator
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
    """The passthrough's own checks (``KubeVirtGpuPassthrough``'s)."""
    vgpu = uses_vgpu(stack.gpu_operator, stack.nodes)
    for issue in check_passthrough(args, operator_manages_vgpu=vgpu):
        yield Problem(issue.under(config_path("kubevirt")), issue.message, issue.severity)


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
