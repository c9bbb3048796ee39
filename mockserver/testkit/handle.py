"""What the pytest fixtures hand a test: one fresh tenant of a running emulator."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import httpx

from ..core.matching import Entry, Where
from ..http.names import TENANT_HEADER
from ..http.routing import ClientProfile
from ..providers.boson import BosonProvider
from ..providers.heygen import HeyGenProvider
from .control import EmulatorControl
from .server import RunningServer
from .transports import AsyncEmulatorTransport, EmulatorTransport
from .webhooks import Inbox, WebhookReceiver

CLIENT_PROFILES: dict[str | None, ClientProfile] = {
    provider.name: provider.client for provider in (BosonProvider, HeyGenProvider)
}
"""How a client of each provider talks to it (the provider owns these facts)."""
CLIENT_PROFILES[None] = ClientProfile(base_path="", test_api_key="test-key", auth_header="Authorization",
                                      auth_scheme="Bearer")


class EmulatorHandle:
    """One test's view of the emulator: its own tenant (jobs, faults, clock, journal, state).

    `base_url` is where a client points (Boson: `.../v1`, as the openai SDK wants); `headers`
    carry the API key and the tenant. `transport`/`async_transport` reach the app with no socket.
    """

    def __init__(
        self,
        root_url: str,
        tenant: str,
        *,
        provider: str | None = None,
        server: RunningServer | None = None,
        receiver: Callable[[], WebhookReceiver] | None = None,
    ) -> None:
        self.root_url = root_url.rstrip("/")
        self.tenant = tenant
        self.provider = provider
        self.profile = CLIENT_PROFILES[provider]
        self.api_key = self.profile.test_api_key
        self.base_url = self.root_url + self.profile.base_path
        self.control = EmulatorControl(self.root_url, tenant)
        self.faults = self.control.faults
        self.clock = self.control.clock
        self.journal = self.control.journal
        self.state = self.control.state
        self._server = server
        self._receiver = receiver
        self._inbox: Inbox | None = None
        self._closers: list[Callable[[], None]] = []

    @property
    def headers(self) -> dict[str, str]:
        """Auth and tenant headers for a client of this test's tenant."""
        return {**self.profile.auth_headers(self.api_key), TENANT_HEADER: self.tenant}

    @property
    def webhooks(self) -> Inbox:
        """This test's webhook inbox (a receiver on loopback, started on first use)."""
        if self._inbox is None:
            if self._receiver is None:
                raise RuntimeError("no webhook receiver in this context")
            self._inbox = self._receiver().inbox(self.tenant)
        return self._inbox

    def _app(self) -> RunningServer:
        if self._server is None:
            raise RuntimeError("the emulator runs outside this process (AVATAR_EMULATOR_URL): use base_url")
        return self._server

    @property
    def transport(self) -> EmulatorTransport:
        """A sync httpx transport into the app, no socket; it adds this tenant's header.

        Bodies are buffered (httpx.ASGITransport): streamed responses arrive whole at the end.
        """
        server = self._app()
        return EmulatorTransport(server.app, server.loop, {TENANT_HEADER: self.tenant})

    @property
    def async_transport(self) -> AsyncEmulatorTransport:
        """The async variant of `transport` (for httpx.AsyncClient, openai.AsyncOpenAI)."""
        server = self._app()
        return AsyncEmulatorTransport(server.app, server.loop, {TENANT_HEADER: self.tenant})

    def client(self, *, in_process: bool = False, **kwargs: Any) -> httpx.Client:
        """An httpx.Client for this tenant (closed at teardown)."""
        kwargs.setdefault("timeout", 30.0)
        if in_process:
            kwargs.setdefault("transport", self.transport)
        headers = {**self.headers, **kwargs.pop("headers", {})}
        client = httpx.Client(base_url=self.base_url, headers=headers, **kwargs)
        self._closers.append(client.close)
        return client

    def openai_client(self, **kwargs: Any) -> Any:
        """An `openai.OpenAI` for this tenant over loopback (Boson speaks the OpenAI dialect)."""
        import openai

        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key,
                               default_headers={TENANT_HEADER: self.tenant}, **kwargs)
        self._closers.append(client.close)
        return client

    def assert_called(self, operation_id: str, *, times: int | None = None, where: Where = None) -> list[Entry]:
        """Assert this tenant called `operation_id` (`times` times) matching `where`; near-misses on failure."""
        __tracebackhide__ = True
        return self.journal.assert_called(operation_id, times=times, where=where)

    def reset(self) -> None:
        self.control.reset()

    def close(self) -> None:
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                close()
        self.control.close()
