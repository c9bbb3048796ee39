"""The official openai SDK, pointed at the emulator, works through the calls Boson users make."""

from __future__ import annotations

import io
import warnings
from typing import Any

import av
import httpx
import openai
import pytest
from openai.types import Video

from tests.media import inspect_mp4


@pytest.fixture
def sdk(boson_url: str, tenant: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{boson_url}/v1", api_key="bai-test", default_headers={"X-Emulator-Tenant": tenant}, max_retries=0
    )


def test_create_poll_download(sdk: openai.OpenAI, face_data_uri: str, speech_data_uri: str) -> None:
    # Boson's create body is not the SDK's (prompt/seconds), so clients post it raw and parse a Video.
    created = sdk.post(
        "/videos", body={"ref_image": face_data_uri, "input": speech_data_uri, "size": "640x640"}, cast_to=Video
    )
    assert created.status == "queued"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        done = sdk.videos.poll(created.id, poll_interval_ms=50)
        assert done.status == "completed" and done.progress == 100
        again = sdk.videos.retrieve(created.id)
        content = sdk.videos.download_content(created.id, variant="video")
    assert again.id == created.id and again.size == "640x640"
    facts = inspect_mp4(content.read())
    assert (facts.width, facts.height) == (640, 640) and abs(len(facts.frames) - 50) <= 1


def test_errors_map_to_sdk_exceptions(sdk: openai.OpenAI, emulator_factory: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(openai.NotFoundError) as missing:
            sdk.videos.retrieve("video_000000000000000000000000")
    assert missing.value.type == "not_found"
    with pytest.raises(openai.BadRequestError) as too_long:
        sdk.audio.speech.create(model="higgs-tts-3", voice="default", input="x" * 5001)
    assert too_long.value.type == "input_too_long"
    with emulator_factory(api_keys=("bai-good",)) as url:
        bad_key = openai.OpenAI(base_url=f"{url}/v1", api_key="bai-bad", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as denied:
            bad_key.audio.speech.create(model="higgs-tts-3", voice="default", input="hi")
    assert denied.value.type == "invalid_api_key"


@pytest.mark.parametrize("fmt", ["mp3", "opus", "wav", "aac", "flac", "pcm"])
def test_speech_every_format(sdk: openai.OpenAI, fmt: Any) -> None:
    audio = sdk.audio.speech.create(model="higgs-tts-3", voice="default", input="Testing one two.", response_format=fmt)
    data = audio.read()
    if fmt == "pcm":
        assert len(data) % 2 == 0 and len(data) > 24_000
        return
    with av.open(io.BytesIO(data)) as container:
        assert sum(f.samples for f in container.decode(audio=0)) > 0


def test_sdk_retries_on_429_with_retry_after(emulator_factory: Any, face_data_uri: str, speech_data_uri: str) -> None:
    body = {"ref_image": face_data_uri, "input": speech_data_uri}
    with emulator_factory(replicas=1, queue=0, pace="realtime") as url:
        httpx.post(f"{url}/v1/videos", json=body, headers={"Authorization": "Bearer k"})
        sdk = openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0)
        with pytest.raises(openai.RateLimitError) as busy:
            sdk.post("/videos", body=body, cast_to=Video)
        assert busy.value.type == "all_replicas_busy"
        assert int(busy.value.response.headers["retry-after"]) >= 1
