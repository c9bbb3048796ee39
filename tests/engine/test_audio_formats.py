"""reference_engine.audio_formats: every speech response format encodes and decodes back."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from reference_engine import SAMPLE_RATE
from reference_engine.audio import decode_audio, probe_audio
from reference_engine.audio_formats import AUDIO_FORMATS, encode_audio, pcm_s16le

SECONDS = 1.2


def signal(seconds: float = SECONDS, freq: float = 330.0) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.6 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def pyav_decode(data: bytes) -> tuple[np.ndarray, int, str]:
    """Decode with plain PyAV (FFmpeg probing the format): mono samples, rate, container name."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        rate = stream.sample_rate
        name = container.format.name
    return np.concatenate(frames).astype(np.float32), rate, name


def has_magic(fmt: str, data: bytes) -> bool:
    if fmt == "mp3":
        return data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    if fmt == "aac":
        return data[0] == 0xFF and data[1] & 0xF6 == 0xF0  # ADTS sync word, layer 00
    magic = {"opus": data[:4] == b"OggS", "wav": data[:4] == b"RIFF" and data[8:12] == b"WAVE"}
    return magic.get(fmt, data[:4] == b"fLaC")


def test_the_format_table() -> None:
    assert AUDIO_FORMATS == {
        "mp3": "audio/mpeg",
        "opus": "audio/ogg",
        "wav": "audio/wav",
        "aac": "audio/aac",
        "flac": "audio/flac",
        "pcm": "audio/pcm",
    }


@pytest.mark.parametrize(
    ("fmt", "container", "rate", "slack"),
    [
        ("mp3", "mp3", 24_000, 0.06),
        ("opus", "ogg", 48_000, 0.03),
        ("wav", "wav", 24_000, 0.0),
        ("aac", "aac", 24_000, 0.13),
        ("flac", "flac", 24_000, 0.0),
    ],
)
def test_each_format_round_trips(fmt: str, container: str, rate: int, slack: float) -> None:
    data = encode_audio(signal(), fmt)
    assert has_magic(fmt, data), data[:12]
    samples, got_rate, got_container = pyav_decode(data)
    assert (got_rate, got_container) == (rate, container)
    seconds = samples.shape[0] / rate
    assert SECONDS - 0.001 <= seconds <= SECONDS + slack + 0.001
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * rate / samples.shape[0] - 330.0) < 3.0
    # ... and the engine's own decoder takes it back as well.
    back = decode_audio(data)
    assert abs(back.shape[0] / SAMPLE_RATE - SECONDS) <= slack + 0.001
    assert 0.35 < float(np.sqrt(np.mean(back[2400:-2400] ** 2))) < 0.5


def test_wav_is_plain_s16le_24k_mono() -> None:
    data = encode_audio(signal(), "wav")
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE)
        assert w.getnframes() == round(SECONDS * SAMPLE_RATE)
    assert probe_audio(data).codec == "pcm_s16le"


def test_pcm_is_raw_headerless_s16le() -> None:
    x = signal()
    data = encode_audio(x, "pcm")
    assert data == pcm_s16le(x)
    assert len(data) == 2 * x.shape[0]
    back = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32767
    assert np.max(np.abs(back - x)) < 1e-4


def test_pcm_clips_instead_of_wrapping() -> None:
    values = np.frombuffer(pcm_s16le(np.array([0.0, 1.5, -2.0, 0.5, np.nan], np.float32)), dtype="<i2")
    assert values.tolist() == [0, 32767, -32767, 16384, 0]


def test_unknown_format_and_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown audio format"):
        encode_audio(signal(), "ogg")
    with pytest.raises(ValueError, match="mono"):
        encode_audio(np.zeros((2, 100), np.float32), "wav")
