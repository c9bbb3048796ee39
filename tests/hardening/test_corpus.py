"""Every entry of the bad-input corpus gets a 4xx in Boson's envelope with a message saying why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from mockserver.core.settings import Settings
from mockserver.http.app import create_app
from tests.servers import serve

from .corpus import Bad, corpus, heygen_corpus
from .helpers import KEY

CORPUS = corpus()
HEYGEN = heygen_corpus()
HEYGEN_KEY = {"X-Api-Key": "hg-hardening"}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with serve(create_app(Settings())) as url, httpx.Client(base_url=url, headers=KEY, timeout=30) as c:
        yield c


def send(client: httpx.Client, bad: Bad, auth: dict[str, str] | None = None) -> httpx.Response:
    headers = {**(auth or {}), **bad.headers}
    if bad.content is not None:
        return client.post(bad.path, content=bad.content, headers=headers)
    return client.post(bad.path, json=bad.json, headers=headers)


@pytest.mark.parametrize("bad", CORPUS, ids=[bad.name for bad in CORPUS])
def test_bad_input_is_refused_with_a_reason(client: httpx.Client, bad: Bad) -> None:
    response = send(client, bad)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.status_code == bad.status, response.text[:300]
    error = response.json()["error"]
    assert set(error) == {"message", "type"}, error
    assert bad.expect.lower() in error["message"].lower(), error["message"]


@pytest.mark.parametrize("bad", HEYGEN, ids=[bad.name for bad in HEYGEN])
def test_heygen_bad_input_is_refused_in_its_envelope(client: httpx.Client, bad: Bad) -> None:
    with httpx.Client(base_url=str(client.base_url), headers=HEYGEN_KEY, timeout=30) as heygen:
        response = send(heygen, bad)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    message = body["message"] if bad.path.startswith("/v1/") else body["error"]["message"]
    assert isinstance(body.get("code") if bad.path.startswith("/v1/") else body["error"]["code"], int | str)
    assert bad.expect.lower() in message.lower(), message


def test_corpus_report(client: httpx.Client) -> None:
    statuses: Counter[int] = Counter(send(client, bad).status_code for bad in CORPUS)
    statuses.update(send(client, bad, HEYGEN_KEY).status_code for bad in HEYGEN)
    print(f"\nbad-input corpus: {len(CORPUS) + len(HEYGEN)} inputs, statuses {dict(sorted(statuses.items()))}, "
          f"{sum(n for s, n in statuses.items() if s >= 500)} responses >= 500")
    assert len(CORPUS) >= 40 and not any(status >= 500 for status in statuses)
