"""The package through the real provider host, over gRPC, as the Pulumi engine drives it.

``provider/`` is started as the Python language host starts a plugin (its command line, its
port on stdout; ``tests/provider_host.py`` cites the engine's source), once for the module.
A stand-in engine and resource monitor (``tests/provider_host.py``) answer its calls. The
test then holds, against the SDK's own gRPC server:

- GetPluginInfo and GetSchema serve the version and the checked-in schema;
- the YAML example, run through Construct (``${…}`` references become output values with
  their dependencies, as Pulumi YAML sends them), registers what the Python example registers
  when the Python language host runs it (types, names, parents, providers, aliases, inputs
  after masking), and so do the platform components for the same args;
- an invalid argument comes back ``INVALID_ARGUMENT`` with its property path and no traceback,
  which the engine prints as ``docs/guides/other-languages.md`` shows;
- Outputs reach the objects (known, secret, or unknown in a preview), and secret outputs are
  secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
    status_pb2,
)

from components.package import schema as package_schema
from components.package.components import COMPONENTS
from stacks.commands.preview.engine import UNKNOWN_MASK, plain
from tests.helpers import SSH_KEY
from tests.provider_host import (
    ADMIN_KUBECONFIG,
    Deployment,
    Engine,
    Plugin,
    output_value,
    run_program,
    secret,
    serve_engine,
    serve_monitor,
    start_plugin,
    stop_plugin,
)

ROOT = Path(__file__).resolve().parents[1]
PYTHON_EXAMPLE = ROOT / "examples" / "components-python" / "__main__.py"
YAML_EXAMPLE = ROOT / "examples" / "components-yaml" / "Pulumi.yaml"
PLATFORM_PROGRAM = ROOT / "tests" / "provider_platform_program.py"
OTHER_LANGUAGES = ROOT / "docs" / "guides" / "other-languages.md"
INTERPOLATION = re.compile(r"^\$\{([^}]+)\}$")
PROJECT, STACK = "components", "test"
TIMEOUT = 60
PYTHON_TYPES = {f"hikube-gpu:index:{c.__name__}": c.__mro__[1].TYPE for c in COMPONENTS}  # type: ignore[attr-defined]
"""The package's token of each component → the Python program's (its alias)."""


@dataclass
class Host:
    engine: Engine
    engine_address: str
    plugin: Plugin
    servers: list[grpc.Server]

    @property
    def provider(self) -> provider_pb2_grpc.ResourceProviderStub:
        return provider_pb2_grpc.ResourceProviderStub(self.plugin.channel)

    def deployment(self, dry_run: bool = False) -> tuple[Deployment, str]:
        """A fresh deployment with its own monitor; its root stack registered."""
        deployment = Deployment(PROJECT, STACK, dry_run)
        server, address = serve_monitor(deployment)
        self.servers.append(server)
        register(address, "pulumi:pulumi:Stack", f"{PROJECT}-{STACK}", custom=False, parent="")
        return deployment, address

    def construct(
        self,
        deployment: Deployment,
        monitor: str,
        type_: str,
        name: str,
        inputs: dict[str, Any],
        *,
        providers: dict[str, str] | None = None,
        input_dependencies: dict[str, list[str]] | None = None,
        dependencies: list[str] | None = None,
    ) -> Any:
        """Construct as the engine sends it (provider_plugin.go ``Construct``)."""
        request = provider_pb2.ConstructRequest(
            project=deployment.project,
            stack=deployment.stack,
            organization="organization",
            dryRun=deployment.dry_run,
            parallel=4,
            monitorEndpoint=monitor,
            type=type_,
            name=name,
            parent=deployment.root_urn,
            inputs=_struct(inputs),
            providers=providers or {},
            inputDependencies={
                key: provider_pb2.ConstructRequest.PropertyDependencies(urns=urns)
                for key, urns in (input_dependencies or {}).items()
            },
            dependencies=dependencies or [],
            accepts_output_values=True,
        )
        try:
            return self.provider.Construct(request, timeout=TIMEOUT)
        except grpc.RpcError as error:
            error.add_note(f"property errors: {property_errors(error)}")  # type: ignore[attr-defined]
            raise


def property_errors(error: grpc.RpcError) -> list[tuple[str, str]]:
    """The ``pulumirpc.InputPropertiesError`` details of a gRPC error (its status details)."""
    found = []
    for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                errors = errors_pb2.InputPropertiesError()
                if detail.Unpack(errors):
                    found += [(e.property_path, e.reason) for e in errors.errors]
    return found


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    made = struct_pb2.Struct()
    made.update(values)
    return made


def register(
    monitor: str, type_: str, name: str, *, custom: bool = True, parent: str | None = None, **fields: Any
) -> Any:
    """A resource the program itself registers (the YAML program's providers and objects)."""
    with grpc.insecure_channel(monitor) as channel:
        stub = resource_pb2_grpc.ResourceMonitorStub(channel)
        root = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
        return stub.RegisterResource(
            resource_pb2.RegisterResourceRequest(
                type=type_, name=name, custom=custom, parent=root if parent is None else parent, **fields
            )
        )


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    engine = Engine()
    server, address = serve_engine(engine)
    plugin = start_plugin(address, cwd=YAML_EXAMPLE.parent)
    running = Host(engine, address, plugin, [server])
    # The engine configures a provider before it constructs (provider_plugin.go: Construct
    # needs a known config); the SDK's server accepts secrets, resources and output values.
    configured = running.provider.Configure(
        provider_pb2.ConfigureRequest(acceptSecrets=True, acceptResources=True), timeout=60
    )
    assert (configured.acceptSecrets, configured.acceptResources, configured.acceptOutputs) == (
        True,
        True,
        True,
    )
    yield running
    stderr = stop_plugin(plugin)
    for each in running.servers:
        each.stop(None)
    assert "Traceback" not in stderr, stderr[-3000:]


# --- records: what a registration says, comparable across the package and the Python program --


def _python_tokens(text: str) -> str:
    for package, python in PYTHON_TYPES.items():
        text = text.replace(package, python)
    return text


def _normalized(value: Any) -> Any:
    if isinstance(value, str):
        return _python_tokens(value)
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalized(v) for k, v in value.items()}
    return value


def record(deployment: Deployment, request: Any) -> dict[str, Any]:
    masked: list[str] = []
    inputs = plain(request.object, masked)
    return {
        "urn": deployment.urn(request.parent, request.type, request.name),
        "type": request.type,
        "name": request.name,
        "parent": request.parent,
        "custom": request.custom,
        "provider": request.provider,
        "protect": request.protect,
        "dependencies": sorted(request.dependencies),
        "aliases": [json_format.MessageToDict(alias) for alias in request.aliases],
        "inputs": inputs,
        "masked": sorted(masked),
    }


def read_record(deployment: Deployment, request: Any) -> dict[str, Any]:
    return {
        "urn": deployment.urn(request.parent, request.type, request.name),
        "type": request.type,
        "name": request.name,
        "parent": request.parent,
        "id": request.id,
        "provider": request.provider,
        "dependencies": sorted(request.dependencies),
    }


def subtree(deployment: Deployment, top: str) -> dict[str, list[dict[str, Any]]]:
    """The registrations and reads of the top-level component named ``top`` and its descendants,
    by URN, tokens as the Python program spells them."""
    registered = [record(deployment, r) for r in deployment.registered]
    reads = [read_record(deployment, r) for r in deployment.reads]
    roots = [r["urn"] for r in registered if r["name"] == top and r["parent"] == deployment.root_urn]
    assert len(roots) == 1, (top, roots)
    below = set(roots)
    for each in registered + reads:  # parents are registered before their children
        if each["parent"] in below:
            below.add(each["urn"])
    return {
        "registered": sorted(
            (_normalized(r) for r in registered if r["urn"] in below), key=lambda r: r["urn"]
        ),
        "read": sorted((_normalized(r) for r in reads if r["urn"] in below), key=lambda r: r["urn"]),
    }


def component_outputs(deployment: Deployment, urn: str) -> dict[str, Any]:
    masked: list[str] = []
    values = plain(deployment.outputs[urn], masked)
    return {"values": values, "masked": sorted(masked)}


def deployment_urn(parent: str, type_: str, name: str) -> str:
    return Deployment(PROJECT, STACK).urn(parent, type_, name)


def _same_except_aliases(
    package: dict[str, list[dict[str, Any]]], python: dict[str, list[dict[str, Any]]], top: str
) -> None:
    """The package's registrations are the Python program's, but for the alias the package's
    component carries to the Python program's type (its children inherit it)."""
    assert [r["urn"] for r in package["registered"]] == [r["urn"] for r in python["registered"]]
    for mine, theirs in zip(package["registered"], python["registered"], strict=True):
        if mine["name"] == top:
            (alias,) = mine.pop("aliases")
            # An alias spec with the Python program's type; the engine takes the rest from the
            # resource (an empty parentUrn is its own parent: source_eval.go, RegisterResource,
            # "buggy SDKs that set parent to an empty URN"), so it is the Python program's URN.
            spec = alias["spec"]
            assert set(spec) <= {"type", "parentUrn"}, alias
            assert not spec.get("parentUrn"), alias
            assert deployment_urn(theirs["parent"], spec["type"], mine["name"]) == theirs["urn"]
            assert theirs.pop("aliases") == []
        assert mine == theirs, mine["urn"]
    assert package["read"] == python["read"]


# --- the YAML example through the package, the Python example through the language host -------


@dataclass
class Run:
    deployment: Deployment
    monitor: str
    urns: dict[str, str]
    responses: dict[str, Any]
    """Each resource's state: a component's Construct response, an object's outputs."""


def _yaml_value(value: Any, config: dict[str, Any], run: Run, dependencies: set[str]) -> Any:
    """A YAML property as Pulumi YAML sends it: config values plain, ``${resource.path}`` an
    output value (secret if the value is) with the resource as its dependency."""
    if isinstance(value, list):
        return [_yaml_value(v, config, run, dependencies) for v in value]
    if isinstance(value, dict):
        return {k: _yaml_value(v, config, run, dependencies) for k, v in value.items()}
    match = INTERPOLATION.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    target, *path = match.group(1).split(".")
    if target in config:
        return config[target]["default"]
    urn = run.urns[target]
    dependencies.add(urn)
    state = run.responses[target]
    for key in path:
        state = state[key]
    if isinstance(state, dict) and state.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return output_value(state["value"], secret=True, deps=(urn,))
    return output_value(state, deps=(urn,))


def run_yaml(host: Host, program: dict[str, Any], dry_run: bool = False) -> Run:
    """The YAML program's resources in order: the package's through Construct, the others
    registered as the program would."""
    deployment, monitor = host.deployment(dry_run)
    run = Run(deployment, monitor, {}, {})
    config = program.get("config", {})
    for name, resource in program["resources"].items():
        options = resource.get("options", {})
        dependencies: set[str] = set()
        by_property: dict[str, list[str]] = {}
        properties = {}
        for key, value in resource.get("properties", {}).items():
            found: set[str] = set()
            properties[key] = _yaml_value(value, config, run, found)
            if found:
                by_property[key] = sorted(found)
            dependencies |= found
        providers = [_yaml_value(p, config, run, set()) for p in options.get("providers", [])]
        provider = options.get("provider")
        refs = {}
        for each in providers + ([_yaml_value(provider, config, run, set())] if provider else []):
            urn = each["dependencies"][0]
            ident, _ = deployment.states[urn]
            refs[urn.split("::")[2].rsplit(":", 1)[-1]] = f"{urn}::{ident}"
        depends = [
            _yaml_value(d, config, run, set())["dependencies"][0] for d in options.get("dependsOn", [])
        ]
        if resource["type"].startswith("hikube-gpu:"):
            response = host.construct(
                deployment,
                monitor,
                resource["type"],
                name,
                properties,
                providers=refs,
                input_dependencies=by_property,
                dependencies=depends,
            )
            run.urns[name] = response.urn
            run.responses[name] = json_format.MessageToDict(response.state)
        else:
            response = register(
                monitor,
                resource["type"],
                name,
                object=_struct(properties),
                provider=next(iter(refs.values()), ""),
                dependencies=sorted(dependencies | set(depends)),
            )
            run.urns[name] = response.urn
            run.responses[name] = json_format.MessageToDict(response.object)
    return run


@pytest.fixture(scope="module")
def examples(host: Host) -> tuple[Deployment, Run]:
    """The Python example as the language host runs it, and the YAML example through the package."""
    python, monitor = host.deployment()
    run_program(PYTHON_EXAMPLE, python, monitor, host.engine_address)
    return python, run_yaml(host, yaml.safe_load(YAML_EXAMPLE.read_text(encoding="utf-8")))


def test_the_plugin_serves_its_version_and_the_checked_in_schema(host: Host) -> None:
    info = host.provider.GetPluginInfo(empty_pb2.Empty(), timeout=30)
    assert info.version == package_schema.version()
    served = json.loads(host.provider.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30).schema)
    assert served == json.loads(package_schema.SCHEMA_FILE.read_text(encoding="utf-8"))
    assert sorted(served["resources"]) == sorted(PYTHON_TYPES)


@pytest.mark.parametrize("top", ["notebook", "ml"])
def test_the_yaml_example_registers_what_the_python_example_does(
    examples: tuple[Deployment, Run], top: str
) -> None:
    python, yaml_run = examples
    package = subtree(yaml_run.deployment, top)
    theirs = subtree(python, top)
    assert len(theirs["registered"]) > 1
    _same_except_aliases(package, theirs, top)
    # the tenant provider the YAML program passes reached the children rehydrated by the host
    # (the getResource invoke), as the Python program's own provider reaches its children
    assert "pulumi:pulumi:getResource" in yaml_run.deployment.invokes
    urn = yaml_run.urns[top]
    assert _normalized(component_outputs(yaml_run.deployment, urn)) == component_outputs(
        python, _python_tokens(urn)
    )


def test_a_namespace_from_another_resource_reaches_the_workload_in_both_examples(
    examples: tuple[Deployment, Run],
) -> None:
    python, yaml_run = examples
    package = {r["name"]: r for r in subtree(yaml_run.deployment, "inference")["registered"]}
    theirs = {r["name"]: r for r in subtree(python, "inference")["registered"]}
    assert sorted(package) == sorted(theirs) == ["inference", "inference-deployment", "inference-service"]
    for name in ("inference-deployment", "inference-service"):
        # the same objects; only the provider differs (the cluster's own in Python, mlProvider in YAML)
        assert package[name]["inputs"] == theirs[name]["inputs"], name
        assert package[name]["inputs"]["metadata"]["namespace"] == "inference"
        # the Output's dependency reaches the objects
        assert yaml_run.urns["inferenceNamespace"] in package[name]["dependencies"], package[name]
    pod = package["inference-deployment"]["inputs"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/gpu-l40s": ""}
    assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 1, "memory": "24Gi"}


SECRET_SIG = {rpc._special_sig_key: rpc._special_secret_sig}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def test_secret_outputs_are_secret_and_marked_in_the_schema(
    examples: tuple[Deployment, Run], platform: tuple[Deployment, Run]
) -> None:
    """Each component's secret outputs in a Construct response are those the schema marks."""
    _, yaml_run = examples
    assert yaml_run.responses["ml"]["kubeconfig"] == {**SECRET_SIG, "value": ADMIN_KUBECONFIG}
    schema = json.loads(package_schema.SCHEMA_FILE.read_text(encoding="utf-8"))["resources"]
    declared = {t: {k for k, v in r["properties"].items() if v.get("secret")} for t, r in schema.items()}
    assert declared["hikube-gpu:index:GpuKubernetesCluster"] == {"kubeconfig"}
    program = yaml.safe_load(YAML_EXAMPLE.read_text(encoding="utf-8"))["resources"]
    types = {name: r["type"] for name, r in program.items()}
    types |= {name: f"hikube-gpu:index:{case['component']}" for name, case in PLATFORM.items()}
    responses = {**yaml_run.responses, **platform[1].responses}
    checked = 0
    for name, token in types.items():
        if token in declared:
            state = responses[name]
            assert {k for k, v in state.items() if _is_secret(v)} == declared[token], name
            checked += 1
    assert checked == 7


# --- the platform components: the package against a Python program with the same args ---------

PLATFORM: dict[str, dict[str, Any]] = {
    "operator": {
        "component": "GpuOperator",
        "args": {},
        "context": {"nodes": {"gpu-1": {"workload": "vm-passthrough"}}},
    },
    "passthrough": {"component": "KubeVirtGpuPassthrough", "args": {"version": "1.6", "gpus": ["L40S"]}},
    "raw": {
        "component": "KubeVirtGpuVirtualMachine",
        "args": {"gpus": {"L40S": 1}, "namespace": "gpu-vms", "sshKeys": [SSH_KEY]},
    },
    "group": {
        "component": "GpuNodeGroup",
        "args": {"gpus": {"A100": 1}, "maxReplicas": 2, "sharing": {"mig": {"profile": "3g.40gb"}}},
        "context": {"group": "a100"},
    },
}


def _package_inputs(case: dict[str, Any]) -> dict[str, Any]:
    """What a program in another language sends: sshKeys a secret (the schema marks it one)."""
    inputs = {**case["args"], **case.get("context", {})}
    if "sshKeys" in inputs:
        inputs["sshKeys"] = secret(inputs["sshKeys"])
    return inputs


@pytest.fixture(scope="module")
def platform(host: Host, tmp_path_factory: pytest.TempPathFactory) -> tuple[Deployment, Run]:
    cases = tmp_path_factory.mktemp("platform") / "cases.json"
    cases.write_text(json.dumps(PLATFORM), encoding="utf-8")
    python, monitor = host.deployment()
    run_program(PLATFORM_PROGRAM, python, monitor, host.engine_address, str(cases))
    deployment, address = host.deployment()
    provider = register(address, "pulumi:providers:kubernetes", "host", object=_struct({}))
    run = Run(deployment, address, {}, {})
    for name, case in PLATFORM.items():
        response = host.construct(
            deployment,
            address,
            f"hikube-gpu:index:{case['component']}",
            name,
            _package_inputs(case),
            providers={"kubernetes": f"{provider.urn}::{provider.id}"},
        )
        run.urns[name] = response.urn
        run.responses[name] = json_format.MessageToDict(response.state)
    return python, run


@pytest.mark.parametrize("top", sorted(PLATFORM))
def test_the_platform_components_register_what_the_python_program_does(
    platform: tuple[Deployment, Run], top: str
) -> None:
    python, run = platform
    package, theirs = subtree(run.deployment, top), subtree(python, top)
    _same_except_aliases(package, theirs, top)
    urn = run.urns[top]
    assert _normalized(component_outputs(run.deployment, urn)) == component_outputs(
        python, _python_tokens(urn)
    )
    if top == "raw":  # the keys were sent as a secret: they stay one, where the Python program marks them
        secret_object = next(r for r in package["registered"] if r["name"] == "raw-cloud-init")
        assert secret_object["masked"] == ["stringData"], secret_object


# --- invalid arguments ------------------------------------------------------------------------

NOT_KNOWN = "must be known when the component is constructed (it shapes the resources): pass a plain value, not an Output"
L40S_PLACEMENT = {"group": "l40s", "gpus": {"L40S": 1}}
INVALID = {
    "check": (
        "GpuVirtualMachine",
        {"namespace": "t", "gpus": {"H100": 1}, "instanceType": "o1.xlarge"},
        [("instanceType", "'o1.xlarge' cannot host GPUs: o1 overcommits memory")],
        [],
    ),
    "model": (
        "GpuWorkload",
        {"image": "x", "gpus": {"L40S": 1}, "placement": [L40S_PLACEMENT], "replicas": 0},
        [("replicas", "Input should be greater than 0")],
        [],
    ),
    "missing": (
        "GpuVirtualMachine",
        {"gpus": {"H100": 1}},
        [("namespace", "Missing required input 'namespace' on 'GpuVirtualMachine'")],
        [],
    ),
    "raw-vm-namespace": ("KubeVirtGpuVirtualMachine", {"gpus": {"L40S": 1}}, [("namespace", "required")], []),
    "node-mode": (
        "GpuOperator",
        {"nodes": {"gpu-1": {"workload": "container", "sharing": "nope"}}},
        [("nodes.gpu-1.sharing", "")],
        [],
    ),
    "naming": (
        "GpuNodeGroup",
        {"gpus": {"L40S": 1}, "resourceNaming": "fancy"},
        [("resourceNaming", "'fancy': choose generic, per-model")],
        [],
    ),
    "output-where-plain": (
        "GpuVirtualMachine",
        {"namespace": "t", "gpus": output_value({"H100": 1})},
        [],
        [("gpus", NOT_KNOWN)],
    ),
    "placement-output": (  # found once the Output is known
        "GpuWorkload",
        {
            "image": "x",
            "gpus": {"H100": 1},
            "placement": [output_value(L40S_PLACEMENT, deps=("urn:pulumi:test::components::x:y:Z::ng",))],
        },
        [("gpus.H100", "no node group of the given node groups has H100 GPUs (it has L40S)")],
        [],
    ),
    "secret-key": (  # found once the secret is known; the engine would print its value: withheld
        "GpuVirtualMachine",
        {"namespace": "t", "gpus": {"L40S": 1}, "sshKeys": secret(["not-a-key AAAA"])},
        [],
        [("sshKeys[0]", "not an OpenSSH public key")],
    ),
    "namespace-output": (
        "GpuKubernetesCluster",
        {"namespace": output_value(""), "nodeGroups": {"l40s": {"gpus": {"L40S": 1}}}},
        [("namespace", "namespace is required")],
        [],
    ),
}


@pytest.fixture(scope="module")
def invalid(host: Host) -> dict[str, tuple[grpc.RpcError | None, Deployment]]:
    """Each case constructed once: its error (``None`` if it was accepted)."""
    deployment, monitor = host.deployment()
    found: dict[str, tuple[grpc.RpcError | None, Deployment]] = {}
    for name, (component, inputs, _, _) in INVALID.items():
        try:
            host.construct(deployment, monitor, f"hikube-gpu:index:{component}", name, inputs)
        except grpc.RpcError as error:
            found[name] = (error, deployment)
        else:
            found[name] = (None, deployment)
    return found


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_argument_is_invalid_argument_with_its_path_and_no_traceback(
    invalid: dict[str, tuple[grpc.RpcError | None, Deployment]], case: str
) -> None:
    error, deployment = invalid[case]
    assert error is not None, f"{case} was accepted"
    _, _, details, withheld = INVALID[case]
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()  # type: ignore[attr-defined]
    found = property_errors(error)
    assert [path for path, _ in found] == [path for path, _ in details]
    for (_, reason), (_, expected) in zip(found, details, strict=True):
        assert reason.startswith(expected), reason
    message: str = error.details()  # type: ignore[attr-defined]
    for path, reason in withheld:  # in the message, which the engine prints without a value
        assert f"  {path}: {reason}" in message, message
    for text in ("Traceback", 'File "', ".py", "not-a-key"):
        assert text not in message + repr(found), message
    # Nothing of it reaches the engine as an object (a problem found once an Output is known
    # stops the objects' registration, their inputs being that problem).
    objects = [r for r in deployment.registered if r.custom and r.name.startswith(case)]
    assert objects == []


def engine_message(type_: str, name: str, error: grpc.RpcError, inputs: dict[str, Any]) -> str:
    """What ``pulumi up`` prints for a Construct error: ``GetResourceInvalidError``'s format
    (sdk/go/common/diag/errors.go: ``%v resource '%v' has a problem: %v``) around
    ``errorToMessage`` (pkg/resource/deploy/source_eval.go): the message, then per property
    error ``\n\t\t- property <path> with value '<value>' has a problem: <reason>`` (a plain
    value is shown as ``{value}``), or without the value when the path leads nowhere."""
    message = error.details()  # type: ignore[attr-defined]
    for path, reason in property_errors(error):
        value: Any = inputs
        for key in re.findall(r"[^.\[\]]+", path):
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or isinstance(value, dict | list):
            message += f"\n\t\t- property {path} has a problem: {reason}"
        else:
            message += f"\n\t\t- property {path} with value '{{{value}}}' has a problem: {reason}"
    return f"error: {type_} resource '{name}' has a problem: {message}"


def test_the_error_other_languages_get_is_the_one_the_docs_show(host: Host) -> None:
    """The guide shows what ``pulumi up`` prints for a bad input and for a bad secret input
    (tabs printed as four spaces)."""
    docs = OTHER_LANGUAGES.read_text(encoding="utf-8")
    for case in ("check", "secret-key", "output-where-plain"):
        deployment, monitor = host.deployment()
        component, inputs, _, _ = INVALID[case]
        with pytest.raises(grpc.RpcError) as raised:
            host.construct(deployment, monitor, f"hikube-gpu:index:{component}", "notebook", inputs)
        shown = engine_message(f"hikube-gpu:index:{component}", "notebook", raised.value, inputs)
        assert shown.replace("\t", "    ") in docs, shown


# --- Outputs as inputs ---------------------------------------------------------------------------

IMAGE_BUILD = "urn:pulumi:test::components::docker-build:index:Image::vllm"
NODE_GROUP = "urn:pulumi:test::components::pulumi:pulumi:StackReference::cluster"


def _workload(deployment: Deployment, name: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in subtree(deployment, name)["registered"]}


def test_known_and_secret_outputs_reach_the_objects_with_their_dependencies(host: Host) -> None:
    deployment, monitor = host.deployment()
    response = host.construct(
        deployment,
        monitor,
        "hikube-gpu:index:GpuWorkload",
        "served",
        {
            "image": output_value("vllm/vllm-openai:v0.6.3", deps=(IMAGE_BUILD,)),
            "gpus": {"L40S": 1},
            "ports": [8000],
            "env": secret({"HF_TOKEN": "hf-protocol-test-token"}),
            "placement": [output_value(L40S_PLACEMENT, deps=(NODE_GROUP,))],
        },
        input_dependencies={"image": [IMAGE_BUILD], "placement": [NODE_GROUP]},
    )
    registered = _workload(deployment, "served")
    deployment_object = registered["served-deployment"]
    container = deployment_object["inputs"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "vllm/vllm-openai:v0.6.3"
    # the secret env value is a secret at its own path, as a --secret stack value is
    assert container["env"] == [{"name": "HF_TOKEN", "value": "[secret]"}]
    assert deployment_object["masked"] == ["spec.template.spec.containers[0].env[0].value"]
    assert "hf-protocol-test-token" not in json.dumps(deployment_object)
    assert deployment_object["inputs"]["spec"]["template"]["spec"]["nodeSelector"] == {
        "node-role.kubernetes.io/gpu-l40s": ""
    }
    for child in ("served-deployment", "served-service"):
        assert {IMAGE_BUILD, NODE_GROUP} <= set(registered[child]["dependencies"]), child
    state = json_format.MessageToDict(response.state)
    assert state["gpuResource"] == "nvidia.com/gpu"
    assert state["nodeGroups"] == ["l40s"]


def test_unknown_outputs_in_a_preview_register_the_objects_with_unknown_inputs(host: Host) -> None:
    deployment, monitor = host.deployment(dry_run=True)
    response = host.construct(
        deployment,
        monitor,
        "hikube-gpu:index:GpuWorkload",
        "previewed",
        {
            "image": output_value(known=False, deps=(IMAGE_BUILD,)),
            "gpus": {"L40S": 1},
            "placement": [L40S_PLACEMENT],
        },
        input_dependencies={"image": [IMAGE_BUILD]},
    )
    registered = _workload(deployment, "previewed")
    assert sorted(registered) == ["previewed", "previewed-deployment"]  # the same resources
    inputs = registered["previewed-deployment"]["inputs"]
    assert (inputs["apiVersion"], inputs["kind"]) == ("apps/v1", "Deployment")
    assert inputs["metadata"] == inputs["spec"] == UNKNOWN_MASK
    state = json_format.MessageToDict(response.state)
    assert state["gpuResource"] == rpc.UNKNOWN
