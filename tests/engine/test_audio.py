"""reference_engine.audio: probing, decoding and loudness of real media made with PyAV."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest
from PIL import Image

from reference_engine import SAMPLE_RATE
from reference_engine.audio import AudioInfo, decode_audio, loudness_envelope, probe_audio
from reference_engine.errors import MediaError

TONE_HZ = 440.0
SECONDS = 1.5

# name -> (muxer, encoder, source rate, channels, allowed extra output samples at 24 kHz)
FORMATS: dict[str, tuple[str, str, int, int, int]] = {
    "wav": ("wav", "pcm_s16le", 44_100, 2, 2),
    "mp3": ("mp3", "libmp3lame", 44_100, 2, 2),
    "flac": ("flac", "flac", 24_000, 1, 2),
    "opus": ("ogg", "libopus", 48_000, 1, 2),
    "aac_adts": ("adts", "aac", 24_000, 1, 2400),  # ADTS keeps the encoder priming (perf-limits §3)
    "aac_m4a": ("mp4", "aac", 44_100, 2, 1200),  # up to one frame of padding
}


def tone(seconds: float, rate: int, channels: int, freq: float = TONE_HZ) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    mono = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(mono[None, :], channels, axis=0)


def make_file(name: str, seconds: float = SECONDS, freq: float = TONE_HZ) -> bytes:
    """Encode a tone with PyAV in the given test format."""
    muxer, encoder, rate, channels, _ = FORMATS[name]
    layout = "mono" if channels == 1 else "stereo"
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=muxer) as container:
        stream = container.add_stream(encoder, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(tone(seconds, rate, channels, freq), format="fltp", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def wav_file(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.shape[0])))
    return float(np.argmax(spectrum) * SAMPLE_RATE / samples.shape[0])


@pytest.mark.parametrize("name", list(FORMATS))
def test_decode_gives_the_tone_at_24khz_mono(name: str) -> None:
    samples = decode_audio(make_file(name))
    assert samples.dtype == np.float32 and samples.ndim == 1
    expected = round(SECONDS * SAMPLE_RATE)
    assert expected <= samples.shape[0] + 2 <= expected + FORMATS[name][4] + 4
    assert abs(dominant_hz(samples) - TONE_HZ) < 3.0
    middle = samples[SAMPLE_RATE // 4 : -SAMPLE_RATE // 4]
    assert 0.3 < float(np.sqrt(np.mean(middle**2))) < 0.45  # a 0.5-peak sine, stereo averaged to mono


@pytest.mark.parametrize(
    ("name", "codec", "container", "rate", "channels"),
    [
        ("wav", "pcm_s16le", "wav", 44_100, 2),
        ("mp3", "mp3", "mp3", 44_100, 2),
        ("flac", "flac", "flac", 24_000, 1),
        ("opus", "opus", "ogg", 48_000, 1),
        ("aac_adts", "aac", "adts", 24_000, 1),
        ("aac_m4a", "aac", "mp4", 44_100, 2),
    ],
)
def test_probe_reads_the_header(name: str, codec: str, container: str, rate: int, channels: int) -> None:
    info = probe_audio(make_file(name, seconds=3.0))
    assert isinstance(info, AudioInfo)
    assert (info.codec, info.container, info.sample_rate, info.channels) == (codec, container, rate, channels)
    assert info.duration is not None
    tolerance = 0.3 if name == "aac_adts" else 0.06  # ADTS durations are bitrate estimates
    assert abs(info.duration - 3.0) < tolerance


@pytest.mark.parametrize("name", ["wav", "mp3", "aac_m4a"])
def test_decode_shows_the_header_to_accept_before_decoding(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_file(name, seconds=3.0)
    seen: list[AudioInfo] = []
    assert decode_audio(data, accept=seen.append).shape[0] > 2 * SAMPLE_RATE
    assert seen == [probe_audio(data)]

    class Refused(Exception):
        pass

    def refuse(info: AudioInfo) -> None:
        raise Refused(info.codec)

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded after accept refused")

    monkeypatch.setattr(av, "AudioResampler", no_decoding)
    with pytest.raises(Refused):
        decode_audio(data, accept=refuse)


def test_probe_does_not_decode_the_payload() -> None:
    data = bytearray(make_file("flac", seconds=3.0))
    rng = np.random.default_rng(1)
    start = len(data) // 3
    data[start:] = rng.integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    info = probe_audio(bytes(data))  # the header is intact: the probe reports the full 3 s ...
    assert info.duration == pytest.approx(3.0, abs=0.01)
    try:  # ... although only the first third can actually be decoded
        decoded = decode_audio(bytes(data)).shape[0]
    except MediaError as err:
        assert err.reason == "undecodable"
    else:
        assert decoded < 2 * SAMPLE_RATE


def test_ninety_second_wav_is_refused_from_the_header() -> None:
    data = wav_file(np.zeros(90 * SAMPLE_RATE, np.float32))
    assert probe_audio(data).duration == pytest.approx(90.0)
    with pytest.raises(MediaError) as err:
        decode_audio(data, max_seconds=60)
    assert (err.value.kind, err.value.reason) == ("audio", "too_long")
    assert "60" in err.value.message and "90" in err.value.message  # refused from the header
    assert decode_audio(data, max_seconds=120).shape[0] == 90 * SAMPLE_RATE


def test_long_audio_is_refused_while_decoding_when_the_header_is_vague() -> None:
    data = make_file("aac_adts", seconds=12.0)  # ADTS durations are estimates: checked while decoding
    assert decode_audio(data, max_seconds=13).shape[0] > 12 * SAMPLE_RATE
    with pytest.raises(MediaError) as err:
        decode_audio(data, max_seconds=11)  # within the header estimate's margin: found while decoding
    assert err.value.reason == "too_long"


def test_very_short_audio_is_fine() -> None:
    data = wav_file(tone(0.01, SAMPLE_RATE, 1)[0])
    assert probe_audio(data).duration == pytest.approx(0.01)
    assert decode_audio(data).shape[0] == 240


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "reason", "words"),
    [
        (b"", "empty", "empty"),
        (png_bytes(), "unsupported", "PNG"),
        (b'{"audio": "nope"}', "unsupported", "JSON"),
        (b"hello, this is text and not audio", "unsupported", "text"),
        (bytes(np.random.default_rng(0).integers(1, 255, 4000, dtype=np.uint8)), "unsupported", "unrecognised"),
        (b"\xff\xfb\x90\x00" + b"\x13" * 300, "undecodable", "frame"),
        (b"RIFF\x10\x00\x00", "undecodable", "WAV"),
    ],
    ids=["empty", "png", "json", "text", "garbage", "fake-mp3", "cut-riff"],
)
def test_not_audio_is_refused_clearly(data: bytes, reason: str, words: str) -> None:
    for call in (probe_audio, decode_audio):
        with pytest.raises(MediaError) as err:
            call(data)
        assert (err.value.kind, err.value.reason) == ("audio", reason)
        assert words.lower() in err.value.message.lower()


@pytest.mark.parametrize("name", ["aac_m4a", "wav"])
def test_truncated_files_are_refused(name: str) -> None:
    data = make_file(name)
    cut = data[: len(data) // 2] if name == "aac_m4a" else data[:40]  # m4a: the moov box is at the end
    with pytest.raises(MediaError) as err:
        decode_audio(cut)
    assert err.value.reason in ("undecodable", "empty")
    assert err.value.message


def test_a_video_without_audio_is_refused() -> None:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(MediaError) as err:
        probe_audio(buf.getvalue())
    assert err.value.reason == "unsupported" and "no audio" in err.value.message


def test_loudness_envelope_follows_the_signal() -> None:
    quiet, loud = np.zeros(SAMPLE_RATE // 2, np.float32), tone(0.5, SAMPLE_RATE, 1)[0]
    samples = np.concatenate([quiet, loud, quiet, np.zeros(100, np.float32)])
    env = loudness_envelope(samples)
    assert env.dtype == np.float32
    assert env.shape[0] == -(-samples.shape[0] // 960) == 38
    assert np.all(env[:11] < 0.05) and np.all(env[14:24] > 0.3) and np.all(env[27:] < 0.05)
    assert loudness_envelope(samples, fps=50).shape[0] == -(-samples.shape[0] // 480)
    assert loudness_envelope(np.zeros(0, np.float32)).shape == (0,)


def wav_of(codec: str, rate: int, layout: str, seconds: float = 1.3) -> bytes:
    """A tone in a WAV container with `codec` (PCM variants, ADPCM, MP3)."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="wav") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        channels = 2 if layout == "stereo" else 1
        frame = av.AudioFrame.from_ndarray(tone(seconds, rate, channels), format="fltp", layout=layout)
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        for converted in resampler.resample(frame):
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("codec", "rate", "layout"),
    [("pcm_s16le", 24_000, "mono"), ("pcm_s24le", 48_000, "stereo"), ("pcm_f32le", 16_000, "mono"),
     ("pcm_u8", 8_000, "mono"), ("pcm_mulaw", 8_000, "mono"), ("pcm_alaw", 22_050, "stereo")],
)
def test_a_wav_read_from_its_header_alone_gives_ffmpegs_full_analysis(codec: str, rate: int, layout: str) -> None:
    data = wav_of(codec, rate, layout)
    with av.open(io.BytesIO(data), mode="r", format="wav") as analysed:  # FFmpeg's default stream analysis
        stream = analysed.streams.audio[0]
        expected = (stream.codec_context.codec.canonical_name, stream.sample_rate, stream.codec_context.channels,
                    float(stream.duration * stream.time_base))  # fmt: skip
    info = probe_audio(data)
    assert (info.codec, info.sample_rate, info.channels, info.duration) == expected
    samples = decode_audio(data)
    assert abs(samples.shape[0] - 1.3 * SAMPLE_RATE) < 0.01 * SAMPLE_RATE and abs(dominant_hz(samples) - TONE_HZ) < 3
