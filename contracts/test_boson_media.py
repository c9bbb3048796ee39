"""Core tier: what the rendered MP4 shows and sounds like (size, duration, audio, frames, lip-sync)."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.assets import Speech
from contracts.evidence import Evidence
from contracts.fixtures import Jobs
from contracts.media import Decoded, best_correlation, decode, envelope, lipsync

AAC_PRIMING_SAMPLES = 1024
MIN_LIPSYNC_R = 0.3
MIN_AUDIO_R = 0.7
MIN_CONTRAST = 8.0
MIN_MOTION = 1.0


def rendered(jobs: Jobs) -> Decoded:
    run = jobs.polled()
    assert run.content is not None and run.content.status_code == 200, f"no content; video ended {run.final}"
    return decode(run.content.content)


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-MEDIA-SIZE", "BOSON-MEDIA-DURATION")
def test_size_and_duration(jobs: Jobs, driving_speech: Speech, ev: Evidence) -> None:
    """Operation: decode /content of a 640x480 video driven by a 2.6 s WAV.
    Requirement: MUST be 640x480 and MUST last as long as the audio within one frame.
    """
    d = rendered(jobs)
    ev.check("BOSON-MEDIA-SIZE", (d.width, d.height) == (640, 480), f"decoded {d.width}x{d.height}, asked 640x480")
    frame = 1.0 / d.fps
    want = driving_speech.duration
    ev.check(
        "BOSON-MEDIA-DURATION",
        abs(d.frame_duration - want) <= frame + 1e-3,
        f"{len(d.frames)} frames at {d.fps:g} fps = {d.frame_duration:.3f} s; audio {want:.3f} s",
    )
    priming = AAC_PRIMING_SAMPLES / d.audio_rate if d.audio_rate else 0.0
    ev.check(
        "BOSON-MEDIA-DURATION",
        abs(d.video_duration - want) <= frame + priming + 1e-3,
        f"video timeline {d.video_duration:.3f} s; audio {want:.3f} s (allowing one frame and AAC priming)",
    )


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-MEDIA-AUDIO-TRACK", "BOSON-MEDIA-AUDIO-FAITHFUL")
def test_audio(jobs: Jobs, driving_speech: Speech, ev: Evidence) -> None:
    """Operation: decode the audio track of /content.
    Requirement: MUST have an audio track whose loudness follows the driving audio.
    """
    d = rendered(jobs)
    ev.check(
        "BOSON-MEDIA-AUDIO-TRACK",
        d.audio is not None and len(d.audio) > 0,
        "audio track present" if d.audio is not None else "no audio track",
    )
    if d.audio is None or not d.audio_rate:
        ev.check("BOSON-MEDIA-AUDIO-FAITHFUL", False, "no audio to compare")
        return
    hop = 0.04
    got = envelope(d.audio, d.audio_rate, hop)
    want = envelope(driving_speech.samples, driving_speech.sample_rate, hop)
    peak = float(np.abs(d.audio).max(initial=0.0))
    r = best_correlation(got, want, 3)
    ev.check(
        "BOSON-MEDIA-AUDIO-FAITHFUL",
        peak > 0.01 and r >= MIN_AUDIO_R,
        f"output peak {peak:.3f}, loudness correlation with the input r={r:.2f} (need {MIN_AUDIO_R})",
    )


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-MEDIA-NOT-BLANK", "BOSON-MEDIA-LIPSYNC")
def test_frames_and_lipsync(jobs: Jobs, driving_speech: Speech, ev: Evidence) -> None:
    """Operation: decode every frame of /content; find the mouth region; correlate its motion with loudness.
    Requirement: frames MUST show an image; mouth motion MUST correlate positively with the audio's loudness.
    """
    d = rendered(jobs)
    contrasts = [float(f.std()) for f in d.frames[:: max(1, len(d.frames) // 10)]]
    ev.check(
        "BOSON-MEDIA-NOT-BLANK",
        min(contrasts) >= MIN_CONTRAST,
        f"lowest sampled frame contrast (luma std) {min(contrasts):.1f} (need {MIN_CONTRAST})",
    )
    sync = lipsync(d, driving_speech.samples, driving_speech.sample_rate)
    ev.check(
        "BOSON-MEDIA-LIPSYNC",
        sync.r >= MIN_LIPSYNC_R and sync.motion_peak >= MIN_MOTION,
        f"mouth-region motion vs loudness r={sync.r:.2f} (need {MIN_LIPSYNC_R}); region {sync.region}, "
        f"face {'found' if sync.face_found else 'not found'}, peak motion {sync.motion_peak:.1f}",
    )
