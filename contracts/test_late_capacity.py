"""Core tier, run last: saturate the replicas and queue, then judge the 429 (opt-in: loopback or budget)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from contracts.client import Client
from contracts.evidence import Evidence
from contracts.fixtures import b64, video_body
from contracts.target import NotApplicable, Target
from contracts.test_boson_errors import envelope_problem, error_type

BURST = 12


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-CAPACITY-429", "BOSON-ERROR-ENVELOPE")
def test_busy_is_429_with_retry_after(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: BURST concurrent POST /v1/videos with long driving audio.
    Requirement: a refused create MUST be 429 all_replicas_busy with the envelope and an integer Retry-After.
    """
    target.require_budget(BURST)
    from contracts.assets import speech

    body = video_body("640x640", input=b64(speech(8.0).wav))

    def one(_: int) -> httpx.Response:
        target.spend(1)
        return client.post("/v1/videos", json=body)

    with ThreadPoolExecutor(BURST) as pool:
        responses = list(pool.map(one, range(BURST)))
    codes = [r.status_code for r in responses]
    busy = [r for r in responses if r.status_code == 429]
    if not busy:
        if all(c == 200 for c in codes):
            raise NotApplicable(f"{BURST} concurrent creates were all accepted; capacity was not reached")
        ev.check("BOSON-CAPACITY-429", False, f"refused creates did not answer 429: {codes}")
        return
    for r in busy:
        retry = r.headers.get("retry-after", "")
        ev.check("BOSON-CAPACITY-429", retry.isdigit(), f"Retry-After {retry!r}")
        ev.check("BOSON-CAPACITY-429", error_type(r) == "all_replicas_busy", f"type {error_type(r)!r}")
        problem = envelope_problem(r)
        ev.check("BOSON-ERROR-ENVELOPE", problem is None, f"429 body: {problem or 'ok'}")
    ev.check("BOSON-CAPACITY-429", all(c in (200, 429) for c in codes), f"burst answered {codes}")
