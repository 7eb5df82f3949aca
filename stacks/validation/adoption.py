"""Adopting what exists: ``hikube-gpu:import`` names VMs and clusters created before this project
(by hand, the dashboard or another tool); ``pulumi up`` imports their Cozystack objects into the
stack's state instead of creating them (``ResourceOptions(import_="<namespace>/<name>")``).

    hikube-gpu:import:
      vms: [ws-legacy]      # its VMInstance and VMDisks (system and data disks)
      clusters: [training]  # its Kubernetes app

The config must describe the objects as they are: Pulumi imports an object only when the
program's inputs match it, and otherwise stops with the difference (nothing is changed). After
the import succeeded, remove the key (docs/fleet.md).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.resolve.names import (
    SYSTEM_DISK,
    cluster_app_resource,
    vm_disk_resource,
    vm_instance_resource,
)
from stacks.loading.problems import Problem, config_path

if TYPE_CHECKING:  # Pulumi is imported by the functions that register, not by `take`
    import pulumi

IMPORT_KEY = "import"
KINDS = {"vms": "VM", "clusters": "cluster"}


@dataclass(frozen=True)
class Adoption:
    resources: frozenset[str]
    """Pulumi resource names (``ws-1-instance``) whose objects are imported."""


def take(
    raw: dict[str, Any], refused: Collection[str] = ()
) -> tuple[Adoption, dict[str, Any], list[Problem]]:
    """The adoption ``raw`` asks for, ``raw`` without the ``import`` key, and the problems of that
    key (each with its path: a name the config does not have, a wrong shape, a platform stack).
    The problems are reported with the rest of the stack's (``stacks.validation.secrets.validate_prepared``),
    never instead of them; entries at ``refused`` paths (secrets refused by
    ``stacks.validation.secrets.prepare``, which says why) are skipped."""
    if IMPORT_KEY not in raw:
        return Adoption(frozenset()), raw, []
    rest = {key: value for key, value in raw.items() if key != IMPORT_KEY}
    value = raw[IMPORT_KEY]
    if rest.get("kind") == "platform":
        message = (
            "a platform stack adopts nothing: hikube-gpu:import names a tenant stack's VMs and "
            "clusters (Cozystack apps); remove it"
        )
        # upstream: pulumi/pulumi sdk/python/lib/pulumi/resource.py ResourceOptions.import_ (adopts a
        # upstream: resource the program registers; a platform stack registers no Cozystack app)
        return Adoption(frozenset()), rest, [Problem(config_path(IMPORT_KEY), message)]
    if not isinstance(value, dict):
        message = "expected a map: vms: [names], clusters: [names]"
        return Adoption(frozenset()), rest, [Problem(config_path(IMPORT_KEY), message)]
    problems: list[Problem] = []
    names: set[str] = set()
    for section, items in value.items():
        if section not in KINDS:
            problems.append(Problem(config_path(IMPORT_KEY, str(section)), "expected vms or clusters"))
            continue
        if not isinstance(items, list):
            problems.append(Problem(config_path(IMPORT_KEY, section), "expected a list of names"))
            continue
        configured = rest.get(section)
        known: dict[str, Any] = configured if isinstance(configured, dict) else {}
        for index, item in enumerate(items):
            path = config_path(IMPORT_KEY, section, index)
            if path in refused:
                continue
            if not isinstance(item, str) or item not in known:
                choices = ", ".join(sorted(known)) or "none"
                message = f"{item!r} is not a {KINDS[section]} of this stack ({section}: {choices})"
                problems.append(Problem(path, message))
            else:
                names |= _resources(section, item, known[item])
    return Adoption(frozenset(names)), rest, problems


def _resources(section: str, name: str, spec: Any) -> set[str]:
    if section == "clusters":
        return {cluster_app_resource(name)}
    disks = spec.get("dataDisks") if isinstance(spec, dict) else None
    keys = [SYSTEM_DISK, *(disks if isinstance(disks, dict) else {})]
    return {vm_instance_resource(name), *(vm_disk_resource(name, disk) for disk in keys)}


def import_id(props: Any) -> str | None:
    """``<namespace>/<name>`` of a Kubernetes object's inputs (the provider's import id)."""
    metadata = props.get("metadata") if isinstance(props, dict) else None
    if not isinstance(metadata, dict):
        return None
    namespace, name = metadata.get("namespace"), metadata.get("name")
    return f"{namespace}/{name}" if isinstance(namespace, str) and isinstance(name, str) else None


def transformation(
    adoption: Adoption,
) -> pulumi.ResourceTransformation:
    """A stack transformation that sets ``import_`` on the adopted objects."""
    import pulumi

    def adopt(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.name not in adoption.resources:
            return None
        found = import_id(args.props)
        if found is None:
            pulumi.log.error(
                f"{config_path(IMPORT_KEY)}: {args.name} has no plain namespace and name to import"
            )
            return None
        options = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(import_=found))
        return pulumi.ResourceTransformationResult(args.props, options)

    return adopt


def register(adoption: Adoption) -> None:
    """Import the adopted objects of this run (nothing when the stack adopts none)."""
    import pulumi

    if adoption.resources:
        pulumi.runtime.register_stack_transformation(transformation(adoption))
