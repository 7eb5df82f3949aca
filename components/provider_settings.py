"""The behaviour flags every Kubernetes provider we create states explicitly (docs/deploying.md).

pulumi-kubernetes takes nine on/off flags from the environment when a provider leaves them
out. The Python SDK fills each input that is ``None`` from a ``PULUMI_K8S_*`` variable
(``pulumi_kubernetes/provider.py`` 573–606 in the pinned 4.34.2), and the provider reads the
same variables for a flag it was not given (pulumi-kubernetes v4.32.0
``provider/pkg/provider/provider.go`` 619–758). Two machines with different variables would
register different provider inputs (an update of the provider, a failed
``--expect-no-changes``) and deploy differently (``deleteUnreachable`` drops objects from the
state, ``enablePatchForce`` takes fields over from other managers). Stated here, they are the
same everywhere: the provider's own defaults (the same lines), except ``enableServerSideApply``,
which each provider chooses.
"""

from __future__ import annotations

FLAGS: dict[str, tuple[str, bool]] = {
    "delete_unreachable": ("deleteUnreachable", False),
    "enable_config_map_mutable": ("enableConfigMapMutable", False),
    "enable_patch_force": ("enablePatchForce", False),
    "enable_secret_mutable": ("enableSecretMutable", False),
    "skip_update_unreachable": ("skipUpdateUnreachable", False),
    "suppress_deprecation_warnings": ("suppressDeprecationWarnings", False),
    "suppress_helm_hook_warnings": ("suppressHelmHookWarnings", False),
    "upsert_existing_objects": ("upsertExistingObjects", False),
}
"""The flags other than server-side apply: SDK keyword → (registered input, the provider's default)."""

SERVER_SIDE_APPLY = ("enable_server_side_apply", "enableServerSideApply")

GUEST_SERVER_SIDE_APPLY = True
"""A GPU Kubernetes cluster's own API server is plain Kubernetes: server-side apply, the
provider's default, for its provider (``GpuKubernetesCluster``)."""


def provider_flags(*, server_side_apply: bool) -> dict[str, bool]:
    """The SDK keyword arguments of every flag (``k8s.Provider(name, **provider_flags(...))``)."""
    flags = {keyword: value for keyword, (_, value) in FLAGS.items()}
    return {**flags, SERVER_SIDE_APPLY[0]: server_side_apply}


def registered_flags(*, server_side_apply: bool) -> dict[str, str]:
    """The same flags as pulumi-kubernetes registers them: camelCase, JSON text (``"false"``)."""
    names = {keyword: name for keyword, (name, _) in FLAGS.items()}
    names[SERVER_SIDE_APPLY[0]] = SERVER_SIDE_APPLY[1]
    return {
        names[keyword]: "true" if value else "false"
        for keyword, value in provider_flags(server_side_apply=server_side_apply).items()
    }
