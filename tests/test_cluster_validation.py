"""Bad cluster config: one clear message per problem, with its config path, nothing registered.

One case per rule of ``stacks.validation.cluster_rules`` (and the cluster parts of the models);
each starts from a valid cluster and breaks one thing.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.cluster_stacks import EDGE, TRAIN, cluster_stack
from tests.helpers import by_path, expect_problem, expect_warning, problems_of

C = "hikube-gpu:clusters.train"


def train(**changes: Any) -> dict[str, Any]:
    """The train cluster with top-level keys replaced (None deletes a key)."""
    cluster = copy.deepcopy(TRAIN)
    for key, value in changes.items():
        if value is None:
            cluster.pop(key, None)
        else:
            cluster[key] = value
    return cluster


def groups(**changes: Any) -> dict[str, Any]:
    """TRAIN's node groups with some replaced."""
    merged = copy.deepcopy(TRAIN["nodeGroups"])
    merged.update(changes)
    return merged


def workload(**spec: Any) -> dict[str, Any]:
    """The train cluster with one workload ``w``."""
    return train(workloads={"w": spec})


def stack(
    cluster: dict[str, Any], profile: str = "hikube", name: str = "train", **top: Any
) -> dict[str, Any]:
    config = cluster_stack(profile, **{name: cluster})
    config.update(top)
    return config


A100_MIG = {"gpus": {"A100": 1}, "sharing": {"mig": {"profile": "1g.10gb"}}}

ERROR_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "cluster name over 27 characters (the prometheus-operator-crds release Flux labels with)",
        stack(train(), name="c" * 28),
        "hikube-gpu:clusters." + "c" * 28,
        "-prometheus-operator-crds', 64 characters, but the label helm.toolkit.fluxcd.io/name",
    ),
    (
        "unknown Kubernetes version",
        stack(train(version="v1.29")),
        f"{C}.version",
        "'v1.29' is not a Kubernetes version of the hikube platform; choose v1.35, v1.34",
    ),
    (
        "version the cozystack-1.4 profile dropped",
        stack(train(version="v1.30"), profile="cozystack-1.4"),
        f"{C}.version",
        "not a Kubernetes version of the cozystack-1.4 platform",
    ),
    (
        "min replicas above max",
        stack(train(nodeGroups=groups(l40s={"gpus": {"L40S": 1}, "minReplicas": 3, "maxReplicas": 2}))),
        f"{C}.nodeGroups.l40s.minReplicas",
        "3 is more than maxReplicas (2)",
    ),
    (
        "MIG on an L40S",
        stack(
            train(nodeGroups=groups(l40s={"gpus": {"L40S": 1}, "sharing": {"mig": {"profile": "1g.10gb"}}}))
        ),
        f"{C}.nodeGroups.l40s.sharing.mig",
        "L40S does not support MIG (only A100, H100 do); use timeSlicing or mps",
    ),
    (
        "MIG profile of another model",
        stack(
            train(nodeGroups=groups(a100={"gpus": {"A100": 1}, "sharing": {"mig": {"profile": "1g.12gb"}}}))
        ),
        f"{C}.nodeGroups.a100.sharing.mig.profile",
        "'1g.12gb' is not a MIG profile of A100; choose 1g.10gb, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb",
    ),
    (
        "unknown profile in a MIG layout",
        stack(
            train(
                nodeGroups=groups(a100={"gpus": {"A100": 1}, "sharing": {"mig": {"layout": {"5g.50gb": 1}}}})
            )
        ),
        f"{C}.nodeGroups.a100.sharing.mig.layout.5g.50gb",
        "not a MIG profile of A100",
    ),
    (
        "MIG layout larger than a GPU",
        stack(
            train(
                nodeGroups=groups(
                    a100={"gpus": {"A100": 1}, "sharing": {"mig": {"layout": {"4g.40gb": 1, "3g.40gb": 2}}}}
                ),
                workloads={},
            )
        ),
        f"{C}.nodeGroups.a100.sharing.mig.layout",
        "needs 10/7 compute and 12/8 memory slices of one A100; it does not fit",
    ),
    (
        "more instances of a profile than a GPU holds",
        stack(
            train(
                nodeGroups=groups(a100={"gpus": {"A100": 1}, "sharing": {"mig": {"layout": {"3g.40gb": 3}}}})
            )
        ),
        f"{C}.nodeGroups.a100.sharing.mig.layout.3g.40gb",
        "3 instances; a A100 holds at most 2",
    ),
    (
        "MIG with both profile and layout",
        stack(
            train(
                nodeGroups=groups(
                    a100={
                        "gpus": {"A100": 1},
                        "sharing": {"mig": {"profile": "1g.10gb", "layout": {"1g.10gb": 1}}},
                    }
                )
            )
        ),
        f"{C}.nodeGroups.a100.sharing.mig",
        "set either profile or layout",
    ),
    (
        "two ways of sharing at once",
        stack(
            train(
                nodeGroups=groups(
                    l40s={
                        "gpus": {"L40S": 1},
                        "sharing": {"timeSlicing": {"replicas": 2}, "mps": {"replicas": 2}},
                    }
                )
            )
        ),
        f"{C}.nodeGroups.l40s.sharing",
        "choose one way to share GPUs, not timeSlicing and mps",
    ),
    (
        "time-slicing with one replica",
        stack(
            train(nodeGroups=groups(l40s={"gpus": {"L40S": 1}, "sharing": {"timeSlicing": {"replicas": 1}}}))
        ),
        f"{C}.nodeGroups.l40s.sharing.timeSlicing.replicas",
        "greater than or equal to 2",
    ),
    (
        "sharing on a group without GPUs",
        stack(train(nodeGroups=groups(md0={"sharing": {"timeSlicing": {"replicas": 2}}}))),
        f"{C}.nodeGroups.md0.sharing",
        "the group has no GPUs to share",
    ),
    (
        "sharing on a group with two models",
        stack(
            train(
                nodeGroups=groups(
                    mixed={
                        "instanceType": "u1.4xlarge",
                        "gpus": {"L40S": 1, "H100": 1},
                        "sharing": {"mps": {"replicas": 2}},
                    }
                )
            )
        ),
        f"{C}.nodeGroups.mixed.sharing",
        "sharing needs a group with one GPU model",
    ),
    (
        "two groups of one model shared differently",
        stack(
            train(nodeGroups=groups(l40s2={"gpus": {"L40S": 1}, "sharing": {"timeSlicing": {"replicas": 2}}}))
        ),
        f"{C}.nodeGroups.l40s2.sharing",
        "differs from node group l40s, which also carries L40S",
    ),
    (
        "MPS in a cluster whose chart MIG strategy is mixed (P4)",
        stack(
            train(
                nodeGroups=groups(
                    h100={
                        "instanceType": "u1.4xlarge",
                        "gpus": {"H100": 1},
                        "sharing": {"mps": {"replicas": 2}},
                    }
                )
            )
        ),
        f"{C}.nodeGroups.h100.sharing.mps",
        "MPS cannot run in a cluster whose GPU Operator uses MIG strategy mixed (node group a100 uses MIG)",
    ),
    (
        "sharing with the GPU Operator switched off",
        stack(train(addons={"gpuOperator": {"enabled": False}})),
        f"{C}.addons.gpuOperator.enabled",
        "GPU sharing needs the GPU Operator (node groups a100, l40s)",
    ),
    (
        "overcommitted node type",
        stack(train(nodeGroups=groups(l40s={"instanceType": "o1.2xlarge", "gpus": {"L40S": 1}}))),
        f"{C}.nodeGroups.l40s.instanceType",
        "'o1.2xlarge' cannot host GPUs",
    ),
    (
        "unknown node type",
        stack(train(nodeGroups=groups(md0={"instanceType": "z9.huge"}))),
        f"{C}.nodeGroups.md0.instanceType",
        "unknown instance type 'z9.huge'",
    ),
    (
        "tiny node disk",
        stack(train(nodeGroups=groups(md0={"ephemeralStorage": "500"}))),
        f"{C}.nodeGroups.md0.ephemeralStorage",
        "500 is less than 1Gi",
    ),
    (
        "diskSize written for ephemeralStorage",
        stack(train(nodeGroups=groups(md0={"diskSize": "50Gi"}))),
        f"{C}.nodeGroups.md0.diskSize",
        "node groups take ephemeralStorage",
    ),
    (
        "Hikube's plugins.gpu-operator key",
        stack(train(plugins={"gpu-operator": {"enabled": True}})),
        f"{C}.plugins",
        "the GPU Operator is addons.gpuOperator",
    ),
    (
        "invalid role",
        stack(train(nodeGroups=groups(md0={"roles": ["GPU nodes"]}))),
        f"{C}.nodeGroups.md0.roles[0]",
        "is not a valid role",
    ),
    (
        "unknown control-plane preset",
        stack(train(controlPlane={"apiServer": "huge"})),
        f"{C}.controlPlane.apiServer",
        "'huge' is not a resources preset of the hikube platform (e.g. large)",
    ),
    (
        "fluxcd on cozystack-1.4",
        stack(train(addons={"fluxcd": {"enabled": True}}), profile="cozystack-1.4"),
        f"{C}.addons.fluxcd",
        "the cozystack-1.4 platform has no fluxcd add-on",
    ),
    (
        "workload asks for a model no group has",
        stack(workload(image="x:1", gpus={"H100": 1})),
        f"{C}.workloads.w.gpus.H100",
        "no node group of cluster train has H100 GPUs (it has L40S, A100)",
    ),
    (
        "workload with two models",
        stack(workload(image="x:1", gpus={"L40S": 1, "A100": 1})),
        f"{C}.workloads.w.gpus",
        "at most 1 item",
    ),
    (
        "more GPUs per pod than a node carries",
        stack(workload(image="x:1", gpus={"L40S": 5})),
        f"{C}.workloads.w.gpus.L40S",
        "asks for 5 per pod but a node of l40s offers at most 4 L40S GPUs",
    ),
    (
        "more MIG instances per pod than a node offers",
        stack(workload(image="x:1", gpus={"A100": 3}, migProfile="3g.40gb")),
        f"{C}.workloads.w.gpus.A100",
        "asks for 3 per pod but a node of a100 offers at most 2 MIG instances",
    ),
    (
        "replicas beyond the groups at maxReplicas",
        stack(workload(image="x:1", gpus={"L40S": 1}, replicas=13)),
        f"{C}.workloads.w.replicas",
        "13 pods × 1 need 13 L40S GPUs; l40s holds 12 at maxReplicas",
    ),
    (
        "MIG workload without a profile on a mixed layout",
        stack(workload(image="x:1", gpus={"A100": 1})),
        f"{C}.workloads.w.migProfile",
        "required: the A100 groups offer 1g.10gb, 2g.20gb, 3g.40gb",
    ),
    (
        "MIG profile the groups do not offer",
        stack(workload(image="x:1", gpus={"A100": 1}, migProfile="7g.80gb")),
        f"{C}.workloads.w.migProfile",
        "'7g.80gb' is not offered by the A100 groups (1g.10gb, 2g.20gb, 3g.40gb)",
    ),
    (
        "MIG profile for a model without MIG",
        stack(workload(image="x:1", gpus={"L40S": 1}, migProfile="1g.10gb")),
        f"{C}.workloads.w.migProfile",
        "the L40S node groups of this cluster do not use MIG",
    ),
    (
        "unknown node group",
        stack(workload(image="x:1", gpus={"L40S": 1}, nodeGroup="l4")),
        f"{C}.workloads.w.nodeGroup",
        "no node group 'l4' (groups: a100, l40s, md0)",
    ),
    (
        "node group without the model",
        stack(workload(image="x:1", gpus={"L40S": 1}, nodeGroup="a100")),
        f"{C}.workloads.w.nodeGroup",
        "node group a100 carries no L40S GPUs",
    ),
    (
        "workload in a system namespace",
        stack(workload(image="x:1", gpus={"L40S": 1}, namespace="kube-system")),
        f"{C}.workloads.w.namespace",
        "'kube-system' belongs to Kubernetes, but the stack creates its workloads' namespaces",
    ),
    (
        "more CPU than a node leaves to pods",
        stack(workload(image="x:1", gpus={"L40S": 1}, cpu="16")),
        f"{C}.workloads.w.cpu",
        "16 per pod cannot be scheduled: a u1.2xlarge node of l40s (8 vCPU) leaves pods 8000m",
    ),
    (
        "Job field on a Deployment",
        stack(workload(image="x:1", gpus={"L40S": 1}, completions=3)),
        f"{C}.workloads.w",
        "completions is only for kind Job",
    ),
    (
        "volume on a Deployment",
        stack(workload(image="x:1", gpus={"L40S": 1}, volume={"size": "1Gi"})),
        f"{C}.workloads.w",
        "volume is only for kind StatefulSet",
    ),
    (
        "workload name longer than a Kubernetes name",
        stack(train(workloads={"w" * 64: {"image": "x:1", "gpus": {"L40S": 1}}})),
        f"{C}.workloads.{'w' * 64}",
        "name is 64 characters; a Kubernetes name has at most 63",
    ),
    (
        "workload without an image",
        stack(workload(gpus={"L40S": 1})),
        f"{C}.workloads.w.image",
        "required",
    ),
    (
        "per-model naming cannot name shared GPUs",
        stack(train(resourceNaming="per-model", workloads={"w": {"image": "x:1", "gpus": {"L40S": 1}}})),
        f"{C}.workloads.w.gpus.L40S",
        "L40S GPUs are shared (timeSlicing) and shared GPUs are published under generic names",
    ),
    (
        "node groups at maxReplicas exceed the quota",
        stack(train(), quota={"L40S": 8, "A100": 3}),
        "hikube-gpu:quota.A100",
        "the stack asks for 4 A100 GPUs (train/a100: 2×2) but its quota is 3",
    ),
    (
        "VMs plus node groups exceed the quota",
        stack(train(), quota={"L40S": 3, "A100": 8}),
        "hikube-gpu:quota.L40S",
        "the stack asks for 4 L40S GPUs (gpu-1: 1, train/l40s: 3×1) but its quota is 3",
    ),
]


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_each_cluster_rule_reports_its_path_and_registers_nothing(
    tmp_path: Path, config: dict[str, Any], path: str, message: str
) -> None:
    expect_problem(tmp_path, config, path, message)


WARNING_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "per-model naming",
        cluster_stack(edge=EDGE),
        "hikube-gpu:clusters.edge.resourceNaming: per-model resource names",
    ),
    (
        "GPU groups with the operator off",
        stack(
            train(
                nodeGroups={"l40s": {"gpus": {"L40S": 1}, "maxReplicas": 1}},
                workloads={},
                addons={"gpuOperator": {"enabled": False}},
            )
        ),
        f"{C}.addons.gpuOperator.enabled: node groups have GPUs but the GPU Operator is off",
    ),
    (
        "a GPU group the platform starts with two nodes (P2)",
        stack(
            train(
                nodeGroups={"l40s": {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 1}}, workloads={}
            )
        ),
        f"{C}.nodeGroups.l40s: asks for 1-1 nodes, but on the hikube platform (Cozystack v1.1.2) it starts with "
        "2 nodes, more than maxReplicas (1), so quota and capacity count 2 and is set back to 2 when the cluster's "
        "release is upgraded; a roll-out can add up to 1 more (peak 3 nodes, 3 GPUs)",
    ),
    (
        "a GPU group that may scale to zero (P8)",
        stack(
            train(
                nodeGroups={"l40s": {"gpus": {"L40S": 1}, "minReplicas": 0, "maxReplicas": 2}}, workloads={}
            )
        ),
        f"{C}.nodeGroups.l40s.minReplicas: is 0, but the platform gives the cluster autoscaler no GPU or role "
        "labels for this group",
    ),
    (
        "few vCPU per GPU on a node",
        stack(
            train(
                nodeGroups={"l40s": {"gpus": {"L40S": 2}, "instanceType": "u1.2xlarge", "maxReplicas": 1}},
                workloads={},
            )
        ),
        f"{C}.nodeGroups.l40s.instanceType: u1.2xlarge gives 4 vCPU per GPU; Hikube recommends 8-16; "
        "u1.4xlarge would fit 2 GPUs",
    ),
]


@pytest.mark.parametrize(
    ("config", "warning"), [case[1:] for case in WARNING_CASES], ids=[case[0] for case in WARNING_CASES]
)
def test_cluster_advice_is_a_warning_and_the_stack_still_deploys(
    tmp_path: Path, config: dict[str, Any], warning: str
) -> None:
    run = expect_warning(tmp_path, config, warning)
    assert any(r.type.endswith(":Kubernetes") for r in run.resources)


def test_all_cluster_problems_are_reported_at_once(tmp_path: Path) -> None:
    cluster = train(
        version="v1.20",
        nodeGroups=groups(
            l40s={"gpus": {"L40S": 1}, "minReplicas": 4, "maxReplicas": 1},
            md0={"instanceType": "z9.huge"},
        ),
    )
    paths = set(by_path(problems_of(tmp_path, stack(cluster))))
    expected = {f"{C}.version", f"{C}.nodeGroups.l40s.minReplicas", f"{C}.nodeGroups.md0.instanceType"}
    assert expected <= paths


def test_workload_problems_are_reported_together(tmp_path: Path) -> None:
    cluster = train(
        workloads={
            "a": {"image": "x:1", "gpus": {"H100": 1}},
            "b": {"image": "x:1", "gpus": {"L40S": 1}, "replicas": 50},
        }
    )
    paths = set(by_path(problems_of(tmp_path, stack(cluster))))
    assert {f"{C}.workloads.a.gpus.H100", f"{C}.workloads.b.replicas"} <= paths


def test_workloads_are_only_checked_against_valid_node_groups(tmp_path: Path) -> None:
    """A broken MIG group gives its own error, not follow-up errors on the workloads using it."""
    broken = {"gpus": {"A100": 1}, "maxReplicas": 2, "sharing": {"mig": {"profile": "9g.1tb"}}}
    cluster = train(nodeGroups=groups(a100=broken))
    paths = set(by_path(problems_of(tmp_path, stack(cluster))))
    assert paths == {f"{C}.nodeGroups.a100.sharing.mig.profile"}
