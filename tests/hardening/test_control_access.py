"""/_emulator answers loopback clients; others need --control-token (or --control-any-host)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mockserver.core.settings import Settings
from mockserver.http.app import create_app

REMOTE = ("10.20.30.40", 50000)


def _get(settings: Settings, client: tuple[str, int], headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings), client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            return await http.get("/_emulator/health", headers=headers or {})

    return asyncio.run(go())


def test_loopback_is_always_allowed() -> None:
    assert _get(Settings(), ("127.0.0.1", 1)).status_code == 200
    assert _get(Settings(), ("::1", 1)).status_code == 200
    assert _get(Settings(control_token="s3cret"), ("127.0.0.1", 1)).status_code == 200


def test_remote_is_refused_without_token_or_any_host() -> None:
    response = _get(Settings(), REMOTE)
    assert response.status_code == 403
    assert "loopback" in response.json()["error"]["message"]
    assert _get(Settings(), ("::ffff:10.0.0.1", 1)).status_code == 403


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer s3cret"}, {"X-Emulator-Control-Token": "s3cret"},
])
def test_remote_with_the_token_is_allowed(headers: dict[str, str]) -> None:
    assert _get(Settings(control_token="s3cret"), REMOTE, headers).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"X-Emulator-Control-Token": "s3cre"}])
def test_remote_with_a_wrong_token_is_refused(headers: dict[str, str]) -> None:
    response = _get(Settings(control_token="s3cret"), REMOTE, headers)
    assert response.status_code == 403
    assert "s3cret" not in response.text


def test_any_host_without_token_still_works() -> None:
    assert _get(Settings(control_any_host=True), REMOTE).status_code == 200


def test_keys_are_masked_in_the_journal() -> None:
    async def go() -> dict[str, object]:
        transport = httpx.ASGITransport(app=create_app(Settings(api_keys=("bai-secret-key",))))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            await http.get("/v1/audio/voices", headers={"Authorization": "Bearer bai-secret-key"})
            await http.get("/v1/audio/voices", headers={"Authorization": "Bearer wrong-key-zzz"})
            await http.get("/v2/voices", headers={"X-Api-Key": "hg-secret-key"})
            return (await http.get("/_emulator/journal")).json()  # type: ignore[no-any-return]

    journal = asyncio.run(go())
    text = str(journal)
    assert "bai-secret-key" not in text and "wrong-key-zzz" not in text and "hg-secret-key" not in text
    assert "***" in text
