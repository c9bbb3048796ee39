"""Core tier: POST /v1/audio/speech (billable on a real service, so it follows the creation budget rule)."""

from __future__ import annotations

import io
import wave

import pytest

from contracts.client import Client
from contracts.evidence import Evidence
from contracts.fixtures import require_create
from contracts.target import Target


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-SPEECH-WAV")
def test_speech_wav(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: POST /v1/audio/speech {input, voice default, response_format wav}.
    Requirement: MUST answer 200 audio/wav that decodes to non-empty audio.
    """
    require_create(target)
    r = client.post(
        "/v1/audio/speech", json={"model": "higgs-tts-3", "input": "Hello there.", "response_format": "wav"}
    )
    ctype = r.headers.get("content-type", "")
    ev.check(
        "BOSON-SPEECH-WAV",
        r.status_code == 200 and ctype.startswith(("audio/wav", "audio/x-wav")),
        f"{r.status_code} {ctype}",
    )
    try:
        with wave.open(io.BytesIO(r.content)) as w:
            frames = w.getnframes()
            ev.check(
                "BOSON-SPEECH-WAV", frames > 0 and w.getsampwidth() == 2, f"{frames} frames at {w.getframerate()} Hz"
            )
    except (wave.Error, EOFError) as exc:
        ev.check("BOSON-SPEECH-WAV", False, f"not a WAV: {exc}")


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-SPEECH-PCM-STREAM")
def test_speech_pcm_stream(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: POST /v1/audio/speech {stream: true, response_format: pcm}, read chunk by chunk.
    Requirement: MUST answer 200 with raw s16le PCM (non-empty, even byte count).
    """
    require_create(target)
    body = {"model": "higgs-tts-3", "input": "Hello there, streaming.", "response_format": "pcm", "stream": True}
    with client.stream("POST", "/v1/audio/speech", json=body) as r:
        chunks = [c for c in r.iter_bytes()]
        status = r.status_code
    data = b"".join(chunks)
    ev.check(
        "BOSON-SPEECH-PCM-STREAM",
        status == 200 and len(data) > 0 and len(data) % 2 == 0,
        f"{status}, {len(data)} bytes in {len(chunks)} chunks",
    )
