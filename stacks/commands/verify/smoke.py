"""``verify --smoke``: one short pod per node group and GPU resource that runs ``nvidia-smi -L``.

The pods are built by the program's own workload builder (``workload.pod_template``: the
restricted security context, the group's role selector, the GPU toleration, the resource name
pods of this stack request, one of it). They run in a namespace this run creates and always
deletes (``finally``, also on SIGINT/SIGTERM/SIGHUP through ``stacks.commands.interrupt``, and
after the timeout); namespace and pods carry ``app.kubernetes.io/managed-by: hikube-gpu-verify``
and the run's id, and ``activeDeadlineSeconds`` ends a pod even if this process is killed.

``nvidia-smi -L`` prints one line per GPU, ``GPU 0: NVIDIA L40S (UUID: GPU-…)``, and one per MIG
device under it, ``  MIG 1g.10gb Device 0: (UUID: MIG-…)`` (NVIDIA MIG user guide, "Device
Enumeration"). The model is compared with the catalog's GPU Feature Discovery product name
(the NVML name with characters other than ``[A-Za-z0-9-_. ]`` dropped and spaces as ``-``:
k8s-device-plugin ``internal/lm/resource.go`` ``sanitise``).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from components.builders.workload import pod_template
from components.models.workload import GpuWorkloadArgs
from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check, Status, fix_for, guarded
from stacks.commands.doctor.reader import Fetched, Session, Unreachable
from stacks.commands.doctor.shape import Json, Malformed
from stacks.commands.interrupt import shielded
from stacks.commands.verify.expect import ClusterExpectation, GroupExpectation, Probe, gfd_product
from stacks.commands.verify.objects import condition

IMAGE = (
    "docker.io/nvidia/cuda:12.1.0-base-ubuntu22.04"
    "@sha256:40042016a816cbbe0504dd0a396e7cfc036a8aa43f5694af60dd6f8f87d24e52"
)
"""NVIDIA's CUDA base image, pinned by its multi-arch index digest (as published projects pin
it; not checked against the registry from here: ``--smoke-image`` takes another)."""
MANAGED_BY = {"app.kubernetes.io/managed-by": "hikube-gpu-verify"}
RUN_LABEL = "hikube-gpu.io/verify-run"
NAMESPACE_PREFIX = "hikube-gpu-verify-"
NAMESPACES = "/api/v1/namespaces"
POLL_SECONDS = 2.0
DONE = ("Succeeded", "Failed")
GPU_LINE = re.compile(r"^GPU (\d+): (.+?) \(UUID: [^)]*\)\s*$")
MIG_LINE = re.compile(r"^\s+MIG (\S+)\s+Device\s+\d+:")


class SmokeSession(Session):
    """Reads, and writes only what the run owns: its namespace and the pods in it."""

    def __init__(self, session: Session, namespace: str) -> None:
        super().__init__(session.api_client, session.timeout)
        self.namespace = namespace

    def send(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        *,
        text: bool = False,
    ) -> Fetched:
        own = f"{NAMESPACES}/{self.namespace}"
        creates_own = path == NAMESPACES and (body or {}).get("metadata", {}).get("name") == self.namespace
        allowed = (
            method == "GET"
            or (method == "POST" and (creates_own or path == f"{own}/pods"))
            or (method == "DELETE" and path == own)
        )
        if not allowed:
            raise ValueError(f"verify --smoke never sends {method} {path}")
        return super().send(method, path, query, body, text=text)


@dataclass(frozen=True)
class SmokePod:
    group: GroupExpectation
    probe: Probe
    name: str
    body: dict[str, Any]

    @property
    def subject(self) -> str:
        return f"{self.group.subject} {self.probe.resource}"


def smoke_pods(
    cluster: ClusterExpectation, namespace: str, run: str, image: str, seconds: int
) -> list[SmokePod]:
    """One pod per GPU group and GPU resource it publishes (a MIG group: one per profile)."""
    assert cluster.args is not None
    pods = []
    for group in cluster.gpu_groups:
        for index, probe in enumerate(group.probes):
            name = f"smoke-{group.group}-{index}"
            workload = GpuWorkloadArgs(
                kind="Job",
                image=image,
                gpus={probe.models[0]: 1},
                mig_profile=probe.mig_profile,
                node_group=group.group,
                command=["nvidia-smi", "-L"],
            )
            template = pod_template(name, cluster.args, workload)
            metadata = {
                "name": name,
                "namespace": namespace,
                "labels": {**template["metadata"]["labels"], **MANAGED_BY, RUN_LABEL: run},
            }
            spec = {**template["spec"], "activeDeadlineSeconds": seconds}
            body = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
            pods.append(SmokePod(group, probe, name, body))
    return pods


def new_run() -> tuple[str, str]:
    """(run id, namespace) of one smoke run."""
    run = secrets.token_hex(3)
    return run, f"{NAMESPACE_PREFIX}{run}"


@dataclass
class Smoke:
    """One cluster's smoke run; ``run()`` always deletes its namespace before it returns or raises."""

    session: Session
    cluster: ClusterExpectation
    image: str
    seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    cleanup: str = ""
    """After ``run``: empty when the namespace is gone (or was never made), else why not."""
    run_id: str = field(init=False)
    namespace: str = field(init=False)
    refused: bool = False
    """The server answered the namespace's creation with a refusal: there is nothing to delete."""

    def __post_init__(self) -> None:
        self.run_id, self.namespace = new_run()

    def run(self) -> list[Check]:
        writer = SmokeSession(self.session, self.namespace)
        pods = smoke_pods(self.cluster, self.namespace, self.run_id, self.image, max(1, int(self.seconds)))
        if not pods:
            return []
        try:
            return self._run(writer, self.namespace, self.run_id, pods)
        finally:
            with shielded():
                self.cleanup = "" if self.refused else _delete(writer, self.namespace)

    def _run(self, writer: SmokeSession, namespace: str, run_id: str, pods: list[SmokePod]) -> list[Check]:
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {**MANAGED_BY, RUN_LABEL: run_id}},
        }
        made = writer.send("POST", NAMESPACES, body=body)
        if not made.ok:
            self.refused = made.code >= 400  # an answer saying no; without one it may exist
            fix = fix_for(
                made, "--smoke needs a credential that can create namespaces and pods in the cluster"
            )
            return [
                Check("smoke", CANT_TELL, f"namespace {namespace} not created: {made.why()}", fix, p.subject)
                for p in pods
            ]
        results: dict[str, Check] = {}
        for pod in pods:
            created = writer.send("POST", f"{NAMESPACES}/{namespace}/pods", body=pod.body)
            if not created.ok:
                results[pod.name] = Check(
                    "smoke",
                    DIFFERS if created.code == 422 else CANT_TELL,  # 422: the cluster refuses the pod itself
                    f"pod not created: {created.why()}",
                    fix_for(created, "--smoke needs create on pods"),
                    pod.subject,
                )
        deadline = self.clock() + self.seconds
        waiting = [pod for pod in pods if pod.name not in results]
        while waiting:
            for pod in list(waiting):
                found = _poll(writer, namespace, pod)
                if found is not None:
                    results[pod.name] = found
                    waiting.remove(pod)
            left = deadline - self.clock()
            if not waiting or left <= 0:
                break
            self.sleep(min(POLL_SECONDS, self.seconds / 4, left))
        for pod in waiting:
            results[pod.name] = guarded(
                "smoke", partial(_late, writer, namespace, pod, self.seconds), pod.subject
            )
        return [results[pod.name] for pod in pods]


def _poll(writer: SmokeSession, namespace: str, pod: SmokePod) -> Check | None:
    """The pod's result once it ended (None while it runs, or while its answer is unusable)."""
    fetched = writer.send("GET", f"{NAMESPACES}/{namespace}/pods/{pod.name}")
    try:
        phase = (Json.of(fetched).object("status").text("phase", "") or "") if fetched.ok else ""
    except Malformed:
        return None  # asked again until the timeout, then _late says what it knows
    if phase not in DONE:
        return None
    return guarded("smoke", partial(_result, writer, namespace, pod, phase), pod.subject)


def _result(writer: SmokeSession, namespace: str, pod: SmokePod, phase: str) -> Check:
    log = writer.send(
        "GET", f"{NAMESPACES}/{namespace}/pods/{pod.name}/log", {"limitBytes": "16384"}, text=True
    )
    if not log.ok:
        fix = fix_for(log, "use a credential that can get pods/log")
        return Check("smoke", CANT_TELL, f"the pod {phase}; its log: {log.why()}", fix, pod.subject)
    if phase == "Failed":
        last = next((line for line in reversed(log.text.splitlines()) if line.strip()), "no output")
        return Check(
            "smoke",
            DIFFERS,
            f"nvidia-smi failed: {last.strip()}",
            "see operator-pods and the node's driver",
            pod.subject,
        )
    status, detail, fix = judge(pod.probe, log.text)
    return Check("smoke", status, detail, fix, pod.subject)


def _late(writer: SmokeSession, namespace: str, pod: SmokePod, seconds: float) -> Check:
    """The pod did not end in time: say what it waits for."""
    fetched = writer.send("GET", f"{NAMESPACES}/{namespace}/pods/{pod.name}")
    why = "no answer about it"
    if fetched.ok:
        obj = Json.of(fetched)
        scheduled = condition(obj, "PodScheduled")
        waiting = [
            status.object("state").object("waiting")
            for status in obj.object("status").objects("containerStatuses")
        ]
        reasons = [w.text("reason", "") or "" for w in waiting if w.present]
        phase = obj.object("status").text("phase", "") or "Pending"
        if scheduled is not None and not scheduled.true:
            why = f"{phase}, not scheduled: {scheduled.text()}"
        elif any(reasons):
            why = f"{phase}: " + ", ".join(r for r in reasons if r)
        else:
            why = phase
    return Check(
        "smoke",
        DIFFERS,
        f"not done within {seconds:g} s ({why})",
        f"no node of {pod.group.group} offers a free {pod.probe.resource}, or the image pull is slow "
        "(--smoke-image, --timeout)",
        pod.subject,
    )


def sanitise(name: str) -> str:
    """GPU Feature Discovery's product name for an NVML device name."""
    return "-".join(re.sub(r"[^A-Za-z0-9-_. ]", "", name).split())


def judge(probe: Probe, output: str) -> tuple[Status, str, str]:
    """Compare ``nvidia-smi -L`` of a pod given one of ``probe.resource`` with the catalog."""
    gpus = [match.group(2) for line in output.splitlines() if (match := GPU_LINE.match(line))]
    migs = [match.group(1) for line in output.splitlines() if (match := MIG_LINE.match(line))]
    wanted = {gfd_product(model): model for model in probe.models}
    names = " or ".join(f"{model.value} ({gfd_product(model)})" for model in probe.models)
    if len(gpus) != 1:
        seen = "; ".join(gpus) or "no GPU"
        return (
            DIFFERS,
            f"nvidia-smi -L lists {len(gpus)} GPUs ({seen}), one was asked for",
            "see gpu-resources",
        )
    model = wanted.get(sanitise(gpus[0]))
    if model is None:
        return (
            DIFFERS,
            f"the pod got a {gpus[0]}, the group has {names}",
            "check the group's gpus and the hosts",
        )
    if probe.mig_profile is not None and migs != [probe.mig_profile]:
        shown = ", ".join(migs) or "no MIG device"
        return (
            DIFFERS,
            f"{gpus[0]} with {shown}, not one {probe.mig_profile}",
            "see gpu-resources (MIG layout)",
        )
    extra = f", MIG {probe.mig_profile}" if probe.mig_profile else ""
    return OK, f"nvidia-smi -L: {gpus[0]}{extra}, as the catalog says for {model.value}", ""


def _delete(writer: SmokeSession, namespace: str) -> str:
    """Delete the run's namespace (and so its pods); why not, if it could not be."""
    try:
        deleted = writer.send("DELETE", f"{NAMESPACES}/{namespace}", {"propagationPolicy": "Background"})
    except Unreachable as error:
        return str(error)
    if deleted.ok or deleted.missing:
        return ""
    return deleted.why()
