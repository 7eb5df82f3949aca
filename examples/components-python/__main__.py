"""The hikube-gpu components in a plain Pulumi program: a GPU VM, and a GPU Kubernetes cluster
with a GPU node group, a workload of its own and one more workload placed from the node group,
in a namespace another resource makes (an Output as an arg).

Runs under Pulumi's mocks in ``make test`` (tests/test_component_examples.py), and as the
Python language host runs it against a stand-in engine, where the YAML example's resources
must register the same (tests/test_provider_protocol.py).
"""

import pulumi
import pulumi_kubernetes as k8s

from components import (
    GpuKubernetesCluster,
    GpuKubernetesClusterArgs,
    GpuVirtualMachine,
    GpuVirtualMachineArgs,
    GpuWorkload,
    Tenant,
)

namespace = pulumi.Config().get("namespace") or "tenant-example"
tenant = Tenant(namespace)  # platform "hikube" (Cozystack v1.1.2) by default

# Cozystack's apps API keeps no managedFields: use client-side apply for tenant apps.
provider = k8s.Provider("tenant", namespace=namespace, enable_server_side_apply=False)
opts = pulumi.ResourceOptions(provider=provider)

notebook = GpuVirtualMachine(
    "notebook",
    GpuVirtualMachineArgs.model_validate(
        {
            "gpus": {"L40S": 1},
            "instanceType": "u1.2xlarge",
            "dataDisks": {"datasets": {"size": "200Gi"}},
            "external": {"method": "PortList", "ports": [22]},
        }
    ),
    opts,
    tenant=tenant,
)

cluster = GpuKubernetesCluster(
    "ml",
    GpuKubernetesClusterArgs.model_validate(
        {
            "nodeGroups": {"l40s": {"gpus": {"L40S": 1}, "minReplicas": 1, "maxReplicas": 2}},
            "workloads": {
                "smi": {"kind": "Job", "image": "nvidia/cuda:12.4.1-base-ubuntu22.04", "gpus": {"L40S": 1}},
            },
        }
    ),
    opts,
    tenant=tenant,
)

# A namespace of its own for serving, made in the cluster through the cluster's provider.
inference_namespace = k8s.core.v1.Namespace(
    "inferenceNamespace",
    metadata={"name": "inference"},
    opts=pulumi.ResourceOptions(provider=cluster.provider),
)

# A workload placed from the node group, through the cluster's own provider, in that namespace:
# its name is an Output, so the args are a map (a namespace, image, env... may be Outputs).
inference = GpuWorkload(
    "inference",
    {
        "image": "vllm/vllm-openai:v0.6.3",
        "gpus": {"L40S": 1},
        "ports": [8000],
        "memory": "24Gi",
        "namespace": inference_namespace.metadata.name,
    },
    pulumi.ResourceOptions(provider=cluster.provider, depends_on=[cluster]),
    node_groups=[cluster.node_groups["l40s"]],
)

pulumi.export(
    "notebook",
    {"gpus": notebook.gpus, "instanceType": notebook.instance_type, "service": notebook.service_name},
)
pulumi.export("kubeconfigSecret", cluster.kubeconfig_secret)
pulumi.export("gpuNodes", cluster.node_groups["l40s"].node_selector)
pulumi.export("inferenceResource", inference.gpu_resource)
