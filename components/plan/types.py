"""The Pulumi type tokens of the components (one source: the components and their plans use them)."""

VM_TYPE = "hikube-gpu:vm:GpuVirtualMachine"
CLUSTER_TYPE = "hikube-gpu:k8s:GpuKubernetesCluster"
NODE_GROUP_TYPE = "hikube-gpu:k8s:GpuNodeGroup"
WORKLOAD_TYPE = "hikube-gpu:k8s:GpuWorkload"
OPERATOR_TYPE = "hikube-gpu:gpu:GpuOperator"
PASSTHROUGH_TYPE = "hikube-gpu:kubevirt:KubeVirtGpuPassthrough"
RAW_VM_TYPE = "hikube-gpu:kubevirt:KubeVirtGpuVirtualMachine"
