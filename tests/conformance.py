"""Check rendered files against their upstream definitions (shared by the conformance suite
and the fuzz tests). Each file is validated exactly as ``render`` wrote it, masked secrets
included; the definitions are the vendored files under tests/upstream."""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate

from stacks.commands.preview.engine import OfflineRun
from stacks.commands.preview.render import render
from tests.helpers import load_yaml, reference_data

KUBERNETES_VERSION = "1.33.0"
SCHEMA_DIR = {"hikube": "v1.1.2", "cozystack-1.4": "main", "cozystack-1.6": "v1.6.0"}
COZYSTACK_APPS = {"VMInstance": "vm-instance", "VMDisk": "vm-disk", "Kubernetes": "kubernetes"}
CHART_VALUES = {
    "v25.10.1": ("gpu-operator", "values-v25.10.1.yaml"),
    "v26.3.1": ("cozystack", "main", "system", "gpu-operator", "upstream-chart-values.yaml"),
    "v26.7.0": ("gpu-operator", "values-v26.7.0.yaml"),
}
CLUSTER_POLICY_CRD = ("gpu-operator", "crd-nvidia.com_clusterpolicies-v26.7.0.yaml")
KUBEVIRT_FRAGMENTS = ("kubevirt", "crd-kubevirt-configuration-fragments-v1.9.0.yaml")
KUBEVIRT_DEFINITIONS = ("kubevirt", "openapi-definitions-virtualmachine-v1.9.0.json")
FLUX_CRDS = {
    "HelmRelease": ("fluxcd", "helm-controller", "v1.4.5", "helm.toolkit.fluxcd.io_helmreleases.yaml"),
    "HelmRepository": (
        "fluxcd", "source-controller", "v1.7.4", "source.toolkit.fluxcd.io_helmrepositories.yaml"
    ),
}  # fmt: skip
FREE_FORM = (("devicePlugin", "config", "data"), ("migManager", "config", "data"))
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def rendered(run: OfflineRun, out: Path) -> list[Path]:
    """``render`` the run into ``out``: the object files it wrote."""
    assert run.failure is None, run.failure
    return render(run, out)


def read_back(path: Path) -> dict[str, Any]:
    """A rendered file as a YAML reader sees it (the header lines are YAML comments)."""
    document = load_yaml(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path} holds no object"
    return document


_VALIDATORS: dict[int, Any] = {}


def _validate(instance: Any, schema: dict[str, Any], cls: Any = jsonschema.Draft7Validator) -> None:
    """``jsonschema.validate`` without checking the schema again on each call (the schemas
    come from the ``reference_data`` cache, so their ids stay valid)."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        cls.check_schema(schema)
        validator = _VALIDATORS[id(schema)] = cls(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


@functools.cache
def kubevirt_definition(name: str) -> dict[str, Any]:
    """A KubeVirt v1.9.0 OpenAPI definition as a strict schema: its ``$ref``s resolve, and an
    object with listed properties allows no other key (as ``kubernetes-validate --strict``)."""
    definitions = copy.deepcopy(reference_data(*KUBEVIRT_DEFINITIONS)["definitions"])
    for definition in definitions.values():
        if "properties" in definition:
            definition.setdefault("additionalProperties", False)
    return {"$ref": f"#/definitions/{name}", "definitions": definitions}


def _crd_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
    return schema


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


def _check_flux(document: dict[str, Any]) -> str:
    kind = document["kind"]
    parts = FLUX_CRDS[kind]
    version = document["apiVersion"].split("/", 1)[1]
    _validate(document, _crd_schema(reference_data(*parts), version))
    if kind == "HelmRepository":
        return f"Flux source-controller {parts[2]} CRD"
    chart_version = document["spec"]["chart"]["spec"]["version"]
    chart = reference_data(*CHART_VALUES[chart_version])
    values = document["spec"].get("values", {})
    _keys_exist(values, chart)
    spec = _crd_schema(reference_data(*CLUSTER_POLICY_CRD), "v1")["properties"]["spec"]["properties"]
    for section, value in values.items():
        if section in spec:
            _validate(_merge(chart.get(section), value), spec[section])
    return f"Flux helm-controller {parts[2]} CRD, chart {chart_version} values and the ClusterPolicy CRD"


def check(document: dict[str, Any], profile: str, patch: bool = False) -> str:
    """Validate one rendered document as written; returns what it was checked against
    (raises on a violation). ``patch``: the file is a ``.patch.yaml`` of an existing object."""
    kind = document.get("kind", "")
    if kind in FLUX_CRDS:
        return _check_flux(document)
    if kind in COZYSTACK_APPS:
        app = COZYSTACK_APPS[kind]
        schema = reference_data("cozystack", SCHEMA_DIR[profile], "apps", app, "values.schema.json")
        _validate(document["spec"], schema)
        return f"Cozystack {SCHEMA_DIR[profile]} {app} schema"
    if patch and kind == "KubeVirt":
        fragments = reference_data(*KUBEVIRT_FRAGMENTS)["properties"]
        for key, value in document["spec"]["configuration"].items():
            _validate(value, fragments[key])
        return "KubeVirt v1.9.0 CRD"
    if kind == "VirtualMachine":
        _validate(document, kubevirt_definition("v1.VirtualMachine"), jsonschema.Draft4Validator)
        return "KubeVirt v1.9.0 v1.VirtualMachine (strict)"
    if patch and kind == "Node":
        for key, value in document["metadata"]["labels"].items():
            assert LABEL_KEY.match(key), f"invalid label key {key}"
            assert LABEL_VALUE.match(value), f"invalid label value {key}={value}"
        return "label syntax"
    assert not patch, f"no check for a patch of a {kind}"
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    return f"Kubernetes {KUBERNETES_VERSION} OpenAPI"


def check_file(path: Path, profile: str) -> str:
    """Read a rendered file back and validate it unmodified."""
    return check(read_back(path), profile, patch=path.name.endswith(".patch.yaml"))
