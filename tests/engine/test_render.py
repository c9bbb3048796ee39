from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from reference_engine.animate import FaceAnimator
from reference_engine.cli import main as cli_main
from reference_engine.pipeline import (
    FRAGMENT_FRAMES,
    FREE_BATCH,
    MIN_RING,
    RING,
    RING_BYTES,
    DrawnFrames,
    EncodedFrames,
    ring_size,
)
from reference_engine.render import Fragment, RenderJob, iter_yuv_frames, make_animator, render_fmp4, render_mp4
from reference_engine.video import FragmentedMP4Writer
from tests.media import (
    Portrait,
    VideoFacts,
    child_boxes,
    frame_loudness,
    inspect_mp4,
    make_portrait,
    moof_video_duration,
    motion_energy_map,
    region_darkness,
    region_motion,
    speech_like,
    top_level_boxes,
    wav_bytes,
)

SILENCE = (0.8, 1.5)


@dataclass
class Rendered:
    portrait: Portrait
    audio: np.ndarray
    job: RenderJob
    fragments: list[Fragment]
    progress: list[float]
    data: bytes
    facts: VideoFacts


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    """A small face, off-centre on a busy scene, already at the output size (the fit is the identity)."""
    portrait = make_portrait(640, 480, center=(0.3, 0.38), face_width=0.2, background="busy", seed=11)
    audio = speech_like(2.4, seed=2, silences=[SILENCE])
    job = RenderJob(portrait.rgb, audio, 640, 480, seed=5)
    progress: list[float] = []
    fragments = list(render_fmp4(job, progress=progress.append))
    data = b"".join(f.data for f in fragments)
    return Rendered(portrait, audio, job, fragments, progress, data, inspect_mp4(data))


def mouth_box(p: Portrait) -> tuple[int, int, int, int]:
    mx, my = p.mouth_center
    fw, fh = p.face_size
    return mx - fw // 4, my - int(fh * 0.06), fw // 2, int(fh * 0.2)


def test_stream_facts(rendered: Rendered) -> None:
    facts, job = rendered.facts, rendered.job
    assert (facts.width, facts.height) == (640, 480)
    assert facts.fps == 25.0 and facts.codec == "h264" and facts.pix_fmt == "yuv420p"
    assert job.n_frames == 60 and facts.n_frames == job.n_frames
    assert abs(facts.video_seconds - len(rendered.audio) / 24000) <= 1 / 25
    assert facts.audio_codec == "aac" and facts.audio_rate == 24000 and facts.audio_channels == 1
    for frame in facts.frames[::10]:
        assert frame.std() > 20  # a picture, not a blank frame


def test_fragment_layout(rendered: Rendered) -> None:
    data, fragments = rendered.data, rendered.fragments
    boxes = top_level_boxes(data)
    kinds = [k for k, _, _ in boxes]
    assert kinds[:2] == ["ftyp", "moov"] and kinds[2:] == ["moof", "mdat"] * (len(kinds) // 2 - 1)
    _, at, size = boxes[1]
    assert "mvex" in [k for k, _, _ in child_boxes(data, at + 8, at + size)]
    assert [f.index for f in fragments] == list(range(len(fragments)))
    assert [k for k, _, _ in top_level_boxes(fragments[0].data)] == ["ftyp", "moov"]
    assert fragments[0].media_end == 0.0
    for frag in fragments[1:]:
        assert [k for k, _, _ in top_level_boxes(frag.data)] == ["moof", "mdat"]
        _kind, off, moof_size = top_level_boxes(frag.data)[0]
        assert moof_video_duration(frag.data, off, moof_size) <= 1.0 + 0.05  # + AAC priming on the first
    ends = [f.media_end for f in fragments]
    assert ends == sorted(ends) and ends[-1] == pytest.approx(rendered.job.n_frames / 25)
    assert len(fragments) >= 4  # streamed in pieces, not one blob


def test_progress_is_monotonic_and_complete(rendered: Rendered) -> None:
    progress = rendered.progress
    assert progress and progress == sorted(progress)
    assert progress[0] >= 0.0 and progress[-1] == 1.0


def test_mouth_follows_loudness(rendered: Rendered) -> None:
    frames = rendered.facts.frames
    loud = frame_loudness(rendered.audio, len(frames))
    dark = region_darkness(frames, mouth_box(rendered.portrait))
    motion = region_motion(frames, mouth_box(rendered.portrait))
    t = np.arange(len(frames)) / 25
    silent = (t > SILENCE[0] + 0.25) & (t < SILENCE[1])
    voiced = loud > 0.5 * loud.max()
    assert silent.sum() >= 8 and voiced.sum() >= 8
    assert dark[voiced].mean() > dark[silent].mean() + 0.1  # the mouth is open when speech is loud
    assert np.corrcoef(dark, loud)[0, 1] > 0.5
    assert motion[voiced[1:]].mean() > 3 * (motion[silent[1:]].mean() + 0.1)


def test_motion_lands_on_the_face(rendered: Rendered) -> None:
    energy = motion_energy_map(rendered.facts.frames)
    x, y, w, h = rendered.portrait.face_box
    mx, my = w // 4, h // 4
    inside = energy[max(0, y - my) : y + h + my, max(0, x - mx) : x + w + mx].sum()
    assert inside > 0.8 * energy.sum()
    face = energy[y : y + h, x : x + w]
    assert face[h // 2 :].sum() > face[: h // 2].sum()  # jaw and mouth: the lower half moves most


def test_render_is_deterministic(rendered: Rendered) -> None:
    again = b"".join(f.data for f in render_fmp4(rendered.job))
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(rendered.data).hexdigest()
    other = RenderJob(rendered.job.image, rendered.job.audio, 640, 480, seed=6)
    assert b"".join(f.data for f in render_fmp4(other)) != rendered.data


def test_iter_yuv_frames_are_the_encoded_frames(rendered: Rendered) -> None:
    frames = list(iter_yuv_frames(rendered.job))
    assert len(frames) == rendered.job.n_frames
    assert frames[0].shape == (480 * 3 // 2, 640) and frames[0].dtype == np.uint8
    assert not np.shares_memory(frames[0], frames[1])
    rgb = cv2.cvtColor(frames[30], cv2.COLOR_YUV2RGB_I420).astype(np.float32)
    assert np.abs(rendered.facts.frames[30].astype(np.float32) - rgb).mean() < 4  # the same picture, decoded


def test_a_frame_like_the_one_before_is_not_drawn_again(rendered: Rendered, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ring buffers (inline) and the drawing thread hand on the last frame again for a repeat."""
    animator = make_animator(rendered.job)
    fresh = list(animator.yuv_frames())
    states = [animator.state(i) for i in range(animator.n_frames)]
    changes = 1 + sum(1 for a, b in itertools.pairwise(states) if a != b)
    assert changes < len(states)  # the clip has repeats (so the counts below can fail)
    drawn: list[int] = []
    draw = FaceAnimator.render_into

    def counted(self: FaceAnimator, i: int, buf: np.ndarray, *, reused: bool = False) -> np.ndarray:
        drawn.append(i)
        return draw(self, i, buf, reused=reused)

    monkeypatch.setattr(FaceAnimator, "render_into", counted)
    inline = [frame.copy() for frame in animator.yuv_frames(ring=2)]
    assert len(drawn) == changes
    drawn.clear()
    frames = DrawnFrames(animator)
    threaded = []
    while (frame := frames.next()) is not None:
        threaded.append(frame.copy())
    frames.close()
    assert len(drawn) == changes
    for a, b, c in zip(fresh, inline, threaded, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_the_pipeline_hands_work_on_in_batches(rendered: Rendered) -> None:
    """The muxer gets the first frame at once, then a fragment's frames at a time; the drawing thread
    gets its free buffers back a batch at a time. Frames and packets stay in order, none lost."""
    animator = make_animator(rendered.job)
    expected = [frame.copy() for frame in animator.yuv_frames()]
    frames = DrawnFrames(animator)
    got = []
    while (frame := frames.next()) is not None:
        got.append(frame.copy())
    frames.close()
    assert len(got) == len(expected) == 60 and all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    drawn = sum(not animator.repeats(i) for i in range(animator.n_frames))
    assert 2 <= frames.handoffs <= 2 + drawn // FREE_BATCH < drawn // 2  # not one a frame

    writer = FragmentedMP4Writer(rendered.job.width, rendered.job.height, rendered.audio)
    writer.header()
    stages = EncodedFrames(make_animator(rendered.job), writer)
    packets = list(stages)
    stages.close()
    writer.abort()
    assert len(packets) == 60 and all(len(p) == 1 for p in packets)  # x264 zerolatency: a packet a frame
    assert [p[0].pts for p in packets] == list(range(60))
    assert stages.handoffs == 1 + -(-59 // FRAGMENT_FRAMES) < 30  # not one a frame


def test_ring_buffers_render_the_same_frames(rendered: Rendered) -> None:
    animator = make_animator(rendered.job)
    fresh = list(animator.yuv_frames())
    reused = [frame.copy() for frame in animator.yuv_frames(ring=3)]
    assert len(fresh) == len(reused) == rendered.job.n_frames
    for a, b in zip(fresh, reused, strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(animator.rgb_frame(7), cv2.cvtColor(fresh[7], cv2.COLOR_YUV2RGB_I420))


def test_remux_faststart(rendered: Rendered, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    render_mp4(rendered.job, out)
    data = out.read_bytes()
    kinds = [k for k, _, _ in top_level_boxes(data)]
    assert "moof" not in kinds and kinds.index("moov") < kinds.index("mdat")
    facts = inspect_mp4(out)
    assert facts.n_frames == rendered.facts.n_frames and facts.audio_codec == "aac"
    assert np.array_equal(facts.frames[17], rendered.facts.frames[17])  # packets copied, not re-encoded
    assert list(tmp_path.iterdir()) == [out]  # the temporary fMP4 is gone


@pytest.mark.parametrize("size", [(640, 640), (480, 640), (322, 180)])
def test_output_sizes_and_fit(size: tuple[int, int]) -> None:
    portrait = make_portrait(500, 400, center=(0.7, 0.4), face_width=0.2)
    job = RenderJob(portrait.rgb, speech_like(0.5), *size)
    facts = inspect_mp4(b"".join(f.data for f in render_fmp4(job)))
    assert (facts.width, facts.height) == size and facts.n_frames == job.n_frames
    face = make_animator(job).face
    assert face.detected or size == (322, 180)
    assert face.x >= 0 and face.x + face.w <= size[0] + face.w // 2  # the face stays in the frame


@pytest.mark.parametrize(("seconds", "frames"), [(0.0, 1), (0.01, 1), (1.0, 25), (1.02, 26), (2.5, 62), (2.54, 64)])
def test_frame_count_rounds_the_audio(seconds: float, frames: int) -> None:
    job = RenderJob(np.zeros((32, 32, 3), np.uint8), np.zeros(int(seconds * 24000), np.float32), 32, 32)
    assert job.n_frames == frames


def test_bad_jobs_are_refused() -> None:
    with pytest.raises(ValueError):
        RenderJob(np.zeros((32, 32, 3), np.uint8), np.zeros(100, np.float32), 33, 32)
    with pytest.raises(ValueError):
        RenderJob(np.zeros((32, 32), np.uint8), np.zeros(100, np.float32), 32, 32)


def render_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in ("draw", "x264") and t.is_alive()]


def test_pipelined_and_inline_renders_give_the_same_bytes(rendered: Rendered) -> None:
    inline = b"".join(f.data for f in render_fmp4(rendered.job, pipeline=False))
    assert inline == rendered.data


def test_an_inline_render_runs_on_the_callers_thread_only() -> None:
    """What a worker process wants when several render at once: one core each."""
    job = RenderJob(make_portrait(320, 240).rgb, speech_like(4.0), 320, 240)
    seen: set[str] = set()
    for _ in render_fmp4(job, pipeline=False):
        seen.update(render_threads())
    assert not seen
    gen = render_fmp4(job)
    next(gen)
    next(gen)
    assert sorted(render_threads()) == ["draw", "x264"]  # the pipelined render's (so the check above can fail)
    gen.close()


def test_a_drawing_error_reaches_the_caller_and_stops_every_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    job = RenderJob(make_portrait(320, 240).rgb, speech_like(4.0), 320, 240)
    draw = FaceAnimator.render_into

    def broken(self: FaceAnimator, i: int, buf: np.ndarray, *, reused: bool = False) -> np.ndarray:
        if i == 40:
            raise RuntimeError("drawing frame 40 failed")
        return draw(self, i, buf, reused=reused)

    monkeypatch.setattr(FaceAnimator, "render_into", broken)
    got: list[Fragment] = []
    with pytest.raises(RuntimeError, match="frame 40"):
        for fragment in render_fmp4(job):
            got.append(fragment)
    assert got and got[-1].media_end <= 40 / 25  # what was drawn before it was delivered
    assert not render_threads()


def test_cancel_stops_promptly() -> None:
    portrait = make_portrait(320, 240)
    job = RenderJob(portrait.rgb, speech_like(20.0), 320, 240)
    cancel = threading.Event()
    got = []
    for fragment in render_fmp4(job, cancel=cancel):
        got.append(fragment)
        if len(got) == 3:
            assert render_threads()  # the pipeline is running (so the check below can fail)
            cancel.set()
    assert len(got) <= 4 and got[-1].media_end < 2.0
    assert not render_threads()


def test_closing_the_generator_releases_threads() -> None:
    job = RenderJob(make_portrait(320, 240).rgb, speech_like(10.0), 320, 240)
    gen = render_fmp4(job)
    next(gen)
    next(gen)
    assert sorted(render_threads()) == ["draw", "x264"]
    gen.close()
    assert not render_threads()


def test_cli_renders_an_mp4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image, audio, out = tmp_path / "face.png", tmp_path / "speech.wav", tmp_path / "out.mp4"
    Image.fromarray(make_portrait(300, 300).rgb).save(image)
    audio.write_bytes(wav_bytes(speech_like(1.0)))
    assert cli_main(["--image", str(image), "--audio", str(audio), "-o", str(out), "--size", "320x240"]) == 0
    facts = inspect_mp4(out)
    assert (facts.width, facts.height) == (320, 240) and facts.n_frames == 25 and facts.audio_codec == "aac"
    assert "out.mp4" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["--size", "641x480"],
        ["--size", "big"],
        ["--image", "{missing}"],
        ["--image", "{audio}"],
    ],
)
def test_cli_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    image, audio = tmp_path / "face.png", tmp_path / "speech.wav"
    Image.fromarray(make_portrait(64, 64).rgb).save(image)
    audio.write_bytes(wav_bytes(speech_like(0.2)))
    base = {"--image": str(image), "--audio": str(audio), "-o": str(tmp_path / "o.mp4")}
    names = {"{missing}": str(tmp_path / "nope.png"), "{audio}": str(audio)}
    base[args[0]] = names.get(args[1], args[1])
    argv = [x for pair in base.items() for x in pair]
    if args[0] not in base or args[0] == "--size":
        argv += [args[0], args[1]]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("avatar-emulator render: error:") and "\n" not in err


def test_engine_imports_no_http_code() -> None:
    code = (
        "import sys, reference_engine.render, reference_engine.cli, reference_engine.animate;"
        "bad = [m for m in ('starlette', 'httpx', 'uvicorn', 'mockserver') if m in sys.modules];"
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_drawing_ring_is_deep_for_boson_sizes_and_bounded_in_memory() -> None:
    assert ring_size(640 * 640 * 3 // 2) == RING >= 16  # deep enough to absorb the first levels' builds
    full_hd = 1920 * 1080 * 3 // 2
    assert MIN_RING <= ring_size(full_hd) < RING and ring_size(full_hd) * full_hd <= RING_BYTES
    assert ring_size(10**9) == MIN_RING
