"""Example: a HeyGen video ends and its callback_url receives the event."""

import json

import httpx


def order_video(client: httpx.Client, callback_url: str) -> str:
    """The client code under test: ask HeyGen for a video, to be told when it is done."""
    body = {
        "video_inputs": [{"voice": {"type": "silence", "duration": 1.0},
                          "background": {"type": "color", "value": "#ffffff"}}],
        "dimension": {"width": 320, "height": 180},
        "callback_id": "order-42",
        "callback_url": callback_url,
    }
    response = client.post("/v2/video/generate", json=body)
    response.raise_for_status()
    return response.json()["data"]["video_id"]


def test_callback_receives_the_success_event(heygen_emulator):
    client = heygen_emulator.client()
    video_id = order_video(client, heygen_emulator.webhooks.url_for("heygen/done"))
    delivery = heygen_emulator.webhooks.wait(1, timeout=30)[0]
    event = json.loads(delivery.body)
    assert delivery.method == "POST" and delivery.path.endswith("/heygen/done")
    assert event["event_type"] == "avatar_video.success"
    assert event["event_data"]["video_id"] == video_id
    assert event["event_data"]["callback_id"] == "order-42"
