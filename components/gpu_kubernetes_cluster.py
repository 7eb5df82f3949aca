"""``GpuKubernetesCluster``: a managed Kubernetes cluster with GPU node groups, the GPU
Operator add-on, and a provider for the workloads that run inside it."""

import base64
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.builders.kubernetes_cluster import build_kubernetes
from components.builders.names import (
    KUBECONFIG_KEY,
    cluster_app_resource,
    cluster_provider_resource,
    kubeconfig_resource,
    kubeconfig_secret_name,
    namespace_resource,
    node_group_resource,
    quota_resource,
    workload_resource,
)
from components.builders.node_group import effective_node_groups
from components.builders.workload_namespace import build_namespace, workload_namespaces
from components.checks import raise_for_errors
from components.checks.cluster import check_cluster
from components.gpu_node_group import GpuNodeGroup
from components.gpu_workload import GpuWorkload
from components.models.cluster import GpuKubernetesClusterArgs
from components.plan.types import CLUSTER_TYPE
from components.registration import register_custom_resource, register_manifest
from components.tenant import Tenant

TYPE = CLUSTER_TYPE


def _kubeconfig(data: Mapping[str, str] | None, secret: str) -> str:
    encoded = (data or {}).get(KUBECONFIG_KEY)
    if not encoded:
        # Never fall back to an empty kubeconfig: the provider would use the ambient one.
        raise ValueError(f"Secret {secret} has no {KUBECONFIG_KEY!r} key")
    return base64.b64decode(encoded).decode()


class GpuKubernetesCluster(pulumi.ComponentResource):
    """Cluster ``name`` in the tenant's namespace, through the Kubernetes provider of ``opts``
    (the tenant's). Invalid args raise ``pulumi.InputPropertiesError`` before anything is registered.

    Children: one ``GpuNodeGroup`` per node group (``<name>-<group>``), the ``Kubernetes``
    app (``<name>-cluster``, awaited until Ready), its admin kubeconfig Secret read as a
    Pulumi secret (``<name>-kubeconfig``), a provider for the cluster (``<name>-provider``),
    then per workload namespace a Namespace and ResourceQuota (``<name>-ns-<ns>``,
    ``<name>-ns-<ns>-quota``) and one ``GpuWorkload`` per workload (``<name>-<workload>``),
    placed on the node groups.
    """

    cluster_name: pulumi.Output[str]
    """The cluster's name (its Kubernetes app)."""
    kubeconfig_secret: pulumi.Output[str]
    """The Secret in the tenant namespace that holds the admin kubeconfig."""
    kubeconfig: pulumi.Output[str]
    """The admin kubeconfig (a Pulumi secret; unknown until the cluster is Ready)."""

    TYPE = TYPE

    def __init__(
        self,
        name: str,
        args: GpuKubernetesClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        tenant: Tenant,
    ) -> None:
        raise_for_errors("GpuKubernetesCluster", name, check_cluster(tenant.profile, name, args))
        super().__init__(self.TYPE, name, None, opts)
        namespace = tenant.namespace
        app = tenant.profile.kubernetes
        child = pulumi.ResourceOptions(parent=self)

        self.node_groups = {
            group: GpuNodeGroup(
                node_group_resource(name, group),
                group_args,
                pulumi.ResourceOptions(parent=self),
                group=group,
                platform=tenant.platform,
                resource_naming=args.resource_naming,
            )
            for group, group_args in effective_node_groups(args, app).items()
        }
        self.cluster = register_custom_resource(
            cluster_app_resource(name), build_kubernetes(name, namespace, args, app), child
        )

        secret_name = kubeconfig_secret_name(name)
        # The id derives from the cluster's id: unknown while the cluster is still to be
        # created, so a preview does not read a Secret that does not exist yet (on `up` it
        # resolves once the cluster is Ready). metadata would not do: it is known in preview.
        secret_id = self.cluster.id.apply(lambda _: f"{namespace}/{secret_name}")
        secret = k8s.core.v1.Secret.get(
            kubeconfig_resource(name),
            secret_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.cluster]),
        )
        decoded: pulumi.Output[str] = secret.data.apply(lambda data: _kubeconfig(data, secret_name))
        self.kubeconfig = pulumi.Output.secret(decoded)
        self.provider = k8s.Provider(
            cluster_provider_resource(name),
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self),
        )

        inside = pulumi.ResourceOptions(parent=self, provider=self.provider)
        guards: dict[str, list[pulumi.Resource]] = {}
        for ns in workload_namespaces(args):
            namespace_manifest, quota_manifest = build_namespace(args, ns)
            created = register_manifest(namespace_resource(name, ns), namespace_manifest, inside)
            quota = register_manifest(
                quota_resource(name, ns),
                quota_manifest,
                pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=[created])),
            )
            guards[ns] = [created, quota]
        configured = [self.node_groups[group] for group in args.node_groups]
        self.workloads = {
            workload: GpuWorkload(
                workload_resource(name, workload),
                args.workloads[workload],
                pulumi.ResourceOptions(
                    parent=self,
                    provider=self.provider,
                    depends_on=guards[args.workloads[workload].namespace],
                ),
                node_groups=configured,
                object_name=workload,
            )
            for workload in sorted(args.workloads)
        }

        self.cluster_name = pulumi.Output.from_input(name)
        self.kubeconfig_secret = pulumi.Output.from_input(secret_name)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "kubeconfigSecret": self.kubeconfig_secret,
                "kubeconfig": self.kubeconfig,
            }
        )
