"""The only module that talks to the API server: a thin session over the ``kubernetes`` client.

``Reader`` sends GET requests, and POSTs only SelfSubjectRulesReviews, which the API server
answers without storing anything. ``Session.send`` is the one way out; a writer with its own
narrow allowance (``stacks.commands.verify.smoke``) builds on it. Every answer is untrusted: it comes
back as ``Fetched`` (status code and JSON body, or why there is no usable body), so the checks
never see the client's types. Every request has a timeout. A server that cannot be reached at
all raises ``Unreachable``; a slow, broken-off or garbled answer is a ``Fetched`` whose
``problem`` says so (its checks say "can't tell").
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

RULES_REVIEW = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
READ_ONLY_POSTS = frozenset({RULES_REVIEW, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"})
TIMEOUT = (5.0, 30.0)
"""Seconds to connect and to read one answer."""
MAX_MESSAGE = 300
"""Characters of a server's error message kept in a report line."""


class Unreachable(Exception):
    """The API server did not answer, or refused the credentials (401)."""


@dataclass(frozen=True)
class Fetched:
    """One answer: ``code`` 2xx with the object, or the error status and its message.

    ``problem`` says why a 2xx answer cannot be used (not a JSON object, broken off) or why
    there is no answer at all (``code`` 0: no answer in time); ``ok`` is False then.
    ``text`` holds a plain-text answer (a container log)."""

    path: str
    code: int
    body: dict[str, Any] = field(default_factory=dict)
    problem: str = ""
    text: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300 and not self.problem

    @property
    def denied(self) -> bool:
        return self.code == 403

    @property
    def missing(self) -> bool:
        return self.code == 404

    def why(self) -> str:
        """``403 Forbidden on /api/v1/nodes: <the server's message>``, or the problem and the path."""
        if self.problem:
            return f"{self.problem} (GET {self.path})" if self.code == 0 else f"{self.problem} on {self.path}"
        message = _short(self.body.get("message", ""))
        reason = _short(self.body.get("reason", "")) or "error"
        return f"{self.code} {reason} on {self.path}" + (f": {message}" if message else "")


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class Session:
    """Requests through an authenticated ``kubernetes.client.ApiClient``, each with a timeout."""

    def __init__(self, api: client.ApiClient, timeout: tuple[float, float] | None = None) -> None:
        self._api = api
        self._timeout = timeout

    @property
    def server(self) -> str:
        return str(self._api.configuration.host)

    @property
    def api_client(self) -> client.ApiClient:
        """The client, for a session with another allowance (``stacks.commands.verify.smoke``)."""
        return self._api

    @property
    def timeout(self) -> tuple[float, float]:
        return self._timeout or TIMEOUT

    @property
    def verifies_tls(self) -> bool:
        """False with ``insecure-skip-tls-verify``: the command says so once (urllib3 would
        warn on every request)."""
        return bool(self._api.configuration.verify_ssl)

    def send(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        *,
        text: bool = False,
    ) -> Fetched:
        """One request; ``text``: the answer is plain text (kept in ``Fetched.text``)."""
        headers = {"Accept": "text/plain" if text else "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        method, url, headers, data, post = self._api.param_serialize(
            method,
            path,
            query_params=sorted((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            with warnings.catch_warnings():
                if not self.verifies_tls:
                    warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                response = self._api.call_api(method, url, headers, data, post, _request_timeout=self.timeout)
                raw = response.read()  # type: ignore[no-untyped-call]
        except ApiException as error:  # the client turns TLS failures into status 0
            raise Unreachable(f"{self.server} did not answer ({_first_line(error.reason)})") from None
        except urllib3.exceptions.HTTPError as error:
            return self._no_answer(path, error)
        if response.status == 401:
            raise Unreachable(f"{self.server} refused the credentials (401 Unauthorized)")
        if text and 200 <= response.status < 300:
            return Fetched(path, response.status, text=(raw or b"").decode("utf-8", "replace"))
        return _answer(path, response.status, raw)

    def _no_answer(self, path: str, error: urllib3.exceptions.HTTPError) -> Fetched:
        """A request that got no usable answer; a server that cannot be reached raises."""
        inner = error.reason if isinstance(error, urllib3.exceptions.MaxRetryError) else error
        if isinstance(inner, urllib3.exceptions.ReadTimeoutError):
            return Fetched(path, 0, problem=f"no answer within {self.timeout[1]:g} s")
        if isinstance(inner, urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.SSLError):
            raise Unreachable(f"{self.server} did not answer ({_reason(error)})")
        return Fetched(path, 0, problem=f"the answer broke off ({_reason(error)})")


class Reader(Session):
    """Read-only requests: GET, and the access reviews the API server never stores."""

    def get(self, path: str, **query: str) -> Fetched:
        return self.send("GET", path, query)

    def get_text(self, path: str, **query: str) -> Fetched:
        """A plain-text answer (a container's log)."""
        return self.send("GET", path, query, text=True)

    def review_rules(self, namespace: str) -> Fetched:
        """What the credential may do in ``namespace`` (a SelfSubjectRulesReview; nothing is stored)."""
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": namespace},
        }
        return self.send("POST", RULES_REVIEW, {}, body)

    def send(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        *,
        text: bool = False,
    ) -> Fetched:
        if method != "GET" and path not in READ_ONLY_POSTS:
            raise ValueError(f"the doctor never sends {method} {path}")
        return super().send(method, path, query, body, text=text)


def _reason(error: urllib3.exceptions.HTTPError) -> str:
    inner = getattr(error, "reason", None)
    return _first_line(str(inner or error).split(": ", 1)[-1])


def _first_line(text: object) -> str:
    return _short(str(text).strip().splitlines()[0] if str(text).strip() else "no reason given")


def _answer(path: str, code: int, raw: bytes | None) -> Fetched:
    """The answer as a JSON object; a 2xx answer that is not one is marked with its ``problem``."""
    try:
        value = json.loads(raw or b"")
    except ValueError:
        if 200 <= code < 300:
            return Fetched(path, code, problem="the answer is not JSON (cut short?)")
        return Fetched(path, code, {"message": (raw or b"")[:MAX_MESSAGE].decode("utf-8", "replace")})
    if isinstance(value, dict):
        return Fetched(path, code, value)
    if 200 <= code < 300:
        return Fetched(path, code, problem=f"the answer is JSON but not an object ({type(value).__name__})")
    return Fetched(path, code)
