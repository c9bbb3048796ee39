from __future__ import annotations

import io

import av
import httpx
import numpy as np
import pytest

FORMATS = {"mp3": "audio/mpeg", "opus": "audio/ogg", "wav": "audio/wav", "aac": "audio/aac", "flac": "audio/flac"}


def decoded_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_speech_formats_decode(client: httpx.Client, fmt: str) -> None:
    response = client.post("/v1/audio/speech", json={"input": "Hello there. How are you?", "response_format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FORMATS[fmt]
    assert 0.8 < decoded_seconds(response.content) < 6


def test_pcm_is_24khz_mono_s16le_and_streams(client: httpx.Client) -> None:
    text = "One sentence here. Another sentence there. And a third one to finish."
    whole = client.post("/v1/audio/speech", json={"input": text, "response_format": "pcm", "voice": "jake"})
    assert whole.headers["content-type"] == "audio/pcm"
    samples = np.frombuffer(whole.content, dtype="<i2")
    assert len(whole.content) % 2 == 0 and 2 * 24_000 < samples.size < 12 * 24_000
    chunks = []
    with client.stream("POST", "/v1/audio/speech",
                       json={"input": text, "response_format": "pcm", "voice": "jake", "stream": True}) as r:
        assert r.status_code == 200
        chunks = list(r.iter_raw())
    assert len(chunks) > 1
    assert b"".join(chunks) == whole.content


def test_speech_errors(client: httpx.Client) -> None:
    long = client.post("/v1/audio/speech", json={"input": "x" * 5001})
    assert long.status_code == 400 and long.json()["error"]["type"] == "input_too_long"
    stream_mp3 = client.post("/v1/audio/speech", json={"input": "hi", "stream": True, "response_format": "mp3"})
    assert stream_mp3.status_code == 400 and "pcm" in stream_mp3.json()["error"]["message"]
    both = client.post("/v1/audio/speech", json={"input": "hi", "voice": "chloe", "ref_text": "x"})
    assert both.status_code == 400 and "mutually exclusive" in both.json()["error"]["message"]


@pytest.mark.parametrize("text", ["   ", "\n\t", "\u3000 \u2003"])
def test_whitespace_only_input_is_a_400_not_a_500(client: httpx.Client, text: str) -> None:
    cases = [
        client.post("/v1/audio/speech", json={"input": text, "response_format": "wav"}),
        client.post("/v1/audio/speech", files={"input": (None, text), "response_format": (None, "wav")}),
    ]
    for response in cases:
        assert response.status_code == 400, response.text
        assert response.json() == {
            "error": {"message": "'input' is empty or only whitespace: send some text to speak.", "type": "empty_input"}
        }


def test_voices_and_cloning(client: httpx.Client, speech_wav: bytes) -> None:
    voices = client.get("/v1/audio/voices").json()
    assert voices["object"] == "list"
    assert {v["voice"] for v in voices["data"]} == {"default", "chloe", "eleanor", "jake", "marcus", "nora", "oliver"}
    cloned = client.post("/v1/audio/speech", files={"ref_audio": ("ref.wav", speech_wav, "audio/wav")},
                         data={"input": "Cloned voice speaking.", "response_format": "wav"})
    assert cloned.status_code == 200, cloned.text
    assert decoded_seconds(cloned.content) > 0.5
