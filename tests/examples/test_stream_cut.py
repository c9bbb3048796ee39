"""Example: the live fMP4 stream breaks mid-way; your client falls back to downloading the file."""

import time

import httpx
import pytest


def fetch_video(client: httpx.Client, body: dict) -> bytes:
    """The client code under test: stream; if the stream breaks, poll and download instead."""
    received = b""
    with client.stream("POST", "/videos/stream", json=body) as response:
        video_id = response.headers["X-Video-Id"]
        try:
            for chunk in response.iter_bytes():
                received += chunk
            return received
        except httpx.RemoteProtocolError:
            pass
    while client.get(f"/videos/{video_id}").json()["status"] != "completed":
        time.sleep(0.05)  # a poll loop that never sleeps would fill the journal (1,000 entries) in a second
    return client.get(f"/videos/{video_id}/content").content


@pytest.mark.emulator(faults=[{"operation_id": "streamVideo", "network": {"kind": "cut", "fragments": 2}}])
def test_falls_back_to_download_when_the_stream_is_cut(boson_emulator, face_data_uri, speech_data_uri):
    client = boson_emulator.client()
    video = fetch_video(client, {"ref_image": face_data_uri, "input": speech_data_uri})
    assert video[4:8] == b"ftyp"
    boson_emulator.assert_called("streamVideo", times=1, where={"outcome": "cut"})
    boson_emulator.assert_called("downloadVideoContent", times=1, where={"status": 200})
