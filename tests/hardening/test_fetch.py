"""URL inputs: fetched under --fetch off|local|any, with size, redirect and time caps; refusals name the URL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mockserver.core.settings import Settings
from mockserver.http.app import create_app
from mockserver.http.fetch import MAX_REDIRECTS, FetchError, FetchPolicy, check_url, fetch
from tests.servers import serve

from .corpus import FACE
from .helpers import KEY, audio_uri


def _files() -> Starlette:
    async def face(request: Request) -> Response:
        return Response(FACE, media_type="image/png")

    async def big(request: Request) -> Response:
        return Response(b"\x89PNG" + b"\x00" * (11 * 1024 * 1024), media_type="image/png")

    async def hop(request: Request) -> Response:
        n = int(request.path_params["n"])
        return RedirectResponse(f"/hop/{n + 1}" if n < 10 else "/face.png", status_code=302)

    async def to_metadata(request: Request) -> Response:
        return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)

    async def missing(request: Request) -> Response:
        return Response("no", status_code=404)

    return Starlette(routes=[Route("/face.png", face), Route("/big.png", big), Route("/hop/{n:int}", hop),
                             Route("/to-metadata", to_metadata), Route("/missing.png", missing)])


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    with serve(_files()) as url:
        yield url


def _reason(url: str, policy: FetchPolicy) -> str:
    with pytest.raises(FetchError) as caught:
        asyncio.run(fetch(url, policy))
    assert caught.value.url == url
    return caught.value.reason


def test_policies_and_address_classes() -> None:
    assert "--fetch off" in _reason("http://127.0.0.1:1/a.png", "off")
    assert "only loopback" in _reason("http://10.1.2.3/a.png", "local")
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
                "http://[fe80::1]/a.png", "http://100.100.100.200/", "http://0.0.0.0:80/"):
        with pytest.raises(FetchError) as caught:
            check_url(url, "any")
        assert "never fetched" in caught.value.reason or "not an address" in caught.value.reason, url
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/a", "http:///nohost", "gopher://x"):
        with pytest.raises(FetchError, match="only http"):
            check_url(url, "any")
    check_url("http://127.0.0.1:1/a.png", "local")
    check_url("http://[::1]:1/a.png", "local")


def test_loopback_fetch_and_its_caps(files: str) -> None:
    assert asyncio.run(fetch(f"{files}/face.png", "local")) == FACE
    assert "larger than 10 MB" in _reason(f"{files}/big.png", "local")
    assert f"more than {MAX_REDIRECTS} redirects" in _reason(f"{files}/hop/0", "local")
    assert asyncio.run(fetch(f"{files}/hop/8", "local")) == FACE  # 3 hops: allowed
    assert "never fetched" in _reason(f"{files}/to-metadata", "any")  # the redirect is checked too
    assert "HTTP 404" in _reason(f"{files}/missing.png", "local")
    assert "ConnectError" in _reason("http://127.0.0.1:9/a.png", "local")


@pytest.mark.parametrize("policy", ["off", "local"])
def test_boson_answers_invalid_url_naming_the_field_and_url(files: str, policy: str) -> None:
    app = create_app(Settings(fetch=policy))
    with serve(app) as url, httpx.Client(base_url=url, headers=KEY, timeout=30) as client:
        bad = "http://169.254.169.254/latest/meta-data/" if policy == "local" else f"{files}/face.png"
        response = client.post("/v1/videos", json={"ref_image": bad, "input": audio_uri(0.2)})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["type"] == "invalid_url"
        assert error["message"].startswith("'ref_image': cannot fetch " + bad)
        if policy == "local":
            ok = client.post("/v1/videos", json={"ref_image": f"{files}/face.png", "input": audio_uri(0.2)})
            assert ok.status_code == 200, ok.text
            audio = client.post("/v1/videos", json={"ref_image": f"{files}/face.png", "input": f"{files}/big.png"})
            assert audio.status_code == 400 and "'input': cannot fetch" in audio.json()["error"]["message"]
