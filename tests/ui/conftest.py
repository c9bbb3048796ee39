"""One emulator per xdist worker for the dashboard tests: both providers, fast webhook retries."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.settings import Settings
from tests.heygen.conftest import FAST_BACKOFF
from tests.heygen.conftest import receiver as receiver  # the same webhook receiver fixture
from tests.servers import serve


@pytest.fixture(scope="session")
def ui_app() -> Starlette:
    return create_app(Settings(extra={"fetch": "local", "heygen_webhook_backoff": FAST_BACKOFF}))


@pytest.fixture(scope="session")
def ui_url(ui_app: Starlette) -> Iterator[str]:
    with serve(ui_app) as url:
        yield url


@pytest.fixture
def boson(ui_url: str, tenant: str) -> Iterator[httpx.Client]:
    """A Boson client in the test's tenant."""
    headers = {"Authorization": "Bearer bai-test", "X-Emulator-Tenant": tenant}
    with httpx.Client(base_url=ui_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def control(ui_url: str, tenant: str) -> Iterator[httpx.Client]:
    """The control plane, in the test's tenant."""
    with httpx.Client(base_url=ui_url + "/_emulator", headers={"X-Emulator-Tenant": tenant}, timeout=30) as client:
        yield client
