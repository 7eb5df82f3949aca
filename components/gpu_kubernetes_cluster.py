"""``GpuKubernetesCluster``: a managed Kubernetes cluster with GPU node groups, the GPU
Operator add-on, and a provider for the workloads that run inside it."""

import base64
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.builders.node_group import effective_node_groups
from components.checks.cluster import check_cluster
from components.checks.issues import Issue, raise_for_errors
from components.gpu_node_group import GpuNodeGroup
from components.gpu_workload import GpuWorkload
from components.inputs import (
    STAND_IN,
    InputArg,
    arg_values,
    item,
    model_args,
    prepare,
    split,
    validated,
    values_of,
)
from components.models.cluster import GpuKubernetesClusterArgs
from components.plan.resources import PROVIDER_TYPE, Planned
from components.plan.tenant import plan_cluster
from components.plan.types import CLUSTER_TYPE, NODE_GROUP_TYPE, WORKLOAD_TYPE
from components.provider_settings import AMBIENT_KUBECONFIG, GUEST_SERVER_SIDE_APPLY, provider_flags
from components.registration import plan_scope, register_plan_child, same_shape
from components.resolve.names import (
    KUBECONFIG_KEY,
    cluster_app_resource,
    kubeconfig_secret_name,
    node_group_resource,
    workload_resource,
)
from components.tenant import Tenant

TYPE = CLUSTER_TYPE


def _kubeconfig(data: Mapping[str, str] | None, secret: str) -> str:
    encoded = (data or {}).get(KUBECONFIG_KEY)
    if not encoded:
        # Never fall back to an empty kubeconfig: the provider would use the ambient one.
        raise ValueError(f"Secret {secret} has no {KUBECONFIG_KEY!r} key")
    return base64.b64decode(encoded).decode()


@dataclass(frozen=True)
class _Prepared:
    args: GpuKubernetesClusterArgs
    tenant: Tenant


def _validated(name: str, tenant: Tenant, values: Mapping[str, Any]) -> _Prepared:
    model, issues = validated(GpuKubernetesClusterArgs, model_args(values, ("namespace",)))
    try:
        where = replace(tenant, namespace=values["namespace"])
    except ValueError as error:
        issues.append(Issue("namespace", str(error)))
    raise_for_errors("GpuKubernetesCluster", name, issues)
    assert model is not None
    return _Prepared(model, where)


class GpuKubernetesCluster(pulumi.ComponentResource):
    """Cluster ``name`` in the tenant's namespace, through the Kubernetes provider of ``opts``
    (the tenant's). Invalid args raise ``pulumi.InputPropertiesError`` before anything is registered.
    ``args``: a ``GpuKubernetesClusterArgs`` or the same keys as a map; ``tenant.namespace`` may
    be an Output (see ``INPUTS``).

    Children: one ``GpuNodeGroup`` per node group (``<name>-<group>``), the ``Kubernetes``
    app (``<name>-cluster``, awaited until Ready), a provider for the cluster
    (``<name>-provider``), then per workload namespace a Namespace and ResourceQuota
    (``<name>-ns-<ns>``, ``<name>-ns-<ns>-quota``) and one ``GpuWorkload`` per workload
    (``<name>-<workload>``), placed on the node groups. The provider reaches the cluster as
    ``tenant.guest_contexts`` says: with the context ``<prefix>/<name>`` of the kubeconfig
    Pulumi runs with (no credential in the state), or (the default) with the admin kubeconfig
    Secret read as a Pulumi secret (``<name>-kubeconfig``), which the state then keeps, and
    which is the ``kubeconfig`` output (not set with a context: see ``guest_context``).
    """

    cluster_name: pulumi.Output[str]
    """The cluster's name (its Kubernetes app)."""
    kubeconfig_secret: pulumi.Output[str]
    """The Secret in the tenant namespace that holds the admin kubeconfig."""
    kubeconfig: pulumi.Output[str]
    """The admin kubeconfig (a Pulumi secret; unknown until the cluster is Ready)."""

    TYPE = TYPE
    INPUTS = MappingProxyType({"namespace": InputArg(STAND_IN, ("namespace",))})
    """The args that take Outputs (they fill in the objects, never shape them; class attributes
    are left unannotated: the package host reads annotations as outputs)."""
    SECRET_OUTPUTS = frozenset({"kubeconfig"})
    """Outputs that are Pulumi secrets (the package's schema marks them)."""

    def __init__(
        self,
        name: str,
        args: GpuKubernetesClusterArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        tenant: Tenant,
    ) -> None:
        prepared = prepare(
            "GpuKubernetesCluster",
            name,
            arg_values(args, namespace=tenant.namespace),
            inputs=self.INPUTS,
            validate=lambda values: _validated(name, tenant, values),
            check=lambda p: check_cluster(p.tenant.profile, name, p.args),
        )
        super().__init__(self.TYPE, name, None, opts)
        now, later = split(prepared)
        args, tenant = now.args, now.tenant
        app = tenant.profile.kubernetes
        scope, parent = plan_scope()

        def plan(p: _Prepared) -> list[Planned]:
            return plan_cluster(scope, name, p.args, p.tenant, parent=parent, provider="")

        planned = plan(now)
        checked = None if later is None else later.apply(lambda p: same_shape(planned, plan(p)))
        known = {resource.urn: item(checked, index) for index, resource in enumerate(planned)}
        children = [p for p in planned if p.parent == planned[0].urn]  # exactly the plan, in its order
        groups = effective_node_groups(args, app)
        group_of = {node_group_resource(name, group): group for group in groups}
        workload_of = {workload_resource(name, workload): workload for workload in args.workloads}
        self.guest_context = tenant.guest_context(name)
        """The kubeconfig context the cluster's provider uses, or None (it reads the admin Secret)."""
        self.node_groups: dict[str, GpuNodeGroup] = {}
        self.workloads: dict[str, GpuWorkload] = {}
        made: dict[str, pulumi.Resource] = {}
        cluster: pulumi.CustomResource | None = None  # the Kubernetes app
        provider: k8s.Provider | None = None  # a provider for the cluster itself
        for resource in children:
            after = [made[urn] for urn in resource.dependencies]
            if resource.type == NODE_GROUP_TYPE:
                group = group_of[resource.name]
                made[resource.urn] = self.node_groups[group] = GpuNodeGroup(
                    resource.name,
                    groups[group],
                    pulumi.ResourceOptions(parent=self),
                    group=group,
                    platform=tenant.platform,
                    resource_naming=args.resource_naming,
                )
            elif resource.type == WORKLOAD_TYPE:
                workload = workload_of[resource.name]
                made[resource.urn] = self.workloads[workload] = GpuWorkload(
                    resource.name,
                    args.workloads[workload],
                    pulumi.ResourceOptions(parent=self, provider=provider, depends_on=after),
                    node_groups=[self.node_groups[group] for group in args.node_groups],
                    object_name=workload,
                )
            elif resource.read_id:
                assert cluster is not None, "the plan reads the kubeconfig after the cluster"
                made[resource.urn] = self._kubeconfig_secret(resource, cluster, known[resource.urn])
            elif resource.type == PROVIDER_TYPE:
                assert cluster is not None, "the plan makes the provider after the cluster"
                provider = self._cluster_provider(resource.name, cluster)
                made[resource.urn] = self.provider = provider
            else:  # the Kubernetes app (tenant provider), namespaces and quotas (the cluster's)
                inside = resource.provider != ""
                options = pulumi.ResourceOptions(
                    parent=self,
                    provider=provider if inside else None,
                    depends_on=after or None,
                )
                registered = register_plan_child(resource, options, known[resource.urn])
                made[resource.urn] = registered
                if resource.name == cluster_app_resource(name):
                    cluster = self.cluster = registered

        # With args that hold Outputs, the outputs wait for them: a problem found once they are
        # known is then raised wherever the outputs are awaited.
        names = {"cluster_name": name, "kubeconfig_secret": kubeconfig_secret_name(name)}
        waited = values_of(names, None if checked is None else checked.apply(lambda _: names))
        self.cluster_name = pulumi.Output.from_input(waited["cluster_name"])
        self.kubeconfig_secret = pulumi.Output.from_input(waited["kubeconfig_secret"])
        outputs: dict[str, pulumi.Input[str]] = {
            "clusterName": self.cluster_name,
            "kubeconfigSecret": self.kubeconfig_secret,
        }
        if self.guest_context is None:  # the admin kubeconfig was read
            outputs["kubeconfig"] = self.kubeconfig
        self.register_outputs(outputs)

    def _cluster_provider(self, name: str, cluster: pulumi.CustomResource) -> k8s.Provider:
        """The cluster's own provider: the ambient kubeconfig's ``guest_context`` once the cluster
        is Ready, else the admin kubeconfig read (``_kubeconfig_secret``)."""
        flags = provider_flags(server_side_apply=GUEST_SERVER_SIDE_APPLY)
        if self.guest_context is None:
            options = pulumi.ResourceOptions(parent=self)
            return k8s.Provider(name, kubeconfig=self.kubeconfig, opts=options, **flags)
        options = pulumi.ResourceOptions(parent=self, depends_on=[cluster])
        context = self.guest_context
        return k8s.Provider(name, kubeconfig=AMBIENT_KUBECONFIG, context=context, opts=options, **flags)

    def _kubeconfig_secret(
        self, resource: Planned, cluster: pulumi.CustomResource, later: pulumi.Output[Planned] | None
    ) -> pulumi.CustomResource:
        """The planned read of the admin kubeconfig Secret; sets ``kubeconfig`` (a Pulumi secret).

        The id derives from the cluster's id: unknown while the cluster is still to be created,
        so a preview does not read a Secret that does not exist yet (on `up` it resolves once
        the cluster is Ready). metadata would not do: it is known in preview. ``later``: the
        read once the namespace (an Output) is known."""
        read_id = resource.read_id
        secret_name = read_id.rsplit("/", 1)[-1]
        ident = (
            cluster.id.apply(lambda _: read_id)
            if later is None
            else pulumi.Output.all(cluster.id, later).apply(lambda pair: pair[1].read_id)
        )
        secret = k8s.core.v1.Secret.get(
            resource.name, ident, opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster])
        )
        decoded: pulumi.Output[str] = secret.data.apply(lambda data: _kubeconfig(data, secret_name))
        self.kubeconfig = pulumi.Output.secret(decoded)
        return secret
