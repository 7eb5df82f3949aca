"""Recorded worlds for ``verify``: a tenant's Cozystack API and its cluster's own API, a GPU host.

Objects come from tests/fixtures/verify (see its SOURCES.md): the GPU Operator's DaemonSet
templates give the operand pods, KubeVirt's API-testing objects the VM and VMI, GPU Feature
Discovery's documented labels the GPU nodes. Each builder sets only what the scenario needs.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.fake_api import Answer, FakeApi, Request, kubeconfig_text, listing, running, status

FIXTURES = Path(__file__).parent / "fixtures" / "verify"
DOCTOR_FIXTURES = Path(__file__).parent / "fixtures" / "doctor"
NAMESPACE = "tenant-acme"
OPERATOR_NAMESPACE = "cozy-gpu-operator"
GUEST_TOKEN = "guest-admin-token-never-printed"
APPS = f"/apis/apps.cozystack.io/v1alpha1/namespaces/{NAMESPACE}"
KUBEVIRT = f"/apis/kubevirt.io/v1/namespaces/{NAMESPACE}"
SECRET = f"/api/v1/namespaces/{NAMESPACE}/secrets/kubernetes-ml-admin-kubeconfig"
NODES = "/api/v1/nodes"
POLICIES = "/apis/nvidia.com/v1/clusterpolicies"
PODS = f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/pods"
HOST_PODS = "/api/v1/namespaces/gpu-operator/pods"
HOST_KUBEVIRT = "/apis/kubevirt.io/v1/namespaces/cozy-kubevirt/kubevirts/kubevirt"

DEVICE_PLUGIN = "gpu-operator-v25.3.0-device-plugin-daemonset.yaml"
GFD = "gpu-operator-v25.3.0-gfd-daemonset.yaml"
DCGM = "gpu-operator-v25.3.0-dcgm-exporter-daemonset.yaml"
SANDBOX = "gpu-operator-v26.7.0-sandbox-device-plugin-daemonset.yaml"

L40S_NODES = ["kubernetes-ml-l40s-8xv2d-k7q4n", "kubernetes-ml-l40s-8xv2d-p2m9w"]
A100_NODES = ["kubernetes-ml-a100-6hc4r-x8t2b", "kubernetes-ml-a100-6hc4r-d5n7v"]
MD0_NODES = ["kubernetes-ml-md0-5p9sx-2fzmd", "kubernetes-ml-md0-5p9sx-q8w3k"]
CRASH_LOG = (
    "I0612 10:11:12.100000       1 main.go:235] Starting NVIDIA Device Plugin version=v0.17.1\n"
    "E0612 10:11:12.123456       1 main.go:173] error starting plugins: unable to validate flags: "
    "using --mig-strategy=mixed is not supported with MPS\n"
)
"""The device plugin's last lines when MPS meets MIG strategy mixed (k8s-device-plugin v0.17.1
``cmd/nvidia-device-plugin/main.go``: 173 logs what ``start`` returns, 263 and 338 wrap it,
195 says it; klog's ``E<mmdd> <time> <pid> <file:line>]`` header), P4."""


def fixture(name: str, folder: Path = FIXTURES) -> Any:
    return yaml.safe_load((folder / name).read_text(encoding="utf-8"))


def condition(kind: str, ok: bool, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": "True" if ok else "False", "reason": reason, "message": message,
            "lastTransitionTime": "2026-06-12T09:40:00Z"}  # fmt: skip


def app_object(kind: str, name: str, ready: bool = True, message: str = "") -> dict[str, Any]:
    """A Cozystack app as its API shows it: the HelmRelease's Ready/Released conditions
    (cozystack v1.1.2 ``pkg/registry/apps/application/rest.go``), with Flux helm-controller's
    messages (``flux get helmreleases``)."""
    release = {"VMInstance": "vm-instance", "VMDisk": "vm-disk", "Kubernetes": "kubernetes"}[kind]
    chart = f"{release}@0.0.0"
    if ready:
        reason, message = (
            "InstallSucceeded",
            f"Helm install succeeded for release {NAMESPACE}/{release}-{name}.v1 with chart {chart}",
        )
    else:
        reason = "InstallFailed"
        message = (
            message or f"Helm install failed for release {NAMESPACE}/{release}-{name} with chart {chart}"
        )
    return {
        "apiVersion": "apps.cozystack.io/v1alpha1", "kind": kind,
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": f"uid-{name}"},
        "spec": {},
        "status": {"version": "0.0.0", "conditions": [condition("Ready", ready, reason, message),
                                                       condition("Released", ready, reason, message)]},
    }  # fmt: skip


def gpu_devices(names: list[str]) -> list[dict[str, str]]:
    """``spec.domain.devices.gpus`` as the vm-instance chart renders them (``gpu1``, ``gpu2``…)."""
    return [{"name": f"gpu{index + 1}", "deviceName": name} for index, name in enumerate(names)]


def vm_object(
    name: str, gpus: list[str], printable: str = "Running", namespace: str = NAMESPACE
) -> dict[str, Any]:
    vm = fixture("kubevirt-apitesting-v1.9.0-vm.yaml")
    vm["metadata"].update(name=name, namespace=namespace)
    vm["spec"]["runStrategy"] = "Always"
    vm["spec"]["template"]["spec"]["domain"]["devices"]["gpus"] = gpu_devices(gpus)
    vm["status"]["printableStatus"] = printable
    vm["status"]["ready"] = printable == "Running"
    return vm


def vmi_object(
    name: str, gpus: list[str], phase: str = "Running", ready: bool = True, namespace: str = NAMESPACE
) -> dict[str, Any]:
    vmi = fixture("kubevirt-apitesting-v1.9.0-vmi.yaml")
    vmi["metadata"].update(name=name, namespace=namespace)
    vmi["spec"]["domain"]["devices"]["gpus"] = gpu_devices(gpus)
    vmi["status"]["phase"] = phase
    vmi["status"]["nodeName"] = "gpu-node-1"
    vmi["status"]["conditions"] = [condition("Ready", ready, "" if ready else "GuestNotRunning")]
    return vmi


def gpu_node(name: str, role: str, allocatable: dict[str, str], **labels: str) -> dict[str, Any]:
    node = fixture("node-gpu.yaml")
    node["metadata"]["name"] = name
    node_labels = {k: v for k, v in node["metadata"]["labels"].items() if not k.startswith("node-role.")}
    node_labels |= {"kubernetes.io/hostname": name, f"node-role.kubernetes.io/{role}": "", **labels}
    node["metadata"]["labels"] = {k: v for k, v in node_labels.items() if v is not None}
    for key in ("capacity", "allocatable"):
        node["status"][key] = {
            k: v for k, v in node["status"][key].items() if not k.startswith("nvidia.com/")
        }
        node["status"][key].update(allocatable)
    return node


def md0_node(name: str) -> dict[str, Any]:
    node = fixture("node-md0.yaml")
    node["metadata"]["name"] = name
    node["metadata"]["labels"]["kubernetes.io/hostname"] = name
    return node


def l40s_node(name: str, gpus: str = "4", **labels: str) -> dict[str, Any]:
    return gpu_node(name, "gpu-l40s", {"nvidia.com/gpu": gpus}, **labels)


def a100_node(name: str, allocatable: dict[str, str] | None = None, **labels: str) -> dict[str, Any]:
    mig = {"nvidia.com/mig-1g.10gb": "2", "nvidia.com/mig-3g.40gb": "1", "nvidia.com/gpu": "0"}
    return gpu_node(name, "gpu-a100", allocatable or mig, **{
        "nvidia.com/gpu.product": "NVIDIA-A100-80GB-PCIe", "nvidia.com/gpu.replicas": "1",
        "nvidia.com/gpu.sharing-strategy": "none", "nvidia.com/gpu.memory": "81920",
        "nvidia.com/gpu.family": "ampere", "nvidia.com/mig.capable": "true", "nvidia.com/mig.strategy": "mixed",
        "nvidia.com/device-plugin.config": "a100", "nvidia.com/mig.config": "hikube-gpu-a100",
        "nvidia.com/mig.config.state": "success", **labels})  # fmt: skip


def running_status(containers: list[str], ready: bool = True) -> dict[str, Any]:
    return {
        "phase": "Running",
        "conditions": [condition("Ready", ready, "" if ready else "ContainersNotReady")],
        "containerStatuses": [
            {"name": c, "ready": ready, "restartCount": 0, "image": "nvcr.io/nvidia/k8s-device-plugin:v0.17.1",
             "state": {"running": {"startedAt": "2026-06-12T09:45:00Z"}}}
            for c in containers
        ],
    }  # fmt: skip


def crash_status(pod: str, namespace: str, container: str, others: list[str]) -> dict[str, Any]:
    """A container in CrashLoopBackOff with the kubelet's message (kubernetes
    ``pkg/kubelet/kuberuntime/kuberuntime_container.go``: "back-off %s restarting failed
    container=%s pod=%s", the pod as ``name_namespace(uid)``)."""
    found = running_status(others)
    found["conditions"] = [
        condition("Ready", False, "ContainersNotReady", f"containers with unready status: [{container}]")
    ]
    found["containerStatuses"].append({
        "name": container, "ready": False, "restartCount": 7, "image": "nvcr.io/nvidia/k8s-device-plugin:v0.17.1",
        "state": {"waiting": {"reason": "CrashLoopBackOff",
                              "message": f"back-off 5m0s restarting failed container={container} pod={pod}_{namespace}(uid-{pod})"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2026-06-12T10:11:12Z",
                                     "finishedAt": "2026-06-12T10:11:13Z"}},
    })  # fmt: skip
    return found


def daemon_pod(
    asset: str, node: str, namespace: str = OPERATOR_NAMESPACE, crash: str = "", ready: bool = True
) -> dict[str, Any]:
    """A pod of one of the GPU Operator's DaemonSets on ``node``: the template's labels and spec."""
    daemonset = fixture(asset)
    template = daemonset["spec"]["template"]
    name = f"{daemonset['metadata']['name']}-{node[-5:]}"
    containers = [c["name"] for c in template["spec"]["containers"]]
    spec = {**copy.deepcopy(template["spec"]), "nodeName": node}
    if crash:
        state = crash_status(name, namespace, crash, [c for c in containers if c != crash])
    else:
        state = running_status(containers, ready)
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(template["metadata"]["labels"]),
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": daemonset["metadata"]["name"],
                                          "uid": "uid-ds", "controller": True}]},
        "spec": spec,
        "status": state,
    }  # fmt: skip


def operator_pod(namespace: str = OPERATOR_NAMESPACE) -> dict[str, Any]:
    """The operator's own pod: labels of gpu-operator ``deployments/gpu-operator/templates/operator.yaml``."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "gpu-operator-7d9c8b6f5-zx4pl", "namespace": namespace,
                     "labels": {"app": "gpu-operator", "app.kubernetes.io/component": "gpu-operator"}},
        "spec": {"containers": [{"name": "gpu-operator", "image": "nvcr.io/nvidia/gpu-operator:v25.3.0"}],
                 "nodeName": MD0_NODES[0]},
        "status": running_status(["gpu-operator"]),
    }  # fmt: skip


def cluster_policy(ready: bool = True, namespace: str = OPERATOR_NAMESPACE) -> dict[str, Any]:
    """gpu-operator v26.7.0's sample ClusterPolicy with the status its controller writes
    (``controllers/clusterpolicy_controller.go``; conditions as ``internal/conditions/clusterpolicy_test.go``)."""
    policy = fixture("gpu-operator-v26.7.0-clusterpolicy-sample.yaml")
    if ready:
        conditions = [condition("Ready", True, "Reconciled", "ClusterPolicy is ready as all resources have been successfully reconciled"),
                      condition("Error", False, "Ready")]  # fmt: skip
        policy["status"] = {"state": "ready", "namespace": namespace, "conditions": conditions}
    else:
        conditions = [condition("Ready", False, "Error"),
                      condition("Error", True, "OperandNotReady", "ClusterPolicy is not ready, states not ready: [state-device-plugin]")]  # fmt: skip
        policy["status"] = {"state": "notReady", "namespace": namespace, "conditions": conditions}
    return policy


def guest_pods(gpu_nodes: list[str], crash_on: str = "") -> list[dict[str, Any]]:
    pods = [operator_pod()]
    for node in gpu_nodes:
        crash = "nvidia-device-plugin" if node == crash_on else ""
        pods += [daemon_pod(DEVICE_PLUGIN, node, crash=crash), daemon_pod(GFD, node), daemon_pod(DCGM, node)]
    return pods


@dataclass
class Tenant:
    """The tenant's Cozystack API (``api``) and its cluster ``ml``'s own API (``guest``)."""

    api: FakeApi = field(default_factory=FakeApi)
    guest: FakeApi = field(default_factory=FakeApi)

    def all_ok(self) -> Tenant:
        api, guest = self.api, self.guest
        api.serve(f"{APPS}/vminstances/ws-1", app_object("VMInstance", "ws-1"))
        api.serve(f"{APPS}/vmdisks/ws-1-system", app_object("VMDisk", "ws-1-system"))
        api.serve(
            f"{KUBEVIRT}/virtualmachines/vm-instance-ws-1",
            vm_object("vm-instance-ws-1", ["nvidia.com/AD102GL_L40S"]),
        )
        api.serve(
            f"{KUBEVIRT}/virtualmachineinstances/vm-instance-ws-1",
            vmi_object("vm-instance-ws-1", ["nvidia.com/AD102GL_L40S"]),
        )
        api.serve(f"{APPS}/kuberneteses/ml", app_object("Kubernetes", "ml"))
        api.serve(SECRET, self.kubeconfig_secret())
        nodes = (
            [l40s_node(n) for n in L40S_NODES]
            + [a100_node(n) for n in A100_NODES]
            + [md0_node(n) for n in MD0_NODES]
        )
        guest.serve(NODES, listing("Node", nodes))
        guest.serve(POLICIES, listing("ClusterPolicy", [cluster_policy()]))
        guest.serve(PODS, listing("Pod", guest_pods(L40S_NODES + A100_NODES)))
        return self

    def kubeconfig_secret(self, server: str | None = None) -> dict[str, Any]:
        """The Secret Kamaji writes (``super-admin.conf``), base64 as Secret data."""
        text = kubeconfig_text(server or self.guest.url, token=GUEST_TOKEN)
        return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "kubernetes-ml-admin-kubeconfig", "namespace": NAMESPACE},
                "data": {"super-admin.conf": base64.b64encode(text.encode()).decode()}}  # fmt: skip

    def set_nodes(self, nodes: list[dict[str, Any]]) -> None:
        self.guest.serve(NODES, listing("Node", nodes))


@contextmanager
def tenant_world() -> Iterator[Tenant]:
    world = Tenant()
    with ExitStack() as stack:
        stack.enter_context(running(world.api))
        stack.enter_context(running(world.guest))
        yield world.all_ok()


def host_nodes() -> list[dict[str, Any]]:
    """The doctor's GPU host Nodes (sandbox device plugin names) and a container-mode node."""
    nodes = fixture("nodes.yaml", DOCTOR_FIXTURES)["items"]
    container = gpu_node("gpu-node-3", "worker", {"nvidia.com/gpu": "1"}, **{"nvidia.com/gpu.workload.config": "container",
                          "nvidia.com/gpu.product": "NVIDIA-L40S", "nvidia.com/device-plugin.config": None})  # fmt: skip
    return [*nodes, container]


def host_world(api: FakeApi) -> FakeApi:
    from tests.test_doctor import DEVICES, GATES, kubevirt_cr

    api.serve(NODES, listing("Node", host_nodes()))
    api.serve(HOST_KUBEVIRT, kubevirt_cr(GATES, DEVICES))
    api.serve(POLICIES, listing("ClusterPolicy", [cluster_policy(namespace="gpu-operator")]))
    pods = [operator_pod("gpu-operator")]
    pods += [daemon_pod(SANDBOX, node, "gpu-operator") for node in ("gpu-node-1", "gpu-node-2")]
    pods += [daemon_pod(asset, "gpu-node-3", "gpu-operator") for asset in (DEVICE_PLUGIN, GFD, DCGM)]
    api.serve(HOST_PODS, listing("Pod", pods))
    vms = "/apis/kubevirt.io/v1/namespaces/gpu-vms"
    api.serve(
        f"{vms}/virtualmachines/cuda-lab",
        vm_object("cuda-lab", ["nvidia.com/AD102GL_L40S"], namespace="gpu-vms"),
    )
    api.serve(
        f"{vms}/virtualmachineinstances/cuda-lab",
        vmi_object("cuda-lab", ["nvidia.com/AD102GL_L40S"], namespace="gpu-vms"),
    )
    return api


NVIDIA_SMI = {
    "L40S": "GPU 0: NVIDIA L40S (UUID: GPU-2b0c7a7f-2ed3-8f14-3b68-0b5b7d0a7c2e)\n",
    "A100": "GPU 0: NVIDIA A100 80GB PCIe (UUID: GPU-5f2a3c1e-9d1b-4e6f-8a7c-2d4b6e8f0a1c)\n",
}
"""``nvidia-smi -L`` as the NVIDIA MIG user guide ("Device Enumeration") shows its lines."""


def smi_output(model: str, mig: str | None = None) -> str:
    text = NVIDIA_SMI[model]
    if mig:
        text += f"  MIG {mig}     Device  0: (UUID: MIG-8c4d2a6e-1f3b-5e7d-9a0c-4b6d8e0f2a3c)\n"
    return text


@dataclass
class SmokeCluster:
    """A cluster that runs ``--smoke``'s pods: ``output(pod)`` says what ``nvidia-smi -L`` prints;
    pods end after ``polls`` reads (never with ``None``)."""

    output: Any
    polls: int | None = 1
    namespaces: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)

    def __call__(self, request: Request) -> Answer:
        parts = request.path.removeprefix("/api/v1/namespaces").strip("/").split("/")
        if request.method == "POST" and parts == [""]:
            self.namespaces.append(request.body["metadata"]["name"])
            return Answer(201, request.body)
        if request.method == "DELETE" and len(parts) == 1:
            self.deleted.append(parts[0])
            return Answer(
                200, {"kind": "Namespace", "metadata": {"name": parts[0]}, "status": {"phase": "Terminating"}}
            )
        if request.method == "POST" and parts[1:] == ["pods"]:
            self.pods[request.body["metadata"]["name"]] = request.body
            return Answer(201, request.body)
        if request.method == "GET" and len(parts) >= 3 and parts[1] == "pods" and parts[2] in self.pods:
            return self._pod(parts[2], log=parts[3:] == ["log"])
        return Answer(404, status(404, "NotFound"))

    def _pod(self, name: str, *, log: bool) -> Answer:
        pod = self.pods[name]
        if log:
            return Answer(text=self.output(pod))
        self.reads[name] = self.reads.get(name, 0) + 1
        done = self.polls is not None and self.reads[name] > self.polls
        found = {**pod, "status": {"phase": "Succeeded" if done else "Pending"}}
        if not done:
            found["status"]["conditions"] = [condition("PodScheduled", False, "Unschedulable",
                "0/6 nodes are available: 2 Insufficient nvidia.com/gpu, 4 node(s) didn't match Pod's node affinity/selector.")]  # fmt: skip
        return Answer(200, found)


def requested(pod: dict[str, Any]) -> str:
    limits = pod["spec"]["containers"][0]["resources"]["limits"]
    return next(iter(limits))


def catalog_output(pod: dict[str, Any]) -> str:
    resource = requested(pod)
    if resource.startswith("nvidia.com/mig-"):
        return smi_output("A100", resource.removeprefix("nvidia.com/mig-"))
    return smi_output("L40S")


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
