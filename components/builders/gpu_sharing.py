"""Compile the node groups' GPU sharing into GPU Operator configuration for one cluster.

The operator picks a device-plugin config and a MIG layout per node from the labels
``nvidia.com/device-plugin.config`` and ``nvidia.com/mig.config``. Cozystack node groups
cannot carry arbitrary labels, so node-feature-discovery (deployed by the operator) sets
them: one rule per GPU model, matching the GPU's PCI device ID. That is why sharing is
chosen per model within a cluster (``stacks.validation.cluster_rules`` enforces it).

The operator does not watch its ConfigMaps, so their names carry a hash of their
content: a change renames them, the ClusterPolicy changes and the plugins roll out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from components.catalog.gpus import GpuModelName, gpu
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.sharing import Sharing
from components.resolve.names import mig_config_map_name, plugin_config_map_name
from components.resolve.sharing import (
    GENERIC_RESOURCE,
    chart_mig_strategy,
    mig_layout,
    model_key,
    model_sharing,
)
from components.yaml_text import dump_yaml

DEVICE_PLUGIN_LABEL = "nvidia.com/device-plugin.config"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
DEFAULT_CONFIG = "default"
MIG_DISABLED = "all-disabled"


def mig_config_name(model: GpuModelName) -> str:
    return f"hikube-gpu-{model_key(model)}"


def dump(data: dict[str, Any]) -> str:
    """Deterministic YAML for ConfigMap data."""
    return dump_yaml(data)


def content_hash(data: object) -> str:
    """Eight hex digits of the SHA-256 of ``data`` as canonical JSON."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]


def device_plugin_config(sharing: Sharing, mig_strategy: str) -> dict[str, Any]:
    """One config of the device plugin's ConfigMap (``version: v1``); ``mig_strategy`` is the
    chart's, since the chart's value wins over the config's flag."""
    config: dict[str, Any] = {"version": "v1", "flags": {"migStrategy": mig_strategy}}
    if sharing.kind in ("timeSlicing", "mps"):
        resources = [{"name": GENERIC_RESOURCE, "replicas": sharing.replicas}]
        config["sharing"] = {sharing.kind: {"resources": resources}}
    return config


def mig_enabled(layout: dict[str, int], device_filter: str | None = None) -> dict[str, Any]:
    """One mig-parted entry: every GPU (of ``device_filter``, e.g. ``0x20B510DE``) split as ``layout``."""
    entry: dict[str, Any] = {
        "devices": "all",
        "mig-enabled": True,
        "mig-devices": dict(sorted(layout.items())),
    }
    if device_filter is not None:
        entry = {"device-filter": [device_filter], **entry}
    return entry


MIG_DISABLED_ENTRY = {"devices": "all", "mig-enabled": False}


@dataclass(frozen=True)
class ChartConfigMaps:
    """The device-plugin and MIG-manager ConfigMaps the GPU Operator chart creates from its
    values, in a tenant cluster (``SharingPlan``) and on a host alike; names carry ``digest``."""

    plugin_data: dict[str, str]
    mig_data: dict[str, str]
    digest: str

    @property
    def plugin_name(self) -> str:
        return plugin_config_map_name(self.digest)

    @property
    def mig_name(self) -> str:
        return mig_config_map_name(self.digest)

    @property
    def names(self) -> list[str]:
        """The ConfigMaps the chart creates (one per non-empty data set)."""
        return [
            name
            for name, data in ((self.plugin_name, self.plugin_data), (self.mig_name, self.mig_data))
            if data
        ]

    def device_plugin_config(self) -> dict[str, Any] | None:
        """``devicePlugin.config`` (the chart creates the ConfigMap); None without data."""
        return _chart_config_map(self.plugin_name, DEFAULT_CONFIG, self.plugin_data)

    def mig_manager_config(self) -> dict[str, Any] | None:
        """``migManager.config`` (the chart creates the ConfigMap); None without data."""
        return _chart_config_map(self.mig_name, MIG_DISABLED, self.mig_data)


def _chart_config_map(name: str, default: str, data: dict[str, str]) -> dict[str, Any] | None:
    return {"create": True, "name": name, "default": default, "data": dict(data)} if data else None


@dataclass(frozen=True)
class SharingPlan:
    """Everything the operator needs for a cluster's GPU sharing; empty when nothing is shared."""

    models: dict[GpuModelName, Sharing]
    device_plugin_data: dict[str, str] = field(default_factory=dict)
    mig_data: dict[str, str] = field(default_factory=dict)
    nfd_rules: list[dict[str, Any]] = field(default_factory=list)
    config_hash: str = ""
    mig_strategy: str = ""
    """The chart's ``mig.strategy``, which every per-config ``flags.migStrategy`` repeats: the
    chart's value reaches the plugin as ``MIG_STRATEGY`` and beats the config's flag anyway."""

    @property
    def uses_mig(self) -> bool:
        return bool(self.mig_data)

    @property
    def config_maps(self) -> ChartConfigMaps:
        return ChartConfigMaps(self.device_plugin_data, self.mig_data, self.config_hash)

    @property
    def device_plugin_config_name(self) -> str:
        return self.config_maps.plugin_name

    @property
    def mig_config_map_name(self) -> str:
        return self.config_maps.mig_name


def plan_sharing(cluster: GpuKubernetesClusterArgs, chart_mig_default: str) -> SharingPlan:
    """The sharing plan of a validated cluster; ``chart_mig_default`` is the wrapped chart's
    ``mig.strategy`` (``KubernetesApp.gpu_operator_mig_strategy``)."""
    models = model_sharing(cluster)
    if not models:
        return SharingPlan(models={})
    strategy = chart_mig_strategy(models, chart_mig_default)
    plugin = {DEFAULT_CONFIG: dump(device_plugin_config(Sharing(), strategy))}
    mig_configs: dict[str, Any] = {}
    rules = []
    for model, sharing in models.items():
        plugin[model_key(model)] = dump(device_plugin_config(sharing, strategy))
        labels = {DEVICE_PLUGIN_LABEL: model_key(model)}
        if sharing.mig is not None:
            name = mig_config_name(model)
            mig_configs[name] = [mig_enabled(mig_layout(model, sharing.mig))]
            labels[MIG_CONFIG_LABEL] = name
        vendor, device = gpu(model).nfd_pci_device
        rules.append(
            {
                "name": f"hikube-gpu sharing {model_key(model)}",
                "labels": labels,
                "matchFeatures": [
                    {
                        "feature": "pci.device",
                        "matchExpressions": {
                            "vendor": {"op": "In", "value": [vendor]},
                            "device": {"op": "In", "value": [device]},
                        },
                    }
                ],
            }
        )
    mig_data: dict[str, str] = {}
    if mig_configs:
        mig_configs[MIG_DISABLED] = [dict(MIG_DISABLED_ENTRY)]
        mig_data = {"config.yaml": dump({"version": "v1", "mig-configs": mig_configs})}
    digest = content_hash({"plugin": plugin, "mig": mig_data, "rules": rules})
    return SharingPlan(models, plugin, mig_data, rules, digest, strategy)
