"""Changes a reviewer must not miss: replacements, lost GPUs, deleted protected disks, quota."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

PROTECT_MARK = "# protect: true"


@dataclass(frozen=True, order=True)
class Risk:
    path: str
    message: str


def _load(text: str | None) -> dict[str, Any]:
    loaded = yaml.safe_load(text) if text else None
    return loaded if isinstance(loaded, dict) else {}


def _urn(text: str) -> str:
    first = text.split("\n", 1)[0]
    return first.removeprefix("# urn: ") if first.startswith("# urn: ") else ""


def _gpu_names(spec: dict[str, Any]) -> list[str]:
    return sorted(str(g.get("name", "")) for g in spec.get("gpus", []) or [])


def _vm_gpus(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec", {}) or {}
    if obj.get("kind") == "VMInstance":
        return _gpu_names(spec)
    devices = (((spec.get("template") or {}).get("spec") or {}).get("domain") or {}).get("devices") or {}
    return sorted(str(g.get("deviceName", "")) for g in devices.get("gpus", []) or [])


def _major(version: str) -> str:
    return version.lstrip("v").split(".", 1)[0]


def object_risks(path: str, old_text: str, new_text: str | None) -> list[Risk]:
    """Risks of one object changing from ``old_text`` to ``new_text`` (None: deleted)."""
    old = _load(old_text)
    if new_text is None:
        return _deletion_risks(path, old_text, old)
    new = _load(new_text)
    risks = []
    if _urn(old_text) != _urn(new_text):
        risks.append(Risk(path, "Pulumi URN changes: the object is replaced unless an alias keeps it"))
    check = _CHANGE_CHECKS.get(str(old.get("kind")))
    if check is not None:
        risks += [
            Risk(path, message) for message in check(old.get("spec") or {}, new.get("spec") or {}, old, new)
        ]
    return risks


def _deletion_risks(path: str, old_text: str, old: dict[str, Any]) -> list[Risk]:
    risks = []
    if PROTECT_MARK in old_text:
        risks.append(
            Risk(path, "deletes a protected object: `pulumi up` will refuse until it is unprotected")
        )
    if old.get("kind") in ("VMInstance", "VirtualMachine") and _vm_gpus(old):
        count = len(_vm_gpus(old))
        risks.append(Risk(path, f"deletes a GPU VM ({count} GPU{'s' * (count != 1)})"))
    return risks


Spec = dict[str, Any]


def _disk(old: Spec, new: Spec, *_: Any) -> list[str]:
    return [
        f"VMDisk {key} changes: it is create-only (the disk must be recreated)"
        for key in ("source", "storageClass")
        if old.get(key) != new.get(key)
    ]


def _vm(_old: Spec, _new: Spec, old_obj: dict[str, Any], new_obj: dict[str, Any]) -> list[str]:
    before, after = _vm_gpus(old_obj), _vm_gpus(new_obj)
    lost = sorted({g for g in before if before.count(g) > after.count(g)})
    return [f"the VM loses GPUs ({', '.join(lost)}) and restarts"] if lost else []


def _cluster(old: Spec, new: Spec, *_: Any) -> list[str]:
    old_groups, new_groups = old.get("nodeGroups") or {}, new.get("nodeGroups") or {}
    messages = []
    for group in sorted(old_groups):
        before = _gpu_names(old_groups[group])
        if not before:
            continue
        if group not in new_groups:
            messages.append(f"GPU node group {group} is removed: its nodes and pods go away")
            continue
        after = _gpu_names(new_groups[group])
        if set(before) != set(after):
            messages.append(f"node group {group} changes GPU model: its nodes are replaced")
        elif len(after) < len(before):
            messages.append(f"node group {group} gets fewer GPUs per node ({len(before)} → {len(after)})")
    return messages


def _chart(old: Spec, new: Spec, *_: Any) -> list[str]:
    before = ((old.get("chart") or {}).get("spec") or {}).get("version", "")
    after = ((new.get("chart") or {}).get("spec") or {}).get("version", "")
    if before and after and _major(before) != _major(after):
        return [f"chart major version {before} → {after}: read the upgrade notes"]
    return []


_CHANGE_CHECKS: dict[str, Any] = {
    "VMDisk": _disk,
    "VMInstance": _vm,
    "VirtualMachine": _vm,
    "Kubernetes": _cluster,
    "HelmRelease": _chart,
}


def quota_risks(old: dict[str, int], new: dict[str, int]) -> list[Risk]:
    """GPU quota increases (the stack may claim more GPUs)."""
    return [
        Risk(f"quota.{model}", f"GPU quota for {model} grows from {old.get(model, 0)} to {count}")
        for model, count in sorted(new.items())
        if count > old.get(model, 0)
    ]


def stack_quota(stack_file_text: str | None) -> dict[str, int]:
    """``hikube-gpu:quota`` of a stack file, read directly (no code of either revision needed)."""
    document = _load(stack_file_text)
    quota = (document.get("config") or {}).get("hikube-gpu:quota") or {}
    return {str(k): int(v) for k, v in quota.items() if isinstance(v, int)} if isinstance(quota, dict) else {}
