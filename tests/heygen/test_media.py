"""Rendered media: scenes concatenated with the asked-for backgrounds, overlays, captions, watermark."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np

from tests.heygen.helpers import DAISY, PAUL, PHOTO, SMALL, close_to, generate, mean_rgb, silence_scene, wait_done
from tests.media import encode_image, inspect_mp4, speech_like, top_level_boxes, wav_bytes


def upload(client: httpx.Client, data: bytes, mime: str) -> dict[str, Any]:
    response = client.post("/v1/asset", content=data, headers={"Content-Type": mime})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 100 and body["msg"] is None
    asset: dict[str, Any] = body["data"]
    return asset


def yellow_png() -> bytes:
    img = np.zeros((90, 160, 3), np.uint8)
    img[...] = (250, 220, 0)
    return encode_image(img, "PNG")


def test_three_scenes_render_their_backgrounds_overlays_and_lengths(hg: httpx.Client) -> None:
    image = upload(hg, yellow_png(), "image/png")
    audio = upload(hg, wav_bytes(speech_like(0.8)), "audio/wav")
    body = {
        "video_inputs": [
            silence_scene(1.0, "#ff0000", character={"type": "avatar", "avatar_id": DAISY},
                          text={"text": "ONE", "font_size": 40, "color": "#00ff00", "position": {"x": 0.03, "y": 0.05},
                                "text_align": "left"}),
            silence_scene(1.2, "#0000ff", character={"type": "talking_photo", "talking_photo_id": PHOTO, "scale": 0.5,
                                                     "talking_photo_style": ""}),
            {"voice": {"type": "audio", "audio_asset_id": audio["id"]},
             "background": {"type": "image", "image_asset_id": image["id"], "fit": "cover"},
             "text": {"text": "THREE", "font_size": 36, "color": "#ffffff", "position": {"x": 0.5, "y": 0.4}}},
        ],
        "dimension": SMALL,
    }  # fmt: skip
    final = wait_done(hg, generate(hg, body))[-1]["data"]
    assert final["status"] == "completed", final
    assert abs(final["duration"] - 3.0) <= 3 / 25
    mp4 = httpx.get(final["video_url"], timeout=30)
    assert mp4.status_code == 200 and mp4.headers["content-type"] == "video/mp4"
    boxes = [kind for kind, _, _ in top_level_boxes(mp4.content)]
    assert boxes.index("moov") < boxes.index("mdat")
    facts = inspect_mp4(mp4.content)
    assert (facts.width, facts.height, facts.fps, facts.codec, facts.audio_codec) == (320, 180, 25, "h264", "aac")
    assert abs(facts.n_frames - 75) <= 3  # 25 + 30 + 20 frames, one frame of slack per scene
    one, two, three = facts.frames[12], facts.frames[40], facts.frames[65]
    # scene 1: red background beside the avatar, green title top-left, the avatar in the middle
    assert close_to(mean_rgb(one, (0.85, 0.3, 1.0, 0.6)), (255, 0, 0))
    title = one[: int(0.3 * 180), : int(0.35 * 320)].astype(int)
    assert ((title[..., 1] > 180) & (title[..., 0] < 100) & (title[..., 2] < 100)).sum() > 80
    assert not close_to(mean_rgb(one, (0.4, 0.3, 0.6, 0.6)), (255, 0, 0), tol=60)
    # scene 2: blue around a half-size talking photo in the centre
    assert close_to(mean_rgb(two, (0.0, 0.0, 0.12, 1.0)), (0, 0, 255))
    assert not close_to(mean_rgb(two, (0.45, 0.3, 0.55, 0.7)), (0, 0, 255), tol=80)
    # scene 3: the uploaded yellow image fills the frame; white text across the middle
    assert close_to(mean_rgb(three, (0.0, 0.0, 0.2, 0.3)), (250, 220, 0))
    middle = three[int(0.35 * 180) : int(0.7 * 180), int(0.3 * 320) : int(0.7 * 320)].astype(int)
    assert (middle.min(axis=2) > 200).sum() > 80


def test_captions_watermark_and_quota(hg: httpx.Client) -> None:
    quota_before = hg.get("/v2/user/remaining_quota").json()["data"]["remaining_quota"]
    scene = {"character": {"type": "avatar", "avatar_id": DAISY, "avatar_style": "circle",
                           "circle_background_color": "#00ff00"},
             "voice": {"type": "text", "input_text": "Hello world. Captions work.", "voice_id": PAUL, "speed": 1.2},
             "background": {"type": "color", "value": "#202020"}}  # fmt: skip
    test_id = generate(hg, {"video_inputs": [scene], "dimension": SMALL, "test": True, "caption": True})
    real_id = generate(hg, {"video_inputs": [scene], "dimension": SMALL, "test": False, "callback_id": "cb-1"})
    test_final = wait_done(hg, test_id)[-1]["data"]
    real_final = wait_done(hg, real_id)[-1]["data"]
    assert test_final["status"] == real_final["status"] == "completed"
    assert real_final["callback_id"] == "cb-1"
    assert real_final["caption_url"] is None and real_final["video_url_caption"] is None
    ass = httpx.get(test_final["caption_url"]).text
    assert "[Events]" in ass and "Dialogue:" in ass and "Hello world." in ass
    plain = inspect_mp4(httpx.get(test_final["video_url"]).content).frames
    burned = inspect_mp4(httpx.get(test_final["video_url_caption"]).content).frames
    reference = inspect_mp4(httpx.get(real_final["video_url"]).content).frames
    assert len(plain) == len(burned) == len(reference)
    i = len(plain) // 4
    bottom = (slice(int(0.8 * 180), 180), slice(0, 320))
    assert (np.abs(burned[i][bottom].astype(int) - plain[i][bottom]).max(axis=2) > 60).sum() > 60  # burned in
    centre = (slice(int(0.35 * 180), int(0.65 * 180)), slice(0, 320))
    assert (np.abs(plain[i][centre].astype(int) - reference[i][centre]).max(axis=2) > 60).sum() > 300  # watermark
    # the circle style shows the green plate around the avatar's face
    disc = reference[i][int(0.3 * 180) : int(0.7 * 180), int(0.35 * 320) : int(0.65 * 320)].astype(int)
    assert ((disc[..., 1] > 180) & (disc[..., 0] < 80)).sum() > 50
    quota_after = hg.get("/v2/user/remaining_quota").json()["data"]["remaining_quota"]
    assert quota_before - quota_after == int(np.ceil(real_final["duration"]))  # the test video is free


def test_previews_and_video_background(hg: httpx.Client) -> None:
    first = wait_done(hg, generate(hg, {"video_inputs": [silence_scene(1.0, "#00ffff")], "dimension": SMALL}))
    source = first[-1]["data"]
    thumb = httpx.get(source["thumbnail_url"])
    gif = httpx.get(source["gif_url"])
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:3] == b"\xff\xd8\xff"
    assert gif.headers["content-type"] == "image/gif" and gif.content[:6] == b"GIF89a"
    # the cyan clip becomes the looping background of a new video, fetched from its (loopback) URL
    body = {"video_inputs": [{"voice": {"type": "silence", "duration": 2.0},
                              "background": {"type": "video", "url": source["video_url"], "play_style": "loop"},
                              "character": {"type": "avatar", "avatar_id": DAISY, "scale": 0.5,
                                            "offset": {"x": -0.3, "y": 0}}}],
            "dimension": SMALL}  # fmt: skip
    final = wait_done(hg, generate(hg, body))[-1]["data"]
    assert final["status"] == "completed", final
    frames = inspect_mp4(httpx.get(final["video_url"]).content).frames
    assert abs(len(frames) - 50) <= 1
    for frame in (frames[5], frames[40]):
        assert close_to(mean_rgb(frame, (0.7, 0.0, 1.0, 1.0)), (0, 255, 255))
