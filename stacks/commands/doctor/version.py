"""Which Cozystack release is behind the API, and so which ``platform.profile`` fits.

Sources, most precise first: the ``cozystack-version`` ConfigMap in ``cozy-system`` (admins);
the ``kubernetes`` ApplicationDefinition's values schema (admins); the apps API's OpenAPI
document, which every authenticated user may read (tenants). The schemas tell the profiles
apart by the node groups' keys (``KubernetesApp.node_group_keys``: ``ephemeralStorage`` on v1.1,
``diskSize`` from v1.4, ``maxUnhealthy`` and ``nodeStartupTimeout`` from v1.6).
"""

from __future__ import annotations

import json

from components.catalog.platform import PROFILES
from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check, fix_for
from stacks.commands.doctor.facts import VersionSources
from stacks.commands.doctor.reader import Fetched
from stacks.commands.doctor.shape import Json
from stacks.loading.problems import config_path

NAME = "cozystack-version"
PROFILE_KEY = config_path("platform", "profile")
KUBERNETES_SCHEMA = "com.github.cozystack.cozystack.pkg.apis.apps.v1alpha1.Kubernetes"
"""The app's schema in the OpenAPI document (cozystack ``pkg/cmd/server/openapi.go``)."""

MIGRATIONS: tuple[tuple[int, tuple[int, int]], ...] = (
    (34, (1, 0)),
    (35, (1, 1)),
    (36, (1, 2)),
    (39, (1, 3)),
    (40, (1, 4)),
    (45, (1, 5)),
    (54, (1, 6)),
)
"""``migrations.targetVersion`` of cozystack ``packages/core/platform/values.yaml`` at the first
tag of each minor: v1.0.x 34, v1.1.x 35, v1.2.x 36–38, v1.3.x 39, v1.4.x 40–42, v1.5.x 45–46,
v1.6.x 54. The ConfigMap holds the number of the last migration run."""


def release_for(counter: int) -> tuple[int, int] | None:
    """The Cozystack minor whose migrations end at ``counter``; None before v1.0."""
    found = None
    for first, minor in MIGRATIONS:
        if counter >= first:
            found = minor
    return found


def release_text(minor: tuple[int, int]) -> str:
    newest = MIGRATIONS[-1][1]
    return f"v{minor[0]}.{minor[1]}" + ("+" if minor == newest else "")


def profile_for_release(minor: tuple[int, int]) -> str | None:
    """The profile written for this Cozystack minor (``PlatformProfile.releases``)."""
    for name, profile in PROFILES.items():
        first, last = profile.releases
        if first <= minor and (last is None or minor <= last):
            return name
    return None


def profile_for_schema(schema: Json) -> str | None:
    """The profile whose Kubernetes app's node-group keys this values schema has, the most
    specific when several fit (a newer release keeps the older keys). Raises ``Malformed`` for
    a schema of the wrong shape."""
    groups = schema.object("properties").object("nodeGroups")
    fields = set(groups.object("additionalProperties").object("properties").value)
    fitting = [
        (len(p.kubernetes.node_group_keys), n)
        for n, p in PROFILES.items()
        if p.kubernetes.node_group_keys <= fields
    ]
    return max(fitting)[1] if fitting else None


def _telling(keys: frozenset[str]) -> set[str]:
    """The node-group keys that set this profile apart from the older ones its schema extends
    (the disk field when it extends none)."""
    older = [p.kubernetes.node_group_keys for p in PROFILES.values() if p.kubernetes.node_group_keys < keys]
    if not older:
        return {
            next(
                p.kubernetes.node_disk_field
                for p in PROFILES.values()
                if p.kubernetes.node_group_keys == keys
            )
        }
    return set(keys - set().union(*older))


def _app_definition_schema(fetched: Fetched) -> Json | None:
    """The values schema (JSON text in ``spec.application.openAPISchema``); None when absent."""
    application = Json.of(fetched).object("spec").object("application")
    text = application.text("openAPISchema")
    if text is None:
        return None
    where = application.at("openAPISchema")
    try:
        schema = json.loads(text)
    except ValueError:
        raise where.malformed("a JSON schema") from None
    return Json(schema, fetched.path, where.keys).as_object()


def _openapi_schema(fetched: Fetched) -> Json | None:
    schemas = Json.of(fetched).object("components").object("schemas")
    spec = schemas.object(KUBERNETES_SCHEMA).object("properties").at("spec")
    return spec.as_object() if spec.present else None


def detect(sources: VersionSources) -> tuple[str | None, str] | None:
    """(profile or None, what was found) from the first readable source; None when none is."""
    if sources.config_map.ok:
        counter = Json.of(sources.config_map).object("data").text("version", "") or ""
        if counter.isdigit():
            minor = release_for(int(counter))
            if minor is None:
                return None, f"Cozystack before v1.0 (cozystack-version {counter})"
            text = f"Cozystack {release_text(minor)} (cozystack-version {counter})"
            return profile_for_release(minor), text
    for fetched, read, label in (
        (sources.app_definition, _app_definition_schema, "ApplicationDefinition"),
        (sources.openapi, _openapi_schema, "apps API schema"),
    ):
        schema = read(fetched) if fetched.ok else None
        if schema is not None:
            profile = profile_for_schema(schema)
            if profile is None:
                return None, f"the Kubernetes app's node groups ({label}) fit no known profile"
            keys, version = PROFILES[profile].kubernetes.node_group_keys, PROFILES[profile].cozystack_version
            shown = ", ".join(sorted(_telling(keys)))
            return (
                profile,
                f"the Kubernetes app's node groups take {shown} ({label}), as on Cozystack {version}",
            )
    return None


def _failed(sources: VersionSources) -> Fetched | None:
    """The first source that failed (not forbidden, not absent) before any readable one: the
    sources after it are less precise, so a verdict from them could be wrong (the schemas tell
    profiles apart, not releases)."""
    for fetched in (sources.config_map, sources.app_definition, sources.openapi):
        if fetched.ok:
            return None
        if not fetched.denied and not fetched.missing:
            return fetched
    return None


def check_version(sources: VersionSources, profile: str, needs_cozystack: bool) -> Check:
    """``needs_cozystack``: a tenant stack, which deploys Cozystack apps. A source that failed
    (not a refusal) makes it "can't tell": the ones after it are less precise."""
    failed = _failed(sources)
    if failed is not None:
        fix = fix_for(failed, "ask the platform team for the Cozystack release")
        return Check(NAME, CANT_TELL, f"{failed.why()}; the sources after it are less precise", fix)
    return _check_version(sources, profile, needs_cozystack)


def _check_version(sources: VersionSources, profile: str, needs_cozystack: bool) -> Check:
    found = detect(sources)
    if found is not None:
        detected, text = found
        if detected == profile:
            return Check(NAME, OK, f"{text}: {PROFILE_KEY} is {profile}")
        if detected is None:
            names = ", ".join(f"{n} = Cozystack {p.cozystack_version}" for n, p in PROFILES.items())
            return Check(
                NAME,
                DIFFERS,
                f"{text}: no profile is written for it ({names})",
                "move the platform to a release a profile is written for, or check the rendered apps by hand",
            )
        return Check(
            NAME,
            DIFFERS,
            f"{text}, but {PROFILE_KEY} is {profile}",
            f"pulumi config set --path platform.profile {detected}",
        )
    every = (sources.config_map, sources.app_definition, sources.openapi)
    if all(f.missing for f in every):
        if needs_cozystack:
            return Check(
                NAME,
                DIFFERS,
                "no Cozystack apps API (apps.cozystack.io) behind this kubeconfig",
                "point --kubeconfig/--context at the Cozystack cluster of the tenant",
            )
        return Check(NAME, OK, f"not a Cozystack cluster: {PROFILE_KEY} is not used")
    reasons = "; ".join(f.why() if not f.ok else f"{f.path} has no version" for f in every if not f.missing)
    return Check(
        NAME,
        CANT_TELL,
        f"no version source could be read ({reasons})",
        "ask the platform team for the Cozystack release (ConfigMap cozy-system/cozystack-version) "
        f"and set {PROFILE_KEY} to match",
    )
