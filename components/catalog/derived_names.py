"""Names the platform derives from a config name, per platform profile, and the limit each fits.

Cozystack's charts name objects and label values after the app's Helm release
(``kubernetes-<cluster>``, ``vm-instance-<vm>``, ``vm-disk-<disk>``), and Kubernetes, Flux
and Cluster API copy some of those names into labels. A config name is only valid when every
string derived from it fits its limit, so the limits are checked on the real derived strings
(``components.checks.names``), read from the charts at the tag each profile targets. Each entry
cites the template line that derives the string; ``tests/test_derived_names.py`` finds every
one of them in the vendored templates (``tests/upstream/cozystack/<tag>/apps/``).

A new platform profile adds its entries to ``DERIVED_NAMES`` (a test fails until it does).
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter
from typing import Literal

Owner = Literal["cluster", "nodeGroup", "vm", "disk"]
"""What the name is derived from: a cluster (``{cluster}``), a node group (``{cluster}``,
``{group}``, ``{role}``), a VM (``{vm}``) or a VMDisk (``{disk}``: ``<vm>-system``, ``<vm>-<disk>``)."""


@dataclass(frozen=True)
class Limit:
    """Why a derived string has a maximum length."""

    max: int
    holds: str
    """What holds the string: ``a label value``."""
    source: str
    """Where the limit is defined upstream."""


LABEL_VALUE = Limit(
    63,
    "a label value",
    "kubernetes/apimachinery v0.34.0 pkg/util/validation/validation.go:158 (LabelValueMaxLength)",
)
LABEL_KEY_NAME = Limit(
    63,
    "the name part of a label key",
    "kubernetes/apimachinery v0.34.0 pkg/util/validation/validation.go:33 (qualifiedNameMaxLength)",
)
FLUX_NAME_LABEL = Limit(
    63,
    "the label helm.toolkit.fluxcd.io/name that Flux puts on every object the release installs",
    "fluxcd/helm-controller v1.4.5 internal/postrender/build.go:48, common_renderer.go:78-82",
)
JOB_NAME_LABEL = Limit(
    63,
    "the label job-name that the API server puts on the Job's pods",
    "kubernetes/api v0.34.0 batch/v1/types.go:48 (JobNameLabel), a label value",
)
HELM_RELEASE = Limit(
    53,
    "a Helm release name (the platform's API refuses a longer app name)",
    "cozystack/cozystack pkg/registry/apps/application/rest.go (maxHelmReleaseName, validateNameLength)",
)


@dataclass(frozen=True)
class DerivedName:
    """One string a chart derives from a config name."""

    owner: Owner
    pattern: str
    """``kubernetes-{cluster}-cluster-autoscaler``: placeholders are the owner's names."""
    what: str
    """What the string is: ``the cluster autoscaler's app label``."""
    limit: Limit
    source: str
    """The template line (or code) that derives it, at the profile's tag."""
    addon: str | None = None
    """Only rendered when this add-on of the Kubernetes app is on (its chart key)."""

    def of(self, **names: str) -> str:
        return self.pattern.format(**names)

    @property
    def fixed(self) -> int:
        """Characters of the pattern that are not placeholders."""
        return sum(len(text) for text, _, _, _ in Formatter().parse(self.pattern))


def _cozystack(tag: str, path: str) -> str:
    return f"cozystack/cozystack {tag} packages/{path}"


def _rest(tag: str, lines: str) -> str:
    return f"cozystack/cozystack {tag} pkg/registry/apps/application/rest.go:{lines}"


# (suffix, template file under kubernetes/templates/helmreleases, line of `name:`, add-on or None)
_V1_1_2_RELEASES = (
    ("cert-manager-crds", "cert-manager-crds.yaml", 5, "certManager"),
    ("cert-manager", "cert-manager.yaml", 15, "certManager"),
    ("cilium", "cilium.yaml", 20, None),
    ("coredns", "coredns.yaml", 10, None),
    ("csi", "csi.yaml", 4, None),
    ("fluxcd-operator", "fluxcd.yaml", 5, "fluxcd"),
    ("fluxcd", "fluxcd.yaml", 48, "fluxcd"),
    ("gateway-api-crds", "gateway-api-crds.yaml", 5, "gatewayAPI"),
    ("gpu-operator", "gpu-operator.yaml", 5, "gpuOperator"),
    ("ingress-nginx", "ingress-nginx.yaml", 27, "ingressNginx"),
    ("metrics-server", "metrics-server.yaml", 4, None),
    ("monitoring-agents", "monitoring-agents.yaml", 7, "monitoringAgents"),
    ("prometheus-operator-crds", "prometheus-operator-crds.yaml", 4, None),
    ("velero", "velero.yaml", 5, "velero"),
    ("vertical-pod-autoscaler-crds", "vertical-pod-autoscaler-crds.yaml", 5, "monitoringAgents"),
    ("vertical-pod-autoscaler", "vertical-pod-autoscaler.yaml", 31, "monitoringAgents"),
    ("cozy-victoria-metrics-operator", "victoria-metrics-operator.yaml", 5, "monitoringAgents"),
    ("vsnap-crd", "volumesnapshot-crd.yaml", 4, None),
)
_V1_4_0_RELEASES = (
    ("cert-manager-crds", "cert-manager-crds.yaml", 5, "certManager"),
    ("cert-manager", "cert-manager.yaml", 15, "certManager"),
    ("cilium", "cilium.yaml", 21, None),
    ("coredns", "coredns.yaml", 11, None),
    ("csi", "csi.yaml", 5, None),
    ("fluxcd-operator", "fluxcd.yaml", 5, "fluxcd"),
    ("fluxcd", "fluxcd.yaml", 48, "fluxcd"),
    ("gateway-api-crds", "gateway-api-crds.yaml", 5, "gatewayAPI"),
    ("gpu-operator", "gpu-operator.yaml", 13, "gpuOperator"),
    ("hami", "hami.yaml", 8, "hami"),
    ("ingress-nginx", "ingress-nginx.yaml", 27, "ingressNginx"),
    ("metrics-server", "metrics-server.yaml", 5, None),
    ("monitoring-agents", "monitoring-agents.yaml", 7, "monitoringAgents"),
    ("ouroboros", "ouroboros.yaml", 117, "ouroboros"),
    ("prometheus-operator-crds", "prometheus-operator-crds.yaml", 5, None),
    ("velero", "velero.yaml", 5, "velero"),
    ("vertical-pod-autoscaler-crds", "vertical-pod-autoscaler-crds.yaml", 5, "monitoringAgents"),
    ("vertical-pod-autoscaler", "vertical-pod-autoscaler.yaml", 31, "monitoringAgents"),
    ("cozy-victoria-metrics-operator", "victoria-metrics-operator.yaml", 5, "monitoringAgents"),
    ("vsnap-crd", "volumesnapshot-crd.yaml", 5, None),
)
_V1_6_0_RELEASES = (
    ("cert-manager-crds", "cert-manager-crds.yaml", 5, "certManager"),
    ("cert-manager", "cert-manager.yaml", 15, "certManager"),
    ("cilium", "cilium.yaml", 29, None),
    ("coredns", "coredns.yaml", 11, None),
    ("csi", "csi.yaml", 5, None),
    ("fluxcd-operator", "fluxcd.yaml", 5, "fluxcd"),
    ("fluxcd", "fluxcd.yaml", 43, "fluxcd"),
    ("gateway-api-crds", "gateway-api-crds.yaml", 5, "gatewayAPI"),
    ("gpu-operator", "gpu-operator.yaml", 35, "gpuOperator"),
    ("hami", "hami.yaml", 8, "hami"),
    ("ingress-nginx", "ingress-nginx.yaml", 27, "ingressNginx"),
    ("metrics-server", "metrics-server.yaml", 5, None),
    ("monitoring-agents", "monitoring-agents.yaml", 7, "monitoringAgents"),
    ("ouroboros", "ouroboros.yaml", 117, "ouroboros"),
    ("prometheus-operator-crds", "prometheus-operator-crds.yaml", 5, None),
    ("velero", "velero.yaml", 5, "velero"),
    ("vertical-pod-autoscaler-crds", "vertical-pod-autoscaler-crds.yaml", 5, "monitoringAgents"),
    ("vertical-pod-autoscaler", "vertical-pod-autoscaler.yaml", 31, "monitoringAgents"),
    ("cozy-victoria-metrics-operator", "victoria-metrics-operator.yaml", 5, "monitoringAgents"),
    ("vsnap-crd", "volumesnapshot-crd.yaml", 5, None),
)
# (suffix, template file under kubernetes/templates, line of `name:`, what) of the Jobs that
# v1.6.0 adds: OIDC and the Talos workers. Its per-group Job talos-reconcile keeps its name
# within 63 characters itself (talos/talos-reconcile-job.yaml:555-565: the prefix cut to 56
# characters, a dash and a 6-character hash), so it limits no name.
_V1_6_0_JOBS = (
    ("oidc-bootstrap", "oidc-rbac-job.yaml", 121, "the Job that sets up OIDC access"),
    ("oidc-cleanup", "oidc-rbac-job.yaml", 356, "the Job that removes OIDC access on deletion (OIDC on)"),
    (
        "bootstrap-token-tenant",
        "talos/bootstrap-token-tenant-job.yaml",
        32,
        "the Job that writes the Talos workers' bootstrap token",
    ),
)


@dataclass(frozen=True)
class _Lines:
    """Where one chart version derives each name (line numbers at its tag)."""

    tag: str
    helm_release: str
    """``maxHelmReleaseName`` and ``validateNameLength`` in rest.go."""
    autoscaler_label: int
    kcsi_label: int
    kccm_label: int
    pre_cleanup_job: int
    deployment_name_label: int
    role_label: int
    releases: tuple[tuple[str, str, int, str | None], ...]
    jobs: tuple[tuple[str, str, int, str], ...] = ()
    """Other Jobs named after the release: (suffix, template file, line, what)."""


def _entries(at: _Lines) -> tuple[DerivedName, ...]:
    def apps(path: str, line: int) -> str:
        return f"{_cozystack(at.tag, 'apps/' + path)}:{line}"

    helm = _rest(at.tag, at.helm_release)
    kubernetes = "kubernetes/templates/"
    return (
        DerivedName(
            "cluster", "kubernetes-{cluster}", "the Kubernetes app's Helm release", HELM_RELEASE, helm
        ),
        DerivedName(
            "cluster",
            "kubernetes-{cluster}-cluster-autoscaler",
            "the cluster autoscaler's label app",
            LABEL_VALUE,
            apps(kubernetes + "cluster-autoscaler/deployment.yaml", at.autoscaler_label),
        ),
        DerivedName(
            "cluster",
            "kubernetes-{cluster}-kcsi-driver",
            "the CSI controller's label app",
            LABEL_VALUE,
            apps(kubernetes + "csi/deploy.yaml", at.kcsi_label),
        ),
        DerivedName(
            "cluster",
            "kubernetes-{cluster}-kccm",
            "the cloud controller manager's label k8s-app",
            LABEL_VALUE,
            apps(kubernetes + "kccm/manager.yaml", at.kccm_label),
        ),
        DerivedName(
            "cluster",
            "kubernetes-{cluster}-pre-cleanup",
            "the Job that cleans up on deletion",
            JOB_NAME_LABEL,
            apps(kubernetes + "delete.yaml", at.pre_cleanup_job),
        ),
        *(
            DerivedName(
                "cluster",
                f"kubernetes-{{cluster}}-{suffix}",
                f"the add-on HelmRelease {suffix}",
                FLUX_NAME_LABEL,
                apps(kubernetes + "helmreleases/" + file, line),
                addon,
            )
            for suffix, file, line, addon in at.releases
        ),
        *(
            DerivedName(
                "cluster",
                f"kubernetes-{{cluster}}-{suffix}",
                what,
                JOB_NAME_LABEL,
                apps(kubernetes + file, line),
            )
            for suffix, file, line, what in at.jobs
        ),
        DerivedName(
            "nodeGroup",
            "kubernetes-{cluster}-{group}",
            "the label cluster.x-k8s.io/deployment-name of its machines",
            LABEL_VALUE,
            apps(kubernetes + "cluster.yaml", at.deployment_name_label),
        ),
        DerivedName(
            "nodeGroup",
            "{role}",
            "the role label node-role.kubernetes.io/<role> of its nodes",
            LABEL_KEY_NAME,
            apps(kubernetes + "cluster.yaml", at.role_label),
        ),
        DerivedName("vm", "vm-instance-{vm}", "the VMInstance's Helm release", HELM_RELEASE, helm),
        DerivedName(
            "vm",
            "vm-instance-{vm}-update-hook",
            "the Job that applies a new instance type or profile",
            JOB_NAME_LABEL,
            apps("vm-instance/templates/vm-update-hook.yaml", 45),
        ),
        DerivedName(
            "vm",
            "vm-instance-{vm}-update-hook",
            "the update Job's label app",
            LABEL_VALUE,
            apps("vm-instance/templates/vm-update-hook.yaml", 54),
        ),
        DerivedName("disk", "vm-disk-{disk}", "the VMDisk's Helm release", HELM_RELEASE, helm),
        DerivedName(
            "disk",
            "vm-disk-{disk}-volume-resize-hook",
            "the Job that grows the disk when its size goes up",
            JOB_NAME_LABEL,
            apps("vm-disk/templates/pvc-resize-hook.yaml", 18),
        ),
    )


V1_1_2 = _entries(
    _Lines(
        tag="v1.1.2",
        helm_release="1050-1071",
        autoscaler_label=7,
        kcsi_label=6,
        kccm_label=6,
        pre_cleanup_job=9,
        deployment_name_label=312,
        role_label=319,
        releases=_V1_1_2_RELEASES,
    )
)
V1_4_0 = _entries(
    _Lines(
        tag="v1.4.0",
        helm_release="1239-1273",
        autoscaler_label=18,
        kcsi_label=7,
        kccm_label=7,
        pre_cleanup_job=9,
        deployment_name_label=546,
        role_label=553,
        releases=_V1_4_0_RELEASES,
    )
)
V1_6_0 = _entries(
    _Lines(
        tag="v1.6.0",
        helm_release="1282-1316",
        autoscaler_label=18,
        kcsi_label=7,
        kccm_label=7,
        pre_cleanup_job=9,
        deployment_name_label=783,
        role_label=790,
        releases=_V1_6_0_RELEASES,
        jobs=_V1_6_0_JOBS,
    )
)

DERIVED_NAMES: dict[str, tuple[DerivedName, ...]] = {
    "hikube": V1_1_2,
    "cozystack-1.4": V1_4_0,
    "cozystack-1.6": V1_6_0,
}
"""Derived names by platform profile (``components.catalog.platform.PROFILES``): the
``hikube`` profile reads Cozystack v1.1.2, ``cozystack-1.4`` reads v1.4.0, ``cozystack-1.6``
reads v1.6.0."""

CLUSTER_RELEASE_PREFIX = "kubernetes-{cluster}-"


def addon_releases() -> tuple[str, ...]:
    """Suffixes of every add-on HelmRelease a Kubernetes app makes on any profile (sorted)."""
    return tuple(
        sorted(
            {
                entry.pattern.removeprefix(CLUSTER_RELEASE_PREFIX)
                for entries in DERIVED_NAMES.values()
                for entry in entries
                if entry.limit is FLUX_NAME_LABEL
            }
        )
    )
