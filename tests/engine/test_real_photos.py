"""The engine on real photographs (scikit-image's NASA astronaut portrait and scenes, test-only data).

Each case is rendered, decoded, and judged with the landmarks found on its own rendered rest frame:
the part that darkens when the mouth opens lies between the lips, the motion around the lips
follows the loudness, and most of the motion is on the face. A photo without a face shows no
facial animation at all, and says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from reference_engine.face import FACE_OVAL, INNER_LIPS, MOUTH_CORNERS, NOSE_TIP, FaceBox, locate_face
from reference_engine.render import RenderJob, iter_yuv_frames, make_animator, render_fmp4
from tests.media import frame_loudness, inspect_mp4, speech_like

skimage_data = pytest.importorskip("skimage.data", reason="pip install scikit-image (the dev extra)")

SIZE = 480
SILENCE = (1.2, 2.1)


def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skimage_data.astronaut())


def tilted(degrees: float) -> np.ndarray:
    """The astronaut turned about her face (positive: counter-clockwise), edges mirrored."""
    img = astronaut()
    turn = cv2.getRotationMatrix2D((224.0, 130.0), degrees, 1.0)
    return cv2.warpAffine(img, turn, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REFLECT_101)


def small_on_rocket() -> np.ndarray:
    """Her head and shoulders, about 70 px wide, pasted off-centre on the rocket launch scene."""
    scene = np.ascontiguousarray(skimage_data.rocket())[:, :600]
    head = cv2.resize(astronaut()[20:290, 110:340], (92, 108), interpolation=cv2.INTER_AREA)
    scene = scene.copy()
    scene[40:148, 400:492] = head
    return scene


def two_faces() -> np.ndarray:
    """The portrait with a second, 60% copy of her head on the left: the larger face must speak."""
    img = astronaut().copy()
    head = img[40:250, 140:310]
    small = cv2.resize(head, (102, 126), interpolation=cv2.INTER_AREA)
    img[300:426, 20:122] = small
    return img


def cat() -> np.ndarray:
    return np.ascontiguousarray(skimage_data.chelsea())


@dataclass
class Rendered:
    frames: list[np.ndarray]  # decoded RGB
    loud: np.ndarray
    rest: int  # a frame with the mouth shut and the eyes open
    notes: list[str]
    job: RenderJob


@cache
def render(name: str) -> Rendered:
    image = {"astronaut": astronaut, "tilted+20": lambda: tilted(20), "tilted-20": lambda: tilted(-20),
             "small-busy": small_on_rocket, "two-faces": two_faces, "no-face": cat}[name]()  # fmt: skip
    audio = speech_like(3.2, seed=4, silences=[SILENCE])
    job = RenderJob(image, audio, SIZE, SIZE, seed=1)
    notes: list[str] = []
    frames = inspect_mp4(b"".join(f.data for f in render_fmp4(job, on_note=notes.append))).frames
    animator = make_animator(job)
    quiet = [i for i in range(len(frames)) if animator.levels(i) == (0, 0) and SILENCE[0] + 0.4 < i / 25 < SILENCE[1]]
    rest = quiet[len(quiet) // 2] if quiet else 0
    return Rendered(frames, frame_loudness(audio, len(frames)), rest, notes, job)


def luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def face_on(frame: np.ndarray) -> FaceBox:
    face = locate_face(frame)
    assert face.detected and face.points is not None, "no face found on the rendered rest frame"
    return face


def motion_energy(frames: list[np.ndarray], floor: float = 6.0) -> np.ndarray:
    acc = np.zeros(frames[0].shape[:2], np.float64)
    for a, b in itertools.pairwise(frames):
        d = np.abs(luma(b) - luma(a))
        acc += np.where(d < floor, 0.0, d)
    return acc


def oval_mask(face: FaceBox, shape: tuple[int, ...]) -> np.ndarray:
    assert face.points is not None
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(face.points[list(FACE_OVAL)]).astype(np.int32)], 1)
    return mask.astype(bool)


FACE_CASES = ["astronaut", "tilted+20", "tilted-20", "small-busy", "two-faces"]


@pytest.mark.parametrize("name", FACE_CASES)
def test_the_mouth_opens_between_the_lips(name: str) -> None:
    r = render(name)
    face = face_on(r.frames[r.rest])
    p = face.points
    assert p is not None
    rest = luma(r.frames[r.rest])
    loudest = np.argsort(r.loud)[-6:]
    darker = np.mean([np.clip(rest - luma(r.frames[i]) - 20.0, 0.0, None) for i in loudest], axis=0)
    assert darker.sum() > 0, "nothing darkens when the speech is loud"
    ys, xs = np.nonzero(darker)
    w = darker[ys, xs]
    centroid = np.array([np.dot(xs, w), np.dot(ys, w)]) / w.sum()
    lips = (p[INNER_LIPS[0]] + p[INNER_LIPS[1]]) / 2
    mouth_width = float(np.hypot(*(p[MOUTH_CORNERS[1]] - p[MOUTH_CORNERS[0]])))
    assert np.hypot(*(centroid - lips)) < 0.35 * mouth_width, (centroid, lips, mouth_width)
    # below the midpoint between nose tip and lips, measured down the (possibly tilted) face
    down = lips - p[NOSE_TIP]
    down = down / np.hypot(*down)
    midpoint = (p[NOSE_TIP] + lips) / 2
    assert np.dot(centroid - midpoint, down) > 0


@pytest.mark.parametrize("name", FACE_CASES)
def test_lip_motion_follows_loudness(name: str) -> None:
    r = render(name)
    face = face_on(r.frames[r.rest])
    mx, my, mw, mh = face.mouth
    x0, y0 = max(0, mx - mw), max(0, my - mh)
    box = (slice(y0, my + 2 * mh), slice(x0, mx + mw))
    rest = luma(r.frames[r.rest])[box]
    change = np.array([np.abs(luma(f)[box] - rest).mean() for f in r.frames])
    assert np.corrcoef(change, r.loud)[0, 1] > 0.3


@pytest.mark.parametrize("name", FACE_CASES)
def test_most_motion_is_on_the_face(name: str) -> None:
    r = render(name)
    face = face_on(r.frames[r.rest])
    energy = motion_energy(r.frames)
    assert energy.sum() > 0
    assert energy[oval_mask(face, energy.shape)].sum() >= 0.4 * energy.sum()


def test_of_two_faces_the_larger_speaks() -> None:
    r = render("two-faces")
    energy = motion_energy(r.frames)
    big = face_on(r.frames[r.rest])
    small_box = energy[int(SIZE * 300 / 512) : int(SIZE * 426 / 512), int(SIZE * 20 / 512) : int(SIZE * 122 / 512)]
    assert big.x > SIZE * 0.25  # the found face is the portrait's, not the small copy on the left
    assert small_box.sum() < 0.02 * energy[oval_mask(big, energy.shape)].sum()


def test_a_photo_without_a_face_is_left_still() -> None:
    r = render("no-face")
    assert r.notes and "no face" in r.notes[0]
    frames = list(iter_yuv_frames(r.job))  # what the encoder was given: every frame the very same picture
    assert all(np.array_equal(f, frames[0]) for f in frames[1:])
    first = luma(r.frames[0])
    assert max(float(np.abs(luma(f) - first).mean()) for f in r.frames) < 3.0  # decoded: codec noise on fur only


def test_gallery_contact_sheets() -> None:
    from reference_engine.gallery import STATES, TILE, contact_sheet

    sheet = np.asarray(contact_sheet(astronaut(), "astronaut"))
    assert sheet.shape[1] == TILE * len(STATES)
    tiles = [sheet[22 : 22 + TILE, i * TILE : (i + 1) * TILE].astype(np.float32) for i in range(len(STATES))]
    rest, half, full, blink = (luma(t.astype(np.uint8)) for t in tiles)
    lower, upper = slice(TILE // 2, TILE), slice(0, TILE // 2)
    assert (rest - full)[lower].sum() > (rest - half)[lower].sum() > 0  # wider open is darker, low in the face
    assert np.abs(blink - rest)[upper].mean() > np.abs(blink - rest)[lower].mean()  # the blink is up at the eyes
    assert np.asarray(contact_sheet(cat(), "cat")).shape[1] == TILE  # no face: the still photo alone


def test_a_talking_photo_goes_through_the_landmark_path(tmp_path: Path) -> None:
    """HeyGen's uploaded photos: the face is found with its landmarks; a faceless photo is noted per scene."""
    from reference_engine.layout import Character, place
    from reference_engine.scenes import Outputs, Production, Scene, render_production

    placed = place(Character(astronaut(), kind="talking_photo"), 320, 320)
    assert placed is not None and placed.face is not None and placed.face.points is not None
    notes: list[str] = []
    photos = (astronaut(), cat())
    scenes = [Scene(speech_like(0.4), character=Character(image, kind="talking_photo")) for image in photos]
    render_production(Production(scenes, 160, 160), Outputs(tmp_path / "v.mp4"), on_note=notes.append)
    assert notes == ["scene 2: no face found in the image: the video shows it still, with no facial animation"]
