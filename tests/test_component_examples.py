"""The component examples: the Python program runs under Pulumi's mocks, the Pulumi YAML
program is checked against the generated package schema and built through the package."""

from __future__ import annotations

import asyncio
import copy
import re
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.package import schema as package_schema

ROOT = Path(__file__).resolve().parents[1]
PYTHON_EXAMPLE = ROOT / "examples" / "components-python" / "__main__.py"
YAML_EXAMPLE = ROOT / "examples" / "components-yaml" / "Pulumi.yaml"
INTERPOLATION = re.compile(r"^\$\{([^}]+)\}$")


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: dict[str, pulumi.runtime.MockResourceArgs] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id:  # the cluster's admin kubeconfig Secret, read once the cluster exists
            return args.resource_id, {"data": {"super-admin.conf": "YXBpVmVyc2lvbjogdjEK"}}
        self.created[args.name] = args
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


MOCKS = _Mocks()


@pytest.fixture(autouse=True)
def _mocks() -> None:
    policy = asyncio.get_event_loop_policy()
    try:  # an earlier test's asyncio.run may have left no loop (or a closed one)
        if policy.get_event_loop().is_closed():
            raise RuntimeError("closed")
    except RuntimeError:
        policy.set_event_loop(policy.new_event_loop())
    pulumi.runtime.set_mocks(MOCKS, project="examples", stack="test", preview=False)


@pulumi.runtime.test
def test_the_python_example_runs_under_mocks() -> pulumi.Output[None]:
    program = runpy.run_path(str(PYTHON_EXAMPLE), run_name="__main__")

    def check(values: list[Any]) -> None:
        gpus, resource, instance_type = values[:3]
        assert gpus == ["nvidia.com/AD102GL_L40S"]
        assert instance_type == "u1.2xlarge"
        assert resource == "nvidia.com/gpu"
        created = MOCKS.created
        assert created["notebook"].typ == "hikube-gpu:vm:GpuVirtualMachine"
        assert created["notebook-instance"].typ == "kubernetes:apps.cozystack.io/v1alpha1:VMInstance"
        assert created["notebook-disk-datasets"].inputs["spec"]["storage"] == "200Gi"
        assert created["ml-cluster"].inputs["spec"]["nodeGroups"]["l40s"]["maxReplicas"] == 2
        deployment = created["inference-deployment"].inputs
        assert deployment["metadata"]["namespace"] == "inference"  # from the Namespace's Output
        pod = deployment["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"node-role.kubernetes.io/gpu-l40s": ""}
        assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 1, "memory": "24Gi"}
        # Through the cluster's provider, like the cluster's own workload.
        for name in ("inference-deployment", "ml-smi-job"):
            assert "pulumi:providers:kubernetes::ml-provider::" in (created[name].provider or ""), name

    inference = program["inference"]
    return pulumi.Output.all(
        program["notebook"].gpus,
        inference.gpu_resource,
        program["notebook"].instance_type,
        program["notebook"].instance.id,
        inference.resources["deployment"].id,
        program["cluster"].workloads["smi"].resources["job"].id,
    ).apply(check)


def _example() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(YAML_EXAMPLE.read_text(encoding="utf-8"))
    return loaded


def _problems_of_value(value: Any, spec: dict[str, Any], types: dict[str, Any], path: str) -> Iterator[str]:
    """Where ``value`` does not fit the schema property ``spec`` (interpolations fit strings)."""
    if isinstance(value, str) and INTERPOLATION.match(value):
        return
    if "$ref" in spec:
        yield from _problems_of_object(value, types[spec["$ref"].removeprefix("#/types/")], types, path)
        return
    kind = spec.get("type")
    expected: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "array": list,
        "object": dict,
    }
    if kind in expected and not isinstance(value, expected[kind]):
        yield f"{path}: {value!r} is not {kind}"
    elif kind == "array":
        for index, item in enumerate(value):
            yield from _problems_of_value(item, spec["items"], types, f"{path}[{index}]")
    elif kind == "object" and "additionalProperties" in spec:
        for key, item in value.items():
            yield from _problems_of_value(item, spec["additionalProperties"], types, f"{path}.{key}")


def _problems_of_object(value: Any, spec: dict[str, Any], types: dict[str, Any], path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path}: {value!r} is not an object"
        return
    properties = spec.get("inputProperties", spec.get("properties", {}))
    required = spec.get("requiredInputs", spec.get("required", []))
    for key in sorted(set(required) - set(value)):
        yield f"{path}.{key}: required"
    for key, item in value.items():
        if key not in properties:
            yield f"{path}.{key}: no such property (known: {', '.join(sorted(properties))})"
        else:
            yield from _problems_of_value(item, properties[key], types, f"{path}.{key}")


def yaml_problems(program: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every way the YAML program's use of the package does not fit its schema."""
    resources = program.get("resources", {})
    problems = []
    for name, resource in resources.items():
        kind = resource["type"]
        if not kind.startswith("hikube-gpu:"):
            continue
        if kind not in schema["resources"]:
            problems.append(f"{name}: no resource type {kind}")
            continue
        spec = schema["resources"][kind]
        problems += _problems_of_object(resource.get("properties", {}), spec, schema["types"], name)
    for output, reference in program.get("outputs", {}).items():
        match = INTERPOLATION.match(str(reference))
        target, _, field = (match.group(1) if match else "").partition(".")
        kind = resources.get(target, {}).get("type", "")
        if kind in schema["resources"] and field not in schema["resources"][kind]["properties"]:
            problems.append(f"outputs.{output}: {target} has no output {field!r}")
    return problems


def test_the_yaml_example_fits_the_generated_schema() -> None:
    program = _example()
    schema = package_schema.schema()
    used = {r["type"] for r in program["resources"].values() if r["type"].startswith("hikube-gpu:")}
    assert used == {
        "hikube-gpu:index:GpuVirtualMachine",
        "hikube-gpu:index:GpuKubernetesCluster",
        "hikube-gpu:index:GpuWorkload",
    }
    assert yaml_problems(program, schema) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda p: p["resources"]["notebook"]["properties"].pop("gpus"), "notebook.gpus: required"),
        (
            lambda p: p["resources"]["ml"]["properties"]["nodeGroups"]["l40s"].update(maxReplica=2),
            "ml.nodeGroups.l40s.maxReplica: no such property",
        ),
        (
            lambda p: p["resources"]["notebook"]["properties"]["dataDisks"]["datasets"].update(protect="no"),
            "notebook.dataDisks.datasets.protect: 'no' is not boolean",
        ),
        (lambda p: p["outputs"].update(bad="${ml.kubeconfigSecrets}"), "outputs.bad: ml has no output"),
        (
            lambda p: p["resources"]["inference"].update(type="hikube-gpu:index:GpuWorkloads"),
            "inference: no resource type",
        ),
    ],
    ids=["missing-required", "unknown-key", "wrong-type", "unknown-output", "unknown-type"],
)
def test_the_yaml_check_catches_what_the_schema_forbids(change: Any, problem: str) -> None:
    program = copy.deepcopy(_example())
    change(program)
    found = yaml_problems(program, package_schema.schema())
    assert any(problem in p for p in found), found


def _with_config(value: Any, program: dict[str, Any]) -> Any:
    """``value`` with ``${<config key>}`` replaced by the key's default, and ``${<resource>.<path>}``
    into another resource's properties by an Output of that property (as it would be)."""
    if isinstance(value, str):
        match = INTERPOLATION.match(value)
        target, *path = match.group(1).split(".") if match else ("", "")
        if target in program.get("config", {}):
            return program["config"][target]["default"]
        if target in program["resources"]:
            found = program["resources"][target]["properties"]
            for key in path:
                found = found[key]
            return pulumi.Output.from_input(found)
        return value
    if isinstance(value, list):
        return [_with_config(item, program) for item in value]
    if isinstance(value, dict):
        return {key: _with_config(item, program) for key, item in value.items()}
    return value


@pulumi.runtime.test
def test_the_yaml_examples_components_build_through_the_package() -> pulumi.Output[None]:
    """Each hikube-gpu resource of the YAML program, as the host would construct it."""
    program = _example()
    host = package_schema.provider()
    built = {}
    for name, resource in program["resources"].items():
        kind = resource["type"]
        if not kind.startswith("hikube-gpu:"):
            continue
        component = kind.rsplit(":", 1)[-1]
        inputs = _with_config(resource.get("properties", {}), program)
        mapped = host.map_inputs(inputs, host._component_defs[component])
        built[name] = host._components[component](f"yaml-{name}", mapped, None)

    def check(values: list[Any]) -> None:
        instance_type, resource = values[:2]
        assert instance_type == "u1.2xlarge"
        assert resource == "nvidia.com/gpu"
        assert MOCKS.created["yaml-notebook"].typ == "hikube-gpu:index:GpuVirtualMachine"
        deployment = MOCKS.created["yaml-inference-deployment"].inputs
        assert deployment["metadata"]["namespace"] == "inference"
        assert deployment["spec"]["template"]["spec"]["nodeSelector"] == {
            "node-role.kubernetes.io/gpu-l40s": ""
        }

    return pulumi.Output.all(
        built["notebook"].instance_type,  # type: ignore[attr-defined]
        built["inference"].gpu_resource,  # type: ignore[attr-defined]
        built["inference"].resources["deployment"].id,  # type: ignore[attr-defined]
    ).apply(check)
