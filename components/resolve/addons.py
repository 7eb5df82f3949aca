"""Which add-ons of a GPU Kubernetes cluster are on."""

from __future__ import annotations

from components.models.cluster import GpuKubernetesClusterArgs


def addon_state(cluster: GpuKubernetesClusterArgs, name: str) -> bool | None:
    """Whether add-on ``name`` (its chart key) is on; None for the ones the config cannot turn on
    (hami, ouroboros: always off, the GPU Operator shares GPUs here)."""
    if name == "gpuOperator":
        return cluster.gpu_operator_enabled
    addons = cluster.addons
    toggles = {
        "certManager": addons.cert_manager,
        "fluxcd": addons.fluxcd,
        "gatewayAPI": addons.gateway_api,
        "ingressNginx": addons.ingress_nginx,
        "monitoringAgents": addons.monitoring_agents,
        "velero": addons.velero,
    }
    if name not in toggles:
        return None
    toggle = toggles[name]
    return bool(toggle and toggle.enabled)
