"""Example: your client retries when Boson answers 429 all_replicas_busy."""

import time

import httpx
import pytest


def create_video_with_retry(client: httpx.Client, body: dict, attempts: int = 5) -> dict:
    """The client code under test: honour Retry-After on 429, give up after `attempts`."""
    for _ in range(attempts):
        response = client.post("/videos", json=body)
        if response.status_code != 429:
            response.raise_for_status()
            return response.json()
        time.sleep(float(response.headers["Retry-After"]) / 100)  # scaled down for the test
    raise RuntimeError("still busy")


@pytest.mark.emulator(faults=[{"operation_id": "createVideo", "error": 429, "times": 2}])
def test_retries_until_a_replica_is_free(boson_emulator, face_data_uri, speech_data_uri):
    client = boson_emulator.client()
    video = create_video_with_retry(client, {"ref_image": face_data_uri, "input": speech_data_uri})
    assert video["status"] == "queued"
    boson_emulator.assert_called("createVideo", times=2, where={"status": 429})
    boson_emulator.assert_called("createVideo", times=1, where={"status": 200})
