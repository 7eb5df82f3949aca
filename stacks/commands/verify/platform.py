"""Checks of a platform stack after ``up``: node modes applied, KubeVirt permits what the GPU
nodes publish, the GPU Operator's components Ready, the raw VMs running with their GPUs."""

from __future__ import annotations

from components.catalog.gpu_operator import VM_WORKLOADS
from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check, fix_for, guarded
from stacks.commands.doctor.shape import Json, items
from stacks.commands.verify.expect import PlatformExpectation
from stacks.commands.verify.facts import PlatformFacts
from stacks.commands.verify.objects import count, labels
from stacks.commands.verify.operator import (
    DCGM_EXPORTER,
    DEVICE_PLUGIN,
    FEATURE_DISCOVERY,
    SANDBOX_PLUGIN,
    OperatorExpectation,
    check_cluster_policy,
    check_operator_pods,
)
from stacks.commands.verify.vms import vm_checks
from stacks.validation.config import PlatformStack

GENERIC = ("nvidia.com/gpu", "nvidia.com/mig-")
"""Container-mode names: not passed through to VMs."""


def check_node_modes(expected: PlatformExpectation, facts: PlatformFacts) -> Check:
    name = "node-modes"
    if not expected.nodes:
        return Check(name, OK, "hikube-gpu:nodes names no node")
    if not facts.nodes.ok:
        return Check(
            name, CANT_TELL, facts.nodes.why(), fix_for(facts.nodes, "use a credential that can list nodes")
        )
    live = {node.name: labels(node) for node in items(facts.nodes)}
    problems = []
    for node, wanted in expected.nodes.items():
        if node not in live:
            problems.append(f"no node {node}")
            continue
        wrong = {k: v for k, v in wanted.items() if live[node].get(k) != v}
        if wrong:
            shown = ", ".join(f"{k}={live[node].get(k, '(none)')}, not {v}" for k, v in wrong.items())
            problems.append(f"{node}: {shown}")
    if problems:
        return Check(
            name, DIFFERS, "; ".join(problems), "`pulumi up` labels the nodes (did someone change a label?)"
        )
    return Check(
        name,
        OK,
        "labels as the stack sets them: " + ", ".join(f"{n} {expected.workloads[n]}" for n in expected.nodes),
    )


def _permitted(cr: Json) -> set[str]:
    devices = cr.object("spec").object("configuration").object("permittedHostDevices")
    return {
        entry.text("resourceName", "") or ""
        for key in ("pciHostDevices", "mediatedDevices")
        for entry in devices.objects(key)
    }


def check_kubevirt_permits(stack: PlatformStack, facts: PlatformFacts) -> Check:
    name = "kubevirt-permits"
    if stack.kubevirt is None or facts.kubevirt is None:
        return Check(name, OK, "hikube-gpu:kubevirt is unset: KubeVirt is left alone")
    for fetched in (facts.nodes, facts.kubevirt):
        if not fetched.ok:
            return Check(
                name,
                CANT_TELL,
                fetched.why(),
                fix_for(fetched, "use a credential that can read nodes and the KubeVirt CR"),
            )
    published: dict[str, list[str]] = {}
    for node in items(facts.nodes):
        if labels(node).get("nvidia.com/gpu.workload.config") not in VM_WORKLOADS:
            continue
        status = node.object("status")
        allocatable = status.strings("allocatable")
        for resource in allocatable:
            passed_through = resource.startswith("nvidia.com/") and not resource.startswith(GENERIC)
            if passed_through and count(status.at("allocatable"), allocatable, resource):
                published.setdefault(resource, []).append(node.name)
    permitted = _permitted(Json.of(facts.kubevirt))
    refused = {r: n for r, n in sorted(published.items()) if r not in permitted}
    idle = sorted(permitted - set(published))
    note = f"; permitted but published by no VM node: {', '.join(idle)}" if idle else ""
    if refused:
        shown = ", ".join(f"{r} ({', '.join(n)})" for r, n in refused.items())
        return Check(
            name,
            DIFFERS,
            f"VM nodes publish what KubeVirt does not permit: {shown}{note}",
            "add the models to hikube-gpu:kubevirt.gpus (and its resourceNaming), then `pulumi up`",
        )
    if not published:
        return Check(name, OK, "no VM node publishes a GPU yet" + note)
    return Check(name, OK, "KubeVirt permits every GPU the VM nodes publish: " + ", ".join(published) + note)


def operator_expectation(stack: PlatformStack, expected: PlatformExpectation) -> OperatorExpectation:
    """The pods each GPU node of ``hikube-gpu:nodes`` needs (from its mode and the operator's switches)."""
    args = stack.gpu_operator
    container = [
        c
        for c, on in (
            (DEVICE_PLUGIN, args.device_plugin),
            (FEATURE_DISCOVERY, True),
            (DCGM_EXPORTER, args.dcgm_exporter.enabled),
        )
        if on
    ]
    vm = [SANDBOX_PLUGIN] if args.sandbox_device_plugin else []
    per_node = {
        node: tuple(vm if mode in VM_WORKLOADS else container) for node, mode in expected.workloads.items()
    }
    return OperatorExpectation(args.namespace, args.namespace, per_node)


def platform_checks(stack: PlatformStack, expected: PlatformExpectation, facts: PlatformFacts) -> list[Check]:
    operator = operator_expectation(stack, expected)
    checks = [
        guarded("node-modes", lambda: check_node_modes(expected, facts)),
        guarded("kubevirt-permits", lambda: check_kubevirt_permits(stack, facts)),
        guarded("cluster-policy", lambda: check_cluster_policy(operator, facts.operator), operator.subject),
        guarded("operator-pods", lambda: check_operator_pods(operator, facts.operator), operator.subject),
    ]
    for vm in expected.vms:
        checks += vm_checks(vm, facts.vms[vm.name])
    return checks
