"""A local Kubernetes API for tests: recorded objects served over HTTP to the real ``kubernetes`` client.

Each route (by path) answers with a status code and a JSON body, or with raw bytes, plain
text, a delay, or a body cut short (the ``Content-Length`` promises more than is sent), so the
client's whole code path runs: kubeconfig, auth header, timeouts, JSON, errors. Every request
is recorded (method, path with query, JSON body), and ``handle`` routes a path to a function
(``--smoke``'s pods).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

TOKEN = "doctor-test-token"


def status(code: int, reason: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code,
            "message": f"{reason.lower()} (recorded)"}  # fmt: skip


def listing(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": f"{kind}List", "metadata": {}, "items": items}


@dataclass
class Answer:
    """How one route answers."""

    code: int = 200
    body: Any = None
    raw: bytes | None = None
    """Bytes sent as they are (instead of ``body`` as JSON)."""
    text: str | None = None
    """A plain-text answer (a log)."""
    delay: float = 0.0
    cut: bool = False
    """Send half the body, then close the connection."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


Handler = Callable[[Request], Answer]


@dataclass
class FakeApi:
    """Routes (path → answer or handler) and every request received."""

    routes: dict[str, Answer | Handler] = field(default_factory=dict)
    prefixes: dict[str, Handler] = field(default_factory=dict)
    """Paths under a prefix (a namespace whose name is made at run time) → a handler."""
    received: list[Request] = field(default_factory=list)
    auth: set[str] = field(default_factory=set)
    url: str = ""

    @property
    def requests(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.received]

    def serve(self, path: str, body: Any, code: int = 200, **how: Any) -> None:
        self.routes[path] = Answer(code, body, **how)

    def answer(self, path: str, answer: Answer) -> None:
        self.routes[path] = answer

    def handle(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def handle_under(self, prefix: str, handler: Handler) -> None:
        self.prefixes[prefix] = handler

    def deny(self, *paths: str) -> None:
        for path in paths:
            self.routes[path] = Answer(403, status(403, "Forbidden"))

    def body(self, path: str) -> Any:
        route = self.routes[path]
        assert isinstance(route, Answer)
        return route.body

    def respond(self, request: Request) -> Answer:
        route = self.routes.get(request.path)
        if route is None:
            prefix = next((p for p in self.prefixes if request.path.startswith(p)), None)
            if prefix is None:
                return Answer(404, status(404, "NotFound"))
            route = self.prefixes[prefix]
        return route(request) if callable(route) else route


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Request(
                self.command, parts.path, dict(parse_qsl(parts.query)), json.loads(data) if data else None
            )
            api.received.append(request)
            api.auth.add(self.headers.get("Authorization", ""))
            answer = api.respond(request)
            if answer.delay:
                time.sleep(answer.delay)
            if answer.raw is not None:
                payload, kind = answer.raw, "application/json"
            elif answer.text is not None:
                payload, kind = answer.text.encode(), "text/plain"
            else:
                payload, kind = json.dumps(answer.body).encode(), "application/json"
            self.send_response(answer.code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            if answer.cut:
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(payload[: len(payload) // 2] if answer.cut else payload)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): nothing to answer
            if answer.cut:
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running(api: FakeApi) -> Iterator[FakeApi]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


def kubeconfig_text(server: str, token: str = TOKEN, **cluster: Any) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": server, **cluster}}],
        "users": [{"name": "test", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
    })  # fmt: skip


def kubeconfig(tmp_path: Path, server: str, **cluster: Any) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig_text(server, **cluster))
    return path
