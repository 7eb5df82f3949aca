"""``GpuWorkload``: a Deployment, Job or StatefulSet requesting GPUs in a tenant cluster."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.builders.placement import eligible_groups, resource_name
from components.builders.workload import build_workload
from components.models.cluster import GpuKubernetesClusterArgs
from components.models.workload import GpuWorkloadArgs
from components.registration import register_manifest

TYPE = "hikube-gpu:k8s:GpuWorkload"


class GpuWorkload(pulumi.ComponentResource):
    """Workload ``workload`` of ``cluster``: ``<name>-<kind>`` (+ ``<name>-service``), placed
    through the cluster's ``provider``, after ``depends_on`` (its namespace and quota)."""

    def __init__(
        self,
        name: str,
        workload: str,
        cluster: GpuKubernetesClusterArgs,
        *,
        provider: k8s.Provider,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        args: GpuWorkloadArgs = cluster.workloads[workload]
        child = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(depends_on or []))
        self.resources: dict[str, pulumi.CustomResource] = {}
        for manifest in build_workload(workload, cluster, args):
            suffix = manifest.kind.lower()
            self.resources[suffix] = register_manifest(f"{name}-{suffix}", manifest, child)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.resource_name = pulumi.Output.from_input(resource_name(cluster, args))
        self.node_groups = pulumi.Output.from_input(eligible_groups(cluster, args))
        self.register_outputs(
            {
                "namespace": self.namespace,
                "gpuResource": self.resource_name,
                "nodeGroups": self.node_groups,
            }
        )
