"""Semantic rules for GPU Kubernetes clusters, their node groups and workloads.

The checks are the cluster component's own (``components.checks.cluster``, run by
``GpuKubernetesCluster``); this gives each its config path
(``hikube-gpu:clusters.ml.nodeGroups.a100.sharing.mig``).
"""

from __future__ import annotations

from collections.abc import Iterator

from components.catalog.platform import PlatformProfile
from components.checks.cluster import check_cluster as check_cluster_args
from components.models.cluster import GpuKubernetesClusterArgs
from stacks.loading.problems import Problem, config_path


def check_cluster(
    profile: PlatformProfile, name: str, cluster: GpuKubernetesClusterArgs
) -> Iterator[Problem]:
    """Every problem of one cluster (its node groups and workloads included)."""
    where = config_path("clusters", name)
    for issue in check_cluster_args(profile, name, cluster):
        yield Problem(issue.under(where), issue.message, issue.severity)
