"""What the Pulumi Kubernetes Operator v2.9.0 makes of a ``Stack``: its workspace pod, step by
step as the operator's Go code builds it, each step citing the source (tests/test_operator.py
checks every citation against the vendored file, so a refresh to another release that moves or
changes a rule fails the tests instead of leaving the model stale).

Only the parts the project relies on are modelled: the pod's ServiceAccount, security context,
the ``pulumi`` container's image, environment and mounts, the volumes, and when a Stack runs
again. Strategic merges use the list keys the vendored Stack CRD declares
(``x-kubernetes-list-map-keys``: containers, volumes and env by ``name``, volume mounts by
``mountPath``), the same as the ``patchMergeKey`` of Kubernetes' core types.
"""

from __future__ import annotations

import copy
import functools
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from tests.helpers import UPSTREAM, reference_data

TAG = "v2.9.0"
OPERATOR = UPSTREAM / "pulumi-kubernetes-operator" / TAG
WORKSPACE = "operator/internal/controller/auto/workspace_controller.go"
STACK = "operator/internal/controller/pulumi/stack_controller.go"
WEBHOOK = "operator/internal/webhook/auto/v1alpha1/workspace_webhook.go"
AUTH = "agent/pkg/server/auth.go"


@dataclass(frozen=True)
class Cite:
    """A rule's place in pulumi/pulumi-kubernetes-operator at ``TAG``: ``path`` lines
    ``first``-``last`` contain every one of ``code``."""

    path: str
    first: int
    last: int
    code: tuple[str, ...]

    def lines(self) -> list[str]:
        text = (OPERATOR / self.path).read_text(encoding="utf-8").splitlines()
        return text[self.first - 1 : self.last]

    def holds(self) -> bool:
        found = "\n".join(self.lines())
        return all(piece in found for piece in self.code)

    def __str__(self) -> str:
        return f"pulumi/pulumi-kubernetes-operator {TAG} {self.path}:{self.first}-{self.last}"


CITES = {
    "restricted by default": Cite(WEBHOOK, 63, 73, ("SecurityProfileRestricted", 'w.Spec.Image == ""')),
    "restricted default image": Cite(WEBHOOK, 30, 33, ('"pulumi/pulumi:latest-nonroot"',)),
    "restricted user": Cite(
        WORKSPACE,
        837,
        843,
        (
            "w.Spec.SecurityProfile == autov1alpha1.SecurityProfileRestricted",
            "sc.RunAsNonRoot = ptr.To(true)",
            "sc.RunAsUser = ptr.To(int64(1000))",
            "sc.RunAsGroup = ptr.To(int64(1000))",
        ),
    ),
    "pod": Cite(
        WORKSPACE,
        603,
        646,
        (
            "ServiceAccountName: w.Spec.ServiceAccountName",
            "Image:           w.Spec.Image",
            "Env:        env",
            "MountPath: WorkspaceShareMountPath",
            "EmptyDir: &corev1.EmptyDirVolumeSource{}",
        ),
    ),
    "container env": Cite(WORKSPACE, 536, 536, ("env := w.Spec.Env",)),
    "container name": Cite(WORKSPACE, 481, 483, ('WorkspacePulumiContainerName = "pulumi"', '"/share"')),
    "pod template merge": Cite(
        WORKSPACE,
        869,
        876,
        ("if w.Spec.PodTemplate != nil", "mergePodTemplateSpec(ctx, &statefulset.Spec.Template"),
    ),
    "strategic merge": Cite(
        WORKSPACE,
        1069,
        1074,
        ("strategicpatch.NewPatchMetaFromStruct", "StrategicMergeMapPatchUsingLookupPatchMeta"),
    ),
    "new workspace": Cite(
        STACK, 1618, 1627, ("PodTemplate: &autov1alpha1.EmbeddedPodTemplateSpec", 'Name: "pulumi"')
    ),
    "service account": Cite(
        STACK, 1668, 1670, ('if sess.stack.ServiceAccountName != ""', "w.Spec.ServiceAccountName = ")
    ),
    "env refs": Cite(
        STACK,
        1418,
        1437,
        ("sess.resolveResourceRefAsEnvVar(ctx, &ref)", "sess.ws.Spec.Env = append(sess.ws.Spec.Env"),
    ),
    "env ref kinds": Cite(
        STACK,
        1441,
        1470,
        (
            "case shared.ResourceSelectorLiteral:",
            "return ref.LiteralRef.Value, nil, nil",
            "case shared.ResourceSelectorSecret:",
            'ref.SecretRef.Namespace != "" && ref.SecretRef.Namespace != sess.namespace',
            "SecretKeyRef: &corev1.SecretKeySelector{",
            'return "", nil, errDeprecatedResourceRefEnv',
            'return "", nil, errDeprecatedResourceRefFS',
        ),
    ),
    "workspace template": Cite(
        STACK,
        1718,
        1725,
        ("if sess.stack.WorkspaceTemplate != nil", "patchObject(*sess.ws, *sess.stack.WorkspaceTemplate)"),
    ),
    "template is a strategic merge": Cite(
        STACK, 1921, 1923, ("strategicpatch.StrategicMergePatch(baseBytes, patchBytes",)
    ),
    "synced on a success": Cite(
        STACK,
        1249,
        1275,
        (
            "stack.Status.LastUpdate.LastSuccessfulCommit != currentCommit",
            "if !stack.Spec.ContinueResyncOnCommitMatch {",
            'return true, ""',
            "time.Since(stack.Status.LastUpdate.LastResyncTime.Time) >= freq",
        ),
    ),
    "requeue on resync": Cite(
        STACK, 841, 843, ("sess.stack.ContinueResyncOnCommitMatch", "resyncFreq(instance)")
    ),
    "resync floor": Cite(
        STACK, 1384, 1390, ("if resyncFreq.Seconds() < 60", "resyncFreq = 60 * time.Second")
    ),
    "auth delegator": Cite(
        AUTH,
        41,
        60,
        ("ClusterRole 'system:auth-delegator'", "name: %s:%s:system:auth-delegator", "kind: ServiceAccount"),
    ),
    "auth delegator names": Cite(
        AUTH, 67, 73, ("saName.Namespace, saName.Name, saName.Namespace, saName.Name",)
    ),
    "token reviews": Cite(
        AUTH, 80, 86, ("TokenReviews", "SubjectAccessReviews", "tokenreviews, verbs: create")
    ),
}


def _int(cite: str, pattern: str) -> int:
    found = re.search(pattern, "\n".join(CITES[cite].lines()))
    assert found, f"{pattern!r} not in {CITES[cite]}"
    return int(found.group(1))


def restricted_user() -> tuple[int, int]:
    """(uid, gid) of the workspace pod under the restricted profile, read from the source."""
    return _int("restricted user", r"RunAsUser = ptr\.To\(int64\((\d+)\)\)"), _int(
        "restricted user", r"RunAsGroup = ptr\.To\(int64\((\d+)\)\)"
    )


def auth_delegator_binding(namespace: str, name: str) -> dict[str, Any]:
    """The ClusterRoleBinding the agent's error message asks for, filled as
    ``formattedServiceAccountPermissionsErrorMessage`` does."""
    import yaml

    text = (OPERATOR / AUTH).read_text(encoding="utf-8")
    template = text.split("ServiceAccountPermissionsErrorMessage = `", 1)[1].split("`", 1)[0]
    body = textwrap.dedent(template[template.rindex("\n", 0, template.index("apiVersion:")) + 1 :])
    filled = body.replace("%s", "{}").format(namespace, name, namespace, name)
    document: dict[str, Any] = yaml.safe_load(filled)
    return document


# --- strategic merge, keyed as the CRD says ----------------------------------------------------------


@functools.cache
def _workspace_schema() -> dict[str, Any]:
    crd = reference_data("pulumi-kubernetes-operator", TAG, "pulumi.com_stacks.yaml")
    served = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    return schema["workspaceTemplate"]["properties"]["spec"]


def merge(base: Any, patch: Any, schema: dict[str, Any]) -> Any:
    """``patch`` merged into ``base``: maps key by key, lists with ``x-kubernetes-list-map-keys``
    item by key (others replaced), scalars replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        properties = schema.get("properties", {})
        for key, value in patch.items():
            out[key] = merge(out[key], value, properties.get(key, {})) if key in out else copy.deepcopy(value)
        return out
    keys = schema.get("x-kubernetes-list-map-keys")
    if isinstance(base, list) and isinstance(patch, list) and keys:
        out = copy.deepcopy(base)
        for item in patch:
            at = next((i for i, old in enumerate(out) if all(old.get(k) == item.get(k) for k in keys)), None)
            if at is None:
                out.append(copy.deepcopy(item))
            else:
                out[at] = merge(out[at], item, schema.get("items", {}))
        return out
    return copy.deepcopy(patch)


# --- the workspace pod ---------------------------------------------------------------------------------


class Refused(Exception):
    """The operator would not build the workspace (an env ref it refuses)."""


def _env(name: str, ref: dict[str, Any], namespace: str) -> dict[str, Any]:
    """One ``envRefs`` entry as the pulumi container's env var ("env ref kinds")."""
    kind = ref.get("type")
    if kind == "Literal":
        return {"name": name, "value": ref["literal"]["value"]}
    if kind == "Secret":
        secret = ref["secret"]
        if secret.get("namespace", namespace) != namespace:
            raise Refused(f"{name}: a Secret in another namespace")
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret["name"], "key": secret["key"]}}}
    raise Refused(f"{name}: selector {kind!r}")


def workspace_pod(stack: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Stack's workspace."""
    spec, namespace = stack["spec"], stack["metadata"]["namespace"]
    workspace: dict[str, Any] = {
        "podTemplate": {"spec": {"containers": [{"name": "pulumi"}]}}
    }  # new workspace
    if spec.get("serviceAccountName"):
        workspace["serviceAccountName"] = spec["serviceAccountName"]  # service account
    env = [_env(k, spec["envRefs"][k], namespace) for k in sorted(spec.get("envRefs", {}))]  # env refs
    workspace["env"] = env
    if "workspaceTemplate" in spec:  # workspace template
        workspace = merge(workspace, spec["workspaceTemplate"]["spec"], _workspace_schema())
    workspace.setdefault("securityProfile", "restricted")  # restricted by default
    if not workspace.get("image"):
        workspace["image"] = "pulumi/pulumi:latest-nonroot"  # restricted default image
    uid, gid = restricted_user()
    pod: dict[str, Any] = {  # pod
        "serviceAccountName": workspace.get("serviceAccountName", "default"),
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "pulumi",
                "image": workspace["image"],
                "volumeMounts": [{"name": "share", "mountPath": "/share"}],
                "env": list(workspace.get("env", [])),  # container env
            }
        ],
        "volumes": [{"name": "share", "emptyDir": {}}],
    }
    if workspace["securityProfile"] == "restricted":  # restricted user
        pod["securityContext"].update(runAsNonRoot=True, runAsUser=uid, runAsGroup=gid)
    template = workspace.get("podTemplate", {}).get("spec")
    if template:  # pod template merge, strategic merge
        pod = merge(pod, template, _workspace_schema()["properties"]["podTemplate"]["properties"]["spec"])
    return pod


def container(pod: dict[str, Any], name: str = "pulumi") -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in pod["containers"] if c["name"] == name)
    return found


def readable(pod: dict[str, Any], path: str, name: str = "pulumi") -> bool:
    """Whether the container's user can read the Secret file at ``path``: the kubelet writes
    Secret files owned by root, group ``fsGroup`` when the pod sets one, with the volume's
    ``defaultMode`` (or an item's ``mode``)."""
    box = container(pod, name)
    context = {**pod.get("securityContext", {}), **box.get("securityContext", {})}
    uid, gid = context.get("runAsUser", 0), context.get("runAsGroup", 0)
    for mount in box.get("volumeMounts", []):
        prefix = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(prefix):
            continue
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        secret = volume.get("secret")
        if secret is None:
            return False
        relative = path[len(prefix) :]
        items = secret.get("items")
        item = next((i for i in items if i["path"] == relative), None) if items else {"path": relative}
        if item is None:
            return False
        mode = item.get("mode", secret.get("defaultMode", 0o644))
        group = pod.get("securityContext", {}).get("fsGroup", 0)
        if uid == 0:
            return True
        return bool(mode & 0o004 or (gid == group and mode & 0o040))
    return False


def reruns_after_success(stack: dict[str, Any], seconds_since: float) -> bool:
    """Whether a Flux-sourced Stack whose last update succeeded at the current commit runs
    again ``seconds_since`` later ("synced on a success", "resync floor")."""
    spec = stack["spec"]
    if not spec.get("continueResyncOnCommitMatch"):
        return False
    return seconds_since >= max(spec.get("resyncFrequencySeconds", 0), 60)
