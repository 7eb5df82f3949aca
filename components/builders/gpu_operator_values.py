"""The tenant cluster's GPU Operator add-on: ``valuesOverride`` from typed settings.

The platform wraps NVIDIA's chart (``cozy-gpu-operator``), so upstream keys are nested
under ``gpu-operator``. Only plain data goes in: no nulls, Outputs or secrets.
"""

from __future__ import annotations

from typing import Any

from components.builders.gpu_sharing import SharingPlan
from components.models.cluster import GpuOperatorAddon

WRAPPER_KEY = "gpu-operator"


def operator_values(addon: GpuOperatorAddon, plan: SharingPlan) -> dict[str, Any]:
    """Upstream chart values (without the wrapper key), in the chart's own key names."""
    driver: dict[str, Any] = {"enabled": addon.driver.enabled}
    if addon.driver.version is not None:
        driver["version"] = addon.driver.version
    values: dict[str, Any] = {
        "driver": driver,
        "dcgmExporter": {
            "enabled": addon.dcgm_exporter.enabled,
            "serviceMonitor": {"enabled": addon.dcgm_exporter.service_monitor},
        },
    }
    if not plan.models:
        return values
    values["devicePlugin"] = {"config": plan.config_maps.device_plugin_config()}
    values["mig"] = {"strategy": plan.mig_strategy}
    if plan.uses_mig:
        values["migManager"] = {"config": plan.config_maps.mig_manager_config()}
    values["node-feature-discovery"] = {"worker": {"config": {"sources": {"custom": plan.nfd_rules}}}}
    return values


def values_override(addon: GpuOperatorAddon, plan: SharingPlan) -> dict[str, Any]:
    """``addons.gpuOperator.valuesOverride``."""
    return {WRAPPER_KEY: operator_values(addon, plan)}
