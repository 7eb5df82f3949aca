"""Cluster configurations shared by the cluster tests (a second stack besides ``dev``)."""

from __future__ import annotations

import copy
from typing import Any

from components.catalog.platform import PROFILES
from tests.helpers import base_config

TRAIN: dict[str, Any] = {
    # generic naming: A100 split by a MIG layout, L40S time-sliced, two workloads
    "version": "v1.33",
    "nodeGroups": {
        "md0": {"instanceType": "u1.large", "minReplicas": 1, "maxReplicas": 3, "roles": ["ingress-nginx"]},
        "a100": {
            "instanceType": "u1.4xlarge",
            "gpus": {"A100": 2},
            "minReplicas": 1,
            "maxReplicas": 2,
            "ephemeralStorage": "200Gi",
            "sharing": {"mig": {"layout": {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}}},
        },
        "l40s": {
            "gpus": {"L40S": 1},
            "maxReplicas": 3,
            "sharing": {"timeSlicing": {"replicas": 4}},
        },
    },
    "addons": {"ingressNginx": {"enabled": True}, "gpuOperator": {"dcgmExporter": {"serviceMonitor": True}}},
    "workloads": {
        "notebooks": {
            "image": "quay.io/jupyter/pytorch-notebook:cuda12-2024-10-07",
            "gpus": {"A100": 1},
            "migProfile": "1g.10gb",
            "replicas": 2,
            "ports": [8888],
            "cpu": "2",
            "memory": "8Gi",
        },
        "finetune": {
            "kind": "Job",
            "image": "nvcr.io/nvidia/pytorch:24.10-py3",
            "gpus": {"A100": 1},
            "migProfile": "3g.40gb",
            "namespace": "training",
            "command": ["python", "train.py"],
            "runAsRoot": True,
            "shmSize": "8Gi",
            "envFromSecrets": ["wandb"],
        },
        "embeddings": {
            "kind": "StatefulSet",
            "image": "ghcr.io/huggingface/text-embeddings-inference:1.5",
            "gpus": {"L40S": 1},
            "replicas": 3,
            "ports": [80],
            "volume": {"size": "50Gi"},
        },
    },
}

EDGE: dict[str, Any] = {
    # per-model naming, whole H100s, a workload spread over two groups
    "resourceNaming": "per-model",
    "nodeGroups": {
        "h100-a": {"instanceType": "u1.8xlarge", "gpus": {"H100": 2}, "maxReplicas": 1},
        "h100-b": {"instanceType": "u1.8xlarge", "gpus": {"H100": 2}, "maxReplicas": 1},
    },
    "workloads": {
        "llm": {"image": "vllm/vllm-openai:v0.6.3", "gpus": {"H100": 2}, "replicas": 2, "ports": [8000]},
    },
}


def driver_preinstalled(cluster: dict[str, Any]) -> dict[str, Any]:
    """``cluster`` saying its GPU nodes already have the NVIDIA driver (``driver.enabled: false``),
    as GPU clusters must on Talos workers (Cozystack v1.6+)."""
    chosen = copy.deepcopy(cluster)
    operator = chosen.setdefault("addons", {}).setdefault("gpuOperator", {})
    operator.setdefault("driver", {})["enabled"] = False
    return chosen


def cluster_stack(profile: str = "hikube", **clusters: dict[str, Any]) -> dict[str, Any]:
    """A tenant stack with ``clusters`` (default: train and edge) and enough quota for them; on a
    profile whose workers keep the driver container out, the default clusters say the driver is
    there (``driver_preinstalled``)."""
    chosen = copy.deepcopy(clusters or {"train": TRAIN, "edge": EDGE})
    if not clusters and not PROFILES[profile].kubernetes.workers.operator_driver:
        chosen = {name: driver_preinstalled(cluster) for name, cluster in chosen.items()}
    return base_config(
        platform={"namespace": "tenant-test", "profile": profile},
        quota={"L40S": 8, "A100": 8, "H100": 8},
        clusters=chosen,
    )
