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

from typing import TypedDict


class ProviderFlags(TypedDict):
    """``k8s.Provider``'s keyword arguments for the flags (typed, so each matches its parameter)."""

    delete_unreachable: bool
    enable_config_map_mutable: bool
    enable_patch_force: bool
    enable_secret_mutable: bool
    enable_server_side_apply: bool
    skip_update_unreachable: bool
    suppress_deprecation_warnings: bool
    suppress_helm_hook_warnings: bool
    upsert_existing_objects: bool


INPUT_NAMES: dict[str, str] = {
    "delete_unreachable": "deleteUnreachable",
    "enable_config_map_mutable": "enableConfigMapMutable",
    "enable_patch_force": "enablePatchForce",
    "enable_secret_mutable": "enableSecretMutable",
    "enable_server_side_apply": "enableServerSideApply",
    "skip_update_unreachable": "skipUpdateUnreachable",
    "suppress_deprecation_warnings": "suppressDeprecationWarnings",
    "suppress_helm_hook_warnings": "suppressHelmHookWarnings",
    "upsert_existing_objects": "upsertExistingObjects",
}
"""Each flag: the SDK's keyword → the input pulumi-kubernetes registers."""

AMBIENT_KUBECONFIG = ""
"""The ``kubeconfig`` input that makes the provider load the kubeconfig of the process running
Pulumi (``KUBECONFIG``, else ``~/.kube/config``, else the in-cluster ServiceAccount) when it
starts (pulumi-kubernetes v4.32.0 ``provider.go`` 873–902). ``None`` would not do: the Python
SDK then records the ``KUBECONFIG`` *path* as the input, and another path (another machine,
another credential file) diffs the provider."""

GUEST_SERVER_SIDE_APPLY = True
"""A GPU Kubernetes cluster's own API server is plain Kubernetes: server-side apply, the
provider's default, for its provider (``GpuKubernetesCluster``)."""


def provider_flags(*, server_side_apply: bool) -> ProviderFlags:
    """The SDK keyword arguments of every flag (``k8s.Provider(name, **provider_flags(...))``):
    server-side apply as the caller chooses, every other flag off, the provider's default."""
    return ProviderFlags(
        delete_unreachable=False,
        enable_config_map_mutable=False,
        enable_patch_force=False,
        enable_secret_mutable=False,
        enable_server_side_apply=server_side_apply,
        skip_update_unreachable=False,
        suppress_deprecation_warnings=False,
        suppress_helm_hook_warnings=False,
        upsert_existing_objects=False,
    )


def registered_flags(*, server_side_apply: bool) -> dict[str, str]:
    """The same flags as pulumi-kubernetes registers them: camelCase, JSON text (``"false"``)."""
    flags = provider_flags(server_side_apply=server_side_apply).items()
    return {INPUT_NAMES[keyword]: "true" if value else "false" for keyword, value in flags}
