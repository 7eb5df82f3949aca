"""How each GPU model is shared in a cluster: MIG layouts, the chart's MIG strategy, the resource name."""

from __future__ import annotations

from components.catalog.gpus import GPU_MODELS, GpuModelName, gpu
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.sharing import Mig, Sharing

GENERIC_RESOURCE = "nvidia.com/gpu"


def model_key(model: GpuModelName) -> str:
    """Config and label value for a model: ``a100``."""
    return model.value.lower()


def mig_layout(model: GpuModelName, mig: Mig) -> dict[str, int]:
    """MIG instances per GPU: the layout, or as many of ``profile`` as fit."""
    if mig.layout is not None:
        return dict(sorted(mig.layout.items()))
    profile = gpu(model).mig_profile(mig.profile or "")
    if profile is None:  # rules reject unknown profiles before any builder runs
        raise ValueError(f"{mig.profile!r} is not a MIG profile of {model.value}")
    return {profile.name: profile.per_gpu}


def model_sharing(cluster: GpuKubernetesClusterArgs) -> dict[GpuModelName, Sharing]:
    """The sharing of each model that some node group shares (catalog order)."""
    found: dict[GpuModelName, Sharing] = {}
    for group in cluster.node_groups.values():
        if group.sharing.kind != "none" and len(group.gpus) == 1:
            found.setdefault(next(iter(group.gpus)), group.sharing)
    return {model: found[model] for model in GPU_MODELS if model in found}


def chart_mig_strategy(models: dict[GpuModelName, Sharing], chart_default: str) -> str:
    """``mixed`` when a model is MIG-partitioned (several profiles per GPU), else the chart's default."""
    return "mixed" if any(s.mig is not None for s in models.values()) else chart_default
