"""The package reference page: each component's inputs and outputs as other languages see them,
from the package schema the provider serves (``components.package.schema``)."""

from __future__ import annotations

import re
from typing import Any

from tools.gen_docs import GENERATED_NOTE


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit(":", 1)[-1]
    kind = str(spec.get("type", "any"))
    if kind == "array":
        return f"list of {_type(spec['items'])}"
    if kind == "object" and "additionalProperties" in spec:
        return f"map of {_type(spec['additionalProperties'])}"
    return kind


def _takes_outputs(spec: dict[str, Any]) -> str:
    """``yes`` when an Output is taken for the whole value (and each item or value), ``no``
    when the value must be plain."""
    return "no" if spec.get("plain") else "yes"


def _cell(text: str) -> str:
    text = re.sub(r"``([^`]+)``", r"`\1`", " ".join(text.split()))
    return text.replace("|", "\\|")


def _inputs(resource: dict[str, Any]) -> list[str]:
    required = set(resource.get("requiredInputs", []))
    lines = [
        "| Input | Type | Required | Takes Outputs | Secret | Description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, spec in sorted(resource["inputProperties"].items()):
        lines.append(
            f"| `{name}` | {_type(spec)} | {'yes' if name in required else ''} | {_takes_outputs(spec)} "
            f"| {'yes' if spec.get('secret') else ''} | {_cell(spec.get('description', ''))} |"
        )
    return lines


def _outputs(resource: dict[str, Any]) -> list[str]:
    lines = ["| Output | Type | Secret | Description |", "| --- | --- | --- | --- |"]
    for name, spec in sorted(resource["properties"].items()):
        lines.append(
            f"| `{name}` | {_type(spec)} | {'yes' if spec.get('secret') else ''} "
            f"| {_cell(spec.get('description', ''))} |"
        )
    return lines


def page() -> str:
    from components.package.schema import schema

    package = schema()
    lines = [
        GENERATED_NOTE,
        "# Package reference",
        "",
        "The components as TypeScript, Go, C#, Java and YAML programs see them, generated from the",
        "package schema that `provider/` serves (`schema/components.schema.json`). See",
        "[The components from other languages](../guides/other-languages.md).",
        "",
        "**Takes Outputs**: *yes*, the input may be another resource's output, a secret or a value",
        "unknown in a preview (for a list or a map, so may each item or value); *no*, it must be a",
        "plain value, known when the component is constructed, because it shapes the resources.",
        "**Secret**: the SDKs send a secret input as a secret, and a secret output is one.",
    ]
    for token, resource in sorted(package["resources"].items()):
        name = token.rsplit(":", 1)[-1]
        lines += ["", f"## `{name}`", "", f"`{token}`", "", _cell(resource.get("description", "")), ""]
        lines += _inputs(resource)
        lines += ["", *_outputs(resource)]
    return "\n".join(lines) + "\n"
