from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from mockserver import Settings, create_app
from tests.media import speech_like, wav_bytes
from tests.replay.sessions import REDACT, Transcript, full_session, recording


@pytest.fixture(scope="session")
def video(face_data_uri: str) -> dict[str, Any]:
    """A small Boson render: 1 s of speech, 640x480."""
    speech = "data:audio/wav;base64," + base64.b64encode(wav_bytes(speech_like(1.0))).decode()
    return {"ref_image": face_data_uri, "input": speech, "size": "640x480"}


@pytest.fixture(scope="session")
def full_recording(tmp_path_factory: pytest.TempPathFactory, video: dict[str, Any]) -> tuple[Path, Transcript]:
    """Both providers recorded through the proxy against an (identical) emulator upstream, with known keys."""
    out = tmp_path_factory.mktemp("full") / "cassettes"
    with recording(create_app(Settings(seed=7)), out, redact=REDACT) as proxy:
        transcript = full_session(proxy, video)
    return out, transcript
