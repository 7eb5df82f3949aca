"""JSON Schema of a stack file (``Pulumi.<stack>.yaml``), from the config models.

A stack file is ``config:`` with ``hikube-gpu:<key>`` keys, each also without its prefix (``vms``:
the Pulumi CLI gives a key without a namespace the project's, ``stacks.loading.config_keys``),
but not both; ``hikube-gpu:kind`` picks the tenant or the platform keys (draft-07
``if``/``then``/``else``, which editors understand).
Values that may be Pulumi secrets (``stacks.loading.secret_paths.KEPT`` and ``CHECKED``) also accept
``{secure: …}``. Descriptions are the models' field docstrings.
"""

from __future__ import annotations

import copy
import json
from types import ModuleType
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from stacks.loading import customer_defaults
from stacks.loading.customer_defaults import DEFAULTS_KEY
from stacks.loading.secret_paths import CHECKED, KEPT
from stacks.validation import adoption
from stacks.validation.adoption import IMPORT_KEY, KINDS
from stacks.validation.config import PlatformStack, TenantStack
from tools.gen_docs.docstrings import field_docs, first_paragraph, markdown

SCHEMA_PATH = "schema/stack-file.schema.json"
NAMESPACE = "hikube-gpu"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_PATH}"
"""The first line of every stack file at the repository root."""
SECURE = {
    "type": "object",
    "description": "A Pulumi secret (`pulumi config set --secret`), encrypted for this stack.",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}

Schema = dict[str, Any]

PROGRAM_KEYS: tuple[tuple[str, ModuleType, Schema], ...] = (
    (DEFAULTS_KEY, customer_defaults, {"type": "string"}),
    (
        IMPORT_KEY,
        adoption,
        {
            "type": "object",
            "properties": {kind: {"type": "array", "items": {"type": "string"}} for kind in KINDS},
            "additionalProperties": False,
        },
    ),
)
"""Keys the program takes before the models see the config: (key, the module that reads it, schema).
The module's docstring describes the key."""


class _Documented(GenerateJsonSchema):
    """Pydantic's schema, with each model's and field's docstring as its description."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        value = super().model_schema(schema)
        cls = schema["cls"]
        value["description"] = first_paragraph(cls.__doc__)
        docs = field_docs(cls)  # type: ignore[arg-type]
        properties = value.get("properties", {})
        for name, field in cls.model_fields.items():
            alias = field.alias or name
            if alias in properties and name in docs:
                properties[alias]["description"] = markdown(docs[name])
                properties[alias].pop("title", None)
        return value


def model_schemas() -> tuple[Schema, Schema, Schema]:
    """The tenant and platform stack schemas (``$ref``s into the shared ``$defs``), and ``$defs``."""
    refs, shared = models_json_schema(
        [(TenantStack, "validation"), (PlatformStack, "validation")],
        by_alias=True,
        schema_generator=_Documented,
        ref_template="#/$defs/{model}",
    )
    defs: Schema = shared["$defs"]
    tenant = defs[refs[(TenantStack, "validation")]["$ref"].rsplit("/", 1)[1]]
    platform = defs[refs[(PlatformStack, "validation")]["$ref"].rsplit("/", 1)[1]]
    return tenant, platform, defs


def _deref(node: Schema, defs: Schema) -> Schema:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return node


def _children(node: Schema, defs: Schema, key: str) -> list[tuple[Schema, str]]:
    """Where ``key`` (``*`` = any map key or list item) lives under ``node``: (parent, slot)."""
    found: list[tuple[Schema, str]] = []
    node = _deref(node, defs)
    for option in node.get("anyOf", []):
        found += _children(option, defs, key)
    if key == "*":
        for slot in ("additionalProperties", "items"):
            if isinstance(node.get(slot), dict):
                found.append((node, slot))
    elif key in node.get("properties", {}):
        found.append((node["properties"], key))
    return found


def _allow_secure(root: Schema, path: tuple[str, ...], defs: Schema) -> None:
    """Let the value at ``path`` also be ``{secure: …}``."""
    places = [({"root": root}, "root")]
    for key in path:
        places = [child for parent, slot in places for child in _children(parent[slot], defs, key)]
    for parent, slot in places:
        value = parent[slot]
        if SECURE not in value.get("anyOf", []):
            description = value.pop("description", None)
            parent[slot] = {"anyOf": [value, SECURE]} | ({"description": description} if description else {})


def _config(stack: Schema, kind: str, defs: Schema) -> Schema:
    """The ``config:`` keys of one stack kind, namespaced."""
    stack = copy.deepcopy(stack)
    for path in KEPT[kind] + CHECKED[kind]:
        _allow_secure({"properties": stack["properties"]}, path, defs)
    return {f"{NAMESPACE}:{key}": value for key, value in stack["properties"].items()}


def _unprefixed(keys: Schema) -> Schema:
    """``keys`` and, for each ``hikube-gpu:<key>``, ``<key>`` with the same schema."""
    short: Schema = {}
    for key, value in keys.items():
        if not key.startswith(f"{NAMESPACE}:"):
            continue
        alias = dict(value)
        if "description" in value:
            alias["description"] = f"`{key}` without its prefix. {value['description']}"
        short[key.removeprefix(f"{NAMESPACE}:")] = alias
    return keys | short


def _not_both(keys: Schema) -> Schema:
    """``<key>`` and ``hikube-gpu:<key>`` are one key: a file may spell it one way only."""
    return {
        key.removeprefix(f"{NAMESPACE}:"): {"not": {"required": [key]}}
        for key in keys
        if key.startswith(f"{NAMESPACE}:")
    }


def stack_file_schema() -> Schema:
    """The schema of a whole stack file."""
    tenant, platform, defs = model_schemas()
    defs = copy.deepcopy(defs)
    for name in [n for n, d in defs.items() if d is tenant or d is platform]:
        del defs[name]
    tenant_keys = _config(tenant, "tenant", defs)
    platform_keys = _config(platform, "platform", defs)
    common: Schema = {}
    for key in sorted(tenant_keys.keys() | platform_keys.keys()):
        both = [k[key] for k in (tenant_keys, platform_keys) if key in k]
        described = next((b.get("description") for b in both if b.get("description")), "")
        common[key] = {"description": described} if described else {}
    for key, module, schema in PROGRAM_KEYS:
        common[f"{NAMESPACE}:{key}"] = schema | {"description": first_paragraph(module.__doc__)}
    common[f"{NAMESPACE}:kind"] = {
        "description": "Stack kind: `tenant` (the default) or `platform`.",
        "enum": ["tenant", "platform"],
    }

    def only(keys: Schema, other: Schema) -> Schema:
        refused = {"not": {}, "description": f"Not a key of {kind_of(keys)} stacks."}
        return {"properties": _unprefixed(keys | {k: refused for k in other if k not in keys})}

    def kind_of(keys: Schema) -> str:
        return "platform" if keys is platform_keys else "tenant"

    config: Schema = {
        "type": "object",
        "description": "Stack configuration: `hikube-gpu:<key>` keys (or `<key>`: Pulumi gives a key "
        "without a namespace the project's), and other namespaces' keys (`kubernetes:kubeconfig`, …).",
        "properties": _unprefixed(common),
        "patternProperties": {f"^(?!{NAMESPACE}:)[^:]+:.+$": {}},
        "additionalProperties": False,
        "dependencies": _not_both(common),
        "if": {
            "anyOf": [
                {"properties": {kind: {"const": "platform"}}, "required": [kind]}
                for kind in (f"{NAMESPACE}:kind", "kind")
            ]
        },
        "then": only(platform_keys, tenant_keys),
        "else": only(tenant_keys, platform_keys),
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "hikube-gpu stack file (Pulumi.<stack>.yaml)",
        "description": "Generated by `make docs-gen` from stacks/validation/config.py and components/models: "
        "do not edit by hand.",
        "type": "object",
        "properties": {
            "config": config,
            "encryptionsalt": {"type": "string", "description": "Passphrase secrets provider's salt."},
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
        },
        "$defs": defs,
    }


def schema_text() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def models() -> tuple[type[BaseModel], type[BaseModel]]:
    return TenantStack, PlatformStack
