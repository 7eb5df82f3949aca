"""Fetch the API objects the checks read; every request goes through ``Reader`` (read-only)."""

from __future__ import annotations

from dataclasses import dataclass

from components.builders.gpu_operator_release import RELEASE_NAME
from stacks.commands.doctor.reader import Fetched, Reader
from stacks.validation.config import PlatformStack, TenantStack

VERSION_CONFIG_MAP = "/api/v1/namespaces/cozy-system/configmaps/cozystack-version"
"""Cozystack's migration counter (``data.version``), written by the platform chart and every migration."""
KUBERNETES_APP_DEFINITION = "/apis/cozystack.io/v1alpha1/applicationdefinitions/kubernetes"
APPS_OPENAPI = "/openapi/v3/apis/apps.cozystack.io/v1alpha1"
"""The apps API's OpenAPI v3 document: each app's ``spec`` is its values schema (any user may read it)."""
CLUSTER_INSTANCE_TYPES = "/apis/instancetype.kubevirt.io/v1beta1/virtualmachineclusterinstancetypes"
NODES = "/api/v1/nodes"
OPERATOR_DEPLOYMENT = "gpu-operator"
"""The chart's operator Deployment (gpu-operator ``templates/operator.yaml``), labelled
``helm.sh/chart: gpu-operator-<chart version>``."""


@dataclass(frozen=True)
class VersionSources:
    config_map: Fetched
    app_definition: Fetched
    openapi: Fetched


@dataclass(frozen=True)
class TenantFacts:
    version: VersionSources
    namespace: Fetched
    """The Namespace, or (when a tenant may not read Namespaces) Cozystack's TenantNamespace."""
    quotas: Fetched
    instance_types: Fetched
    rules: Fetched


@dataclass(frozen=True)
class PlatformFacts:
    version: VersionSources
    nodes: Fetched
    kubevirt: Fetched | None
    """The KubeVirt CR the stack patches; None when ``hikube-gpu:kubevirt`` is unset."""
    releases: Fetched
    """Helm's release Secrets of the GPU Operator."""
    operator: Fetched | None
    """The operator Deployment (its ``helm.sh/chart`` label), read only when the Secrets are forbidden."""
    vm_namespaces: dict[str, Fetched]
    """The namespaces of the raw VMs, by name."""


def version_sources(reader: Reader) -> VersionSources:
    return VersionSources(
        reader.get(VERSION_CONFIG_MAP), reader.get(KUBERNETES_APP_DEFINITION), reader.get(APPS_OPENAPI)
    )


def tenant_facts(reader: Reader, stack: TenantStack) -> TenantFacts:
    namespace = stack.platform.namespace or ""
    found = reader.get(f"/api/v1/namespaces/{namespace}")
    if found.denied:
        found = reader.get(f"/apis/core.cozystack.io/v1alpha1/tenantnamespaces/{namespace}")
    return TenantFacts(
        version=version_sources(reader),
        namespace=found,
        quotas=reader.get(f"/api/v1/namespaces/{namespace}/resourcequotas"),
        instance_types=reader.get(CLUSTER_INSTANCE_TYPES),
        rules=reader.review_rules(namespace),
    )


def platform_facts(reader: Reader, stack: PlatformStack) -> PlatformFacts:
    kubevirt = None
    if stack.kubevirt is not None:
        kubevirt = reader.get(
            f"/apis/kubevirt.io/v1/namespaces/{stack.kubevirt.namespace}/kubevirts/{stack.kubevirt.name}"
        )
    namespace = stack.gpu_operator.namespace
    releases = reader.get(
        f"/api/v1/namespaces/{namespace}/secrets", labelSelector=f"owner=helm,name={RELEASE_NAME}"
    )
    operator = None
    if releases.denied:  # the Deployment's label instead (a failed read is not a refusal: can't tell)
        operator = reader.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{OPERATOR_DEPLOYMENT}")
    return PlatformFacts(
        version=version_sources(reader),
        nodes=reader.get(NODES),
        kubevirt=kubevirt,
        releases=releases,
        operator=operator,
        vm_namespaces={name: reader.get(f"/api/v1/namespaces/{name}") for name in vm_namespaces(stack)},
    )


def vm_namespaces(stack: PlatformStack) -> list[str]:
    """Where the raw VMs go: their own namespace, else ``platform.namespace``."""
    return sorted({vm.namespace or stack.platform.namespace or "" for vm in stack.vms.values()} - {""})
