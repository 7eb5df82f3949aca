"""Fetch what verify's checks read; every request goes through ``stacks.commands.doctor.reader``.

The tenant's API (Cozystack) gives the apps, the KubeVirt VMs and each cluster's admin
kubeconfig Secret; with that kubeconfig a second reader asks the cluster itself for its
Nodes, ClusterPolicy and GPU Operator pods (and the last log lines of crash-looping ones).
The kubeconfig is never printed nor kept beyond the reader built from it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from components.builders.manifest import COZYSTACK_APPS
from components.resolve.names import KUBECONFIG_KEY
from stacks.commands.doctor.access import AccessError, Credentials, connect
from stacks.commands.doctor.reader import Fetched, Reader, Unreachable
from stacks.commands.doctor.shape import Json, Malformed, items
from stacks.commands.verify.expect import ClusterExpectation, PlatformExpectation, VmExpectation
from stacks.validation.config import PlatformStack

APP_PLURALS = {"VMInstance": "vminstances", "VMDisk": "vmdisks", "Kubernetes": "kuberneteses"}
"""The apps' resource names (cozystack v1.1.2 ``packages/system/<app>-rd/cozyrds/<app>.yaml``,
``application.plural``)."""
KUBEVIRT = "/apis/kubevirt.io/v1"
NODES = "/api/v1/nodes"
CLUSTER_POLICIES = "/apis/nvidia.com/v1/clusterpolicies"
"""The GPU Operator's ClusterPolicy (cluster-scoped; gpu-operator ``api/nvidia/v1``)."""
LOG_LINES = "5"
LOG_BYTES = "4096"
MAX_LOGS = 6
"""Crash-looping pods whose last log lines are read, at most (each is one request)."""


def app_path(kind: str, namespace: str, name: str) -> str:
    return f"/apis/{COZYSTACK_APPS}/namespaces/{namespace}/{APP_PLURALS[kind]}/{name}"


def kubevirt_path(resource: str, namespace: str, name: str) -> str:
    return f"{KUBEVIRT}/namespaces/{namespace}/{resource}/{name}"


def pods_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods"


@dataclass(frozen=True)
class VmFacts:
    instance: Fetched | None
    """The ``VMInstance`` app (None for a raw VM)."""
    disks: dict[str, Fetched]
    vm: Fetched
    vmi: Fetched


@dataclass(frozen=True)
class OperatorFacts:
    """The GPU Operator of one cluster: its ClusterPolicy and pods, and crash-loop logs."""

    policies: Fetched
    pods: Fetched
    logs: dict[tuple[str, str], Fetched] = field(default_factory=dict)
    """(pod, container) → the last lines of its previous run."""


@dataclass(frozen=True)
class GuestFacts:
    server: str
    nodes: Fetched
    operator: OperatorFacts


@dataclass(frozen=True)
class ClusterFacts:
    app: Fetched
    secret: Fetched
    guest: GuestFacts | None
    """None when the cluster could not be asked (``why_not`` says why)."""
    why_not: str = ""
    reader: Reader | None = None
    """The reader of the cluster (for ``--smoke``)."""


@dataclass(frozen=True)
class PlatformFacts:
    nodes: Fetched
    kubevirt: Fetched | None
    operator: OperatorFacts
    vms: dict[str, VmFacts]


def vm_facts(reader: Reader, vm: VmExpectation) -> VmFacts:
    instance = reader.get(app_path("VMInstance", vm.namespace, vm.name)) if vm.app else None
    disks = {disk: reader.get(app_path("VMDisk", vm.namespace, disk)) for disk in vm.disks}
    return VmFacts(
        instance=instance,
        disks=disks,
        vm=reader.get(kubevirt_path("virtualmachines", vm.namespace, vm.kubevirt_name)),
        vmi=reader.get(kubevirt_path("virtualmachineinstances", vm.namespace, vm.kubevirt_name)),
    )


def operator_facts(reader: Reader, namespace: str) -> OperatorFacts:
    pods = reader.get(pods_path(namespace))
    logs = {}
    for pod, container in crash_looping(pods)[:MAX_LOGS]:
        path = f"{pods_path(namespace)}/{pod}/log"
        logs[(pod, container)] = reader.get_text(
            path, container=container, previous="true", tailLines=LOG_LINES, limitBytes=LOG_BYTES
        )
    return OperatorFacts(reader.get(CLUSTER_POLICIES), pods, logs)


def crash_looping(pods: Fetched) -> list[tuple[str, str]]:
    """(pod, container) of each container waiting in CrashLoopBackOff; none for a malformed list
    (its check says "can't tell" anyway)."""
    if not pods.ok:
        return []
    found = []
    try:
        for pod in items(pods):
            for status in pod.object("status").objects("containerStatuses"):
                waiting = status.object("state").object("waiting")
                if waiting.text("reason") == "CrashLoopBackOff":
                    found.append((pod.name, status.need_text("name")))
    except Malformed:
        return []
    return found


def guest_kubeconfig(secret: Fetched) -> str:
    """The admin kubeconfig in the cluster's Secret (``super-admin.conf``, base64 as Secret data,
    as ``components.gpu_kubernetes_cluster`` reads it); raises ``Malformed`` or ``KeyError``."""
    data = Json.of(secret).object("data")
    encoded = data.text(KUBECONFIG_KEY)
    if not encoded:
        raise KeyError(KUBECONFIG_KEY)
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise data.at(KUBECONFIG_KEY).malformed("a base64 kubeconfig") from None


def cluster_facts(reader: Reader, cluster: ClusterExpectation) -> ClusterFacts:
    app = reader.get(app_path("Kubernetes", cluster.namespace, cluster.name))
    secret = reader.get(f"/api/v1/namespaces/{cluster.namespace}/secrets/{cluster.kubeconfig_secret}")
    if not secret.ok:
        return ClusterFacts(app, secret, None, secret.why())
    where = f"Secret {cluster.namespace}/{cluster.kubeconfig_secret}, key {KUBECONFIG_KEY}"
    try:
        text = guest_kubeconfig(secret)
    except KeyError:
        return ClusterFacts(app, secret, None, f"{where} is empty or missing (the cluster is not ready?)")
    except Malformed as error:
        return ClusterFacts(app, secret, None, f"malformed answer: {error}")
    try:
        guest = connect(Credentials(where, text=text), reader.timeout)
        nodes = guest.get(NODES)
        operator = operator_facts(guest, cluster.operator_namespace)
    except AccessError as error:
        return ClusterFacts(app, secret, None, str(error))
    except Unreachable as error:
        return ClusterFacts(app, secret, None, f"the cluster's API: {error}")
    return ClusterFacts(app, secret, GuestFacts(guest.server, nodes, operator), reader=guest)


def platform_facts(reader: Reader, stack: PlatformStack, expected: PlatformExpectation) -> PlatformFacts:
    kubevirt = None
    if stack.kubevirt is not None:
        kubevirt = reader.get(kubevirt_path("kubevirts", stack.kubevirt.namespace, stack.kubevirt.name))
    return PlatformFacts(
        nodes=reader.get(NODES),
        kubevirt=kubevirt,
        operator=operator_facts(reader, expected.operator_namespace),
        vms={vm.name: vm_facts(reader, vm) for vm in expected.vms},
    )
