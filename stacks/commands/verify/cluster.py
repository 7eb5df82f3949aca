"""Checks of each GPU cluster, asked with its own admin kubeconfig.

- ``cluster``: the Kubernetes app is Ready and its API answers.
- ``node-count``: each node group has as many Nodes as the platform runs: between
  ``minReplicas`` and the roll-out peak (Cozystack before v1.6 starts a group with 2 nodes and
  surges by ``maxReplicas``, P2; ``KubernetesApp.node_group_scale``). Nodes belong to a group by
  its role label (``node-role.kubernetes.io/<role>``, the chart's MachineDeployment template).
- ``gpu-resources``: each node of a GPU group publishes the GPU resources and counts the
  stack's sharing gives (``placement.node_resources``), and GPU Feature Discovery names the
  catalog's model (``nvidia.com/gpu.product``).
"""

from __future__ import annotations

from functools import partial

from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check, fix_for, guarded
from stacks.commands.doctor.shape import Json, items
from stacks.commands.verify.expect import ClusterExpectation, GroupExpectation, gfd_product
from stacks.commands.verify.facts import ClusterFacts, GuestFacts
from stacks.commands.verify.objects import condition, count, labels, node_ready
from stacks.commands.verify.operator import (
    DCGM_EXPORTER,
    DEVICE_PLUGIN,
    FEATURE_DISCOVERY,
    OperatorExpectation,
    check_cluster_policy,
    check_operator_pods,
)

PRODUCT_LABEL = "nvidia.com/gpu.product"
"""GPU Feature Discovery's model label (k8s-device-plugin ``internal/lm/resource.go``:
the NVML name sanitised, ``-SHARED`` appended when shared without renaming)."""
NVIDIA_PREFIX = "nvidia.com/"


def check_cluster(cluster: ClusterExpectation, facts: ClusterFacts) -> Check:
    name, subject = "cluster", cluster.name
    app = facts.app
    if app.missing:
        return Check(
            name,
            DIFFERS,
            f"no Kubernetes app {cluster.name} in {cluster.namespace}",
            "`pulumi up` creates it",
            subject,
        )
    if not app.ok:
        return Check(
            name, CANT_TELL, app.why(), fix_for(app, "use a credential that can get kuberneteses"), subject
        )
    ready = condition(Json.of(app), "Ready")
    if ready is None or not ready.true:
        state = ready.text() if ready is not None else "no Ready condition yet"
        return Check(
            name,
            DIFFERS,
            f"the Kubernetes app is not Ready ({state})",
            f"see `kubectl describe helmrelease kubernetes-{cluster.name} -n {cluster.namespace}`",
            subject,
        )
    if facts.guest is None:
        if facts.secret.missing:
            return Check(
                name,
                DIFFERS,
                f"the app is Ready, but Secret {cluster.kubeconfig_secret} does not exist",
                "wait for the cluster's control plane, then run again",
                subject,
            )
        denied = (
            f"verify reads Secret {cluster.kubeconfig_secret} (the cluster's admin kubeconfig): "
            "use a credential that can get it"
        )
        fix = (
            fix_for(facts.secret, denied)
            if not facts.secret.ok
            else "check that this machine reaches the cluster's API"
        )
        return Check(
            name,
            CANT_TELL,
            f"the app is Ready; the cluster could not be asked: {facts.why_not}",
            fix,
            subject,
        )
    return Check(name, OK, f"the app is Ready and its API answers ({facts.guest.server})", "", subject)


def _cannot_ask(name: str, subject: str, facts: ClusterFacts) -> Check | None:
    if facts.guest is None:
        return Check(
            name,
            CANT_TELL,
            f"the cluster could not be asked ({facts.why_not or 'see the cluster check'})",
            "see the cluster check",
            subject,
        )
    if not facts.guest.nodes.ok:
        return Check(
            name,
            CANT_TELL,
            facts.guest.nodes.why(),
            fix_for(facts.guest.nodes, "use a credential that can list nodes"),
            subject,
        )
    return None


def group_nodes(group: GroupExpectation, guest: GuestFacts) -> list[Json]:
    """The Nodes of the group (by its role label)."""
    label = group.label
    return [node for node in items(guest.nodes) if label is not None and label in labels(node)]


def check_node_count(group: GroupExpectation, facts: ClusterFacts) -> Check:
    name, subject = "node-count", group.subject
    cannot = _cannot_ask(name, subject, facts)
    if cannot is not None:
        return cannot
    assert facts.guest is not None
    if group.label is None:
        return Check(
            name,
            CANT_TELL,
            "the group has no role of its own to tell its nodes by",
            f"give {group.group} a role no other group has",
            subject,
        )
    nodes = group_nodes(group, facts.guest)
    ready = sum(node_ready(node) for node in nodes)
    scale = group.scale
    expected = (
        f"{scale.min_replicas}-{scale.max_replicas} configured; on {group.profile} it starts with "
        f"{scale.start}, peaks at {scale.peak} during roll-outs"
    )
    found = f"{len(nodes)} node{'s' * (len(nodes) != 1)} ({ready} Ready)"
    if ready < scale.min_replicas:
        return Check(
            name,
            DIFFERS,
            f"{found}, fewer Ready than minReplicas {scale.min_replicas} ({expected})",
            "new nodes take minutes: run again; if it stays, see the MachineDeployment "
            f"kubernetes-{group.cluster}-{group.group} (quota, instance type, GPUs free on the hosts)",
            subject,
        )
    if len(nodes) > scale.peak:
        return Check(
            name,
            DIFFERS,
            f"{found}, more than the platform ever runs ({expected})",
            f"see the MachineDeployment kubernetes-{group.cluster}-{group.group}",
            subject,
        )
    note = "; a roll-out is under way" if len(nodes) > scale.steady_max else ""
    return Check(name, OK, f"{found}: {expected}{note}", "", subject)


def _product_problem(group: GroupExpectation, node: Json) -> str:
    """Why the node's GFD model label is not one of the group's models ("" when it fits or is absent)."""
    product = labels(node).get(PRODUCT_LABEL)
    if product is None:
        return ""
    wanted = [gfd_product(model) for model in group.models]
    if any(product == w or product.startswith(w + "-") for w in wanted):
        return ""
    return f"{node.name} has a {product} (GPU Feature Discovery), the group asks for " + ", ".join(
        f"{model.value} ({gfd_product(model)})" for model in group.models
    )


def _counts(node: Json) -> dict[str, int]:
    """The node's ``nvidia.com/…`` allocatable resources with more than zero."""
    status = node.object("status")
    allocatable = status.strings("allocatable")
    found = {
        r: count(status.at("allocatable"), allocatable, r) for r in allocatable if r.startswith(NVIDIA_PREFIX)
    }
    return {r: n for r, n in sorted(found.items()) if n}


def check_gpu_resources(group: GroupExpectation, facts: ClusterFacts) -> Check:
    name, subject = "gpu-resources", group.subject
    cannot = _cannot_ask(name, subject, facts)
    if cannot is not None:
        return cannot
    assert facts.guest is not None
    if group.label is None:
        return Check(name, CANT_TELL, "the group has no role of its own to tell its nodes by", "", subject)
    nodes = group_nodes(group, facts.guest)
    wanted = ", ".join(f"{r}: {n}" for r, n in group.resources.items())
    if not nodes:
        return Check(name, OK, f"no node to check yet (each should publish {wanted})", "", subject)
    problems, fixes = [], []
    for node in nodes:
        published = _counts(node)
        wrong = {r: published.get(r, 0) for r, n in group.resources.items() if published.get(r, 0) != n}
        if wrong:
            seen = ", ".join(f"{r}: {n}" for r, n in published.items()) or "no GPU resource"
            problems.append(f"{node.name} publishes {seen}")
            fixes.append(_resource_fix(group, node, published))
        product = _product_problem(group, node)
        if product:
            problems.append(product)
            fixes.append("check the node group's gpus and the hosts' GPUs (hikube-gpu catalog, PCI IDs)")
    if problems:
        return Check(
            name,
            DIFFERS,
            "; ".join(problems) + f"; each should publish {wanted} ({group.sharing})",
            "; ".join(dict.fromkeys(fixes)),
            subject,
        )
    return Check(
        name,
        OK,
        f"{len(nodes)} node{'s' * (len(nodes) != 1)} publish {wanted} ({group.sharing})",
        "",
        subject,
    )


def _resource_fix(group: GroupExpectation, node: Json, published: dict[str, int]) -> str:
    """The likeliest reason a node publishes other GPU resources than its group should."""
    if not published:
        return "no GPU published yet: the driver may still be installing; see operator-pods"
    per_model = [r for r in group.resources if not r.startswith(("nvidia.com/gpu", "nvidia.com/mig-"))]
    if per_model and not any(r in published for r in per_model):
        return "the GPU Operator publishes nvidia.com/gpu in tenant clusters: set resourceNaming: generic"
    node_labels = labels(node)
    missing = {k: v for k, v in group.config_labels.items() if node_labels.get(k) != v}
    if missing:
        shown = ", ".join(f"{k}={v}" for k, v in missing.items())
        return (
            f"node-feature-discovery has not labelled it {shown}: the sharing config is not applied; "
            "see operator-pods"
        )
    state = node_labels.get("nvidia.com/mig.config.state")
    if state and state != "success":
        return (
            f"the MIG layout is not applied (nvidia.com/mig.config.state={state}): "
            "see the nvidia-mig-manager pod"
        )
    return "the device plugin runs another config: see its log (operator-pods)"


def cluster_checks(cluster: ClusterExpectation, facts: ClusterFacts) -> list[Check]:
    checks = [guarded("cluster", partial(check_cluster, cluster, facts), cluster.name)]
    checks += [guarded("node-count", partial(check_node_count, g, facts), g.subject) for g in cluster.groups]
    checks += [
        guarded("gpu-resources", partial(check_gpu_resources, g, facts), g.subject)
        for g in cluster.gpu_groups
    ]
    if cluster.operator and cluster.gpu_groups:
        checks += operator_checks(cluster, facts)
    return checks


def operator_checks(cluster: ClusterExpectation, facts: ClusterFacts) -> list[Check]:
    """ClusterPolicy and operator pods: on each node of a GPU group, the device plugin, GPU
    Feature Discovery and (unless turned off) the DCGM exporter."""
    if facts.guest is None:
        why = f"the cluster could not be asked ({facts.why_not})"
        return [
            Check(name, CANT_TELL, why, "see the cluster check", cluster.name)
            for name in ("cluster-policy", "operator-pods")
        ]
    guest = facts.guest

    def expectation() -> OperatorExpectation:
        components = (DEVICE_PLUGIN, FEATURE_DISCOVERY) + ((DCGM_EXPORTER,) if cluster.dcgm_exporter else ())
        per_node = None
        if guest.nodes.ok and all(g.label is not None for g in cluster.gpu_groups):
            nodes = [node.name for g in cluster.gpu_groups for node in group_nodes(g, guest)]
            per_node = dict.fromkeys(sorted(nodes), components)
        return OperatorExpectation(cluster.name, cluster.operator_namespace, per_node)

    return [
        guarded("cluster-policy", lambda: check_cluster_policy(expectation(), guest.operator), cluster.name),
        guarded("operator-pods", lambda: check_operator_pods(expectation(), guest.operator), cluster.name),
    ]
