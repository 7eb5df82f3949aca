"""Write every Kubernetes object of an offline run as YAML, one object per file.

Paths are ``<namespace>/<kind>-<name>.yaml`` (``_cluster`` for cluster-scoped objects);
objects deployed inside a tenant Kubernetes cluster (through its provider) go under
``clusters/<cluster>/``. Keys are sorted, secrets are already masked by the engine:
same config, same bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from stacks.offline.engine import OfflineRun, Registered

MARKER = ".hikube-gpu-render"


class RenderDirError(Exception):
    """The output directory holds files that a render did not write."""


def is_kubernetes_object(resource: Registered) -> bool:
    """An object the stack manages (reads of existing objects are not rendered)."""
    return resource.custom and not resource.read and resource.type.startswith("kubernetes:")


def manifest_of(resource: Registered) -> dict[str, Any]:
    """The object as ``kubectl`` would see it (inputs of a pulumi-kubernetes resource)."""
    return {key: value for key, value in resource.inputs.items() if key != "__defaults"}


CLUSTER_PROVIDER = "hikube-gpu:k8s:GpuKubernetesCluster$pulumi:providers:kubernetes"


def target_cluster(resource: Registered) -> str | None:
    """The tenant cluster an object is deployed into, or None for the stack's own target."""
    parts = resource.provider.split("::")  # <urn: 4 parts>::<id>
    if len(parts) < 4 or parts[2] != CLUSTER_PROVIDER:
        return None
    return parts[3].removesuffix("-provider")


def relative_path(manifest: dict[str, Any], cluster: str | None = None) -> Path:
    metadata = manifest.get("metadata", {})
    namespace = metadata.get("namespace") or "_cluster"
    base = Path("clusters", cluster) if cluster else Path()
    return base / namespace / f"{manifest['kind'].lower()}-{metadata['name']}.yaml"


def to_yaml(resource: Registered) -> str:
    """Deterministic YAML of one object, headed by its Pulumi identity."""
    header = [f"# urn: {resource.urn}"]
    if resource.protect:
        header.append("# protect: true (pulumi refuses to delete it)")
    body = yaml.safe_dump(manifest_of(resource), sort_keys=True, default_flow_style=False, width=4096)
    return "\n".join(header) + "\n" + body


def render(run: OfflineRun, out: Path) -> list[Path]:
    """Write the run's objects under ``out`` (replacing an earlier render there)."""
    _prepare(out)
    written = []
    for resource in run.resources:
        if not is_kubernetes_object(resource):
            continue
        path = out / relative_path(manifest_of(resource), target_cluster(resource))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(resource), encoding="utf-8")
        written.append(path)
    return sorted(written)


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise RenderDirError(f"{out} is not empty and was not written by a render; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(
        "written by `python -m stacks render`; replaced on each render\n", encoding="utf-8"
    )
