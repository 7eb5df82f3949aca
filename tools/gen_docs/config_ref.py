"""The configuration reference page: every key of both stack kinds, from the config models.

Rows come from the same JSON Schema as ``schema/stack-file.schema.json``: the type, default
and constraints pydantic derives, and the field docstring. A map of objects (``vms.<name>``)
starts a section of its own; nested objects (``disk.size``) are flattened into their section.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from tools.gen_docs import GENERATED_NOTE
from tools.gen_docs.docstrings import markdown
from tools.gen_docs.schema import NAMESPACE, PROGRAM_KEYS, model_schemas

Schema = dict[str, Any]

PLACEHOLDERS = {
    "vms": "<name>",
    "clusters": "<name>",
    "nodeGroups": "<group>",
    "workloads": "<workload>",
    "nodes": "<node>",
    "dataDisks": "<disk>",
    "sharingConfigs": "<config>",
    "migConfigs": "<layout>",
    "gpus": "<model>",
    "quota": "<model>",
    "env": "<variable>",
    "layout": "<profile>",
}
SECTION_IDS = {
    ("tenant", ""): "tenant-stack",
    ("tenant", "vms.<name>"): "tenant-vms",
    ("tenant", "clusters.<name>"): "clusters",
    ("tenant", "clusters.<name>.nodeGroups.<group>"): "node-groups",
    ("tenant", "clusters.<name>.workloads.<workload>"): "workloads",
    ("platform", ""): "platform-stack",
    ("platform", "nodes.<node>"): "nodes",
    ("platform", "vms.<name>"): "raw-vms",
}


@dataclass
class Section:
    kind: str
    path: str
    model: Schema
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)


class _Walker:
    def __init__(self, defs: Schema) -> None:
        self.defs = defs
        self.sections: list[Section] = []

    def deref(self, node: Schema) -> Schema:
        while "$ref" in node:
            node = {
                **self.defs[node["$ref"].rsplit("/", 1)[1]],
                **{k: v for k, v in node.items() if k != "$ref"},
            }
        return node

    def options(self, node: Schema) -> list[Schema]:
        """The non-null alternatives of a node, dereferenced."""
        node = self.deref(node)
        if "anyOf" in node:
            return [self.deref(o) for o in node["anyOf"] if o.get("type") != "null"]
        return [node]

    def is_model(self, node: Schema) -> bool:
        return "properties" in node

    def section(self, kind: str, path: str, model: Schema) -> None:
        section = Section(kind, path, model)
        self.sections.append(section)
        self.rows(section, "", model)

    def rows(self, section: Section, prefix: str, model: Schema) -> None:
        required = set(model.get("required", []))
        for key, raw in model["properties"].items():
            node = self.deref(raw)
            options = self.options(node)
            name = f"{prefix}{key}"
            full = f"{section.path}.{name}" if section.path else name
            models = [o for o in options if self.is_model(o)]
            values: list[Schema] = [
                o["additionalProperties"] for o in options if isinstance(o.get("additionalProperties"), dict)
            ]
            value_models = [o for v in values for o in self.options(v) if self.is_model(o)]
            if value_models:
                placeholder = PLACEHOLDERS.get(key, "<name>")
                row = (
                    name,
                    f"map {self.key_type(options[0])} → {self.type_name(values[0])}",
                    self.default(node, key in required),
                    self.describe(node, options[0]),
                )
                section.rows.append(row)
                self.section(section.kind, f"{full}.{placeholder}", value_models[0])
                continue
            section.rows.append(
                (
                    name,
                    self.type_name(node),
                    self.default(node, key in required),
                    self.describe(node, options[0]),
                )
            )
            if models:
                self.rows(section, f"{name}.", models[0])
            for option in options:
                items = option.get("items")
                if isinstance(items, dict) and self.is_model(self.deref(items)):
                    self.rows(section, f"{name}[].", self.deref(items))

    def key_type(self, node: Schema) -> str:
        names = node.get("propertyNames")
        if isinstance(names, dict):
            return self.type_name(names)
        return "name"

    def type_name(self, node: Schema) -> str:
        parts = []
        for option in self.options(node):
            if "enum" in option:
                parts.append(" \\| ".join(f"`{v}`" for v in option["enum"]))
            elif "const" in option:
                parts.append(f"`{option['const']}`")
            elif self.is_model(option):
                parts.append("object")
            elif option.get("type") == "array":
                items = option.get("items", {})
                parts.append(f"list of {self.type_name(items) if items else 'values'}")
            elif option.get("type") == "object":
                value = option.get("additionalProperties")
                value_type = self.type_name(value) if isinstance(value, dict) else "value"
                parts.append(f"map {self.key_type(option)} → {value_type}")
            elif option.get("format") == "password":
                parts.append("string (secret)")
            else:
                parts.append(str(option.get("type", "any")))
            limits = self.constraints(option)
            if limits:
                parts[-1] += f" ({limits})"
        return " or ".join(dict.fromkeys(parts))

    @staticmethod
    def constraints(node: Schema) -> str:
        found = []
        for key, text in (
            ("minimum", "≥ {}"),
            ("exclusiveMinimum", "> {}"),
            ("maximum", "≤ {}"),
            ("minLength", "≥ {} characters"),
            ("maxLength", "≤ {} characters"),
            ("minItems", "≥ {} items"),
            ("maxItems", "≤ {} items"),
            ("minProperties", "≥ {} entries"),
            ("pattern", "matches `{}`"),
        ):
            if key in node:
                found.append(text.format(node[key]))
        if node.get("uniqueItems"):
            found.append("no repeats")
        return ", ".join(found)

    @staticmethod
    def default(node: Schema, required: bool) -> str:
        if required:
            return "required"
        if "default" not in node or node["default"] is None:
            return "—"
        value = node["default"]
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
        return f"`{json.dumps(value, ensure_ascii=False)}`"

    @staticmethod
    def describe(node: Schema, option: Schema) -> str:
        text = node.get("description") or option.get("description") or ""
        return text.replace("|", "\\|")


def sections() -> list[Section]:
    tenant, platform, defs = model_schemas()
    walker = _Walker(defs)
    walker.section("tenant", "", tenant)
    walker.section("platform", "", platform)
    return walker.sections


def _title(section: Section) -> str:
    where = f"`{NAMESPACE}:{section.path}.*`" if section.path else f"`{NAMESPACE}:*`"
    return f"{section.kind.capitalize()} stacks: {where}"


SEARCH_BOOST = 20
"""Material's search boost for this page (front matter ``search.boost``): a key's own row outranks
the guides that mention the key (without it, ``maxReplicas`` found this page eighth)."""


def page() -> str:
    lines = [
        f"---\nsearch:\n  boost: {SEARCH_BOOST}\n---\n",
        GENERATED_NOTE,
        "# Configuration reference",
        "",
        "Every key of a stack file, generated from the config models (`stacks/validation/config.py`,",
        "`components/models/*.py`): the type, default and constraints the models enforce, and",
        "each field's docstring. Keys are camelCase and live under the `hikube-gpu:` namespace;",
        "unknown keys are errors. `—` means no default (the description says what happens",
        "then). Rules that need more than one key are in [Rules](rules.md); how the keys fit",
        "together is in [Configuration and validation](../concepts/configuration.md). Editors can",
        "complete these keys from [the stack-file schema](schema.md). Two keys the program reads",
        "before validation, in both stack kinds, are at the end: [defaults](#defaults) and",
        "[import](#import).",
        "",
    ]
    for section in sections():
        anchor = SECTION_IDS.get((section.kind, section.path))
        suffix = f" {{#{anchor}}}" if anchor else ""
        lines += [f"## {_title(section)}{suffix}", ""]
        if section.model.get("description"):
            lines += [section.model["description"], ""]
        lines += ["| Key | Type | Default | Description |", "|---|---|---|---|"]
        lines += [f"| `{key}` | {kind} | {default} | {text} |" for key, kind, default, text in section.rows]
        lines.append("")
    for key, module, _ in PROGRAM_KEYS:
        paragraphs = inspect.cleandoc(module.__doc__ or "").split("\n\n")
        lines += [f"## Both kinds, read before validation: `{NAMESPACE}:{key}` {{#{key}}}", ""]
        for paragraph in paragraphs[:3]:
            if paragraph.startswith("    "):  # an indented example
                lines += ["```yaml", textwrap.dedent(paragraph), "```", ""]
            else:
                lines += [markdown(paragraph), ""]
    return "\n".join(lines)
