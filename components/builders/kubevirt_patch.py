"""The patch of the cluster's ``KubeVirt`` CR that permits GPUs for VMs.

The VM ``deviceName``, the permitted ``resourceName`` and the sandbox device plugin's
name all come from the catalog through ``permitted_resource_name``, so they agree.
"""

from __future__ import annotations

import re
from typing import Any

from components.builders.manifest import Manifest
from components.catalog.gpus import GPU_MODELS, GpuModelName, gpu
from components.catalog.kubevirt import GPU_GATE_GA, MDEV_CONFIGURATION_FIELD, parse_version
from components.models.kubevirt import KubeVirtArgs, ResourceNaming, VgpuProfile


def permitted_resource_name(model: GpuModelName, naming: ResourceNaming) -> str:
    """``nvidia.com/…`` for PCI passthrough of ``model``: Hikube's name or the plugin's default."""
    spec = gpu(model)
    return spec.hikube_resource_name if naming == "hikube" else spec.upstream_resource_name


def vgpu_resource_name(profile: VgpuProfile) -> str:
    """The sandbox device plugin's name for an mdev type: whitespace runs become ``_``."""
    return "nvidia.com/" + re.sub(r"\s+", "_", profile.type.strip())


def feature_gates(args: KubeVirtArgs, operator_manages_vgpu: bool) -> list[str]:
    """The gates to set: the cluster's own plus what GPUs need on this version; empty = leave alone."""
    version = parse_version(args.version) or (0, 0)
    needed = set()
    if version < GPU_GATE_GA:
        needed.add("GPU")  # before 1.4, gpus[] need the GPU gate
    if operator_manages_vgpu and version < MDEV_CONFIGURATION_FIELD:
        needed.add("DisableMDEVConfiguration")
    if not needed:
        return list(args.feature_gates)
    return [*args.feature_gates, *sorted(needed - set(args.feature_gates))]


def build_kubevirt_patch(args: KubeVirtArgs, operator_manages_vgpu: bool) -> Manifest:
    """``spec.configuration`` of the KubeVirt CR ``args.namespace/args.name``."""
    version = parse_version(args.version) or (0, 0)
    devices: dict[str, Any] = {
        "pciHostDevices": [
            {
                "pciVendorSelector": spec.pci_vendor_selector,
                "resourceName": permitted_resource_name(model, args.resource_naming),
                "externalResourceProvider": True,  # the GPU Operator's sandbox plugin serves them
            }
            for model, spec in GPU_MODELS.items()
            if model in args.gpus
        ]
    }
    if args.vgpu_profiles:
        devices["mediatedDevices"] = [
            {
                "mdevNameSelector": profile.type,
                "resourceName": vgpu_resource_name(profile),
                "externalResourceProvider": True,
            }
            for profile in args.vgpu_profiles
        ]
    configuration: dict[str, Any] = {"permittedHostDevices": devices}
    gates = feature_gates(args, operator_manages_vgpu)
    if gates:
        configuration["developerConfiguration"] = {"featureGates": gates}
    if operator_manages_vgpu and version >= MDEV_CONFIGURATION_FIELD:
        # The operator's vGPU device manager owns the mdevs; KubeVirt must not touch them.
        configuration["mediatedDevicesConfiguration"] = {"enabled": False}
    return Manifest(
        "kubevirt.io/v1",
        "KubeVirt",
        args.name,
        args.namespace,
        {},
        {"spec": {"configuration": configuration}},
    )
