"""Webhooks: registration (OPTIONS check), signed success/fail events, callback_url, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
from starlette.applications import Starlette

from mockserver.providers.heygen.state import state_of
from tests.heygen.helpers import SMALL, Receiver, generate, silence_scene, status, wait_done


def add(client: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, str]:
    response = client.post("/v1/webhook/endpoint.add", json={"url": url, "events": events})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 100
    endpoint: dict[str, str] = body["data"]
    return endpoint


def test_success_event_is_signed_and_callback_url_gets_it_too(hg: httpx.Client, receiver: Receiver,
                                                             heygen_app: Starlette, tenant: str) -> None:  # fmt: skip
    endpoint = add(hg, f"{receiver.url}/hook", ["avatar_video.success", "avatar_video.fail"])
    assert receiver.hits[0].method == "OPTIONS"
    assert {"endpoint_id", "url", "secret", "status", "events", "username", "created_at"} <= set(endpoint)
    listed = hg.get("/v1/webhook/endpoint.list").json()["data"]
    assert [e["endpoint_id"] for e in listed] == [endpoint["endpoint_id"]]
    body = {"video_inputs": [silence_scene(1.0)], "dimension": SMALL, "callback_id": "order-42",
            "callback_url": f"{receiver.url}/hook"}  # fmt: skip
    video_id = generate(hg, body)
    wait_done(hg, video_id)
    posts = receiver.wait_posts(2)
    signed = [p for p in posts if "signature" in p.headers]
    assert len(signed) == 1 and len(posts) == 2  # the endpoint's copy is signed, the callback_url's is not
    hit = signed[0]
    expected = hmac.new(endpoint["secret"].encode(), hit.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(hit.headers["signature"], expected)
    for post in posts:
        event = json.loads(post.body)
        assert event["event_type"] == "avatar_video.success"
        data = event["event_data"]
        assert data["video_id"] == video_id and data["callback_id"] == "order-42"
        assert httpx.get(data["url"]).headers["content-type"] == "video/mp4"
    deliveries = state_of(heygen_app.state.emulator.tenants.get(tenant)).deliveries
    assert {(d.target, d.attempt, d.ok) for d in deliveries} == {
        (endpoint["endpoint_id"], 1, True),
        ("callback_url", 1, True),
    }
    deleted = hg.delete("/v1/webhook/endpoint.delete", params={"endpoint_id": endpoint["endpoint_id"]})
    assert deleted.status_code == 200 and hg.get("/v1/webhook/endpoint.list").json()["data"] == []


def test_failed_deliveries_are_retried_until_the_third_attempt(hg: httpx.Client, receiver: Receiver,
                                                               heygen_app: Starlette, tenant: str) -> None:  # fmt: skip
    receiver.fail_first = 2
    endpoint = add(hg, f"{receiver.url}/hook", ["avatar_video.success"])
    video_id = generate(hg, {"video_inputs": [silence_scene(1.0)], "dimension": SMALL})
    wait_done(hg, video_id)
    posts = receiver.wait_posts(3)
    assert len({p.body for p in posts}) == 1  # the same event each time
    state = state_of(heygen_app.state.emulator.tenants.get(tenant))
    for _ in range(500):
        if len(state.deliveries) >= 3:
            break
        time.sleep(0.02)
    attempts = [(d.attempt, d.status_code) for d in state.deliveries if d.target == endpoint["endpoint_id"]]
    assert attempts == [(1, 500), (2, 500), (3, 200)]


def test_fail_event_and_subscriptions(hg: httpx.Client, receiver: Receiver, heygen_url: str) -> None:
    add(hg, f"{receiver.url}/hook", ["avatar_video.fail"])
    ok = generate(hg, {"video_inputs": [silence_scene(1.0)], "dimension": SMALL})
    bad = generate(hg, {"video_inputs": [{"voice": {"type": "audio", "audio_url": f"{heygen_url}/missing.wav"}}],
                        "callback_id": "c-9"})  # fmt: skip
    wait_done(hg, ok)
    assert status(hg, bad)["data"]["status"] in ("waiting", "pending", "processing", "failed")
    wait_done(hg, bad)
    event = json.loads(receiver.wait_posts(1)[0].body)
    assert event["event_type"] == "avatar_video.fail"
    assert event["event_data"]["video_id"] == bad and event["event_data"]["callback_id"] == "c-9"
    assert "missing.wav" in event["event_data"]["msg"]
    assert len(receiver.posts()) == 1  # the success of `ok` went nowhere: not subscribed


def test_endpoint_add_refuses_urls_that_do_not_answer(hg: httpx.Client, receiver: Receiver) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port with nothing listening
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    for url in (dead, f"{receiver.url}/not-a-hook", "http://169.254.169.254/latest"):
        response = hg.post("/v1/webhook/endpoint.add", json={"url": url})
        assert response.status_code == 400, response.text
        assert type(response.json()["code"]) is int and response.json()["data"] is None
    events = hg.get("/v1/webhook/webhook.list").json()
    assert "avatar_video.success" in events["data"] and events["code"] == 100
    assert hg.delete("/v1/webhook/endpoint.delete", params={"endpoint_id": "nope"}).status_code == 404
