"""What a tenant cluster's node leaves to pods: its capacity minus what the kubelet reserves.

allocatable = capacity - kube-reserved - system-reserved - the hard eviction threshold
(Kubernetes "Reserve Compute Resources for System Daemons"). The capacity is at most the
worker VM's instance type (the guest kernel keeps a little more, which is not counted here:
a request refused here never fits, one accepted may still not). Per platform profile:

- Cozystack v1.1.2 (``hikube``) configures no reservation: its KubeadmConfigTemplate passes no
  kubelet flags (``packages/apps/kubernetes/templates/cluster.yaml:249-251``), its
  KamajiControlPlane only ``cgroupfs`` and address types (``:140-144``), and Kamaji writes the
  kubelet's defaults (clastix/kamaji edge-26.2.4 ``internal/kubeadm/uploadconfig.go:78``): no
  kube or system reservation and ``evictionHard: memory.available: 100Mi``
  (kubernetes/kubelet v0.34.0 ``config/v1beta1/types.go:550-559``, ``:686-702``).
- Cozystack v1.4.0 (``cozystack-1.4``) reserves per node, for the system and for Kubernetes
  each, 5% of the memory clamped to 256Mi-1Gi and 5% of the CPU clamped to 50m-500m, and
  evicts below 7% of the memory (``cluster.yaml:246-279``, ``:475-479``; the same arithmetic
  gives the autoscaler's capacity annotations, ``:517-531``).
- Cozystack v1.6.0 (``cozystack-1.6``) reserves the same, but its workers run Talos: the
  reservations and the hard eviction threshold go into the worker machineconfig's
  ``kubelet.extraConfig`` (``talos/talos-reconcile-job.yaml:516-534``, ``:397-404``);
  ``cluster.yaml`` computes them again for its checks and the autoscaler's capacity
  annotations (``:550-568``, ``:650-658``, ``:733-748``).

DaemonSets (Cilium, the CSI node plugin, the GPU Operator's) also run on every node; the
platform sets no requests for Cilium's and the CSI node's, so they are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.quantity import MIB


@dataclass(frozen=True)
class Allocatable:
    millicores: int
    memory_bytes: int


@dataclass(frozen=True)
class Reservation:
    """What the kubelet keeps from pods on each node of a tenant cluster."""

    reservations: int
    """How many reservations of the computed size (system-reserved, kube-reserved)."""
    percent: int
    """Each reservation: this percentage of the node's memory and CPU (clamped below)."""
    memory_mib: tuple[int, int]
    cpu_millicores: tuple[int, int]
    eviction_memory_percent: int
    """The hard eviction threshold ``memory.available``, as a percentage of the memory."""
    eviction_memory_bytes: int
    """Or as an absolute amount (used when the percentage is 0)."""
    source: str

    def allocatable(self, vcpu: int, memory_bytes: int) -> Allocatable:
        """What a node of ``vcpu`` CPUs and ``memory_bytes`` of memory leaves to pods (the
        chart's arithmetic: whole MiB and millicores, truncated)."""
        low, high = self.memory_mib
        reserved_mib = min(max(memory_bytes // MIB * self.percent // 100, low), high)
        millicores = vcpu * 1000
        cpu_low, cpu_high = self.cpu_millicores
        reserved_cpu = min(max(millicores * self.percent // 100, cpu_low), cpu_high)
        eviction = (
            memory_bytes * self.eviction_memory_percent // 100
            if self.eviction_memory_percent
            else self.eviction_memory_bytes
        )
        return Allocatable(
            millicores - self.reservations * reserved_cpu,
            memory_bytes - self.reservations * reserved_mib * MIB - eviction,
        )

    def describe(self) -> str:
        """The reservation in a few words, for messages."""
        if not self.reservations:
            return f"no kube or system reservation, eviction below {self.eviction_memory_bytes // MIB}Mi free"
        low, high = self.memory_mib
        return (
            f"kube and system reservations of {self.percent}% each (memory {low}Mi-{high}Mi, CPU "
            f"{self.cpu_millicores[0]}m-{self.cpu_millicores[1]}m), eviction below "
            f"{self.eviction_memory_percent}% free"
        )


KUBELET_DEFAULTS = Reservation(
    reservations=0,
    percent=0,
    memory_mib=(0, 0),
    cpu_millicores=(0, 0),
    eviction_memory_percent=0,
    eviction_memory_bytes=100 * MIB,
    source=(
        "cozystack/cozystack v1.1.2 packages/apps/kubernetes/templates/cluster.yaml:140-144, 249-251; "
        "clastix/kamaji edge-26.2.4 internal/kubeadm/uploadconfig.go:78; "
        "kubernetes/kubelet v0.34.0 config/v1beta1/types.go:550-559, 686-702"
    ),
)
COZYSTACK_1_4 = Reservation(
    reservations=2,
    percent=5,
    memory_mib=(256, 1024),
    cpu_millicores=(50, 500),
    eviction_memory_percent=7,
    eviction_memory_bytes=0,
    source="cozystack/cozystack v1.4.0 packages/apps/kubernetes/templates/cluster.yaml:246-279, 475-479",
)
COZYSTACK_1_6 = Reservation(
    reservations=2,
    percent=5,
    memory_mib=(256, 1024),
    cpu_millicores=(50, 500),
    eviction_memory_percent=7,
    eviction_memory_bytes=0,
    source=(
        "cozystack/cozystack v1.6.0 packages/apps/kubernetes/templates/talos/talos-reconcile-job.yaml:"
        "397-404, 516-534; cluster.yaml:550-568, 650-658, 733-748"
    ),
)

NODE_RESERVATIONS: dict[str, Reservation] = {
    "hikube": KUBELET_DEFAULTS,
    "cozystack-1.4": COZYSTACK_1_4,
    "cozystack-1.6": COZYSTACK_1_6,
}
"""By platform profile (``components.catalog.platform.PROFILES``); a new profile adds its own."""
