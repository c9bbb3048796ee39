"""The emulator app in-process (httpx.ASGITransport, no socket), driven from synchronous code.

Hypothesis tests are synchronous; each request runs on one private event loop that also runs the
app's lifespan (its tick), so jobs advance as they would on a server. A request that does not
finish within `timeout` seconds counts as a hang.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

from mockserver.core.settings import Settings
from mockserver.http.app import create_app

BASE = "http://127.0.0.1:9"


class InProcess:
    def __init__(self, settings: Settings, *, timeout: float = 10.0) -> None:
        self.app = create_app(settings)
        self.loop = asyncio.new_event_loop()
        self.timeout = timeout
        self._life: AbstractAsyncContextManager[Any] = self.app.router.lifespan_context(self.app)
        self.loop.run_until_complete(self._life.__aenter__())
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE, timeout=timeout)
        self.statuses: Counter[int] = Counter()
        self.hangs = 0
        self.unsendable: Counter[str] = Counter()
        self.server_errors: list[str] = []

    @property
    def cases(self) -> int:
        return sum(self.statuses.values()) + self.hangs + sum(self.unsendable.values())

    def request(self, **kwargs: Any) -> httpx.Response | None:
        """Send one request; record its status (or the hang, or why httpx refused to send it)."""
        try:
            request = self.client.build_request(**kwargs)
        except (httpx.HTTPError, ValueError, TypeError, UnicodeError) as exc:
            self.unsendable[type(exc).__name__] += 1
            return None
        try:
            response = self.loop.run_until_complete(asyncio.wait_for(self.client.send(request), self.timeout))
        except TimeoutError:
            self.hangs += 1
            return None
        except (httpx.HTTPError, ValueError, TypeError, UnicodeError) as exc:  # h11 refusing a header, say
            self.unsendable[type(exc).__name__] += 1
            return None
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            what = f"{request.method} {request.url} -> {response.status_code}"
            self.server_errors.append(f"{what}: {response.text[:200]}")
        return response

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self._life.__aexit__(None, None, None))
        self.loop.close()
