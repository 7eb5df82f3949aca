"""The checks of a ``KubeVirtGpuPassthrough``'s args: version, feature gates, vGPU types, naming."""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.gpus import gpu
from components.catalog.kubevirt import (
    FEATURE_GATES,
    MDEV_CONFIGURATION_FIELD,
    VERSIONS,
    parse_version,
)
from components.checks.issues import Issue, prop
from components.models.kubevirt import KubeVirtArgs


def check_passthrough(args: KubeVirtArgs, *, operator_manages_vgpu: bool = False) -> list[Issue]:
    """Every problem of the passthrough's args (``operator_manages_vgpu``: vm-vgpu nodes exist)."""
    return list(_kubevirt(args, operator_manages_vgpu))


def _kubevirt(args: KubeVirtArgs, operator_manages_vgpu: bool) -> Iterator[Issue]:
    version = parse_version(args.version)
    if version is None or f"{version[0]}.{version[1]}" not in VERSIONS:
        yield Issue(
            prop("version"),
            f"{args.version!r} is not a KubeVirt version hikube-gpu supports; choose {', '.join(VERSIONS)}",
        )
        return
    yield from _feature_gates(args, version)
    for index, profile in enumerate(args.vgpu_profiles):
        if not gpu(profile.model).kubevirt_vgpu:
            yield Issue(
                prop("vgpuProfiles", index, "model"),
                f"{profile.model.value} is not in NVIDIA's list of GPUs supported for KubeVirt vGPU "
                "(use PCI passthrough)",
            )
    if operator_manages_vgpu and not args.vgpu_profiles:
        yield Issue(
            prop("vgpuProfiles"),
            "vm-vgpu nodes exist but no vGPU type is permitted: VMs cannot request vGPUs",
            "warning",
        )
    if args.resource_naming == "hikube":
        for model in args.gpus:
            spec = gpu(model)
            if spec.hikube_resource_name != spec.upstream_resource_name:
                yield Issue(
                    prop("resourceNaming"),
                    f"{spec.hikube_resource_name} ({model.value}) is Hikube's alias; the sandbox device "
                    f"plugin publishes {spec.upstream_resource_name} unless it is configured with that alias "
                    "(otherwise use resourceNaming: upstream)",
                    "warning",
                )


def _feature_gates(args: KubeVirtArgs, version: tuple[int, int]) -> Iterator[Issue]:
    shown = f"{version[0]}.{version[1]}"
    for index, gate_name in enumerate(args.feature_gates):
        path = prop("featureGates", index)
        gate = FEATURE_GATES.get(gate_name)
        if gate is None:
            yield Issue(
                path,
                f"{gate_name!r} is not a feature gate hikube-gpu knows; check it exists in KubeVirt {shown}",
                "warning",
            )
        elif version < gate.since:
            yield Issue(
                path,
                f"{gate_name} does not exist in KubeVirt {shown} (added in {gate.since[0]}.{gate.since[1]})",
            )
        elif gate.name == "DisableMDEVConfiguration" and version >= MDEV_CONFIGURATION_FIELD:
            yield Issue(
                path,
                f"deprecated on KubeVirt {shown}: the patch sets mediatedDevicesConfiguration.enabled: false",
                "warning",
            )
        elif (gate.ga is not None and version >= gate.ga) or (
            gate.deprecated is not None and version >= gate.deprecated
        ):
            ga = gate.ga is not None and version >= gate.ga
            since = (gate.ga if ga else gate.deprecated) or version
            effect = (
                f"GA since KubeVirt {since[0]}.{since[1]}: KubeVirt {shown} ignores the gate and warns "
                "that it can be removed"
                if ga
                else f"deprecated since KubeVirt {since[0]}.{since[1]}: KubeVirt {shown} warns, and a later "
                "KubeVirt drops it"
            )
            # upstream: components/catalog/kubevirt.py (GATE_STATE_SOURCES)
            # upstream: kubevirt/kubevirt v1.6.3 pkg/virt-config/featuregate/inactive.go:100-128
            # upstream: kubevirt/kubevirt v1.6.3 pkg/virt-operator/webhooks/kubevirt-update-admitter.go:450
            yield Issue(
                path,
                f"{gate_name} is {effect}; keep it only to mirror the platform's list",
                "warning",
            )
        elif gate.name == "HostDevices":
            yield Issue(
                path,
                "HostDevices is only needed for domain.devices.hostDevices; GPU VMs use gpus[]",
                "warning",
            )
