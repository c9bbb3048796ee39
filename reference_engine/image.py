"""Decode an uploaded portrait (PNG, JPEG or WEBP) to RGB, safely."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from .errors import MediaError

SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP")

# Magic numbers of formats we recognise but refuse, so the error can name them.
_OTHER_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"\x00\x00\x01\x00", 0, "ICO"),
    (b"8BPS", 0, "PSD"),
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIF"),
    (b"ftypavif", 4, "AVIF"),
    (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000"),
    (b"\xff\x0a", 0, "JPEG XL"),
    (b"qoif", 0, "QOI"),
    (b"<svg", 0, "SVG"),
    (b"<?xml", 0, "SVG/XML"),
    (b"%PDF", 0, "PDF"),
)


def sniff_format(data: bytes) -> str | None:
    """Name the image format from its magic bytes (PNG, JPEG, WEBP, GIF, BMP, ...), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, offset, name in _OTHER_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return name
    return None


def decode_image(data: bytes, *, max_pixels: int = 40_000_000) -> np.ndarray:
    """Decode PNG/JPEG/WEBP bytes to an RGB uint8 HxWx3 array.

    The format and the header's size are checked before any pixel is decoded. EXIF orientation is
    applied and transparency is flattened over white. Raises MediaError("image", reason, ...) with
    reason ``unsupported``, ``undecodable`` or ``too_large``.
    """
    if not data:
        raise MediaError("image", "undecodable", "the image is empty (0 bytes)")
    fmt = sniff_format(data)
    if fmt is None:
        raise MediaError("image", "undecodable", "the image cannot be decoded: not a PNG, JPEG or WEBP file")
    if fmt not in SUPPORTED_FORMATS:
        raise MediaError("image", "unsupported", f"{fmt} is not supported; use PNG, JPEG or WEBP")
    try:
        with warnings.catch_warnings():
            # our own max_pixels check below is the limit that matters; Pillow's is only a backstop
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])  # reads the header only
    except Image.DecompressionBombError:
        raise MediaError("image", "too_large", f"the image has too many pixels (limit {max_pixels})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError("image", "undecodable", f"the {fmt} image cannot be decoded: {exc}") from None
    with img:
        width, height = img.size
        if width <= 0 or height <= 0:
            raise MediaError("image", "undecodable", f"the {fmt} image has no pixels")
        if width * height > max_pixels:
            raise MediaError(
                "image", "too_large", f"the image is {width}x{height}, more than {max_pixels} pixels"
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img.load()
                oriented = ImageOps.exif_transpose(img)
                return _to_rgb(oriented)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise MediaError("image", "undecodable", f"the {fmt} image cannot be decoded: {exc}") from None


def _to_rgb(img: Image.Image) -> np.ndarray:
    """RGB array; any transparency is composited over white."""
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def fit_cover(
    rgb: np.ndarray, width: int, height: int, center: tuple[float, float] | None = None
) -> tuple[np.ndarray, float, float, float]:
    """Scale `rgb` to cover width x height and crop around `center` (x, y in source pixels).

    Returns (fitted, scale, crop_x, crop_y): a source point p maps to p * scale - (crop_x, crop_y).
    """
    src_h, src_w = rgb.shape[:2]
    scale = max(width / src_w, height / src_h)
    box_w, box_h = min(src_w, width / scale), min(src_h, height / scale)
    cx, cy = center if center is not None else (src_w / 2, src_h / 2)
    x0 = min(max(cx - box_w / 2, 0.0), src_w - box_w)
    y0 = min(max(cy - box_h / 2, 0.0), src_h - box_h)
    if (width, height) == (src_w, src_h):
        return np.ascontiguousarray(rgb, dtype=np.uint8).copy(), 1.0, 0.0, 0.0
    # resampling only the box is far cheaper than scaling the whole source
    box = (x0, y0, x0 + box_w, y0 + box_h)
    fitted = Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    return np.asarray(fitted, dtype=np.uint8).copy(), scale, x0 * scale, y0 * scale
