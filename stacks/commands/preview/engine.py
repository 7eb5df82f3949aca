"""Run the real Pulumi program in-process under Pulumi's mock runtime and record everything.

Each run happens in a fresh ``contextvars`` context, so runs are independent of each
other. Secret values are masked while recording (``mask``: strings become ``[secret]``,
lists and maps keep their shape): nothing downstream of the engine (tree, rendered files,
logs) ever sees them.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_in_stack

from stacks.loading.stack_file import StackConfigFile
from stacks.program.records import SECRET_MASK, UNKNOWN_MASK, OfflineRun, Registered, mask, offline_id

__all__ = ["SECRET_MASK", "UNKNOWN_MASK", "OfflineRun", "Registered", "mask", "plain", "run_offline"]


def plain(value: Any, masked: list[str] | None = None, path: str = "") -> Any:
    """A protobuf value as plain Python, secrets masked (see ``mask``), unknowns marked.

    The path of each masked secret (``spec.sshKeys``, ``stringData``) is appended to
    ``masked`` when given.
    """
    if isinstance(value, struct_pb2.Struct):
        return _plain_struct(value, masked, path)
    if isinstance(value, struct_pb2.ListValue):
        return [plain(item, masked, f"{path}[{i}]") for i, item in enumerate(value.values)]
    if isinstance(value, struct_pb2.Value):
        return _plain_value(value, masked, path)
    return value


def _secret(value: Any, masked: list[str] | None, path: str) -> Any:
    if masked is not None:
        masked.append(path)
    return mask(plain(value))


def _plain_struct(value: Any, masked: list[str] | None, path: str) -> Any:
    sig = value.fields.get(rpc._special_sig_key)
    if sig is None:
        return {key: plain(item, masked, _join(path, key)) for key, item in value.fields.items()}
    kind = sig.string_value
    if kind == rpc._special_secret_sig:
        return _secret(value.fields["value"], masked, path)
    if kind == rpc._special_output_value_sig:
        known = value.fields.get("value")
        if "secret" in value.fields and value.fields["secret"].bool_value:
            # an unknown secret has no shape to keep: it masks as a string
            return _secret(SECRET_MASK if known is None else known, masked, path)
        return UNKNOWN_MASK if known is None else plain(known, masked, path)
    if kind == rpc._special_resource_sig:
        return plain(value.fields["urn"])
    return {key: plain(item, masked, _join(path, key)) for key, item in value.fields.items()}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _plain_value(value: Any, masked: list[str] | None, path: str) -> Any:
    kind = value.WhichOneof("kind")
    if kind in ("struct_value", "list_value"):
        return plain(getattr(value, kind), masked, path)
    if kind == "string_value":
        return UNKNOWN_MASK if value.string_value == rpc.UNKNOWN else value.string_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return value.bool_value
    return None


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, run: OfflineRun) -> None:
        super().__init__(_EchoMocks())
        self.run = run
        self.thread_loops: list[asyncio.AbstractEventLoop] = []
        self._lock = threading.Lock()

    def _in_thread_loop(self, call: Callable[[], Any]) -> Any:
        """Run a monitor call on this thread's event loop, made here if the thread has none.

        The SDK calls the monitor from executor threads, and Pulumi's mocks would create an
        event loop per thread that nobody closes (its finalizer may print a traceback at
        exit). Loops made here are closed by ``close_thread_loops`` after the run.
        """
        if threading.current_thread() is not threading.main_thread() and _current_event_loop() is None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            with self._lock:
                self.thread_loops.append(loop)
        return call()

    def close_thread_loops(self) -> None:
        with self._lock:
            loops, self.thread_loops = self.thread_loops, []
        for loop in loops:
            if not loop.is_running():
                loop.close()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the Pulumi engine forms them: ancestor types joined by ``$``, root stack left out."""
        parent_type = parent.split("::")[2] if parent else ""
        if parent_type and parent_type != "pulumi:pulumi:Stack":
            type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.run.stack}::{self.run.project}::{type_}::{name}"

    def _record(self, request: Any, urn: str, **fields: Any) -> None:
        self.run.resources.append(
            Registered(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                provider=request.provider,
                dependencies=tuple(sorted(request.dependencies)),
                **fields,
            )
        )

    def RegisterResource(self, request: Any) -> Any:
        register = super().RegisterResource
        response = self._in_thread_loop(lambda: register(request))  # type: ignore[no-untyped-call]
        masked: list[str] = []
        inputs = plain(request.object, masked)
        self._record(
            request,
            response.urn,
            custom=request.custom,
            protect=bool(request.protect),
            inputs=inputs,
            masked=tuple(sorted(masked)),
            imported=request.importId,
        )
        return response

    def ReadResource(self, request: Any) -> Any:
        read = super().ReadResource
        response = self._in_thread_loop(lambda: read(request))  # type: ignore[no-untyped-call]
        self._record(request, response.urn, custom=True, protect=False, inputs={"id": request.id}, read=True)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.endswith("::pulumi:pulumi:Stack::" + f"{self.run.project}-{self.run.stack}"):
            self.run.outputs = plain(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


class _EchoMocks(mocks.Mocks):
    """Every resource 'creates' with its inputs as outputs, like a preview; a read of an
    existing object returns nothing, like a preview before the object exists."""

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id:
            return args.resource_id, {}
        return offline_id(args.name), dict(args.inputs)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class _Collector(logging.Handler):
    def __init__(self, run: OfflineRun) -> None:
        super().__init__(logging.DEBUG)
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.run.errors.append(record.getMessage())
        elif record.levelno >= logging.WARNING:
            self.run.warnings.append(record.getMessage())


DEFAULT_TIMEOUT_SECONDS = 60.0
"""How long the program may wait without progress (no resource registered or read while
the event loop is idle) before it counts as hung. Time the program spends working (the
loop busy: validation, building objects) is not waiting; total time is bounded by the
stack size limit instead (``docs/limits.md``)."""

_TICK_SECONDS = 0.25


class OfflineTimeout(pulumi.RunError):
    """The program made no progress for ``timeout`` seconds: it waits on something that never resolves."""


def run_offline(
    config: StackConfigFile, program: Callable[[], None], timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> OfflineRun:
    """Run ``program`` with ``config`` under mocks until it ends, or until it has made no
    progress for ``timeout`` seconds (``OfflineTimeout``; see ``DEFAULT_TIMEOUT_SECONDS``).

    A ``pulumi.RunError`` (a clean failure such as an invalid config, or ``OfflineTimeout``)
    is kept in ``run.failure`` with what was registered before it; any other exception
    propagates.
    """
    run = OfflineRun(stack=config.stack, project=config.project)
    context = contextvars.copy_context()
    context.run(_run, run, config, program, timeout)
    run.resources.sort(key=lambda r: r.urn)  # registration order is asynchronous
    return run


def _run(run: OfflineRun, config: StackConfigFile, program: Callable[[], None], timeout: float) -> None:
    logger = logging.getLogger(f"hikube-gpu.offline.{id(run)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = _Collector(run)
    logger.addHandler(handler)
    try:
        settings.ROOT.set(None)
        runtime_config.set_all_config(dict(config.config), list(config.secret_keys))
        monitor = _RecordingMonitor(run)
        features = set(monitor.GetDeploymentInfo(None).supportedFeatures)  # type: ignore[no-untyped-call]
        settings.configure(
            mocks.MockSettings(  # type: ignore[no-untyped-call]
                monitor=monitor,
                monitor_features=features,
                engine=mocks.MockEngine(logger),
                project=config.project,
                stack=config.stack,
                dry_run=True,
                organization=None,
                callbacks=None,
            )
        )
        settings.SETTINGS.rpc_manager.clear()
        settings.SETTINGS.outputs.clear()
        try:
            _run_in_new_loop(run_in_stack(program), timeout, lambda: len(run.resources))
        finally:
            monitor.close_thread_loops()
    except pulumi.RunError as failure:
        run.failure = failure
    finally:
        logger.removeHandler(handler)


def _run_in_new_loop(main: Coroutine[Any, Any, None], timeout: float, progress: Callable[[], int]) -> None:
    """Run the program on an event loop of its own, closed afterwards (no leaks across runs).

    The caller's current event loop (a host program or test may have one) is restored.
    """
    previous = _current_event_loop()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(_watched(main, timeout, progress))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(previous)
            loop.close()


async def _watched(main: Coroutine[Any, Any, None], stall: float, progress: Callable[[], int]) -> None:
    """Await ``main``; raise ``OfflineTimeout`` once it has waited ``stall`` seconds without progress.

    Waiting is counted in ticks of the event loop: a tick that comes late because the
    loop was busy (the program working synchronously) counts as one tick, not as the
    time it took, so a large stack that keeps working is never taken for a hung one.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main)
    seen, idle, last = progress(), 0.0, loop.time()
    while not task.done():
        await asyncio.wait({task}, timeout=_TICK_SECONDS)
        now, current = loop.time(), progress()
        idle = 0.0 if current != seen else idle + min(now - last, _TICK_SECONDS)
        seen, last = current, now
        if idle >= stall and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=_TICK_SECONDS * 4)
            raise OfflineTimeout(
                f"the program did not finish within {stall:g} s of its last progress (no resource "
                "registered while it was idle): it waits on something that never resolves "
                "(an Output or a future nobody completes)"
            )
    task.result()


def _current_event_loop() -> asyncio.AbstractEventLoop | None:
    """The thread's current event loop, without creating one (``get_event_loop`` would)."""
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    loop = getattr(local, "_loop", None)
    return loop if isinstance(loop, asyncio.AbstractEventLoop) and not loop.is_closed() else None
