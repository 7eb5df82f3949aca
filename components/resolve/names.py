"""Every name derived from a config name, in one place, so components, rules and the
whole-stack identity check (``stacks.validation.identities``) agree.

Three families:

- Kubernetes names of the objects we register (``data_disk_name``, ``quota_name`` …);
- Kubernetes names the platform derives from our objects (Cozystack v1.1.2 charts:
  ``vm_release_name``, ``COZYSTACK_KUBERNETES_OBJECTS`` …);
- Pulumi resource names (``*_resource``): with the parent's type chain they form the URN.
"""

from __future__ import annotations

from components.catalog.derived_names import addon_releases

# --- Kubernetes names of the objects we register -------------------------------------


def system_disk_name(vm: str) -> str:
    """The boot ``VMDisk`` of VM ``vm``."""
    return f"{vm}-system"


def data_disk_name(vm: str, disk: str) -> str:
    """A data ``VMDisk`` of VM ``vm``."""
    return f"{vm}-{disk}"


def quota_name(namespace: str) -> str:
    """The ResourceQuota of a workload namespace in a tenant cluster."""
    return f"{namespace}-gpu-quota"


def cloud_init_secret_name(vm: str) -> str:
    """The cloud-init Secret of a raw KubeVirt VM."""
    return f"{vm}-cloud-init"


def root_volume_name(vm: str) -> str:
    """The root DataVolume (``dataVolumeTemplates``) of a raw KubeVirt VM; CDI names its PVC alike."""
    return f"{vm}-root"


# --- Kubernetes names the platform derives -------------------------------------------


def vm_release_name(vm: str) -> str:
    """The HelmRelease (and KubeVirt VirtualMachine, Service) Cozystack creates for a VMInstance."""
    return f"vm-instance-{vm}"


def disk_release_name(disk: str) -> str:
    """The HelmRelease (and CDI DataVolume, PVC) Cozystack creates for a VMDisk."""
    return f"vm-disk-{disk}"


def cluster_release_name(cluster: str) -> str:
    """The HelmRelease (and Kamaji control plane) Cozystack creates for a Kubernetes app."""
    return f"kubernetes-{cluster}"


KUBECONFIG_KEY = "super-admin.conf"
"""Key of the admin kubeconfig (external endpoint) in the cluster's kubeconfig Secret."""

ADMIN_KUBECONFIG_SUFFIX = "admin-kubeconfig"


def kubeconfig_secret_name(cluster: str) -> str:
    """The Secret in the tenant namespace that holds the cluster's admin kubeconfig."""
    return f"{cluster_release_name(cluster)}-{ADMIN_KUBECONFIG_SUFFIX}"


def guest_context(prefix: str, cluster: str) -> str:
    """The kubeconfig context of tenant cluster ``cluster`` (``Tenant.guest_contexts``):
    ``<prefix>/<cluster>``, the prefix being the stack's context, else its namespace."""
    return f"{prefix}/{cluster}"


VM_INSTANCE_OBJECTS: tuple[tuple[str, str, str], ...] = (
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease", ""),
    ("kubevirt.io/v1", "VirtualMachine", ""),
    ("v1", "Service", ""),
    ("cozystack.io/v1alpha1", "WorkloadMonitor", ""),
    ("v1", "Secret", "ssh-keys"),
    ("v1", "Secret", "cloud-init"),
    ("rbac.authorization.k8s.io/v1", "Role", "dashboard-resources"),
)
"""(apiVersion, kind, suffix) of what a VMInstance's release makes in the tenant namespace,
named ``vm-instance-<vm>[-<suffix>]`` (cozystack v1.1.2 ``packages/apps/vm-instance/templates``;
the Secrets only when the VM has SSH keys or user data)."""

VM_DISK_OBJECTS: tuple[tuple[str, str], ...] = (
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
    ("cdi.kubevirt.io/v1beta1", "DataVolume"),
    ("v1", "PersistentVolumeClaim"),
    ("cozystack.io/v1alpha1", "WorkloadMonitor"),
)
"""What a VMDisk's release makes, named ``vm-disk-<disk>`` (``packages/apps/vm-disk/templates``;
CDI names the PVC after its DataVolume)."""

COZYSTACK_KUBERNETES_OBJECTS: tuple[tuple[str, str, str], ...] = (
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease", ""),
    ("cluster.x-k8s.io/v1beta1", "Cluster", ""),
    ("controlplane.cluster.x-k8s.io/v1alpha1", "KamajiControlPlane", ""),
    ("infrastructure.cluster.x-k8s.io/v1alpha1", "KubevirtCluster", ""),
    ("cozystack.io/v1alpha1", "WorkloadMonitor", ""),
    ("v1", "Secret", ADMIN_KUBECONFIG_SUFFIX),
    ("v1", "Secret", "kubeconfig"),
    ("v1", "Secret", "patch-containerd"),
    ("v1", "ConfigMap", "cloud-config"),
    ("v1", "ConfigMap", "awaiting-etcd"),
    ("apps/v1", "Deployment", "cluster-autoscaler"),
    ("apps/v1", "Deployment", "kccm"),
    ("apps/v1", "Deployment", "kcsi-controller"),
    ("batch/v1", "Job", "pre-cleanup"),
    *(("helm.toolkit.fluxcd.io/v2", "HelmRelease", addon) for addon in addon_releases()),
)
"""(apiVersion, kind, suffix) of what a Kubernetes app's release makes in the tenant namespace,
named ``kubernetes-<cluster>[-<suffix>]`` (cozystack v1.1.2 ``packages/apps/kubernetes/templates``:
``cluster.yaml``, ``helmreleases/*.yaml``, ``kccm/``, ``csi/``, ``cluster-autoscaler/``,
``delete.yaml``; Kamaji writes ``-admin-kubeconfig``, Cluster API ``-kubeconfig``, which the
``fluxcd`` release reads; v1.4 adds ``hami``, ``ouroboros`` and ``awaiting-etcd``). Add-on
releases (``components.catalog.derived_names``) count whether or not the add-on is on, and on
every profile: turning one on, or upgrading the platform, must not need a rename."""

OPERATOR_RELEASE_NAME = "gpu-operator"
"""The Helm release of the GPU Operator on a host cluster (platform stacks)."""


def plugin_config_map_name(digest: str) -> str:
    """The device-plugin ConfigMap the GPU Operator chart creates; the content hash in the name
    rolls it out."""
    return f"hikube-gpu-sharing-{digest}"


def mig_config_map_name(digest: str) -> str:
    """The MIG-manager ConfigMap the chart creates, named like the device-plugin one."""
    return f"hikube-gpu-mig-{digest}"


TENANT_OPERATOR_NAMESPACE = "cozy-gpu-operator"
"""Where the tenant cluster's GPU Operator (and the ConfigMaps its chart creates) lives
(``helmreleases/gpu-operator.yaml``: ``targetNamespace``)."""

COZYSTACK_NODE_GROUP_OBJECTS: tuple[tuple[str, str], ...] = (
    ("cluster.x-k8s.io/v1beta1", "MachineDeployment"),
    ("bootstrap.cluster.x-k8s.io/v1beta1", "KubeadmConfigTemplate"),
)
"""What each node group of a Kubernetes app makes, named ``kubernetes-<cluster>-<group>``."""


def derived_name(release: str, suffix: str) -> str:
    """``<release>-<suffix>``, or the release name itself for an empty suffix."""
    return f"{release}-{suffix}" if suffix else release


def gpu_role(group: str) -> str:
    """The role every GPU node group gets (label ``node-role.kubernetes.io/<role>``)."""
    return group if group.startswith("gpu-") else f"gpu-{group}"


def role_label(role: str) -> str:
    return f"node-role.kubernetes.io/{role}"


# --- Pulumi resource names ----------------------------------------------------------

TENANT_PROVIDER = "tenant"
"""The tenant stack's provider (the tenant namespace)."""
HOST_PROVIDER = "host"
"""The platform stack's provider (the host cluster)."""
OPERATOR_COMPONENT = "gpu-operator"
"""The platform stack's ``GpuOperator``."""
PASSTHROUGH_COMPONENT = "kubevirt-gpu"
"""The platform stack's ``KubeVirtGpuPassthrough``."""
SYSTEM_DISK = "system"
"""The key of a VM's boot disk among its disks (``<vm>-disk-system``)."""
PROVIDER_SUFFIX = "-provider"


def vm_disk_resource(vm: str, disk: str) -> str:
    """A ``VMDisk`` of ``GpuVirtualMachine`` ``vm`` (``disk`` is ``system`` or a data disk)."""
    return f"{vm}-disk-{disk}"


def vm_instance_resource(vm: str) -> str:
    return f"{vm}-instance"


def node_group_resource(cluster: str, group: str) -> str:
    """A ``GpuNodeGroup`` of ``GpuKubernetesCluster`` ``cluster``."""
    return f"{cluster}-{group}"


def cluster_app_resource(cluster: str) -> str:
    """The ``Kubernetes`` app of a ``GpuKubernetesCluster``."""
    return f"{cluster}-cluster"


def kubeconfig_resource(cluster: str) -> str:
    """The read of the cluster's admin kubeconfig Secret."""
    return f"{cluster}-kubeconfig"


def cluster_provider_resource(cluster: str) -> str:
    """The provider for objects inside tenant cluster ``cluster``."""
    return f"{cluster}{PROVIDER_SUFFIX}"


def cluster_of_provider(resource: str) -> str:
    """The tenant cluster of a ``cluster_provider_resource`` name."""
    return resource.removesuffix(PROVIDER_SUFFIX)


def namespace_resource(cluster: str, namespace: str) -> str:
    """A workload Namespace in tenant cluster ``cluster``."""
    return f"{cluster}-ns-{namespace}"


def quota_resource(cluster: str, namespace: str) -> str:
    """The ResourceQuota of a workload namespace."""
    return f"{namespace_resource(cluster, namespace)}-quota"


def workload_resource(cluster: str, workload: str) -> str:
    """A ``GpuWorkload`` of ``GpuKubernetesCluster`` ``cluster``."""
    return f"{cluster}-{workload}"


def workload_object_resource(workload_resource_name: str, kind: str) -> str:
    """One object of a ``GpuWorkload``: ``<workload resource>-<kind, lower-cased>``."""
    return f"{workload_resource_name}-{kind.lower()}"


def operator_namespace_resource(operator: str) -> str:
    return f"{operator}-namespace"


def operator_release_resource(operator: str) -> str:
    return f"{operator}-release"


def node_patch_resource(operator: str, node: str) -> str:
    return f"{operator}-node-{node}"


def passthrough_patch_resource(passthrough: str) -> str:
    return f"{passthrough}-patch"


def raw_vm_secret_resource(vm: str) -> str:
    """The cloud-init Secret of ``KubeVirtGpuVirtualMachine`` ``vm``."""
    return f"{vm}-cloud-init"


def raw_vm_resource(vm: str) -> str:
    """The VirtualMachine of ``KubeVirtGpuVirtualMachine`` ``vm``."""
    return f"{vm}-vm"


def node_read_resource(operator: str, node: str) -> str:
    """The read of Node ``node`` that its label patch waits for (a patch must never create a Node)."""
    return node_patch_resource(operator, node)


def vm_namespace_read_resource(namespace: str) -> str:
    """The read that proves a raw KubeVirt VM's namespace exists before anything is put in it."""
    return f"vm-namespace-{namespace}"
