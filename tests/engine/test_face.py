from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest

from reference_engine.face import FaceBox, face_from_box, fallback_face, locate_face, with_landmarks
from reference_engine.landmarks import MODELS, model_bytes
from tests.media import blank_image, busy_background, make_portrait

PORTRAITS = {
    "centred": dict(width=512, height=512),
    "large": dict(width=512, height=512, center=(0.5, 0.5), face_width=0.7),
    "small-off-centre-busy": dict(width=512, height=512, center=(0.3, 0.35), face_width=0.15, background="busy"),
    "right-low-busy": dict(width=512, height=512, center=(0.7, 0.6), face_width=0.25, background="busy", seed=3),
    "landscape-corner-busy": dict(width=640, height=480, center=(0.8, 0.3), face_width=0.12, background="busy", seed=5),
    "portrait-busy": dict(width=480, height=640, center=(0.4, 0.4), face_width=0.3, background="busy", seed=7),
    "big-photo": dict(width=1600, height=1200, center=(0.35, 0.45), face_width=0.18, background="busy", seed=9),
}


def _contains(face: FaceBox, x: int, y: int) -> bool:
    return face.x <= x < face.x + face.w and face.y <= y < face.y + face.h


@pytest.mark.parametrize("name", list(PORTRAITS))
def test_face_is_found_where_it_is(name: str) -> None:
    p = make_portrait(**PORTRAITS[name])  # type: ignore[arg-type]
    face = locate_face(p.rgb)
    assert face.detected
    assert _contains(face, *p.face_center)
    true_w = p.face_size[0]
    assert 0.6 * true_w <= face.w <= 2.0 * true_w
    # the mouth lies in the lower half of the face box, near the drawn mouth
    mx, my, mw, mh = face.mouth
    assert face.y + face.h // 2 < my < face.y + face.h
    assert abs(mx - p.mouth_center[0]) < 0.15 * true_w
    assert abs(my - p.mouth_center[1]) < 0.15 * p.face_size[1]
    assert 0 < mw < face.w and 0 < mh < face.h
    # the eyes sit in the upper half, one either side of the centre
    (lx, ly, _, _), (rx, ry, _, _) = face.eyes
    assert lx < face.x + face.w // 2 < rx
    assert face.y < ly < face.y + face.h // 2 and face.y < ry < face.y + face.h // 2


def test_no_face_falls_back_to_upper_centre() -> None:
    img = blank_image(320, 240)
    face = locate_face(img)
    guess = fallback_face(320, 240)
    assert not face.detected and face.points is None
    assert (face.x, face.y, face.w, face.h) == (guess.x, guess.y, guess.w, guess.h)
    cx, cy = face.center
    assert abs(cx - 160) <= 2 and cy < 240 * 0.55
    assert face.x >= 0 and face.x + face.w <= 320 and face.y >= 0 and face.y + face.h <= 240


def test_a_busy_scene_without_a_face_has_none() -> None:
    assert not locate_face(busy_background(512, 512, seed=3)).detected


@pytest.mark.parametrize("shape", [(10, 10, 3), (1, 300, 3), (300, 2, 3)])
def test_degenerate_images_never_raise(shape: tuple[int, int, int]) -> None:
    face = locate_face(np.zeros(shape, dtype=np.uint8))
    assert not face.detected


def test_scaled_maps_the_box_and_the_landmarks() -> None:
    face = locate_face(make_portrait(320, 320).rgb)
    assert face.points is not None and face.points.shape == (468, 2)
    moved = face.scaled(2.0, 10, 20)
    assert (moved.x, moved.y, moved.w, moved.h) == (face.x * 2 - 10, face.y * 2 - 20, face.w * 2, face.h * 2)
    assert moved.points is not None
    assert np.allclose(moved.points, face.points * 2 - [10, 20], atol=1e-3)
    assert moved.mouth[0] == pytest.approx(face.mouth[0] * 2 - 10, abs=1)
    assert moved.detected and moved.score == face.score


def test_a_known_box_gets_its_landmarks() -> None:
    p = make_portrait(320, 320)
    x, y, w, h = p.face_box
    face = with_landmarks(p.rgb, face_from_box(x, y, w, h, detected=True))
    assert face.detected and face.points is not None and face.score > 0.5
    assert abs(face.mouth[0] - p.mouth_center[0]) < 0.1 * w and abs(face.mouth[1] - p.mouth_center[1]) < 0.1 * h
    # a box over something that is not a face is refused by the face mesh
    blank = with_landmarks(blank_image(320, 320), face_from_box(100, 100, 120, 150, detected=True))
    assert not blank.detected and blank.points is None


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_are_the_committed_files(name: str) -> None:
    """The models load from the package (as installed), byte for byte the files extracted from mediapipe 0.10.21."""
    data = model_bytes(name)
    assert hashlib.sha256(data).hexdigest() == MODELS[name]
    if name == "face_landmark.tflite":
        assert len(data) == 1_242_398
    folder = resources.files("reference_engine").joinpath("models")
    assert "Apache License" in folder.joinpath("LICENSE").read_text()
    assert name in folder.joinpath("NOTICE").read_text()
