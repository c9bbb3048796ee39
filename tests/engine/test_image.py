from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from reference_engine.errors import MediaError
from reference_engine.image import decode_image, fit_cover, sniff_format
from tests.media import encode_image, make_portrait


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    return make_portrait(96, 64, face_width=0.5).rgb


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bomb_png(width: int, height: int) -> bytes:
    """A valid-looking PNG header announcing width x height pixels, with almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def test_png_round_trip_is_exact(portrait: np.ndarray) -> None:
    out = decode_image(encode_image(portrait, "PNG"))
    assert out.dtype == np.uint8 and out.shape == portrait.shape
    assert np.array_equal(out, portrait)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_lossy_formats_decode_close(portrait: np.ndarray, fmt: str) -> None:
    out = decode_image(encode_image(portrait, fmt, quality=95))
    assert out.shape == portrait.shape
    assert np.abs(out.astype(int) - portrait.astype(int)).mean() < 6


def test_alpha_is_flattened_over_white() -> None:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:4, :, 3] = 255  # top half opaque red-ish, bottom half fully transparent
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    out = decode_image(buf.getvalue())
    assert out.shape == (8, 8, 3)
    assert tuple(out[0, 0]) == (200, 0, 0)
    assert tuple(out[7, 7]) == (255, 255, 255)


def test_grayscale_becomes_rgb() -> None:
    buf = io.BytesIO()
    Image.fromarray(np.full((5, 7), 77, np.uint8), "L").save(buf, format="PNG")
    out = decode_image(buf.getvalue())
    assert out.shape == (5, 7, 3) and (out == 77).all()


def test_exif_orientation_is_applied(portrait: np.ndarray) -> None:
    img = Image.fromarray(portrait)  # 96 wide, 64 high
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif, quality=95)
    out = decode_image(buf.getvalue())
    assert out.shape == (96, 64, 3)
    expected = np.asarray(img.transpose(Image.Transpose.ROTATE_270))
    assert np.abs(out.astype(int) - expected.astype(int)).mean() < 6


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_unsupported(portrait: np.ndarray, fmt: str) -> None:
    with pytest.raises(MediaError) as info:
        decode_image(encode_image(portrait, fmt))
    assert info.value.kind == "image" and info.value.reason == "unsupported"
    assert f"{fmt} is not supported; use PNG, JPEG or WEBP" in str(info.value)


def test_truncated_png_is_undecodable(portrait: np.ndarray) -> None:
    data = encode_image(portrait, "PNG")
    with pytest.raises(MediaError) as info:
        decode_image(data[: len(data) // 2])
    assert info.value.reason == "undecodable"


@pytest.mark.parametrize("data", [b"", b"hello, this is not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_garbage_is_undecodable(data: bytes) -> None:
    with pytest.raises(MediaError) as info:
        decode_image(data)
    assert info.value.reason == "undecodable"


def test_huge_header_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = bomb_png(100_000, 100_000)
    assert len(data) < 200

    def no_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    with pytest.raises(MediaError) as info:
        decode_image(data)
    assert info.value.reason == "too_large"


def test_max_pixels_is_enforced(portrait: np.ndarray) -> None:
    data = encode_image(portrait, "PNG")
    with pytest.raises(MediaError) as info:
        decode_image(data, max_pixels=96 * 64 - 1)
    assert info.value.reason == "too_large"
    assert decode_image(data, max_pixels=96 * 64).shape == (64, 96, 3)


def test_sniff_format() -> None:
    assert sniff_format(b"\x89PNG\r\n\x1a\n....") == "PNG"
    assert sniff_format(b"\xff\xd8\xff\xe0") == "JPEG"
    assert sniff_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert sniff_format(b"GIF89a") == "GIF"
    assert sniff_format(b"nothing") is None


def test_fit_cover_size_and_centre() -> None:
    p = make_portrait(400, 300, center=(0.8, 0.5), face_width=0.2)
    fitted, scale, cx, cy = fit_cover(p.rgb, 200, 200, center=p.face_center)
    assert fitted.shape == (200, 200, 3)
    assert scale == pytest.approx(200 / 300)
    fx = p.face_center[0] * scale - cx
    fy = p.face_center[1] * scale - cy
    assert 60 <= fx <= 190 and 80 <= fy <= 120  # the face is kept in view, as central as the image allows
    # identity when the size already matches
    same, s2, x2, y2 = fit_cover(p.rgb, 400, 300)
    assert (s2, x2, y2) == (1.0, 0, 0) and np.array_equal(same, p.rgb)
