"""The dashboard tests share the HeyGen tests' emulator (both providers, fast webhook retries) and receiver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.heygen.conftest import heygen_app as heygen_app
from tests.heygen.conftest import heygen_url as heygen_url
from tests.heygen.conftest import receiver as receiver


@pytest.fixture
def ui_url(heygen_url: str) -> str:
    return heygen_url


@pytest.fixture
def boson(heygen_url: str, tenant: str) -> Iterator[httpx.Client]:
    """A Boson client in the test's tenant (paths start with /v1)."""
    with httpx.Client(base_url=heygen_url, timeout=30,
                      headers={"Authorization": "Bearer bai-test", "X-Emulator-Tenant": tenant}) as client:
        yield client


@pytest.fixture
def control(heygen_url: str, tenant: str) -> Iterator[httpx.Client]:
    """The control plane, in the test's tenant (paths relative to /_emulator)."""
    with httpx.Client(base_url=heygen_url + "/_emulator", timeout=30, headers={"X-Emulator-Tenant": tenant}) as client:
        yield client
