"""``Kubernetes`` (apps.cozystack.io/v1alpha1): a managed cluster with GPU node groups.

Every section is rendered in full (control plane, every add-on, every node group) so
the platform's chart defaults never add anything the preview does not show.
"""

from __future__ import annotations

from typing import Any

from components.builders.gpu_operator_values import values_override
from components.builders.gpu_sharing import plan_sharing
from components.builders.manifest import COZYSTACK_APPS, MANAGED_BY, Manifest
from components.builders.node_group import build_node_group, effective_node_groups
from components.builders.readiness import wait_for_ready
from components.catalog.platform import KubernetesApp
from components.models.cluster import Addons, GpuKubernetesClusterArgs
from components.resolve.addons import addon_state


def _control_plane(cluster: GpuKubernetesClusterArgs, app: KubernetesApp) -> dict[str, Any]:
    chosen = cluster.control_plane
    presets = {
        "apiServer": chosen.api_server,
        "controllerManager": chosen.controller_manager,
        "scheduler": chosen.scheduler,
        "konnectivity": chosen.konnectivity,
    }
    part = {
        key: {"resources": {}, "resourcesPreset": value or app.default_presets[key]}
        for key, value in presets.items()
    }
    return {
        "replicas": chosen.replicas,
        "apiServer": part["apiServer"],
        "controllerManager": part["controllerManager"],
        "scheduler": part["scheduler"],
        "konnectivity": {"server": part["konnectivity"]},
    }


def _enabled(addons: Addons, name: str, cluster: GpuKubernetesClusterArgs) -> bool:
    return addon_state(cluster, name) is True


def _addons(cluster: GpuKubernetesClusterArgs, app: KubernetesApp) -> dict[str, Any]:
    addons = cluster.addons
    rendered: dict[str, Any] = {}
    for name, switchable in sorted(app.addons.items()):
        entry: dict[str, Any] = {}
        if switchable:
            entry["enabled"] = _enabled(addons, name, cluster)
        if name == "ingressNginx":
            entry["exposeMethod"] = addons.ingress_nginx.expose_method
            entry["hosts"] = list(addons.ingress_nginx.hosts)
        if name != "gatewayAPI":  # the only add-on without overrides
            entry["valuesOverride"] = {}
        rendered[name] = entry
    if cluster.gpu_operator_enabled:
        rendered["gpuOperator"]["valuesOverride"] = values_override(
            addons.gpu_operator, plan_sharing(cluster, app.gpu_operator_mig_strategy), app.workers
        )
    return rendered


def build_kubernetes(
    name: str, namespace: str, cluster: GpuKubernetesClusterArgs, app: KubernetesApp
) -> Manifest:
    """The Kubernetes app ``name``. Expects a cluster that passed ``stacks.validation.cluster_rules``.

    Pulumi waits for its ``Ready`` condition (the platform copies it from the HelmRelease).
    """
    spec = {
        "version": cluster.version or app.default_version,
        "storageClass": cluster.storage_class,
        "host": cluster.host,
        "controlPlane": _control_plane(cluster, app),
        "nodeGroups": {
            group_name: build_node_group(group_name, group, app)
            for group_name, group in effective_node_groups(cluster, app).items()
        },
        "addons": _addons(cluster, app),
    }
    return Manifest(
        COZYSTACK_APPS,
        "Kubernetes",
        name,
        namespace,
        dict(MANAGED_BY),
        {"spec": spec},
        annotations=wait_for_ready("Kubernetes"),
    )
