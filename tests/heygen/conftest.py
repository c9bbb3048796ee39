from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mockserver.core.settings import Settings
from mockserver.http.app import create_app
from tests.heygen.helpers import Receiver
from tests.servers import serve

FAST_BACKOFF = (0.05, 0.05, 0.05)


@pytest.fixture(scope="session")
def heygen_app() -> Starlette:
    return create_app(Settings(heygen_webhook_backoff=FAST_BACKOFF))


@pytest.fixture(scope="session")
def heygen_url(heygen_app: Starlette) -> Iterator[str]:
    with serve(heygen_app) as url:
        yield url


@pytest.fixture
def hg(heygen_url: str, tenant: str) -> Iterator[httpx.Client]:
    headers = {"X-Api-Key": "hg-test-key", "X-Emulator-Tenant": tenant}
    with httpx.Client(base_url=heygen_url, headers=headers, timeout=30) as c:
        yield c


@pytest.fixture
def heygen_factory() -> Callable[..., AbstractContextManager[tuple[str, Starlette]]]:
    """Start an emulator with other settings: `with heygen_factory(heygen_concurrency=1) as (url, app):`."""

    @contextmanager
    def start(**kwargs: Any) -> Iterator[tuple[str, Starlette]]:
        kwargs.setdefault("heygen_webhook_backoff", FAST_BACKOFF)
        app = create_app(Settings(**kwargs))
        with serve(app) as url:
            yield url, app

    return start


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback: records every request; `fail_first` makes POSTs answer 500."""
    rec = Receiver()
    with serve(rec.app()) as url:
        rec.url = url
        yield rec
