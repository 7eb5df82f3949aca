"""The only module that talks to the API server: a thin reader over the ``kubernetes`` client.

It sends GET requests, and POSTs only SelfSubjectRulesReviews, which the API server answers
without storing anything. Answers come back as ``Fetched`` (status code and JSON body), so
the checks never see the client's types; an unreachable server raises ``Unreachable``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client

RULES_REVIEW = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
READ_ONLY_POSTS = frozenset({RULES_REVIEW, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"})
TIMEOUT = (5.0, 30.0)
"""Seconds to connect and to read one answer."""


class Unreachable(Exception):
    """The API server did not answer, or refused the credentials (401)."""


@dataclass(frozen=True)
class Fetched:
    """One answer: ``code`` 200 with the object, or the error status and its message."""

    path: str
    code: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    @property
    def denied(self) -> bool:
        return self.code == 403

    @property
    def missing(self) -> bool:
        return self.code == 404

    @property
    def items(self) -> list[dict[str, Any]]:
        """The items of a list answer (empty for anything else)."""
        items = self.body.get("items") if self.ok else None
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def why(self) -> str:
        """``403 Forbidden on /api/v1/nodes: <the server's message>``."""
        message = str(self.body.get("message", "")).strip()
        reason = str(self.body.get("reason", "")).strip() or "error"
        return f"{self.code} {reason} on {self.path}" + (f": {message}" if message else "")


class Reader:
    """Read-only requests through an authenticated ``kubernetes.client.ApiClient``."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api

    @property
    def server(self) -> str:
        return str(self._api.configuration.host)

    def get(self, path: str, **query: str) -> Fetched:
        return self._send("GET", path, query, None)

    def review_rules(self, namespace: str) -> Fetched:
        """What the credential may do in ``namespace`` (a SelfSubjectRulesReview; nothing is stored)."""
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": namespace},
        }
        return self._send("POST", RULES_REVIEW, {}, body)

    def _send(self, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None) -> Fetched:
        if method != "GET" and path not in READ_ONLY_POSTS:
            raise ValueError(f"the doctor never sends {method} {path}")
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        method, url, headers, data, post = self._api.param_serialize(
            method,
            path,
            query_params=sorted(query.items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self._api.call_api(method, url, headers, data, post, _request_timeout=TIMEOUT)
            raw = response.read()  # type: ignore[no-untyped-call]
        except urllib3.exceptions.HTTPError as error:
            raise Unreachable(f"{self.server} did not answer ({_reason(error)})") from None
        if response.status == 401:
            raise Unreachable(f"{self.server} refused the credentials (401 Unauthorized)")
        return Fetched(path, response.status, _json(raw))


def _reason(error: urllib3.exceptions.HTTPError) -> str:
    inner = getattr(error, "reason", None)
    return str(inner or error).split(": ", 1)[-1]


def _json(raw: bytes | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {"message": (raw or b"")[:200].decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {}
