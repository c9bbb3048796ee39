from __future__ import annotations

import base64
import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest

from mockserver.core.settings import Settings
from mockserver.http.app import create_app
from tests.media import encode_image, make_portrait, speech_like, wav_bytes
from tests.servers import serve


@pytest.fixture(scope="session")
def boson_url() -> Iterator[str]:
    """One emulator per test session (per xdist worker), default settings."""
    with serve(create_app(Settings())) as url:
        yield url


@pytest.fixture
def tenant(request: pytest.FixtureRequest) -> str:
    return "t-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]


@pytest.fixture
def client(boson_url: str, tenant: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer bai-test", "X-Emulator-Tenant": tenant}
    with httpx.Client(base_url=boson_url, headers=headers, timeout=30) as c:
        yield c


@pytest.fixture
def emulator_factory() -> Callable[..., AbstractContextManager[str]]:
    """Start an emulator with non-default settings: `with emulator_factory(replicas=1) as url:`."""

    def start(**kwargs: object) -> AbstractContextManager[str]:
        return serve(create_app(Settings(**kwargs)))  # type: ignore[arg-type]

    return start


@pytest.fixture(scope="session")
def face_png() -> bytes:
    return encode_image(make_portrait(480, 480).rgb, "PNG")


@pytest.fixture(scope="session")
def face_data_uri(face_png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(face_png).decode()


@pytest.fixture(scope="session")
def speech_wav() -> bytes:
    return wav_bytes(speech_like(2.0, silences=[(0.8, 1.3)]))


@pytest.fixture(scope="session")
def speech_data_uri(speech_wav: bytes) -> str:
    return "data:audio/wav;base64," + base64.b64encode(speech_wav).decode()


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    """Finalize what a test left behind before the next one starts: an unclosed socket or file then
    fails (ResourceWarning is an error) the test that leaked it, not a later, innocent one."""
    yield
    gc.collect()
