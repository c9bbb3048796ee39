"""HeyGen webhook session: the receiver, the endpoints registered on it, and what their deliveries carried.

The receiver starts on first use and stops, with every endpoint the suite registered deleted, when the session
ends. When the target cannot reach it (a remote target without --callback-base-url) every use raises
NotApplicable with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from contracts.client import Client
from contracts.heygen import json_of, v1_ok_problem
from contracts.receiver import Hit, Receiver, ReceiverConfig, receiver
from contracts.runs import RunCache
from contracts.target import NotApplicable, Target

EVENTS = ["avatar_video.success", "avatar_video.fail"]
ADD_PATH = "/v1/webhook/endpoint.add"
DELETE_PATH = "/v1/webhook/endpoint.delete"
LOOPBACK_WAIT_S = 12.0
"""A retry after a timeout needs the sender's timeout (HeyGen: answer within 5 s) plus its pause."""
REMOTE_WAIT_S = 600.0


@dataclass
class Endpoint:
    """One endpoint.add call for a receiver path, and what it showed."""

    path: str
    url: str
    response: httpx.Response
    sent_t: float
    answered_t: float
    endpoint_id: str | None
    secret: str | None
    problem: str | None
    """Why the answer is not a v1 success carrying endpoint_id and secret, or None."""


def event_of(hit: Hit) -> dict[str, Any]:
    """The delivered JSON object ({} when the body is not one)."""
    try:
        value = json.loads(hit.body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def video_of(hit: Hit) -> Any:
    data = event_of(hit).get("event_data")
    return data.get("video_id") if isinstance(data, dict) else None


def signed(hit: Hit, secret: str) -> bool:
    """The Signature header is the hex HMAC-SHA256 of the raw body keyed with the secret."""
    want = hmac.new(secret.encode(), hit.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(hit.headers.get("signature", "").lower(), want)


class WebhookSession:
    """The receiver and the endpoints the suite registered on the target."""

    def __init__(self, client: Client, target: Target, config: ReceiverConfig) -> None:
        self.client = client
        self.target = target
        self.config = config
        self._stack = ExitStack()
        self._receiver: Receiver | None = None
        self.endpoints: dict[str, Endpoint] = {}
        self._deleted: set[str] = set()
        self.runs: RunCache[Any] = RunCache()
        """Videos made for the webhook tests, shared between them."""
        self.wait_s = LOOPBACK_WAIT_S if target.loopback else REMOTE_WAIT_S
        """How long to wait for deliveries (after the video ended) before judging what arrived."""

    def receiver(self) -> Receiver:
        """The running receiver; NotApplicable when the target cannot reach it."""
        reason = self.config.unreachable_reason(self.target.loopback, self.target.name)
        if reason:
            raise NotApplicable(reason)
        if self._receiver is None:
            self._receiver = self._stack.enter_context(receiver(self.config))
        return self._receiver

    def add(self, path: str) -> Endpoint:
        """POST endpoint.add for the receiver URL `path` (once per path); the endpoint is deleted at session end."""
        if path in self.endpoints:
            return self.endpoints[path]
        url = self.receiver().url + path
        sent = time.monotonic()
        response = self.client.post(ADD_PATH, json={"url": url, "events": EVENTS})
        answered = time.monotonic()
        problem = v1_ok_problem(response)
        data = (json_of(response) or {}).get("data") if problem is None else None
        data = data if isinstance(data, dict) else {}
        endpoint_id, secret = data.get("endpoint_id"), data.get("secret")
        if problem is None and not (isinstance(endpoint_id, str) and endpoint_id):
            problem = f"no endpoint_id in {str(data)[:160]}"
        if problem is None and not (isinstance(secret, str) and secret):
            problem = f"no secret in {str(data)[:160]}"
        endpoint = Endpoint(
            path, url, response, sent, answered,
            endpoint_id if isinstance(endpoint_id, str) else None,
            secret if isinstance(secret, str) else None,
            problem,
        )  # fmt: skip
        self.endpoints[path] = endpoint
        if endpoint.endpoint_id:
            self._stack.callback(self._delete, endpoint.endpoint_id)
        return endpoint

    def remove(self, path: str) -> None:
        """Delete the endpoint registered for `path` now (it stops receiving this session's other videos)."""
        endpoint = self.endpoints.get(path)
        if endpoint is not None:
            self._delete(endpoint.endpoint_id)

    def _delete(self, endpoint_id: str | None) -> None:
        if endpoint_id and endpoint_id not in self._deleted:
            self._deleted.add(endpoint_id)
            self.client.request("DELETE", DELETE_PATH, params={"endpoint_id": endpoint_id})

    def deliveries(self, path: str, video_id: str | None) -> list[Hit]:
        """POSTs received on `path` carrying an event of `video_id`, in arrival order."""
        return [h for h in self.receiver().requests("POST", path) if video_of(h) == video_id]

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def webhooks(client: Client, target: Target, receiver_config: ReceiverConfig) -> Iterator[WebhookSession]:
    """The session's webhook receiver and registered endpoints."""
    session = WebhookSession(client, target, receiver_config)
    try:
        yield session
    finally:
        session.close()
