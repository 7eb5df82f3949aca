"""Checks of a tenant stack: namespace, GPU quota, instance types, what the credential may write."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from components.builders.node_group import effective_node_groups
from components.catalog.gpus import GPU_MODELS, GpuModelName
from components.catalog.platform import PROFILES
from components.catalog.quantity import parse_quantity
from components.resolve.instance_types import node_instance_type
from components.resolve.sizing import resolve_size
from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check, fix_for, guarded
from stacks.commands.doctor.facts import TenantFacts
from stacks.commands.doctor.reader import Fetched
from stacks.commands.doctor.shape import Json, items
from stacks.commands.doctor.version import check_version
from stacks.loading.problems import config_path
from stacks.program.capacity import capacity
from stacks.validation.config import TenantStack

APPS_GROUP = "apps.cozystack.io"
READ_VERBS = ("get", "list", "watch")
WRITE_VERBS = ("create", "update", "patch", "delete")
NVIDIA_PREFIX = "nvidia.com/"


@dataclass(frozen=True)
class Rule:
    """One resource rule of a SelfSubjectRulesReview."""

    api_groups: list[str]
    resources: list[str]
    verbs: list[str]
    resource_names: list[str]


def allowed(rules: list[Rule], verb: str, group: str = APPS_GROUP) -> bool:
    """Whether a SelfSubjectRulesReview rule grants ``verb`` on all objects of a resource of ``group``."""
    for rule in rules:
        if rule.resource_names:
            continue
        groups, verbs = rule.api_groups, rule.verbs
        if (group in groups or "*" in groups) and (verb in verbs or "*" in verbs) and rule.resources:
            return True
    return False


def _rules(fetched: Fetched) -> tuple[list[Rule], bool]:
    """The resource rules and whether the review says it is incomplete (raises ``Malformed``)."""
    status = Json.of(fetched).object("status")
    rules = [
        Rule(r.texts("apiGroups"), r.texts("resources"), r.texts("verbs"), r.texts("resourceNames"))
        for r in status.objects("resourceRules")
    ]
    return rules, status.flag("incomplete")


def check_namespace(stack: TenantStack, facts: TenantFacts) -> Check:
    namespace = stack.platform.namespace
    key = config_path("platform", "namespace")
    if facts.namespace.missing:
        return Check(
            "namespace",
            DIFFERS,
            f"namespace {namespace} does not exist",
            f"create the tenant, or fix {key} (the namespace is tenant-<name>)",
        )
    if not facts.namespace.ok:
        fix = fix_for(facts.namespace, f"check {key} with the platform team")
        return Check("namespace", CANT_TELL, facts.namespace.why(), fix)
    if not facts.rules.ok:
        return Check(
            "namespace",
            CANT_TELL,
            f"namespace {namespace} exists; what the credential may read is unknown ({facts.rules.why()})",
            fix_for(
                facts.rules,
                f"check with `kubectl auth can-i list vminstances.apps.cozystack.io -n {namespace}`",
            ),
        )
    rules, incomplete = _rules(facts.rules)
    missing = [verb for verb in READ_VERBS if not allowed(rules, verb)]
    if not missing:
        return Check("namespace", OK, f"namespace {namespace} exists and the credential can read its apps")
    if incomplete:
        return Check(
            "namespace",
            CANT_TELL,
            f"namespace {namespace} exists; the rules review is incomplete and grants no {'/'.join(missing)}",
            f"check with `kubectl auth can-i {missing[0]} vminstances.apps.cozystack.io -n {namespace}`",
        )
    return Check(
        "namespace",
        DIFFERS,
        f"namespace {namespace} exists, but the credential cannot {'/'.join(missing)} {APPS_GROUP} in it",
        f"use the tenant's kubeconfig: previews need get/list/watch on {APPS_GROUP} in {namespace}",
    )


def quota_limits(quotas: list[Json]) -> dict[str, Fraction]:
    """GPU resource name → the smallest hard limit any ResourceQuota sets for it."""
    limits: dict[str, Fraction] = {}
    for quota in quotas:
        hard = quota.object("spec").at("hard")
        for key, value in quota.object("spec").strings("hard").items():
            name = key.removeprefix("requests.").removeprefix("limits.")
            if not name.startswith(NVIDIA_PREFIX):
                continue
            try:
                amount = parse_quantity(value)
            except ValueError:
                raise hard.at(key).malformed("a quantity") from None
            limits[name] = min(amount, limits.get(name, amount))
    return limits


def check_gpu_quota(stack: TenantStack, facts: TenantFacts) -> Check:
    needed = {GpuModelName(row.model): row.gpus for row in capacity(stack) if row.gpus}
    if not needed:
        return Check("gpu-quota", OK, "the stack asks for no GPUs")
    if not facts.quotas.ok:
        return Check(
            "gpu-quota",
            CANT_TELL,
            facts.quotas.why(),
            fix_for(
                facts.quotas, f"use a credential that can list resourcequotas in {stack.platform.namespace}"
            ),
        )
    limits = quota_limits(items(facts.quotas))
    if not limits:
        return Check(
            "gpu-quota",
            CANT_TELL,
            f"no ResourceQuota in {stack.platform.namespace} names a GPU resource: nothing to compare",
            "ask the platform team which GPU resource names the tenant may request",
        )
    problems, fixes, fine = [], [], []
    for model, count in needed.items():
        spec = GPU_MODELS[model]
        name = spec.hikube_resource_name
        if name not in limits:
            other = [n for n in sorted(limits) if n == spec.upstream_resource_name]
            hint = f" (it names {other[0]}, the device plugin's name for {model.value})" if other else ""
            problems.append(f"{model.value}: the quota has no {name}{hint}")
            fixes.append(f"ask the platform team to allow {name} (the name the VMs request)")
        elif limits[name] < count:
            problems.append(
                f"{model.value}: the quota allows {limits[name]} {name}, the stack may use {count}"
            )
            fixes.append(
                f"lower the stack's {model.value} GPUs to {limits[name]} or ask for a quota of {count}"
            )
        else:
            fine.append(f"{name} {count}/{limits[name]}")
    if problems:
        return Check("gpu-quota", DIFFERS, "; ".join(problems), "; ".join(fixes))
    return Check("gpu-quota", OK, "stack GPUs within the quota: " + ", ".join(fine))


def used_instance_types(stack: TenantStack) -> dict[str, list[str]]:
    """Instance type → the config paths that use it (VMs, then node groups, defaults included)."""
    used: dict[str, list[str]] = {}
    for name, vm in sorted(stack.vms.items()):
        size = resolve_size(vm)
        if size is not None and size.instance_type is not None:
            used.setdefault(size.instance_type, []).append(config_path("vms", name, "instanceType"))
    app = PROFILES[stack.platform.profile].kubernetes
    for cluster_name, cluster in sorted(stack.clusters.items()):
        for group_name, group in effective_node_groups(cluster, app).items():
            chosen = node_instance_type(group)
            if chosen is not None:
                path = config_path("clusters", cluster_name, "nodeGroups", group_name, "instanceType")
                used.setdefault(chosen, []).append(path)
    return used


def check_instance_types(stack: TenantStack, facts: TenantFacts) -> Check:
    used = used_instance_types(stack)
    if not used:
        return Check("instance-types", OK, "the stack uses no instance type")
    if not facts.instance_types.ok:
        return Check(
            "instance-types",
            CANT_TELL,
            facts.instance_types.why(),
            fix_for(facts.instance_types, "check with `kubectl get virtualmachineclusterinstancetypes`"),
        )
    existing = {item.name for item in items(facts.instance_types)}
    missing = {name: paths for name, paths in used.items() if name not in existing}
    if not missing:
        return Check("instance-types", OK, "all exist: " + ", ".join(sorted(used)))
    detail = "; ".join(f"{name} ({', '.join(paths)})" for name, paths in sorted(missing.items()))
    return Check(
        "instance-types",
        DIFFERS,
        f"not on the cluster: {detail}",
        "pick an existing type (`kubectl get virtualmachineclusterinstancetypes`) for each path",
    )


def check_write_access(stack: TenantStack, facts: TenantFacts) -> Check:
    namespace = stack.platform.namespace
    if not facts.rules.ok:
        return Check(
            "write-access",
            CANT_TELL,
            facts.rules.why(),
            fix_for(
                facts.rules,
                f"check with `kubectl auth can-i patch vminstances.apps.cozystack.io -n {namespace}`",
            ),
        )
    rules, incomplete = _rules(facts.rules)
    writes = [verb for verb in WRITE_VERBS if allowed(rules, verb)]
    if writes:
        return Check(
            "write-access",
            DIFFERS,
            f"the credential may {'/'.join(writes)} {APPS_GROUP} objects in {namespace}: a `pulumi preview` "
            "with it applies updates (Cozystack drops dryRun on creates, updates and deletes, P1)",
            "preview with a read-only credential (get/list/watch on apps.cozystack.io, docs/deploying.md); "
            "keep this one for `pulumi up`",
        )
    if incomplete:
        return Check(
            "write-access",
            CANT_TELL,
            "the rules review is incomplete (another authorizer may grant writes)",
            f"check with `kubectl auth can-i patch vminstances.apps.cozystack.io -n {namespace}`",
        )
    return Check("write-access", OK, f"read-only on {APPS_GROUP} in {namespace}: previews cannot write")


def tenant_checks(stack: TenantStack, facts: TenantFacts) -> list[Check]:
    """Each check; one that reads a malformed answer says "can't tell" (``guarded``)."""
    return [
        guarded("cozystack-version", lambda: check_version(facts.version, stack.platform.profile, True)),
        guarded("namespace", lambda: check_namespace(stack, facts)),
        guarded("gpu-quota", lambda: check_gpu_quota(stack, facts)),
        guarded("instance-types", lambda: check_instance_types(stack, facts)),
        guarded("write-access", lambda: check_write_access(stack, facts)),
    ]
