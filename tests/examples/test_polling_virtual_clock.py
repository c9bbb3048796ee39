"""Example: poll a render that takes minutes of emulated time, in well under a second."""

import httpx
import pytest


def wait_for_video(client: httpx.Client, video_id: str, on_pending) -> dict:
    """The client code under test: poll until completed or failed."""
    while True:
        video = client.get(f"/videos/{video_id}").json()
        if video["status"] in ("completed", "failed"):
            return video
        on_pending(video)  # in production: time.sleep(5)


@pytest.mark.emulator(clock="frozen", pace=0.01)  # a 2 s clip takes 400 s of emulated time
def test_polling_sees_progress_then_completion(boson_emulator, face_data_uri, speech_data_uri):
    client = boson_emulator.client()
    video = client.post("/videos", json={"ref_image": face_data_uri, "input": speech_data_uri}).json()
    seen = []

    def advance_a_minute(pending: dict) -> None:
        seen.append(pending["status"])
        boson_emulator.clock.advance(60)

    done = wait_for_video(client, video["id"], on_pending=advance_a_minute)
    assert done["status"] == "completed" and done["progress"] == 100
    assert "in_progress" in seen


@pytest.mark.emulator(polls=3)  # or: complete on the 3rd status read, whatever the clock says
def test_polling_by_count(boson_emulator, face_data_uri, speech_data_uri):
    client = boson_emulator.client()
    video = client.post("/videos", json={"ref_image": face_data_uri, "input": speech_data_uri}).json()
    done = wait_for_video(client, video["id"], on_pending=lambda pending: None)
    assert done["status"] == "completed"
    boson_emulator.assert_called("getVideo", times=3)
