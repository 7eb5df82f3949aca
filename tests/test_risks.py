"""Risk flags without parsing what cannot hold a risk (stacks/commands/diff/risks.py): for every object
of every example, and changes to each, the flags are those of parsing both texts in full."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from components.yaml_text import dump_yaml
from stacks.commands.cli import PROJECT_DIR
from stacks.commands.diff import risks
from stacks.commands.diff.many import render_one
from stacks.commands.diff.risks import Risk, object_risks
from stacks.loading.stack_list import discover

STACKS = discover(PROJECT_DIR, examples=True)


def _reference(path: str, old_text: str, new_text: str | None) -> list[Risk]:
    """``object_risks`` as it was: both texts parsed in full, PyYAML's pure-Python loader."""
    old = yaml.safe_load(old_text) or {}
    if new_text is None:
        found = []
        if risks.PROTECT_MARK in old_text:
            found.append(
                Risk(path, "deletes a protected object: `pulumi up` will refuse until it is unprotected")
            )
        if old.get("kind") in ("VMInstance", "VirtualMachine") and risks._vm_gpus(old):
            count = len(risks._vm_gpus(old))
            found.append(Risk(path, f"deletes a GPU VM ({count} GPU{'s' * (count != 1)})"))
        return found
    new = yaml.safe_load(new_text) or {}
    found = []
    if risks._urn(old_text) != risks._urn(new_text):
        found.append(Risk(path, "Pulumi URN changes: the object is replaced unless an alias keeps it"))
    check = risks._CHANGE_CHECKS.get(str(old.get("kind")))
    if check is not None:
        found += [Risk(path, m) for m in check(old.get("spec") or {}, new.get("spec") or {}, old, new)]
    return found


def _objects() -> list[tuple[str, str]]:
    return [
        (f"{stack}:{path}", text)
        for stack in STACKS
        for path, text in render_one(PROJECT_DIR, stack).files.items()
    ]


OBJECTS = _objects()


def _header(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if line.startswith("#"))


def _variants(text: str) -> list[str]:
    """The object changed in its labels, in its spec (every top-level spec key dropped in turn,
    GPUs halved), and with its URN changed."""
    header = _header(text)
    document = yaml.safe_load(text)
    found = []
    labelled = copy.deepcopy(document)
    labelled.setdefault("metadata", {}).setdefault("labels", {})["example.com/x"] = "y"
    found.append(header + dump_yaml(labelled))
    spec = document.get("spec")
    if isinstance(spec, dict):
        for key in spec:
            changed = copy.deepcopy(document)
            del changed["spec"][key]
            found.append(header + dump_yaml(changed))
        fewer = copy.deepcopy(document)
        for group in (fewer["spec"].get("nodeGroups") or {}).values():
            if isinstance(group, dict) and group.get("gpus"):
                group["gpus"] = group["gpus"][:1]
        if isinstance(fewer["spec"].get("gpus"), list):
            fewer["spec"]["gpus"] = fewer["spec"]["gpus"][:-1]
        found.append(header + dump_yaml(fewer))
    found.append(header.replace("# urn: urn:", "# urn: urn:x", 1) + dump_yaml(document))
    return found


@pytest.mark.parametrize(("name", "text"), OBJECTS, ids=[name for name, _ in OBJECTS])
def test_the_flags_are_those_of_a_full_parse(name: str, text: str) -> None:
    assert object_risks(name, text, None) == _reference(name, text, None)
    assert object_risks(name, text, text) == []
    for variant in _variants(text):
        assert object_risks(name, text, variant) == _reference(name, text, variant)
        assert object_risks(name, variant, text) == _reference(name, variant, text)


def test_a_label_change_parses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_text: str | None) -> dict[str, Any]:
        raise AssertionError("parsed")

    monkeypatch.setattr(risks, "_load", refuse)
    checked = 0
    for name, text in OBJECTS:
        labelled = _variants(text)[0]
        if "&" in text or "*" in text:
            continue
        assert object_risks(name, text, labelled) == []
        checked += 1
    assert checked > len(OBJECTS) // 2


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("\nspec:", "\n# a comment at the top level\nspec:", 1),
        lambda t: t.replace("\nspec:", "\nspec: &shared", 1),
        lambda t: t + "---\nkind: Other\n",
    ],
)
def test_text_it_cannot_read_plainly_is_parsed(edit: Any) -> None:
    text = next(t for n, t in OBJECTS if "vmdisk-" in n)
    assert risks._spec_text(edit(text)) is None


@pytest.mark.parametrize(
    "value", [0, 4, 2**70, -1, True, False, "4", " 4", "4.0", 4.0, 4.5, "x", None, [], {"a": 1}]
)
def test_a_quota_count_reads_as_the_stack_model_reads_it(value: object) -> None:
    """Plain integers skip pydantic (the diff's orchestrator does not import it for them);
    every value reads as ``TenantStack.quota``'s ``NonNegativeInt`` reads it."""
    from pydantic import NonNegativeInt, TypeAdapter, ValidationError

    try:
        expected: int | None = TypeAdapter(NonNegativeInt).validate_python(value)
    except ValidationError:
        expected = None
    assert risks._count(value) == expected
    assert type(risks._count(value)) is type(expected)
