"""Write every Kubernetes object of an offline run as YAML, one object per file.

Paths are ``<namespace>/<kind>-<name>.yaml`` (``_cluster`` for cluster-scoped objects);
objects deployed inside a tenant Kubernetes cluster (through its provider) go under
``clusters/<cluster>/``. A Helm release becomes a Flux ``HelmRepository`` and
``HelmRelease`` (readable, and usable with GitOps); a patch of an existing object is
``<kind>-<name>.patch.yaml`` with only the fields it sets. Keys are sorted, secrets are
already masked by the engine: same config, same bytes.

Distinct objects get distinct paths: namespaces and names are DNS names (no ``_``, ``/``,
upper case), so ``_cluster`` is no namespace and ``clusters/<cluster>/`` no file, and kinds
have no ``-``, so ``<kind>-<name>`` splits one way; only the API group is left out (no
two kinds we render share a name). Should two objects still map to one path, ``render``
refuses before writing anything (``RenderCollision``): a file is never overwritten.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from components.resolve.names import cluster_of_provider
from components.yaml_text import dump_yaml
from stacks.loading.stack_list import RENDER_MARKER
from stacks.program.records import OfflineRun, Registered

MARKER = RENDER_MARKER


class RenderError(Exception):
    """A render that cannot be written."""


class RenderDirError(RenderError):
    """The output directory holds files that a render did not write."""


class RenderCollision(RenderError):
    """Two objects of one run would be written to the same file."""


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
    return cluster_of_provider(parts[3])


def relative_path(manifest: dict[str, Any], cluster: str | None = None, suffix: str = ".yaml") -> Path:
    metadata = manifest.get("metadata", {})
    namespace = metadata.get("namespace") or "_cluster"
    base = Path("clusters", cluster) if cluster else Path()
    return base / namespace / f"{manifest['kind'].lower()}-{metadata['name']}{suffix}"


HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
FLUX_INTERVAL = "10m"


def flux_objects(release: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``helm.v3.Release``'s inputs as the Flux objects that would install the same chart."""
    namespace = release["namespace"]
    repository = release["repositoryOpts"]["repo"]
    source = repository.rstrip("/").rsplit("/", 1)[-1]
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": source, "namespace": namespace},
            "spec": {"url": repository, "interval": "1h"},
        },
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": release["name"], "namespace": namespace},
            "spec": {
                "interval": FLUX_INTERVAL,
                "releaseName": release["name"],
                "chart": {
                    "spec": {
                        "chart": release["chart"],
                        "version": release["version"],
                        "sourceRef": {"kind": "HelmRepository", "name": source},
                    }
                },
                "install": {"createNamespace": bool(release.get("createNamespace", False))},
                "timeout": f"{int(release.get('timeout', 300))}s",
                "values": release.get("values", {}),
            },
        },
    ]


def _dump(header: list[str], document: dict[str, Any]) -> str:
    body = dump_yaml(document)
    return "\n".join(header) + "\n" + body


def documents(resource: Registered) -> list[tuple[Path, str]]:
    """The files one resource renders to: (relative path, deterministic YAML)."""
    header = [f"# urn: {resource.urn}"]
    if resource.imported:
        header.append(f"# import: {resource.imported} (pulumi up adopts the existing object, creating none)")
    if resource.protect:
        header.append("# protect: true (pulumi refuses to delete it)")
    if resource.masked:  # engine.mask: same type and shape, values hidden
        header.append(f"# masked secrets: {', '.join(resource.masked)}")
    cluster = target_cluster(resource)
    if resource.type == HELM_RELEASE:
        header.append("# a pulumi helm.v3.Release, shown as the Flux objects that install the same chart")
        return [(relative_path(doc, cluster), _dump(header, doc)) for doc in flux_objects(resource.inputs)]
    manifest = manifest_of(resource)
    if resource.type.endswith("Patch"):
        metadata = manifest.get("metadata", {})
        target = "/".join(filter(None, [metadata.get("namespace"), metadata.get("name")]))
        header.append(
            f"# patch of the existing {manifest['kind']} {target} (server-side apply: only these fields)"
        )
        return [(relative_path(manifest, cluster, ".patch.yaml"), _dump(header, manifest))]
    return [(relative_path(manifest, cluster), _dump(header, manifest))]


def planned(run: OfflineRun) -> dict[Path, tuple[str, str]]:
    """Every file of the run: relative path → (URN of its resource, text).

    Raises ``RenderCollision`` naming both URNs when two documents share a path (compared
    case-insensitively, as on macOS and Windows file systems).
    """
    files: dict[Path, tuple[str, str]] = {}
    owners: dict[str, str] = {}
    for resource in run.resources:
        if not is_kubernetes_object(resource):
            continue
        for relative, text in documents(resource):
            key = str(relative).lower()
            if key in owners:
                raise RenderCollision(
                    f"{relative} would be written twice: by {owners[key]} and by {resource.urn}"
                )
            owners[key] = resource.urn
            files[relative] = (resource.urn, text)
    return files


def render(run: OfflineRun, out: Path) -> list[Path]:
    """Write the run's objects under ``out`` (replacing an earlier render there); nothing is
    written when two objects would share a file (``RenderCollision``)."""
    files = planned(run)
    _prepare(out)
    written = []
    for relative, (_, text) in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return sorted(written)


def _prepare(out: Path) -> None:
    if out.is_symlink():
        raise RenderDirError(f"{out} is a symbolic link; give a real folder as --out")
    if out.exists() and not out.is_dir():
        raise RenderDirError(f"{out} is a file, not a folder; choose another --out")
    try:
        if out.exists() and any(out.iterdir()):
            if not (out / MARKER).is_file():
                raise RenderDirError(
                    f"{out} is not empty and was not written by a render; choose another --out"
                )
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text(
            "written by `hikube-gpu render`; replaced on each render\n", encoding="utf-8"
        )
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise RenderDirError(f"{out}: cannot write a render there ({reason})") from None
