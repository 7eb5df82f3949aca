"""Changes a reviewer must not miss: replacements, lost GPUs, deleted protected disks, quota."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

PROTECT_MARK = "# protect: true"
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (as ``stacks.loading.yaml_subset``): ten times faster."""
_KIND = re.compile(r"kind: *([A-Za-z][A-Za-z0-9]*) *")
"""A top-level ``kind:`` written plainly (what ``components.yaml_text`` writes)."""


@dataclass(frozen=True, order=True)
class Risk:
    path: str
    message: str


def _load(text: str | None) -> dict[str, Any]:
    loaded = yaml.load(text, Loader=_LOADER) if text else None
    return loaded if isinstance(loaded, dict) else {}


_COLUMN_ZERO = re.compile(r"^[^ \n]", re.MULTILINE)


def _spec_text(text: str) -> str | None:
    """The text of the object's top-level ``spec:`` (``""`` without one), when the text is plain
    enough to tell: one document, comments only in the header, no anchors or aliases (whose
    values could sit outside the spec), ``spec:`` once. None otherwise."""
    body = text
    while body.startswith("#"):
        body = body.partition("\n")[2]
    if "&" in body or "*" in body or "\n#" in body or "\n---" in body or "\n..." in body:
        return None
    count = body.count("\nspec:") + body.startswith("spec:")
    if count != 1:
        return "" if count == 0 else None
    start = 0 if body.startswith("spec:") else body.index("\nspec:") + 1
    end = _COLUMN_ZERO.search(body, start + 1)
    return body[start : end.start() if end else len(body)]


def _same_spec(old_text: str, new_text: str) -> bool:
    """Whether two texts of an object surely have the same kind and the same ``spec``: then no
    check can find a risk (each compares the old spec with the new), and none is parsed."""
    kind = _plain_kind(old_text)
    if kind is None or kind != _plain_kind(new_text):
        return False
    old_spec = _spec_text(old_text)
    return old_spec is not None and old_spec == _spec_text(new_text)


def _line(text: str, key: str) -> str | None:
    """The one line of ``text`` that starts with ``key``; None when there is none or several."""
    needle = f"\n{key}"
    count = text.count(needle) + text.startswith(key)
    if count != 1:
        return None
    start = 0 if text.startswith(key) else text.index(needle) + 1
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)]


def _plain_kind(text: str) -> str | None:
    """The object's kind when its text says it plainly, once, at the top; else None (then only
    parsing tells). Any other spelling of a kind we check has no such line."""
    line = _line(text, "kind:")
    match = _KIND.fullmatch(line) if line is not None else None
    return match.group(1) if match else None


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
    """Risks of one object changing from ``old_text`` to ``new_text`` (None: deleted). Texts are
    parsed only when their kind has checks."""
    if new_text is None:
        return _deletion_risks(path, old_text)
    risks = []
    if _urn(old_text) != _urn(new_text):
        risks.append(Risk(path, "Pulumi URN changes: the object is replaced unless an alias keeps it"))
    kind = _plain_kind(old_text)
    if (kind is not None and kind not in _CHANGE_CHECKS) or _same_spec(old_text, new_text):
        return risks
    old = _load(old_text)
    check = _CHANGE_CHECKS.get(str(old.get("kind")))
    if check is not None:
        new = _load(new_text)
        risks += [
            Risk(path, message) for message in check(old.get("spec") or {}, new.get("spec") or {}, old, new)
        ]
    return risks


_VMS = ("VMInstance", "VirtualMachine")


def _deletion_risks(path: str, old_text: str) -> list[Risk]:
    risks = []
    if PROTECT_MARK in old_text:
        risks.append(
            Risk(path, "deletes a protected object: `pulumi up` will refuse until it is unprotected")
        )
    kind = _plain_kind(old_text)
    if kind is not None and kind not in _VMS:
        return risks
    old = _load(old_text)
    if old.get("kind") in _VMS and _vm_gpus(old):
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


@dataclass(frozen=True)
class SecretQuota:
    """A quota (or one model's) stored with ``--secret``: only its ciphertext is known offline."""

    ciphertext: str


Quota = dict[str, int | SecretQuota] | SecretQuota | None
"""``hikube-gpu:quota``: GPUs per model (unlisted models: 0), a secret, or None (no limit)."""


@lru_cache(maxsize=1)
def _count_adapter() -> Any:
    """How ``TenantStack.quota`` reads a count: ``4``, ``"4"`` and ``4.0`` are all 4 (pydantic,
    imported when a count is not a plain integer)."""
    from pydantic import NonNegativeInt, TypeAdapter

    return TypeAdapter(NonNegativeInt)


def _secret(value: Any) -> SecretQuota | None:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SecretQuota(str(value["secure"]))
    return None


def _count(value: Any) -> int | SecretQuota | None:
    secret = _secret(value)
    if secret is not None:
        return secret
    if type(value) is int and value >= 0:
        return value  # what the adapter returns for it
    from pydantic import ValidationError

    try:
        count: int = _count_adapter().validate_python(value)
    except ValidationError:
        return None  # not a count: the stack fails validation, and the diff says so
    return count


def stack_quota(config: dict[str, Any] | None, project: str) -> Quota:
    """The quota of a stack's config (keys in full: ``quota:`` is ``<project>:quota``)."""
    if (config or {}).get(f"{project}:kind") == "platform":
        return {}  # a platform stack claims no tenant GPUs: no quota applies, none is missing
    value = (config or {}).get(f"{project}:quota")
    if isinstance(value, str) and value.lstrip().startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)  # Pulumi hands objects to the program as JSON text
    if value is None:
        return None
    secret = _secret(value)
    if secret is not None:
        return secret
    if not isinstance(value, dict):
        return {}
    counts = {str(model): _count(count) for model, count in value.items()}
    return {model: count for model, count in counts.items() if count is not None}


def _describe(quota: Quota) -> str:
    if quota is None:
        return "no limit"
    if isinstance(quota, SecretQuota):
        return "a secret"
    listed = ", ".join(
        f"{model} {'[secret]' if isinstance(count, SecretQuota) else count}"
        for model, count in sorted(quota.items())
    )
    return listed or "0 of every model"


QUOTA_PATH = "hikube-gpu:quota"
"""Config path of the quota in risks (as in config problems)."""


def quota_risks(old: Quota, new: Quota) -> list[Risk]:
    """Quota changes that let the stack claim more GPUs (or an unknown number)."""
    if old == new:
        return []
    if new is None:
        message = f"no GPU quota: the stack may claim any number of GPUs (before: {_describe(old)})"
        return [Risk(QUOTA_PATH, message)]
    if old is None:
        return []  # a first limit
    if isinstance(new, SecretQuota) or isinstance(old, SecretQuota):
        return [Risk(QUOTA_PATH, "the GPU quota is a secret and changed: check that it does not grow")]
    risks = []
    for model in sorted(set(old) | set(new)):
        before, after = old.get(model, 0), new.get(model, 0)
        if before == after:
            continue
        path = f"{QUOTA_PATH}.{model}"
        if isinstance(before, SecretQuota) or isinstance(after, SecretQuota):
            message = f"the GPU quota for {model} is a secret and changed: check that it does not grow"
            risks.append(Risk(path, message))
        elif after > before:
            risks.append(Risk(path, f"GPU quota for {model} grows from {before} to {after}"))
    return risks


def quota_notes(old: Quota, new: Quota) -> list[str]:
    """Quota changes that are no risk: a first limit, or fewer GPUs of a model."""
    if old == new or new is None or isinstance(new, SecretQuota) or isinstance(old, SecretQuota):
        return []
    if old is None:
        return [f"a GPU quota is set (before: no limit): {_describe(new)}"]
    notes = []
    for model in sorted(set(old) | set(new)):
        before, after = old.get(model, 0), new.get(model, 0)
        if isinstance(before, int) and isinstance(after, int) and after < before:
            notes.append(f"GPU quota for {model} shrinks from {before} to {after}")
    return notes
