"""``GpuWorkload``: a Deployment, Job or StatefulSet requesting GPUs in a tenant cluster."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.builders.names import workload_object_resource
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
            self.resources[suffix] = register_manifest(
                workload_object_resource(name, manifest.kind), manifest, child
            )
        self.outputs: dict[str, Any] = {
            "namespace": args.namespace,
            "gpuResource": resource_name(cluster, args),
            "nodeGroups": eligible_groups(cluster, args),
        }
        self.register_outputs(self.outputs)  # plain values: cheaper for the engine than Outputs

    @property
    def gpu_resource(self) -> pulumi.Output[str]:
        """The resource name the pods request (``nvidia.com/gpu``, ``nvidia.com/mig-…``, …)."""
        return pulumi.Output.from_input(self.outputs["gpuResource"])
