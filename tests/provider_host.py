"""A stand-in Pulumi engine for the provider protocol test: the Engine and ResourceMonitor gRPC
services a component provider (and a Python program) talks to, answering as the engine does,
and the provider plugin started the way the Python language host starts it.

What the real engine does, and where (pulumi/pulumi v3.259.0, the newest tag stored; the SDK
this project pins is 3.272.0):

- starting the plugin: ``ExecPlugin`` and ``newPlugin`` (sdk/go/common/resource/plugin/plugin.go)
  hand a plugin folder with ``PulumiPlugin.yaml`` to its language host with the arguments
  ``[<engine address>]`` (``NewProvider``, provider_plugin.go; log flags come first only with
  ``--logflow``), then read the first line of the plugin's stdout as its port (``parsePort``:
  whitespace trimmed). The Python host's ``RunPlugin`` (sdk/python/cmd/pulumi-language-python/
  main.go) runs ``<plugin>/venv/bin/python <plugin folder> <args>`` for a folder with a
  ``__main__.py`` (``virtualenv`` defaults to ``venv`` for plugins, ``parseOptions``), with the
  virtual environment activated (``ActivateVirtualEnv``, sdk/python/toolchain/toolchain.go:
  its ``bin`` first on PATH, ``VIRTUAL_ENV`` set, ``PYTHONHOME`` dropped) in the program's
  working directory. Here the virtual environment is the project's ``.venv``, which holds what
  ``provider/requirements.txt`` asks for (``-r ../requirements.txt``).
- the monitor: ``SupportsFeature`` and ``GetDeploymentInfo`` answer the features of
  ``supportsFeatureID`` and ``supportedMonitorFeatures`` (pkg/resource/deploy/source_eval.go);
  a URN is ``urn:pulumi:<stack>::<project>::<parent types$>type::name`` (the root stack's type
  left out); ``pulumi:pulumi:getResource`` returns a registered resource's urn, id and state.
- Construct: the engine calls ``Configure`` first, then ``Construct`` with the inputs marshalled
  with secrets, resource references and output values kept (``Construct``, provider_plugin.go).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2,
    resource_pb2,
    resource_pb2_grpc,
)

from components.resolve.names import KUBECONFIG_KEY

ROOT = Path(__file__).resolve().parents[1]
PROVIDER_DIR = ROOT / "provider"
EXEC = ROOT / "tests" / "upstream" / "pulumi" / "v3.259.0" / "pulumi-language-python-exec"
STACK_TYPE = "pulumi:pulumi:Stack"
ADMIN_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []  # protocol-test admin kubeconfig\n"

# supportsFeatureID (source_eval.go): every id it answers true for.
FEATURE_IDS = frozenset(
    {
        "secrets",
        "resourceReferences",
        "outputValues",
        "aliasSpecs",
        "replacementTrigger",
        "deletedWith",
        "replaceWith",
        "transforms",
        "invokeTransforms",
        "parameterization",
        "resourceHooks",
        "errorHooks",
        "sendsOptionsToHooks",
    }
)
# supportedMonitorFeatures (source_eval.go): the same, plus three always on.
MONITOR_FEATURES = [
    resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
    resource_pb2.RESOURCE_MONITOR_FEATURE_OUTPUT_VALUES,
    resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_REPLACEMENT_TRIGGER,
    resource_pb2.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
    resource_pb2.RESOURCE_MONITOR_FEATURE_REPLACE_WITH,
    resource_pb2.RESOURCE_MONITOR_FEATURE_TRANSFORMS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_INVOKE_TRANSFORMS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_PARAMETERIZATION,
    resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_HOOKS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_ERROR_HOOKS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_SENDS_OPTIONS_TO_HOOKS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_BYTE_STRING,
    resource_pb2.RESOURCE_MONITOR_FEATURE_INVOKE_DEPENDS_ON,
    resource_pb2.RESOURCE_MONITOR_FEATURE_INVOKE_PARENT,
]


@dataclass
class Deployment:
    """One stand-in deployment: its stack, and what the programs and plugins sent its monitor."""

    project: str
    stack: str
    dry_run: bool = False
    registered: list[resource_pb2.RegisterResourceRequest] = field(default_factory=list)
    reads: list[resource_pb2.ReadResourceRequest] = field(default_factory=list)
    outputs: dict[str, struct_pb2.Struct] = field(default_factory=dict)
    invokes: list[str] = field(default_factory=list)
    states: dict[str, tuple[str, struct_pb2.Struct]] = field(default_factory=dict)
    """URN → (id, state) of every resource registered or read (what getResource answers)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def root_urn(self) -> str:
        return self.urn("", STACK_TYPE, f"{self.project}-{self.stack}")

    def urn(self, parent: str, type_: str, name: str) -> str:
        parent_type = parent.split("::")[2] if parent else ""
        if parent_type and parent_type != STACK_TYPE:
            type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    made = struct_pb2.Struct()
    made.update(values)
    return made


class Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """The engine's ResourceMonitor for one deployment: resources 'create' with their inputs as
    outputs (a custom resource's id is ``<name>-id``; unknown in a preview), the cluster's admin
    kubeconfig Secret reads with ``ADMIN_KUBECONFIG``."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id in FEATURE_IDS)

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        d = self.deployment
        return resource_pb2.DeploymentInfo(
            project=d.project,
            stack=d.stack,
            organization="organization",
            dryRun=d.dry_run,
            parallel=4,
            supportedFeatures=MONITOR_FEATURES,
        )

    def RegisterResource(self, request: Any, context: Any) -> Any:
        d = self.deployment
        urn = d.urn(request.parent, request.type, request.name)
        ident = "" if not request.custom or d.dry_run else f"{request.name}-id"
        with d.lock:
            d.registered.append(request)
            d.states[urn] = (ident, request.object)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=ident, object=request.object)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        with self.deployment.lock:
            self.deployment.outputs[request.urn] = request.outputs
        return empty_pb2.Empty()

    def ReadResource(self, request: Any, context: Any) -> Any:
        d = self.deployment
        urn = d.urn(request.parent, request.type, request.name)
        state: dict[str, Any] = {}
        if request.type == "kubernetes:core/v1:Secret":
            state = {"data": {KUBECONFIG_KEY: base64.b64encode(ADMIN_KUBECONFIG.encode()).decode()}}
        with d.lock:
            d.reads.append(request)
            d.states[urn] = (request.id, _struct(state))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=_struct(state))

    def Invoke(self, request: Any, context: Any) -> Any:
        with self.deployment.lock:
            self.deployment.invokes.append(request.tok)
        if request.tok != "pulumi:pulumi:getResource":
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"no function {request.tok}")
        urn = request.args.fields["urn"].string_value
        ident, state = self.deployment.states[urn]
        result = struct_pb2.Struct()
        result.update({"urn": urn, "id": ident})
        result.fields["state"].struct_value.CopyFrom(state)
        return provider_pb2.InvokeResponse(**{"return": result})

    def SignalAndWaitForShutdown(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()


class Engine(engine_pb2_grpc.EngineServicer):
    """The engine service: logs recorded, the root stack resource kept."""

    def __init__(self) -> None:
        self.logs: list[engine_pb2.LogRequest] = []
        self.root = ""

    def Log(self, request: Any, context: Any) -> Any:
        self.logs.append(request)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn=self.root)

    def SetRootResource(self, request: Any, context: Any) -> Any:
        self.root = request.urn
        return engine_pb2.SetRootResourceResponse()


def serve(servicer: Any, add: Any) -> tuple[grpc.Server, str]:
    """A gRPC server for ``servicer`` on a free local port, and its address."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    add(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


def serve_monitor(deployment: Deployment) -> tuple[grpc.Server, str]:
    return serve(Monitor(deployment), resource_pb2_grpc.add_ResourceMonitorServicer_to_server)


def serve_engine(engine: Engine) -> tuple[grpc.Server, str]:
    return serve(engine, engine_pb2_grpc.add_EngineServicer_to_server)


def activated(environ: dict[str, str], venv: Path) -> dict[str, str]:
    """``ActivateVirtualEnv``: the venv's bin first on PATH, VIRTUAL_ENV set, PYTHONHOME dropped."""
    env = {k: v for k, v in environ.items() if k.upper() not in ("PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}" if "PATH" in env else str(venv / "bin")
    env["VIRTUAL_ENV"] = str(venv)
    return env


def venv() -> Path:
    """The virtual environment this test runs in (the project's ``.venv``)."""
    return Path(sys.prefix)


@dataclass
class Plugin:
    process: subprocess.Popen[bytes]
    port: int
    channel: grpc.Channel
    output: list[bytes]
    """What it wrote after the port, on stdout and stderr (read as the engine does: all along,
    so that a full pipe never blocks it)."""
    readers: list[threading.Thread]


def _drain(stream: Any, into: list[bytes]) -> threading.Thread:
    reader = threading.Thread(target=lambda: into.extend(iter(stream.readline, b"")), daemon=True)
    reader.start()
    return reader


def start_plugin(engine_address: str, cwd: Path, timeout: float = 60.0) -> Plugin:
    """Run ``provider/`` as the Python language host does and read the port it prints."""
    command = [str(venv() / "bin" / "python"), str(PROVIDER_DIR), engine_address]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=activated(dict(os.environ), venv()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    line: list[bytes] = []
    reader = threading.Thread(
        target=lambda: line.append(process.stdout.readline() if process.stdout else b"")
    )
    reader.start()
    reader.join(timeout)
    if not line or not line[0].strip():
        process.kill()
        _, err = process.communicate()
        raise RuntimeError(f"the plugin printed no port: {err.decode(errors='replace')[-2000:]}")
    port = int(line[0].strip())  # parsePort: whitespace trimmed, a number in 1-65535
    assert 0 < port <= 65535
    output: list[bytes] = []
    readers = [_drain(process.stdout, output), _drain(process.stderr, output)]
    return Plugin(process, port, grpc.insecure_channel(f"127.0.0.1:{port}"), output, readers)


def stop_plugin(plugin: Plugin) -> str:
    """Stop the plugin (as the engine does, by killing it) and return what it wrote."""
    plugin.channel.close()
    plugin.process.kill()
    plugin.process.wait(timeout=30)
    for reader in plugin.readers:
        reader.join(timeout=30)
    return b"".join(plugin.output).decode(errors="replace")


def run_program(program: Path, deployment: Deployment, monitor: str, engine: str, *args: str) -> str:
    """Run a Python program as the Python language host does (pulumi-language-python-exec);
    its stderr (a failure's message) is returned, a non-zero exit raises."""
    command = [
        str(venv() / "bin" / "python"),
        "-u",
        str(EXEC),
        "--monitor",
        monitor,
        "--engine",
        engine,
        "--project",
        deployment.project,
        "--stack",
        deployment.stack,
        "--parallel",
        "4",
        "--dry_run",
        "true" if deployment.dry_run else "false",
        "--organization",
        "organization",
        "--root_directory",
        str(program.parent),
        "--pwd",
        str(program.parent),
        str(program),
        *args,
    ]
    env = activated(dict(os.environ), venv())
    env["PYTHONPATH"] = str(ROOT)  # the examples install the repository (`-e ../..`)
    done = subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.decode()[-3000:]}")
    return done.stderr.decode()


# Values as the engine marshals them into a Construct request (MarshalPropertyValue, rpc.go).


def output_value(
    value: Any = None, *, known: bool = True, secret: bool = False, deps: tuple[str, ...] = ()
) -> Any:
    """An output value: ``{sig: d0e6…, value?, secret?, dependencies?}``."""
    made: dict[str, Any] = {rpc._special_sig_key: rpc._special_output_value_sig}
    if known:
        made["value"] = value
    if secret:
        made["secret"] = True
    if deps:
        made["dependencies"] = list(deps)
    return made


def secret(value: Any) -> Any:
    """A secret: ``{sig: 1b47…, value}``."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}
