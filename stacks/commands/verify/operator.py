"""The GPU Operator of a cluster: its ClusterPolicy ready, and its pods Ready on each GPU node.

Component pods are told by their ``app`` label, as the operator's state manifests set it
(gpu-operator v25.3.0 and v26.7.0 ``assets/state-*/0500_daemonset.yaml``): the device plugin,
GPU Feature Discovery, the DCGM exporter (container nodes), the sandbox device plugin (VM
nodes); the operator's own pod is ``app: gpu-operator`` (``deployments/gpu-operator/templates/
operator.yaml``). The ClusterPolicy's ``status.state`` is ``ready``, ``notReady`` or ``ignored``
and its ``Error`` condition says why (``api/nvidia/v1/clusterpolicy_types.go``,
``internal/conditions``). A crash-looping container is one waiting with reason
``CrashLoopBackOff`` (the kubelet's back-off); its previous run's last log line is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check, fix_for
from stacks.commands.doctor.reader import MAX_MESSAGE, Fetched
from stacks.commands.doctor.shape import Json, items
from stacks.commands.verify.facts import OperatorFacts
from stacks.commands.verify.objects import condition, labels

OPERATOR = "gpu-operator"
DEVICE_PLUGIN = "nvidia-device-plugin-daemonset"
FEATURE_DISCOVERY = "gpu-feature-discovery"
DCGM_EXPORTER = "nvidia-dcgm-exporter"
SANDBOX_PLUGIN = "nvidia-sandbox-device-plugin-daemonset"
COMPONENTS = (OPERATOR, DEVICE_PLUGIN, FEATURE_DISCOVERY, DCGM_EXPORTER, SANDBOX_PLUGIN)


@dataclass(frozen=True)
class OperatorExpectation:
    subject: str
    namespace: str
    per_node: dict[str, tuple[str, ...]] | None
    """Node → the component pods that must run on it; None when the nodes could not be read."""


def check_cluster_policy(expected: OperatorExpectation, facts: OperatorFacts) -> Check:
    name, subject = "cluster-policy", expected.subject
    policies = facts.policies
    if policies.missing:
        return Check(
            name,
            DIFFERS,
            "no ClusterPolicy API (nvidia.com/v1): the GPU Operator is not installed",
            "see the GPU Operator's Helm release (`pulumi up` installs it)",
            subject,
        )
    if not policies.ok:
        return Check(
            name,
            CANT_TELL,
            policies.why(),
            fix_for(policies, "use a credential that can list clusterpolicies"),
            subject,
        )
    found = items(policies)
    if not found:
        return Check(
            name,
            DIFFERS,
            "no ClusterPolicy: the operator has nothing to deploy",
            "see the GPU Operator's Helm release",
            subject,
        )
    states = []
    for policy in found:
        state = policy.object("status").text("state", "") or ""
        if state == "ready":
            ready = condition(policy, "Ready")
            why = f" ({ready.text()})" if ready is not None else ""
            return Check(name, OK, f"ClusterPolicy {policy.name} ready{why}", "", subject)
        error = condition(policy, "Error")
        why = f": {error.text()}" if error is not None and error.true else ""
        states.append(f"{policy.name} {state or 'not reconciled yet'}{why}")
    return Check(
        name,
        DIFFERS,
        "ClusterPolicy " + "; ".join(states),
        f"see the operator's log (`kubectl logs -n {expected.namespace} deploy/gpu-operator`) "
        "and operator-pods",
        subject,
    )


@dataclass(frozen=True)
class Pod:
    name: str
    app: str
    node: str
    ready: bool
    phase: str
    crashing: list[tuple[str, int]]
    """(container, restarts) of each container in CrashLoopBackOff."""


def read_pod(pod: Json) -> Pod:
    status = pod.object("status")
    crashing = []
    for container in status.objects("containerStatuses"):
        waiting = container.object("state").object("waiting")
        if waiting.text("reason") == "CrashLoopBackOff":
            crashing.append((container.need_text("name"), container.number("restartCount", 0) or 0))
    ready = condition(pod, "Ready")
    return Pod(
        name=pod.name,
        app=labels(pod).get("app", ""),
        node=pod.object("spec").text("nodeName", "") or "",
        ready=ready is not None and ready.true,
        phase=status.text("phase", "") or "",
        crashing=crashing,
    )


def last_line(fetched: Fetched | None) -> str:
    if fetched is None:
        return "its log was not read"
    if not fetched.ok:
        return f"its log could not be read: {fetched.why()}"
    lines = [line.strip() for line in fetched.text.splitlines() if line.strip()]
    if not lines:
        return "its last run logged nothing"
    line = lines[-1]
    return "last log line: " + (line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…")


def check_operator_pods(expected: OperatorExpectation, facts: OperatorFacts) -> Check:
    name, subject = "operator-pods", expected.subject
    if not facts.pods.ok:
        return Check(
            name,
            CANT_TELL,
            facts.pods.why(),
            fix_for(facts.pods, f"use a credential that can list pods in {expected.namespace}"),
            subject,
        )
    pods = [pod for pod in (read_pod(p) for p in items(facts.pods)) if pod.app in COMPONENTS]
    problems: list[str] = []
    for pod in pods:
        for container, restarts in pod.crashing:
            line = last_line(facts.logs.get((pod.name, container)))
            problems.append(f"{pod.name} ({container}) is crash-looping after {restarts} restarts; {line}")
    if not any(pod.app == OPERATOR and pod.ready for pod in pods):
        problems.append(f"no Ready gpu-operator pod in {expected.namespace}")
    for node, components in sorted((expected.per_node or {}).items()):
        for component in components:
            on_node = [pod for pod in pods if pod.app == component and pod.node == node]
            if not on_node:
                problems.append(f"no {component} pod on {node}")
            elif not any(pod.ready for pod in on_node) and not any(pod.crashing for pod in on_node):
                phases = ", ".join(f"{pod.name} {pod.phase or 'no phase'}" for pod in on_node)
                problems.append(f"{component} on {node} not Ready ({phases})")
    if problems:
        return Check(
            name,
            DIFFERS,
            "; ".join(problems),
            f"`kubectl get pods -n {expected.namespace} -o wide`; a crash-looping plugin's log says why "
            "(a bad sharing config, MPS with MIG strategy mixed: P4)",
            subject,
        )
    if expected.per_node is None:
        return Check(
            name,
            CANT_TELL,
            f"{len(pods)} operator pods Ready; which nodes need them is unknown (see node-count)",
            "",
            subject,
        )
    shown = (
        ", ".join(sorted({c for components in expected.per_node.values() for c in components}))
        or "no GPU node yet"
    )
    return Check(name, OK, f"operator Ready; on {len(expected.per_node)} GPU nodes: {shown}", "", subject)
