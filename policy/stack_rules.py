"""GPU guardrails on a whole stack: every resource in, (urn, message) or messages out.

The quota has the stack rules' semantics (hikube-gpu ``stacks/validation/rules.py``): no quota, no
limit; a quota counts per model, and a model it does not list gets 0. Cozystack node
groups count as the platform runs them (``catalog_tables.NODE_GROUP_START_REPLICAS``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import catalog_tables as facts
from shapes import (
    GPU_RESOURCE,
    KUBERNETES_APP,
    KUBEVIRT_TYPES,
    RESOURCE_QUOTA,
    count,
    get,
    gpu_amounts,
    mappings,
    namespace,
    pod_spec,
    vm_eviction,
    vm_gpus,
    vm_replicas,
)

LIVE_MIGRATE = "LiveMigrate"


@dataclass(frozen=True)
class StackResource:
    resource_type: str
    props: Mapping[str, Any]
    urn: str


def _kubevirt_configs(resources: Iterable[StackResource]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for r in resources:
        config = get(r.props, "spec", "configuration") if r.resource_type in KUBEVIRT_TYPES else None
        if isinstance(config, Mapping):
            yield r.urn, config


def _permitted_entries(config: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key in ("pciHostDevices", "mediatedDevices"):
        for entry in mappings(get(config, "permittedHostDevices", key)):
            yield key, entry


def permitted_devices(resources: Iterable[StackResource]) -> set[str] | None:
    """Resource names the stack's KubeVirt CR (or patch) permits; None if it has none."""
    found: set[str] | None = None
    for _, config in _kubevirt_configs(resources):
        for _, entry in _permitted_entries(config):
            found = (found or set()) | {str(entry.get("resourceName"))}
    return found


def vm_devices_permitted(resources: list[StackResource]) -> list[tuple[str, str]]:
    """Each VM GPU the stack's KubeVirt configuration does not permit, and each permitted
    GPU resource name whose PCI selector is not the one the catalog knows for it."""
    problems = []
    selectors = {
        name: facts.PCI_VENDOR_SELECTORS[m] for m, names in facts.GPU_RESOURCE_NAMES.items() for name in names
    }
    for urn, config in _kubevirt_configs(resources):
        for _, entry in _permitted_entries(config):
            name, selector = str(entry.get("resourceName")), str(entry.get("pciVendorSelector") or "")
            if name in selectors and selector and selector.upper() != selectors[name]:
                problems.append(
                    (
                        urn,
                        f"permittedHostDevices maps {name} to {selector}, but that GPU is {selectors[name]}",
                    )
                )
    permitted = permitted_devices(resources)
    if permitted is None:
        return problems
    return problems + [
        (r.urn, f"GPU {device} is not in the stack's KubeVirt permittedHostDevices")
        for r in resources
        for device in sorted(set(vm_gpus(r.resource_type, r.props)))
        if device not in permitted
    ]


def _nvidia(entry: Mapping[str, Any]) -> bool:
    selector = str(entry.get("pciVendorSelector") or entry.get("mdevNameSelector") or "")
    return bool(GPU_RESOURCE.match(str(entry.get("resourceName")))) or selector.upper().startswith(
        facts.NVIDIA_PCI_VENDOR + ":"
    )


def _unmigratable_gpus(config: Mapping[str, Any]) -> list[str]:
    """NVIDIA devices the configuration permits that cannot live-migrate (vGPUs can, with the gate)."""
    gates = get(config, "developerConfiguration", "featureGates") or []
    return [
        str(entry.get("resourceName"))
        for key, entry in _permitted_entries(config)
        if _nvidia(entry) and not (key == "mediatedDevices" and facts.VGPU_LIVE_MIGRATION_GATE in gates)
    ]


def cluster_eviction_spares_gpu_vms(resources: list[StackResource]) -> list[tuple[str, str]]:
    """No cluster-wide ``LiveMigrate`` eviction where GPU passthrough VMs run or are permitted.

    VMs without their own ``evictionStrategy`` inherit the KubeVirt CR's; a GPU VM cannot
    live-migrate, so with ``LiveMigrate`` every node drain blocks on it.
    """
    configs = list(_kubevirt_configs(resources))
    gpus = sorted({name for _, config in configs for name in _unmigratable_gpus(config)})
    inheriting = sorted(
        r.urn.rsplit("::", 1)[-1]
        for r in resources
        if vm_gpus(r.resource_type, r.props) and vm_eviction(r.resource_type, r.props) is None
    )
    why = [f"it permits GPU host devices ({', '.join(gpus)})"] if gpus else []
    why += [f"GPU VMs inherit it ({', '.join(inheriting)})"] if inheriting else []
    return [
        (
            urn,
            f"spec.configuration.evictionStrategy {LIVE_MIGRATE} applies to every VM without its own, but "
            f"{' and '.join(why)}; GPU passthrough VMs cannot live-migrate, so every node drain would "
            f"block: use LiveMigrateIfPossible or None",
        )
        for urn, config in configs
        if config.get("evictionStrategy") == LIVE_MIGRATE and why
    ]


def gpu_namespaces_have_quota(resources: list[StackResource]) -> list[tuple[str, str]]:
    """Every namespace with GPU workloads has an enforced ResourceQuota (``requests.<gpu>``)."""
    quotas: dict[str, set[str]] = {}
    for r in resources:
        if r.resource_type == RESOURCE_QUOTA:
            hard = get(r.props, "spec", "hard") or {}
            enforced = {str(k).removeprefix("requests.") for k in hard if str(k).startswith("requests.")}
            quotas.setdefault(namespace(r.props), set()).update(enforced)
    problems = []
    for r in resources:
        spec = pod_spec(r.resource_type, r.props)
        if spec is None:
            continue
        where = namespace(r.props)
        for name in sorted(gpu_amounts(spec)):
            if name not in quotas.get(where, set()):
                problems.append((r.urn, f"namespace {where} has no ResourceQuota on requests.{name}"))
    return problems


# --- the stack's GPU quota -------------------------------------------------------------------


def model_of(device: str) -> str | None:
    """The offered model a GPU resource name stands for (``nvidia.com/GA100_A100_PCIE_80GB`` → A100):
    the catalog's names first, then a model's name inside another name (``…_A100_SXM4_40GB``)."""
    for model, names in facts.GPU_RESOURCE_NAMES.items():
        if device in names:
            return model
    return next((m for m in facts.MODELS if m in device.upper()), None)


def node_group_nodes(platform: str, min_replicas: int, max_replicas: int) -> tuple[int, int]:
    """(steady, peak) nodes of a Cozystack node group: at least its start size outside roll-outs,
    plus the surge during one (hikube-gpu ``KubernetesApp.node_group_scale``)."""
    start = facts.NODE_GROUP_START_REPLICAS[platform]
    steady = max(min_replicas if start is None else start, max_replicas)
    surge = max_replicas if facts.ROLLOUT_SURGE_IS_MAX_REPLICAS[platform] else 0
    return steady, steady + surge


def stack_gpu_counts(
    resources: list[StackResource], platform: str = facts.DEFAULT_PLATFORM
) -> tuple[Counter[str], Counter[str]]:
    """GPUs the stack may hold by model, (steady, peak): VMs (pools × replicas) plus node groups."""
    steady: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    for r in resources:
        replicas = vm_replicas(r.resource_type, r.props)
        for device in vm_gpus(r.resource_type, r.props):
            steady[model_of(device) or device] += replicas
            peak[model_of(device) or device] += replicas
        if r.resource_type != KUBERNETES_APP:
            continue
        for group in (get(r.props, "spec", "nodeGroups") or {}).values():
            low, high = count(group.get("minReplicas")), count(group.get("maxReplicas"))
            nodes, most = node_group_nodes(platform, low, high)
            for entry in mappings(group.get("gpus")):
                name = str(entry.get("name"))
                steady[model_of(name) or name] += nodes
                peak[model_of(name) or name] += most
    return steady, peak


def quota_limit(quota: Mapping[str, int], model: str) -> int:
    """What a quota allows for ``model``: its entry, and 0 for a model it does not list."""
    return int(quota.get(model, 0))


def _over(counts: Counter[str], quota: Mapping[str, int]) -> Iterator[tuple[str, int, int]]:
    for model in dict.fromkeys([*facts.MODELS, *sorted(counts)]):
        if counts[model] > quota_limit(quota, model):
            yield model, counts[model], quota_limit(quota, model)


def _listed(quota: Mapping[str, int], model: str) -> str:
    return "" if model in quota else f" ({model} is not in the quota, so it gets 0)"


def stack_within_quota(
    resources: list[StackResource], quota: Mapping[str, int], platform: str = facts.DEFAULT_PLATFORM
) -> list[str]:
    """The stack's GPUs per model (node groups outside roll-outs) stay within ``quota``."""
    steady, _ = stack_gpu_counts(resources, platform)
    return [
        f"the stack may hold {held} {model} GPUs but its quota is {limit}{_listed(quota, model)}"
        for model, held, limit in _over(steady, quota)
    ]


def rollouts_within_quota(
    resources: list[StackResource], quota: Mapping[str, int], platform: str = facts.DEFAULT_PLATFORM
) -> list[str]:
    """Advice: node-group roll-outs (which add up to maxReplicas nodes first) fit the quota too."""
    steady, peak = stack_gpu_counts(resources, platform)
    over_steady = {model for model, _, _ in _over(steady, quota)}
    return [
        f"a node-group roll-out can hold {held} {model} GPUs at once but the quota is {limit}"
        f"{_listed(quota, model)}: roll-outs will wait for GPUs and go one node at a time"
        for model, held, limit in _over(peak, quota)
        if model not in over_steady
    ]
