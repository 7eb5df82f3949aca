"""GPU workloads in a tenant cluster: a Deployment, Job or StatefulSet (+ its Service).

Secure by default: no service-account token, non-root (unless ``runAsRoot``), no
privilege escalation, all capabilities dropped, RuntimeDefault seccomp; requests equal
limits for GPUs, CPU and memory.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from components.builders.manifest import MANAGED_BY, Manifest
from components.models.workload import DEFAULT_USER, GpuWorkloadArgs, reveal
from components.resolve.placement import Where, demand, scheduling

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
ROLLOUT_TIMEOUT_SECONDS = "1800"
"""GPU nodes may scale from zero and install a driver first: allow 30 minutes to become ready."""
API_VERSIONS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Job": "batch/v1"}


def has_service(workload: GpuWorkloadArgs) -> bool:
    """Workloads with ports get a Service; a StatefulSet always gets its governing one."""
    return bool(workload.ports) or workload.kind == "StatefulSet"


def selector_labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def _labels(name: str) -> dict[str, str]:
    return {**selector_labels(name), **MANAGED_BY}


def _container(name: str, where: Where, workload: GpuWorkloadArgs) -> dict[str, Any]:
    need = demand(where, workload)
    amounts: dict[str, Any] = {need.resource: need.per_pod}
    if workload.cpu is not None:
        amounts["cpu"] = workload.cpu
    if workload.memory is not None:
        amounts["memory"] = workload.memory
    security: dict[str, Any] = {"allowPrivilegeEscalation": False}
    if not workload.run_as_root:
        security["capabilities"] = {"drop": ["ALL"]}
    container: dict[str, Any] = {
        "name": name,
        "image": workload.image,
        "resources": {"limits": dict(amounts), "requests": dict(amounts)},
        "securityContext": security,
    }
    if workload.command:
        container["command"] = list(workload.command)
    if workload.args:
        container["args"] = [reveal(arg) for arg in workload.args]
    if workload.env:
        container["env"] = [{"name": k, "value": reveal(workload.env[k])} for k in sorted(workload.env)]
    if workload.ports:
        container["ports"] = [
            {"name": f"tcp-{port}", "containerPort": port, "protocol": "TCP"} for port in workload.ports
        ]
    if workload.env_from_secrets:
        container["envFrom"] = [{"secretRef": {"name": secret}} for secret in workload.env_from_secrets]
    mounts = []
    if workload.volume is not None:
        mounts.append({"name": "data", "mountPath": workload.volume.mount_path})
    if workload.shm_size is not None:
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    if mounts:
        container["volumeMounts"] = mounts
    return container


CONTAINER = ("spec", "template", "spec", "containers", 0)
"""Where the workload's one container sits in its controller's body."""


def secret_paths(workload: GpuWorkloadArgs) -> tuple[tuple[str | int, ...], ...]:
    """The container's ``env`` values and ``args`` stored as secrets (sorted like ``_container``)."""
    paths: list[tuple[str | int, ...]] = [
        (*CONTAINER, "args", index) for index, arg in enumerate(workload.args) if isinstance(arg, SecretStr)
    ]
    paths += [
        (*CONTAINER, "env", index, "value")
        for index, key in enumerate(sorted(workload.env))
        if isinstance(workload.env[key], SecretStr)
    ]
    return tuple(paths)


def pod_template(name: str, where: Where, workload: GpuWorkloadArgs) -> dict[str, Any]:
    security: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if not workload.run_as_root:
        security.update(
            runAsNonRoot=True, runAsUser=DEFAULT_USER, runAsGroup=DEFAULT_USER, fsGroup=DEFAULT_USER
        )
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": security,
        **scheduling(where, workload),
        "tolerations": [dict(GPU_TOLERATION)],
        "containers": [_container(name, where, workload)],
    }
    if workload.shm_size is not None:
        spec["volumes"] = [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": workload.shm_size}}]
    if workload.kind == "Job":
        spec["restartPolicy"] = "Never"
    return {"metadata": {"labels": _labels(name)}, "spec": spec}


def _controller_spec(
    name: str, where: Where, workload: GpuWorkloadArgs
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(apiVersion, spec, annotations) of the workload's controller."""
    template = pod_template(name, where, workload)
    selector = {"matchLabels": selector_labels(name)}
    if workload.kind == "Job":
        spec = {
            "parallelism": workload.replicas,
            "completions": workload.completions or workload.replicas,
            "backoffLimit": workload.backoff_limit,
            "template": template,
        }
        # Training runs for hours: `pulumi up` creates the Job and does not wait for it.
        return API_VERSIONS["Job"], spec, {"pulumi.com/skipAwait": "true"}
    timeout = {"pulumi.com/timeoutSeconds": ROLLOUT_TIMEOUT_SECONDS}
    if workload.kind == "StatefulSet":
        spec = {
            "serviceName": name,
            "replicas": workload.replicas,
            "selector": selector,
            "template": template,
        }
        if workload.volume is not None:
            claim: dict[str, Any] = {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": workload.volume.size}},
            }
            if workload.volume.storage_class is not None:
                claim["storageClassName"] = workload.volume.storage_class
            spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": claim}]
        return API_VERSIONS["StatefulSet"], spec, timeout
    spec = {
        "replicas": workload.replicas,
        "selector": selector,
        # No surge: a GPU pod cannot start before the old one frees its GPU (and the quota).
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
        "template": template,
    }
    return API_VERSIONS["Deployment"], spec, timeout


def _service(name: str, workload: GpuWorkloadArgs) -> Manifest:
    spec: dict[str, Any] = {
        "selector": selector_labels(name),
        "ports": [
            {"name": f"tcp-{port}", "port": port, "targetPort": port, "protocol": "TCP"}
            for port in workload.ports
        ],
    }
    # A StatefulSet's governing Service is headless.
    kind = {"clusterIP": "None"} if workload.kind == "StatefulSet" else {"type": "ClusterIP"}
    spec = {**kind, **spec}
    return Manifest("v1", "Service", name, workload.namespace, _labels(name), {"spec": spec})


def build_workload(name: str, where: Where, workload: GpuWorkloadArgs) -> list[Manifest]:
    """The controller, then its Service when it has ports (StatefulSets always get one)."""
    api_version, spec, annotations = _controller_spec(name, where, workload)
    manifests = [
        Manifest(
            api_version,
            workload.kind,
            name,
            workload.namespace,
            _labels(name),
            {"spec": spec},
            secret_paths=secret_paths(workload),
            annotations=annotations,
        )
    ]
    if has_service(workload):
        manifests.append(_service(name, workload))
    return manifests
