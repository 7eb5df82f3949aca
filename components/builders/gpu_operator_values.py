"""The tenant cluster's GPU Operator add-on: ``valuesOverride`` from typed settings.

The platform wraps NVIDIA's chart (``cozy-gpu-operator``), so upstream keys are nested
under ``gpu-operator``. Only plain data goes in: no nulls, Outputs or secrets.
"""

from __future__ import annotations

from typing import Any

from components.builders.gpu_sharing import SharingPlan
from components.catalog.platform import WorkerOs
from components.models.cluster import GpuOperatorAddon

WRAPPER_KEY = "gpu-operator"


def driver_enabled(addon: GpuOperatorAddon, workers: WorkerOs) -> bool:
    """``driver.enabled``: as configured, else whether the workers' OS lets the driver container
    install the driver (the rules refuse the unset case where it does not)."""
    return workers.operator_driver if addon.driver.enabled is None else addon.driver.enabled


def operator_values(addon: GpuOperatorAddon, plan: SharingPlan, workers: WorkerOs) -> dict[str, Any]:
    """Upstream chart values (without the wrapper key), in the chart's own key names.

    The tenant release takes the chart's defaults (driver and toolkit containers on: cozystack
    v1.6.0 ``packages/core/platform/sources/kubernetes-application.yaml:55-56`` names no values
    file), so on Talos workers both are switched off here."""
    driver: dict[str, Any] = {"enabled": driver_enabled(addon, workers)}
    if addon.driver.version is not None:
        driver["version"] = addon.driver.version
    values: dict[str, Any] = {
        "driver": driver,
        "dcgmExporter": {
            "enabled": addon.dcgm_exporter.enabled,
            "serviceMonitor": {"enabled": addon.dcgm_exporter.service_monitor},
        },
    }
    if not workers.operator_toolkit:
        values["toolkit"] = {"enabled": False}
    if not plan.models:
        return values
    values["devicePlugin"] = {"config": plan.config_maps.device_plugin_config()}
    values["mig"] = {"strategy": plan.mig_strategy}
    if plan.uses_mig:
        values["migManager"] = {"config": plan.config_maps.mig_manager_config()}
    values["node-feature-discovery"] = {"worker": {"config": {"sources": {"custom": plan.nfd_rules}}}}
    return values


def values_override(addon: GpuOperatorAddon, plan: SharingPlan, workers: WorkerOs) -> dict[str, Any]:
    """``addons.gpuOperator.valuesOverride``."""
    return {WRAPPER_KEY: operator_values(addon, plan, workers)}
