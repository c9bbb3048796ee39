"""A thin httpx client for the target: adds auth, paces remote calls, records request ids, retries 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from contracts.target import Target

REQUEST_ID_HEADERS = ("x-request-id", "x-boson-request-id")
REMOTE_MIN_INTERVAL_S = 0.5


def request_id(response: httpx.Response) -> str | None:
    """The response's request id header, if any."""
    for name in REQUEST_ID_HEADERS:
        if name in response.headers:
            return response.headers[name]
    return None


class Client:
    """HTTP access to one target; every response's request id lands in `request_ids`."""

    def __init__(self, target: Target, *, timeout: float = 60.0) -> None:
        self.target = target
        self.request_ids: list[str] = []
        self.calls: list[tuple[str, str]] = []
        """(method, URL path) of every request sent, for the coverage report."""
        self.breadth_operations: set[str] = set()
        """Operation ids the Schemathesis layer drove (its requests do not go through this client)."""
        self._http = httpx.Client(base_url=target.base_url, timeout=timeout, follow_redirects=False)
        self._lock = threading.Lock()
        self._last = 0.0

    def close(self) -> None:
        self._http.close()

    def _pace(self) -> None:
        if self.target.loopback:
            return
        with self._lock:
            wait = self._last + REMOTE_MIN_INTERVAL_S - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()

    def auth_headers(self) -> dict[str, str]:
        """Boson: `Authorization: Bearer`; HeyGen: `X-Api-Key` (what their clients send)."""
        if self.target.provider == "heygen":
            return {"X-Api-Key": self.target.api_key()}
        return {"Authorization": f"Bearer {self.target.api_key()}"}

    def _record(self, response: httpx.Response) -> None:
        rid = request_id(response)
        with self._lock:
            if rid:
                self.request_ids.append(rid)
            self.calls.append((response.request.method, response.request.url.path))

    def request(self, method: str, path: str, *, auth: bool | dict[str, str] = True, **kwargs: Any) -> httpx.Response:
        """Send one request; `auth` True adds the target's key, a dict replaces the auth headers."""
        headers = dict(kwargs.pop("headers", None) or {})
        if auth is True:
            headers.update(self.auth_headers())
        elif isinstance(auth, dict):
            headers.update(auth)
        self._pace()
        response = self._http.request(method, path, headers=headers, **kwargs)
        self._record(response)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """Stream a response (authenticated)."""
        headers = dict(kwargs.pop("headers", None) or {})
        headers.update(self.auth_headers())
        self._pace()
        with self._http.stream(method, path, headers=headers, **kwargs) as response:
            self._record(response)
            yield response

    def patient_post(self, path: str, *, retries: int = 8, **kwargs: Any) -> httpx.Response:
        """POST, waiting out 429 Retry-After (capped) like real clients: a busy server is not a verdict."""
        response = self.post(path, **kwargs)
        for _ in range(retries):
            if response.status_code != 429:
                break
            time.sleep(self._busy_wait(response))
            response = self.post(path, **kwargs)
        return response

    def create(self, path: str, *, retries: int = 8, **kwargs: Any) -> httpx.Response:
        """POST a creation through patient_post; spends one video of the budget."""
        self.target.spend(1)
        return self.patient_post(path, retries=retries, **kwargs)

    @contextmanager
    def stream_create(self, path: str, *, retries: int = 8, **kwargs: Any) -> Iterator[httpx.Response]:
        """Like create(), for a creation whose answer streams: a 429 is waited out before the stream is read."""
        self.target.spend(1)
        for attempt in range(retries + 1):
            with self.stream("POST", path, **kwargs) as response:
                if response.status_code != 429 or attempt == retries:
                    yield response
                    return
                response.read()
            time.sleep(self._busy_wait(response))

    def _busy_wait(self, response: httpx.Response) -> float:
        return min(_retry_after(response), 5.0 if self.target.loopback else 30.0)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("retry-after", "1")), 0.2)
    except ValueError:
        return 1.0
