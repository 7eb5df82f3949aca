"""Check one rendered object against its upstream definition (shared by the conformance
suite and the fuzz tests). Reference files come from ../shared/reference."""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from stacks.offline.engine import SECRET_MASK, Registered
from tests.helpers import REFERENCE

KUBERNETES_VERSION = "1.33.0"
SCHEMA_DIR = {"hikube": "v1.1.2", "cozystack-1.4": "main"}
COZYSTACK_APPS = {"VMInstance": "vm-instance", "VMDisk": "vm-disk", "Kubernetes": "kubernetes"}
CHART_VALUES = {
    "v25.10.1": ("gpu-operator", "values-v25.10.1.yaml"),
    "v26.3.1": ("cozystack", "main", "system", "gpu-operator", "upstream-chart-values.yaml"),
    "v26.7.0": ("gpu-operator", "values-v26.7.0.yaml"),
}
FREE_FORM = (("devicePlugin", "config", "data"), ("migManager", "config", "data"))
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


@functools.cache
def _reference(*parts: str) -> Any:
    path = REFERENCE.joinpath(*parts)
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def unmasked(value: Any) -> Any:
    """Drop fields the engine masked as secrets (their values are checked by the builder tests)."""
    if isinstance(value, dict):
        return {k: unmasked(v) for k, v in value.items() if v != SECRET_MASK}
    if isinstance(value, list):
        return [unmasked(v) for v in value]
    return value


def _keys_exist(values: dict[str, Any], chart: dict[str, Any]) -> None:
    def leaves(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        if isinstance(value, dict) and value:
            return [leaf for key, item in value.items() for leaf in leaves(item, (*prefix, key))]
        return [prefix]

    for leaf in leaves(values):
        path = next((free for free in FREE_FORM if leaf[: len(free)] == free), leaf)
        node: Any = chart
        for key in path:
            assert isinstance(node, dict), f"values.{'.'.join(path)}: the chart has no map there"
            assert key in node, f"values.{'.'.join(path)} is not a key of the chart"
            node = node[key]


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in override.items()}}
    return copy.deepcopy(override)


def check(resource: Registered, profile: str) -> str:
    """Validate ``resource``; returns what it was checked against (raises on a violation)."""
    manifest = unmasked(resource.inputs)
    kind = manifest.get("kind", "")
    if resource.type == "kubernetes:helm.sh/v3:Release":
        chart = _reference(*CHART_VALUES[manifest["version"]])
        _keys_exist(manifest["values"], chart)
        crd = _reference("gpu-operator", "crd-nvidia.com_clusterpolicies-v26.7.0.yaml")
        spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        for section, value in manifest["values"].items():
            if section in spec:
                jsonschema.validate(
                    _merge(chart.get(section), value), spec[section], cls=jsonschema.Draft7Validator
                )
        return f"chart {manifest['version']} values and the ClusterPolicy CRD"
    if kind in COZYSTACK_APPS:
        schema = _reference(
            "cozystack", SCHEMA_DIR[profile], "apps", COZYSTACK_APPS[kind], "values.schema.json"
        )
        jsonschema.validate(manifest["spec"], schema, cls=jsonschema.Draft7Validator)
        return f"Cozystack {SCHEMA_DIR[profile]} {COZYSTACK_APPS[kind]} schema"
    if resource.type.endswith(":KubeVirtPatch"):
        fragments = _reference("kubevirt", "crd-kubevirt-configuration-fragments-v1.9.0.yaml")["properties"]
        for key, value in manifest["spec"]["configuration"].items():
            jsonschema.validate(value, fragments[key], cls=jsonschema.Draft7Validator)
        return "KubeVirt v1.9.0 CRD"
    if kind == "VirtualMachine":
        definitions = _reference("kubevirt", "openapi-definitions-gpu-hostdevices-v1.9.0.json")
        gpu_schema = definitions.get("definitions", definitions)["v1.GPU"]
        for entry in manifest["spec"]["template"]["spec"]["domain"]["devices"]["gpus"]:
            jsonschema.validate(entry, gpu_schema)
            assert set(entry) <= set(gpu_schema["properties"])
        return "KubeVirt v1.9.0 v1.GPU"
    if resource.type.endswith(":NodePatch"):
        for key, value in manifest["metadata"]["labels"].items():
            assert LABEL_KEY.match(key), f"invalid label key {key}"
            assert LABEL_VALUE.match(value), f"invalid label value {key}={value}"
        return "label syntax"
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    return f"Kubernetes {KUBERNETES_VERSION} OpenAPI"


def managed_objects(resources: list[Registered]) -> list[Registered]:
    return [r for r in resources if r.custom and not r.read and r.type.startswith("kubernetes:")]
