"""The NVIDIA GPU Operator on a host cluster: its namespace, Helm chart values and node labels.

Values are plain data built from typed settings (no nulls, Outputs or secrets) and only
use keys of the pinned chart version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.builders.gpu_sharing import (
    DEFAULT_CONFIG,
    DEVICE_PLUGIN_LABEL,
    MIG_CONFIG_LABEL,
    MIG_DISABLED,
    MIG_DISABLED_ENTRY,
    ChartConfigMaps,
    content_hash,
    device_plugin_config,
    dump,
    mig_enabled,
)
from components.builders.manifest import MANAGED_BY, Manifest
from components.catalog.gpu_operator import CHART, CHART_VERSIONS, REPOSITORY, WORKLOAD_LABEL
from components.catalog.gpus import GPU_MODELS, NVIDIA_PCI_VENDOR
from components.models.gpu_operator import GpuOperatorArgs, NodeArgs
from components.models.sharing import Sharing
from components.resolve.gpu_operator import sandbox_enabled, uses_vgpu
from components.resolve.names import OPERATOR_RELEASE_NAME

RELEASE_NAME = OPERATOR_RELEASE_NAME
"""The operator's Helm release (``components.resolve.names``)."""


def config_maps(args: GpuOperatorArgs) -> ChartConfigMaps:
    """The ConfigMaps the host's chart creates from ``sharingConfigs`` and ``migConfigs``."""
    plugin: dict[str, str] = {}
    if args.sharing_configs:
        plugin[DEFAULT_CONFIG] = dump(device_plugin_config(Sharing(), args.mig_strategy))
        for name in sorted(args.sharing_configs):
            sharing = args.sharing_configs[name].as_sharing()
            plugin[name] = dump(device_plugin_config(sharing, args.mig_strategy))
    mig: dict[str, str] = {}
    if args.mig_configs:
        configs: dict[str, Any] = {MIG_DISABLED: [dict(MIG_DISABLED_ENTRY)]}
        for name in sorted(args.mig_configs):
            per_model = args.mig_configs[name]
            configs[name] = [
                mig_enabled(per_model[model], f"0x{spec.pci_device_id}{NVIDIA_PCI_VENDOR}")
                for model, spec in GPU_MODELS.items()
                if model in per_model
            ]
        mig = {"config.yaml": dump({"version": "v1", "mig-configs": configs})}
    return ChartConfigMaps(plugin, mig, content_hash({"plugin": plugin, "mig": mig}))


def operator_values(args: GpuOperatorArgs, nodes: dict[str, NodeArgs]) -> dict[str, Any]:
    """The chart's values, every operand section explicit."""
    chart = CHART_VERSIONS[args.version]
    vgpu = uses_vgpu(args, nodes)
    maps = config_maps(args)
    sandbox: dict[str, Any] = {
        "enabled": sandbox_enabled(args, nodes),
        "defaultWorkload": args.default_workload,
    }
    if chart.sandbox_mode:
        sandbox["mode"] = "kubevirt"
    driver: dict[str, Any] = {
        "enabled": args.driver.enabled,
        "usePrecompiled": args.driver.use_precompiled,
        "kernelModuleType": args.driver.kernel_module_type,
    }
    if args.driver.version is not None:
        driver["version"] = args.driver.version
    device_plugin: dict[str, Any] = {"enabled": args.device_plugin}
    if maps.plugin_data:
        device_plugin["config"] = maps.device_plugin_config()
    mig_manager: dict[str, Any] = {"enabled": args.mig_manager}
    if maps.mig_data:
        mig_manager["config"] = maps.mig_manager_config()
    vgpu_manager: dict[str, Any] = {"enabled": args.vgpu_manager.enabled or vgpu}
    if vgpu_manager["enabled"]:
        vgpu_manager.update(
            repository=args.vgpu_manager.repository,
            image=args.vgpu_manager.image,
            version=args.vgpu_manager.version,
        )
    device_manager = args.vgpu_device_manager if args.vgpu_device_manager is not None else vgpu
    return {
        "sandboxWorkloads": sandbox,
        "driver": driver,
        "toolkit": {"enabled": args.toolkit},
        "devicePlugin": device_plugin,
        "mig": {"strategy": args.mig_strategy},
        "migManager": mig_manager,
        "dcgmExporter": {
            "enabled": args.dcgm_exporter.enabled,
            "serviceMonitor": {"enabled": args.dcgm_exporter.service_monitor},
        },
        "nfd": {"enabled": args.nfd},
        "vfioManager": {"enabled": args.vfio_manager},
        "sandboxDevicePlugin": {"enabled": args.sandbox_device_plugin},
        "vgpuManager": vgpu_manager,
        "vgpuDeviceManager": {"enabled": device_manager},
        "cdi": {"enabled": args.cdi},
    }


@dataclass(frozen=True)
class HelmChart:
    """A pinned Helm release, as plain data (registered as ``helm.v3.Release``)."""

    name: str
    namespace: str
    chart: str
    version: str
    repository: str
    values: dict[str, Any]


def build_operator_release(args: GpuOperatorArgs, nodes: dict[str, NodeArgs]) -> HelmChart:
    return HelmChart(
        RELEASE_NAME, args.namespace, CHART, args.version, REPOSITORY, operator_values(args, nodes)
    )


def build_operator_namespace(args: GpuOperatorArgs) -> Manifest:
    """The operator's namespace: its operands are privileged DaemonSets."""
    labels = {**MANAGED_BY, "pod-security.kubernetes.io/enforce": "privileged"}
    return Manifest("v1", "Namespace", args.namespace, "", labels, {})


def node_labels(node: NodeArgs) -> dict[str, str]:
    """The labels that put a node in its mode (and pick its sharing / MIG layout)."""
    labels: dict[str, str] = {WORKLOAD_LABEL: node.workload}
    if node.sharing is not None:
        labels[DEVICE_PLUGIN_LABEL] = node.sharing
    if node.mig is not None:
        labels[MIG_CONFIG_LABEL] = node.mig
    return labels


def build_node_patch(name: str, node: NodeArgs) -> Manifest:
    """A patch of node ``name`` (it must exist) that sets only our labels."""
    return Manifest("v1", "Node", name, "", node_labels(node), {})
