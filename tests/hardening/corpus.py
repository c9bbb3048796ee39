"""The bad-input corpus: broken and mislabelled media, hostile JSON and broken requests.

Everything is generated from fixed seeds, so the corpus needs no binary files in the repository.
Each entry says where it is sent and a fragment the refusal's message must contain.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from dataclasses import dataclass, field

import av
import numpy as np

from tests.media import encode_image, make_portrait, speech_like, wav_bytes

FACE = encode_image(make_portrait(96, 96).rgb, "PNG")


def _uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _corrupt(data: bytes, start: int, length: int = 64) -> bytes:
    return data[:start] + bytes((b ^ 0x5A) for b in data[start : start + length]) + data[start + length :]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def huge_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A few hundred bytes claiming width x height pixels: a decompression bomb's header."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    idat = _png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096, 9))
    return b"\x89PNG\r\n\x1a\n" + header + idat + _png_chunk(b"IEND", b"")


def _encode_audio(fmt: str, seconds: float) -> bytes:
    samples = speech_like(seconds)
    out = io.BytesIO()
    with av.open(out, mode="w", format=fmt) as container:
        codec = {"mp3": "libmp3lame", "flac": "flac"}[fmt]
        stream = container.add_stream(codec, rate=24_000)
        stream.layout = "mono"  # type: ignore[attr-defined]
        frame_size = 1152
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
        for start in range(0, pcm.shape[0], frame_size):
            piece = pcm[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = 24_000
            frame.pts = start
            for packet in stream.encode(frame):  # type: ignore[attr-defined]
                container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[attr-defined]
            container.mux(packet)
    return out.getvalue()


@dataclass(frozen=True)
class Bad:
    name: str
    path: str
    expect: str
    """A fragment of the error message (case-insensitive)."""
    json: object = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 400


def _video(name: str, expect: str, *, image: str | None = None, audio: str | None = None) -> Bad:
    good_audio = _uri("audio/wav", wav_bytes(speech_like(0.3)))
    body = {"ref_image": image or _uri("image/png", FACE), "input": audio or good_audio}
    return Bad(name, "/v1/videos", expect, json=body)


def media_corpus() -> list[Bad]:
    jpeg = encode_image(make_portrait(96, 96).rgb, "JPEG")
    webp = encode_image(make_portrait(96, 96).rgb, "WEBP")
    wav = wav_bytes(speech_like(0.5))
    mp3 = _encode_audio("mp3", 0.5)
    flac = _encode_audio("flac", 0.5)
    bad: list[Bad] = [
        _video("png-truncated", "ref_image", image=_uri("image/png", FACE[: len(FACE) // 2])),
        _video("png-corrupt", "ref_image", image=_uri("image/png", _corrupt(FACE, 60, 200))),
        _video("png-header-only", "ref_image", image=_uri("image/png", FACE[:33])),
        _video("jpeg-truncated", "ref_image", image=_uri("image/jpeg", jpeg[:200])),
        _video("jpeg-corrupt", "ref_image", image=_uri("image/jpeg", _corrupt(jpeg, 2, 300))),
        _video("webp-truncated", "ref_image", image=_uri("image/webp", webp[:40])),
        _video("webp-corrupt", "ref_image", image=_uri("image/webp", _corrupt(webp, 30, 200))),
        _video("image-huge-dimensions", "pixels", image=_uri("image/png", huge_png())),
        _video("image-is-wav", "not a PNG, JPEG or WEBP", image=_uri("image/png", wav)),
        _video("image-is-text", "not a PNG, JPEG or WEBP", image=_uri("image/jpeg", b"hello, world")),
        _video("image-is-gif", "GIF", image=_uri("image/png", b"GIF89a" + b"\x00" * 64)),
        _video("image-empty", "empty", image="data:image/png;base64,"),
        _video("image-not-base64", "base64", image="data:image/png;base64,@@@@"),
        _video("image-uri-not-base64", "base64", image="data:image/png,rawbytes"),
        _video("wav-truncated", "input", audio=_uri("audio/wav", wav[:30])),
        _video("wav-corrupt", "input", audio=_uri("audio/wav", _corrupt(wav, 0, 40))),
        _video("mp3-truncated", "input", audio=_uri("audio/mpeg", mp3[:100])),
        _video("mp3-corrupt", "input", audio=_uri("audio/mpeg", _corrupt(mp3, 0, 400))),
        _video("flac-truncated", "input", audio=_uri("audio/flac", flac[:60])),
        _video("flac-corrupt", "input", audio=_uri("audio/flac", _corrupt(flac, 0, 300))),
        _video("audio-is-png", "PNG image, not audio", audio=_uri("audio/wav", FACE)),
        _video("audio-is-json", "JSON", audio=_uri("audio/mpeg", b'{"not": "audio"}')),
        _video("audio-zero-length", "empty", audio="data:audio/wav;base64,"),
        _video("audio-zero-samples", "input", audio=_uri("audio/wav", wav_bytes(np.zeros(0, np.float32)))),
        _video("audio-10ms", "shorter than one video frame", audio=_uri("audio/wav", wav_bytes(speech_like(0.01)))),
    ]
    return bad


def json_corpus() -> list[Bad]:
    face = _uri("image/png", FACE)
    speech = {"input": "Hello.", "response_format": "wav"}
    raw = [
        ("json-deep", b"[" * 100_000 + b"]" * 100_000, "deep"),
        ("json-deep-object", b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "deep"),
        ("json-duplicate-keys", b'{"input": "a", "input": "b"}', "more than once"),
        ("json-huge-number", b'{"input": "a", "speed": ' + b"9" * 5000 + b"}", "digits"),
        ("json-overflow-float", b'{"input": "a", "speed": 1e999}', "out of range"),
        ("json-nan", b'{"input": "a", "speed": NaN}', "NaN"),
        ("json-invalid-utf8", b'{"input": "\xff\xfe"}', "UTF-8"),
        ("json-nul-escape", b'{"input": "a\\u0000b"}', "NUL"),
        ("json-truncated", b'{"input": "a"', "not valid JSON"),
        ("json-empty", b"", "empty"),
        ("json-not-object", b"[1, 2, 3]", "object"),
        ("json-lone-surrogate", b'{"input": "\\ud800"}', "surrogate"),
    ]
    bad = [Bad(name, "/v1/audio/speech", expect, content=body, headers={"content-type": "application/json"})
           for name, body, expect in raw]
    bad += [
        Bad("json-nul-in-video", "/v1/videos", "NUL", json={"ref_image": face, "input_tts": {"input": "a\x00"}}),
        Bad("content-type-wrong", "/v1/audio/speech", "Content-Type", content=b"input=hello",
            headers={"content-type": "text/plain"}),
        Bad("content-type-xml", "/v1/videos", "Content-Type", content=b"<video/>",
            headers={"content-type": "application/xml"}),
        Bad("multipart-no-boundary", "/v1/videos", "boundary", content=b"--x\r\n\r\n--x--\r\n",
            headers={"content-type": "multipart/form-data"}),
        Bad("multipart-garbage", "/v1/videos", "multipart", content=b"\x00\x01garbage" * 10,
            headers={"content-type": "multipart/form-data; boundary=zzz"}),
        Bad("speech-unknown-voice", "/v1/audio/speech", "voice", json={**speech, "voice": "nobody"}),
    ]
    return bad


def multipart_parts(count: int) -> tuple[bytes, str]:
    """A multipart body with `count` small text fields."""
    boundary = "hardening"
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'.encode() for i in range(count)
    )
    return parts + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def heygen_corpus() -> list[Bad]:
    """HeyGen refuses in its own envelopes: v2 `{"error": {"code", "message"}}`, v1 `{"code", "message"}`.

    Malformed JSON answers HeyGen's own wording, "Invalid json body" (mockserver/heygen/inputs.py)."""
    wav = wav_bytes(speech_like(0.3))
    return [
        Bad("heygen-asset-png-truncated", "/v1/asset", "image", content=FACE[:50],
            headers={"content-type": "image/png"}),
        Bad("heygen-asset-png-is-wav", "/v1/asset", "image", content=wav, headers={"content-type": "image/png"}),
        Bad("heygen-asset-wav-corrupt", "/v1/asset", "audio", content=_corrupt(wav, 0, 40),
            headers={"content-type": "audio/wav"}),
        Bad("heygen-asset-empty", "/v1/asset", "empty", content=b"", headers={"content-type": "audio/wav"}),
        Bad("heygen-asset-wrong-type", "/v1/asset", "Content-Type", content=b"x",
            headers={"content-type": "application/zip"}),
        Bad("heygen-generate-deep", "/v2/video/generate", "Invalid json body", content=b"[" * 50_000 + b"]" * 50_000,
            headers={"content-type": "application/json"}),
        Bad("heygen-generate-duplicate", "/v2/video/generate", "Invalid json body",
            content=b'{"video_inputs": [], "video_inputs": []}', headers={"content-type": "application/json"}),
        Bad("heygen-generate-invalid-utf8", "/v2/video/generate", "Invalid json body", content=b'{"title": "\xc3\x28"}',
            headers={"content-type": "application/json"}),
        Bad("heygen-v1-generate-nan", "/v1/video.generate", "Invalid json body", content=b'{"test": NaN}',
            headers={"content-type": "application/json"}),
    ]


def corpus() -> list[Bad]:
    body, content_type = multipart_parts(200)
    many = Bad("multipart-too-many-parts", "/v1/videos", "Too many", content=body,
               headers={"content-type": content_type})
    return [*media_corpus(), *json_corpus(), many]
