"""A Python program that uses the platform components and a node group directly, with the args
``tests/test_provider_protocol.py`` gives the package too (a JSON file, the program's argument):
the registrations it makes are what the package's must be."""

import json
import sys
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components import (
    GpuNodeGroup,
    GpuOperator,
    GpuOperatorArgs,
    KubeVirtArgs,
    KubeVirtGpuPassthrough,
    KubeVirtGpuVirtualMachine,
    KubeVirtGpuVmArgs,
    NodeArgs,
    NodeGroupArgs,
)

cases = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
opts = pulumi.ResourceOptions(provider=k8s.Provider("host"))
for name, case in cases.items():
    args, context = case["args"], case.get("context", {})
    if case["component"] == "GpuOperator":
        nodes = {node: NodeArgs.model_validate(spec) for node, spec in context.get("nodes", {}).items()}
        GpuOperator(name, GpuOperatorArgs.model_validate(args), opts, nodes=nodes)
    elif case["component"] == "KubeVirtGpuPassthrough":
        KubeVirtGpuPassthrough(name, KubeVirtArgs.model_validate(args), opts)
    elif case["component"] == "KubeVirtGpuVirtualMachine":
        KubeVirtGpuVirtualMachine(name, KubeVirtGpuVmArgs.model_validate(args), opts)
    elif case["component"] == "GpuNodeGroup":
        GpuNodeGroup(name, NodeGroupArgs.model_validate(args), group=context.get("group"))
    else:
        raise ValueError(case["component"])
