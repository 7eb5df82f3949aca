"""Checks of a platform stack: nodes, KubeVirt, the GPU names nodes publish, the GPU Operator."""

from __future__ import annotations

from typing import Any

from components.builders.kubevirt_patch import build_kubevirt_patch, feature_gates, permitted_resource_name
from components.catalog.gpus import gpu
from components.catalog.kubevirt import parse_version
from components.models.kubevirt import KubeVirtArgs, ResourceNaming
from components.resolve.gpu_operator import uses_vgpu
from stacks.commands.doctor import helm
from stacks.commands.doctor.check import CANT_TELL, DIFFERS, OK, Check, fix_for, guarded
from stacks.commands.doctor.facts import PlatformFacts
from stacks.commands.doctor.reader import Fetched
from stacks.commands.doctor.shape import Json, items
from stacks.commands.doctor.version import check_version
from stacks.loading.problems import config_path
from stacks.validation.config import PlatformStack

NVIDIA_PREFIX = "nvidia.com/"


def check_nodes(stack: PlatformStack, facts: PlatformFacts) -> Check:
    if not stack.nodes:
        return Check("nodes", OK, f"{config_path('nodes')} names no node")
    if not facts.nodes.ok:
        return Check(
            "nodes",
            CANT_TELL,
            facts.nodes.why(),
            fix_for(facts.nodes, "use a credential that can list nodes"),
        )
    existing = {node.name for node in items(facts.nodes)}
    missing = sorted(set(stack.nodes) - existing)
    if not missing:
        return Check("nodes", OK, "all exist: " + ", ".join(sorted(stack.nodes)))
    return Check(
        "nodes",
        DIFFERS,
        "no such node: " + ", ".join(missing) + " (patching a missing Node creates a phantom one, P9)",
        "fix the names in " + ", ".join(config_path("nodes", n) for n in missing) + " (`kubectl get nodes`)",
    )


def _kubevirt_cr(args: KubeVirtArgs, fetched: Fetched | None, name: str) -> Check | Json:
    """The CR, or the check saying why it cannot be read."""
    where = f"KubeVirt {args.namespace}/{args.name}"
    if fetched is None or fetched.missing:
        keys = f"{config_path('kubevirt', 'namespace')} and {config_path('kubevirt', 'name')}"
        fix = f"set {keys} to the cluster's CR (`kubectl get kubevirt -A`)"
        return Check(name, DIFFERS, f"{where} does not exist", fix)
    if not fetched.ok:
        return Check(
            name, CANT_TELL, fetched.why(), fix_for(fetched, f"use a credential that can get {where}")
        )
    return Json.of(fetched)


def check_kubevirt_version(args: KubeVirtArgs, cr: Json) -> Check:
    observed = cr.object("status").text("observedKubeVirtVersion", "") or ""
    live = parse_version(observed)
    if live is None:
        return Check("kubevirt-version", CANT_TELL, "KubeVirt reports no observedKubeVirtVersion yet", "")
    if live == parse_version(args.version):
        return Check(
            "kubevirt-version",
            OK,
            f"KubeVirt {observed}, {config_path('kubevirt', 'version')} is {args.version}",
        )
    return Check(
        "kubevirt-version",
        DIFFERS,
        f"KubeVirt {observed}, but {config_path('kubevirt', 'version')} is {args.version} "
        "(the gates it needs differ by version)",
        f'pulumi config set --path kubevirt.version "{live[0]}.{live[1]}"',
    )


def check_feature_gates(args: KubeVirtArgs, vgpu: bool, cr: Json) -> Check:
    wanted = feature_gates(args, vgpu)
    configuration = cr.object("spec").object("configuration")
    live = configuration.object("developerConfiguration").texts("featureGates")
    if not wanted:
        return Check(
            "kubevirt-feature-gates", OK, "the patch leaves the gates alone: " + (", ".join(live) or "none")
        )
    added = [g for g in wanted if g not in live]
    dropped = [g for g in live if g not in wanted]
    if not added and not dropped:
        return Check("kubevirt-feature-gates", OK, "as the patch sets them: " + ", ".join(wanted))
    parts, fixes = [], []
    if dropped:
        parts.append("the patch owns the list and would drop " + ", ".join(dropped))
        fixes.append(f"add {', '.join(dropped)} to {config_path('kubevirt', 'featureGates')}")
    if added:
        parts.append("not set yet: " + ", ".join(added))
        fixes.append("`pulumi up` sets them")
    return Check("kubevirt-feature-gates", DIFFERS, "; ".join(parts), "; ".join(fixes))


def _device_keys(devices: Json) -> set[tuple[str, str, str]]:
    keys = set()
    for entry in devices.objects("pciHostDevices"):
        selector = entry.text("pciVendorSelector", "") or ""
        keys.add(("pci", selector.upper(), entry.text("resourceName", "") or ""))
    for entry in devices.objects("mediatedDevices"):
        keys.add(("mdev", entry.text("mdevNameSelector", "") or "", entry.text("resourceName", "") or ""))
    return keys


def _patch_keys(devices: dict[str, Any]) -> set[tuple[str, str, str]]:
    """The same keys of the patch the stack renders (our own object)."""
    return _device_keys(Json(devices, "the stack's KubeVirt patch"))


def check_permitted_devices(args: KubeVirtArgs, vgpu: bool, cr: Json) -> Check:
    patch = build_kubevirt_patch(args, vgpu)
    wanted = _patch_keys(patch.body["spec"]["configuration"]["permittedHostDevices"])
    live = _device_keys(cr.object("spec").object("configuration").object("permittedHostDevices"))
    missing, extra = sorted(wanted - live), sorted(live - wanted)
    if not missing and not extra:
        return Check("kubevirt-permitted-devices", OK, "permits " + ", ".join(k[2] for k in sorted(wanted)))
    parts, fixes = [], []
    if missing:
        parts.append("not permitted: " + ", ".join(f"{k[1]} as {k[2]}" for k in missing))
        fixes.append("`pulumi up` permits them")
    if extra:
        parts.append(
            "permitted but not in the stack (the patch drops them): " + ", ".join(k[2] for k in extra)
        )
        fixes.append(f"add their models to {config_path('kubevirt', 'gpus')} if VMs use them")
    return Check("kubevirt-permitted-devices", DIFFERS, "; ".join(parts), "; ".join(fixes))


def published_names(nodes: list[Json]) -> dict[str, list[str]]:
    """``nvidia.com/…`` resource → the nodes whose allocatable has more than zero of it."""
    names: dict[str, list[str]] = {}
    for node in nodes:
        name = node.name
        for resource, amount in node.object("status").strings("allocatable").items():
            if resource.startswith(NVIDIA_PREFIX) and amount not in ("0", ""):
                names.setdefault(resource, []).append(name)
    return names


def check_gpu_names(stack: PlatformStack, facts: PlatformFacts) -> Check:
    name = "gpu-resource-names"
    if not facts.nodes.ok:
        return Check(
            name, CANT_TELL, facts.nodes.why(), fix_for(facts.nodes, "use a credential that can list nodes")
        )
    published = published_names(items(facts.nodes))
    seen = ", ".join(f"{r} ({', '.join(n)})" for r, n in sorted(published.items())) or "none"
    args = stack.kubevirt
    if args is None:
        return Check(name, OK, f"{config_path('kubevirt')} is unset; nodes publish {seen}")
    problems, fixes = [], []
    for model in args.gpus:
        expected = permitted_resource_name(model, args.resource_naming)
        if expected in published:
            continue
        other: ResourceNaming = "upstream" if args.resource_naming == "hikube" else "hikube"
        alternative = permitted_resource_name(model, other)
        if alternative in published:
            problems.append(f"{model.value}: nodes publish {alternative}, not {expected}")
            fixes.append(f"pulumi config set --path kubevirt.resourceNaming {other}")
        else:
            problems.append(
                f"{model.value}: no node publishes {expected} (PCI {gpu(model).pci_vendor_selector})"
            )
            fixes.append(
                f"give a {model.value} node the vm-passthrough workload; check the sandbox device plugin"
            )
    if problems:
        return Check(
            name, DIFFERS, "; ".join(problems) + f"; nodes publish {seen}", "; ".join(dict.fromkeys(fixes))
        )
    return Check(name, OK, f"nodes publish {seen}")


CHART_LABEL = "helm.sh/chart"


def _from_deployment(stack: PlatformStack, facts: PlatformFacts) -> Check:
    """The chart version from the operator Deployment's label, when the release Secrets are forbidden."""
    name = "gpu-operator-release"
    args = stack.gpu_operator
    deployment = facts.operator
    if deployment is not None and deployment.missing:
        return Check(
            name, DIFFERS, f"no gpu-operator Deployment in {args.namespace}", "`pulumi up` installs it"
        )
    label = (
        Json.of(deployment).object("metadata").strings("labels").get(CHART_LABEL, "")
        if deployment is not None and deployment.ok
        else ""
    )
    if deployment is None or not deployment.ok or not label.startswith("gpu-operator-"):
        reasons = "; ".join(f.why() for f in (facts.releases, deployment) if f is not None and not f.ok)
        return Check(
            name,
            CANT_TELL,
            reasons or f"the gpu-operator Deployment has no {CHART_LABEL} label",
            f"use a credential that can list secrets in {args.namespace}, or `helm list -n {args.namespace}`",
        )
    live = label.removeprefix("gpu-operator-").lstrip("v")
    state = (
        f"chart v{live} ({CHART_LABEL} of the operator Deployment; release Secrets: {facts.releases.code})"
    )
    return _compare_chart(args.version, live, state)


def _compare_chart(wanted: str, live: str, state: str) -> Check:
    key = config_path("gpuOperator", "version")
    if live != wanted.lstrip("v"):
        return Check(
            "gpu-operator-release",
            DIFFERS,
            f"{state}, but {key} is {wanted}",
            f"`pulumi up` upgrades it, or set {key}: v{live}",
        )
    return Check("gpu-operator-release", OK, state)


def check_operator_release(stack: PlatformStack, facts: PlatformFacts) -> Check:
    name = "gpu-operator-release"
    args = stack.gpu_operator
    if facts.releases.denied:
        return _from_deployment(stack, facts)
    if not facts.releases.ok:  # not a refusal: the Deployment's label would lose the release's status
        fix = fix_for(facts.releases, f"`helm list -n {args.namespace}`")
        return Check(name, CANT_TELL, facts.releases.why(), fix)
    release = helm.current(items(facts.releases))
    if release is None:
        return Check(
            name, DIFFERS, f"no Helm release gpu-operator in {args.namespace}", "`pulumi up` installs it"
        )
    if release.chart_version is None:
        return Check(
            name, CANT_TELL, f"revision {release.revision} ({release.status}): chart version unreadable", ""
        )
    live = release.chart_version.lstrip("v")
    state = f"chart v{live}, revision {release.revision}, {release.status}"
    compared = _compare_chart(args.version, live, state)
    if compared.status == OK and release.status != "deployed":
        return Check(name, DIFFERS, state, f"see `helm history gpu-operator -n {args.namespace}`")
    return compared


def check_vm_namespaces(stack: PlatformStack, facts: PlatformFacts) -> Check:
    """The raw VMs' namespaces must exist: the stack creates none (P5)."""
    name = "vm-namespaces"
    if not facts.vm_namespaces:
        return Check(name, OK, "the stack has no raw VMs")
    missing = sorted(ns for ns, fetched in facts.vm_namespaces.items() if fetched.missing)
    unknown = [f.why() for f in facts.vm_namespaces.values() if not f.ok and not f.missing]
    if missing:
        return Check(
            name,
            DIFFERS,
            "no such namespace: " + ", ".join(missing) + " (the stack creates none; `pulumi up` would fail)",
            "kubectl create namespace "
            + " ".join(missing)
            + f", or fix {config_path('platform', 'namespace')}",
        )
    if unknown:
        first = next(f for f in facts.vm_namespaces.values() if not f.ok and not f.missing)
        return Check(
            name, CANT_TELL, "; ".join(unknown), fix_for(first, "use a credential that can get namespaces")
        )
    return Check(name, OK, "all exist: " + ", ".join(sorted(facts.vm_namespaces)))


def platform_checks(stack: PlatformStack, facts: PlatformFacts) -> list[Check]:
    """Each check; one that reads a malformed answer says "can't tell" (``guarded``)."""
    checks = [
        guarded("cozystack-version", lambda: check_version(facts.version, stack.platform.profile, False)),
        guarded("nodes", lambda: check_nodes(stack, facts)),
    ]
    args = stack.kubevirt
    if args is not None:
        vgpu = uses_vgpu(stack.gpu_operator, stack.nodes)
        found = _kubevirt_cr(args, facts.kubevirt, "kubevirt-version")
        if isinstance(found, Check):
            checks.append(found)
        else:
            checks += [
                guarded("kubevirt-version", lambda: check_kubevirt_version(args, found)),
                guarded("kubevirt-feature-gates", lambda: check_feature_gates(args, vgpu, found)),
                guarded("kubevirt-permitted-devices", lambda: check_permitted_devices(args, vgpu, found)),
            ]
    checks += [
        guarded("gpu-resource-names", lambda: check_gpu_names(stack, facts)),
        guarded("gpu-operator-release", lambda: check_operator_release(stack, facts)),
        guarded("vm-namespaces", lambda: check_vm_namespaces(stack, facts)),
    ]
    return checks
