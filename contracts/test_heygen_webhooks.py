"""Core tier, HeyGen webhooks (loopback targets only: the receiver listens on 127.0.0.1 in this process)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from contracts.client import Client
from contracts.evidence import Evidence
from contracts.heygen import avatar, body, json_of, silence_scene, v1_ok_problem
from contracts.heygen_jobs import HgJobs
from contracts.receiver import Hit, Receiver, closed_port_url, receiver
from contracts.target import NotApplicable, Target

EVENTS = ["avatar_video.success", "avatar_video.fail"]
DELIVERY_WAIT_S = 30.0


def _event(hit: Hit) -> dict[str, Any]:
    try:
        value = json.loads(hit.body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _for_video(rec: Receiver, path: str, video_id: str | None) -> list[Hit]:
    return [h for h in rec.requests("POST", path) if (_event(h).get("event_data") or {}).get("video_id") == video_id]


@pytest.mark.tier("core")
@pytest.mark.clause(
    "HEYGEN-WEBHOOK-ENDPOINT-ADD",
    "HEYGEN-WEBHOOK-SUCCESS-EVENT",
    "HEYGEN-WEBHOOK-FAIL-EVENT",
    "HEYGEN-WEBHOOK-SIGNATURE",
    "HEYGEN-WEBHOOK-CALLBACK-URL",
)
def test_webhooks(client: Client, target: Target, hg_jobs: HgJobs, ev: Evidence) -> None:
    """Operation: POST /v1/webhook/endpoint.add for a receiver on 127.0.0.1 (and for a closed port); generate a
    video that completes (with callback_url) and one that fails; read what the receiver got.
    Requirement: SHOULD probe with OPTIONS, return a secret, refuse a dead URL, POST avatar_video.success and
    avatar_video.fail events signed with the secret (Signature: hex HMAC-SHA256 of the raw body), and also POST
    the event to callback_url.
    """
    if not target.loopback:
        raise NotApplicable("webhooks are checked on loopback targets only (the receiver runs on 127.0.0.1)")
    target.require_budget(2)
    catalog = hg_jobs.catalog
    with receiver() as rec:
        dead = client.post("/v1/webhook/endpoint.add", json={"url": closed_port_url(), "events": EVENTS})
        ev.check("HEYGEN-WEBHOOK-ENDPOINT-ADD", 400 <= dead.status_code < 500, f"closed port: {dead.status_code}")
        added = client.post("/v1/webhook/endpoint.add", json={"url": f"{rec.url}/hook", "events": EVENTS})
        problem = v1_ok_problem(added)
        data = (json_of(added) or {}).get("data") if problem is None else None
        secret = data.get("secret") if isinstance(data, dict) else None
        endpoint_id = data.get("endpoint_id") if isinstance(data, dict) else None
        options = rec.requests("OPTIONS", "/hook")
        ev.check(
            "HEYGEN-WEBHOOK-ENDPOINT-ADD",
            isinstance(secret, str) and bool(secret) and isinstance(endpoint_id, str) and bool(options),
            f"endpoint.add: {problem or 'ok'}; endpoint_id {endpoint_id!r}, secret given: {bool(secret)}, "
            f"OPTIONS probes seen: {len(options)}",
        )
        if not isinstance(secret, str) or not isinstance(endpoint_id, str):
            raise AssertionError(f"no endpoint to deliver to: {added.status_code} {added.text[:200]}")
        try:
            _deliveries(client, hg_jobs, rec, secret, ev, catalog)
        finally:
            client.request("DELETE", "/v1/webhook/endpoint.delete", params={"endpoint_id": endpoint_id})


def _deliveries(client: Client, hg_jobs: HgJobs, rec: Receiver, secret: str, ev: Evidence, catalog: Any) -> None:
    ok_run = hg_jobs.start(
        body(catalog, silence_scene(catalog, 1.0), callback_id="conformance-hook-ok", callback_url=f"{rec.url}/cb")
    )
    bad_scene = {"character": avatar(catalog), "voice": {"type": "audio", "audio_url": f"{rec.url}/missing.mp3"}}
    bad_run = hg_jobs.start(body(catalog, bad_scene, callback_id="conformance-hook-fail"))
    hg_jobs.poll(ok_run)
    hg_jobs.poll(bad_run)
    rec.wait(
        lambda: bool(
            _for_video(rec, "/hook", ok_run.video_id)
            and _for_video(rec, "/hook", bad_run.video_id)
            and _for_video(rec, "/cb", ok_run.video_id)
        ),
        DELIVERY_WAIT_S,
    )
    success = _for_video(rec, "/hook", ok_run.video_id)
    fail = _for_video(rec, "/hook", bad_run.video_id)
    callback = _for_video(rec, "/cb", ok_run.video_id)
    _judge_event(ev, "HEYGEN-WEBHOOK-SUCCESS-EVENT", success, ok_run.video_id, ok_run.status,
                 event_type="avatar_video.success", text_field="url", callback_id="conformance-hook-ok")
    _judge_event(ev, "HEYGEN-WEBHOOK-FAIL-EVENT", fail, bad_run.video_id, bad_run.status,
                 event_type="avatar_video.fail", text_field="msg", callback_id="conformance-hook-fail")
    for hit in success + fail:
        got = hit.headers.get("signature", "")
        want = hmac.new(secret.encode(), hit.body, hashlib.sha256).hexdigest()
        same = hmac.compare_digest(got.lower(), want)
        shown = "matches" if same else f"{got[:16]!r}... differs from the HMAC of the body"
        ev.check("HEYGEN-WEBHOOK-SIGNATURE", same, f"{_event(hit).get('event_type')}: Signature {shown}")
    if not success + fail:
        ev.check("HEYGEN-WEBHOOK-SIGNATURE", False, "no endpoint delivery to verify")
    events = [_event(h).get("event_type") for h in callback]
    ev.check(
        "HEYGEN-WEBHOOK-CALLBACK-URL",
        "avatar_video.success" in events,
        f"callback_url received {events} for {ok_run.video_id}",
    )


def _judge_event(
    ev: Evidence, clause: str, hits: list[Hit], video_id: str | None, status: str | None, *,
    event_type: str, text_field: str, callback_id: str,
) -> None:
    """Each delivery for the video is `event_type` with a string `text_field` and the echoed callback_id."""
    if not hits:
        ev.check(clause, False, f"no delivery for {video_id} (it ended {status})")
        return
    for hit in hits:
        event = _event(hit)
        data = event.get("event_data") or {}
        ok = (
            event.get("event_type") == event_type
            and isinstance(data.get(text_field), str)
            and data.get("callback_id") == callback_id
        )
        ev.check(clause, ok, f"{hit.body[:200]!r}")
