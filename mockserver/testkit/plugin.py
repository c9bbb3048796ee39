"""pytest plugin (entry point `avatar_emulator`): fixtures for testing clients against the emulator.

Fixtures: `emulator`, `boson_emulator`, `heygen_emulator` (a fresh tenant per test on one
emulator per session), `emulator_server` (the session's emulator; override it, or set
AVATAR_EMULATOR_URL to use one already running), `emulator_settings` (override to change the
session emulator's Settings). Marker: `@pytest.mark.emulator(pace=..., clock=..., polls=..., faults=[...])`.

Nothing is imported or started until a test asks for one of these fixtures.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..core.settings import Settings
    from .handle import EmulatorHandle
    from .server import RunningServer
    from .webhooks import WebhookReceiver

URL_ENV = "AVATAR_EMULATOR_URL"
MARKER_HELP = (
    "emulator(pace=None, clock=None, polls=None, faults=None): set up the test's emulator tenant: "
    "pace 'fast'|'realtime'|N, clock 'frozen'|'real'|N (scaled N x)|dict, polls n (jobs complete on the "
    "n-th status read), faults: a list of fault rules (dicts as POST /_emulator/faults takes)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)


@dataclass
class EmulatorServer:
    """The session's emulator: where it listens, and the in-process app when it runs here."""

    url: str
    running: RunningServer | None = None
    providers: tuple[str, ...] = ()


class _LazyReceiver:
    def __init__(self) -> None:
        self._receiver: WebhookReceiver | None = None

    def __call__(self) -> WebhookReceiver:
        if self._receiver is None:
            from .webhooks import WebhookReceiver

            self._receiver = WebhookReceiver().start()
        return self._receiver

    def close(self) -> None:
        if self._receiver is not None:
            self._receiver.close()


@pytest.fixture(scope="session")
def emulator_settings() -> Settings:
    """Settings of the session emulator (override this fixture to change them)."""
    from ..core.settings import Settings

    return Settings()


@pytest.fixture(scope="session")
def emulator_server(emulator_settings: Settings) -> Iterator[EmulatorServer]:
    """One emulator per session (per xdist worker) on an ephemeral loopback port."""
    from .control import EmulatorControl

    external = os.environ.get(URL_ENV)
    if external:
        with EmulatorControl(external) as control:
            providers = tuple(control.wait_ready()["providers"])
        yield EmulatorServer(external.rstrip("/"), None, providers)
        return
    from ..http.app import create_app
    from .server import serve

    app = create_app(emulator_settings)
    with serve(app) as running:
        providers = tuple(provider.name for provider in app.state.router.providers)
        yield EmulatorServer(running.url, running, providers)


@pytest.fixture(scope="session")
def emulator_shared_server(tmp_path_factory: pytest.TempPathFactory) -> EmulatorServer:
    """One emulator process for every xdist worker of the run (no in-process transport).

    Use it by overriding `emulator_server` in a conftest or test module:
    `def emulator_server(emulator_shared_server): return emulator_shared_server` (session scope).
    """
    from .control import EmulatorControl
    from .shared import shared_emulator_url

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if worker else base) / "avatar-emulator-shared"
    url = shared_emulator_url(folder, os.getppid() if worker else os.getpid())
    with EmulatorControl(url) as control:
        providers = tuple(control.wait_ready()["providers"])
    return EmulatorServer(url, None, providers)


@pytest.fixture(scope="session")
def _emulator_webhook_receiver() -> Iterator[_LazyReceiver]:
    receiver = _LazyReceiver()
    yield receiver
    receiver.close()


def _tenant_name(request: pytest.FixtureRequest) -> str:
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    return f"pytest-{digest}-{secrets.token_hex(3)}"


def _clock_fields(clock: Any) -> dict[str, Any]:
    if clock is None:
        return {}
    if isinstance(clock, dict):
        return dict(clock)
    if isinstance(clock, int | float) and not isinstance(clock, bool):
        return {"mode": "scaled", "scale": float(clock)}
    return {"mode": str(clock)}


def _apply_marker(handle: EmulatorHandle, request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("emulator")
    if marker is None:
        return
    unknown = set(marker.kwargs) - {"pace", "clock", "polls", "faults"}
    if marker.args or unknown:
        raise pytest.UsageError(f"@pytest.mark.emulator takes pace=, clock=, polls=, faults= only; got {marker}")
    fields = _clock_fields(marker.kwargs.get("clock"))
    if marker.kwargs.get("pace") is not None:
        fields["pace"] = marker.kwargs["pace"]
    if "polls" in marker.kwargs:
        fields["polls"] = marker.kwargs["polls"]
    if fields:
        handle.clock.set(**fields)
    if marker.kwargs.get("faults"):
        handle.faults.add_rules(list(marker.kwargs["faults"]))


def _handle(
    request: pytest.FixtureRequest, server: EmulatorServer, receiver: _LazyReceiver, provider: str | None
) -> Iterator[EmulatorHandle]:
    from .handle import EmulatorHandle

    handle = EmulatorHandle(server.url, _tenant_name(request), provider=provider, server=server.running,
                            receiver=receiver)
    try:
        _apply_marker(handle, request)
        yield handle
        failures = handle.state.failures()
        if failures:
            details = "\n\n".join(f"[{f['where']}]\n{f['traceback']}" for f in failures)
            pytest.fail(f"the emulator failed while serving tenant {handle.tenant!r}:\n{details}", pytrace=False)
    finally:
        try:
            handle.control.drop_tenant()
        finally:
            handle.close()


@pytest.fixture
def emulator(
    request: pytest.FixtureRequest, emulator_server: EmulatorServer, _emulator_webhook_receiver: _LazyReceiver
) -> Iterator[EmulatorHandle]:
    """A fresh tenant on the session emulator (root URL; any provider)."""
    yield from _handle(request, emulator_server, _emulator_webhook_receiver, None)


@pytest.fixture
def boson_emulator(
    request: pytest.FixtureRequest, emulator_server: EmulatorServer, _emulator_webhook_receiver: _LazyReceiver
) -> Iterator[EmulatorHandle]:
    """A fresh tenant for a Boson client: base_url ends in /v1, Bearer key."""
    yield from _handle(request, emulator_server, _emulator_webhook_receiver, "boson")


@pytest.fixture
def heygen_emulator(
    request: pytest.FixtureRequest, emulator_server: EmulatorServer, _emulator_webhook_receiver: _LazyReceiver
) -> Iterator[EmulatorHandle]:
    """A fresh tenant for a HeyGen client: X-Api-Key; skips where HeyGen is not emulated yet."""
    if "heygen" not in emulator_server.providers:
        pytest.skip("this emulator does not serve HeyGen yet")
    yield from _handle(request, emulator_server, _emulator_webhook_receiver, "heygen")
