"""reference_engine.tts: a deterministic, speech-like synthesizer."""

from __future__ import annotations

import numpy as np
import pytest

from reference_engine import SAMPLE_RATE
from reference_engine.tts import PRESET_VOICES, synthesize, synthesize_chunks, voice_pitch

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
FEMALE, MALE = ("chloe", "eleanor", "nora"), ("jake", "marcus", "oliver")


def median_f0(samples: np.ndarray) -> float:
    """Median F0 over loud 40 ms frames by normalised autocorrelation (independent of the engine's own)."""
    size, hop = 960, 480
    frames = np.lib.stride_tricks.sliding_window_view(samples.astype(np.float64), size)[::hop]
    rms = np.sqrt(np.mean(frames**2, axis=1))
    estimates = []
    for frame in frames[rms > 0.3 * rms.max()]:
        frame = frame - frame.mean()
        ac = np.correlate(frame, frame, mode="full")[size - 1 :]
        ac /= ac[0]
        lo, hi = SAMPLE_RATE // 400, SAMPLE_RATE // 60
        peak = float(ac[lo:hi].max())
        if peak > 0.5:
            lag = lo + int(np.argmax(ac[lo:hi] > 0.9 * peak))
            while ac[lag + 1] > ac[lag]:
                lag += 1
            estimates.append(SAMPLE_RATE / lag)
    assert len(estimates) > 5, "no voiced frames found"
    return float(np.median(estimates))


def silent_runs(samples: np.ndarray, threshold: float = 1e-3) -> list[tuple[int, int]]:
    """(start, length) of every run of samples quieter than `threshold`."""
    quiet = np.concatenate(([False], np.abs(samples) < threshold, [False]))
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def longest_inner_pause(samples: np.ndarray) -> float:
    """Seconds of the longest silent run that is neither at the very start nor at the very end."""
    inner = [n for start, n in silent_runs(samples) if start > 0 and start + n < samples.shape[0]]
    return max(inner, default=0) / SAMPLE_RATE


def test_output_is_float32_mono_bounded_and_without_dc() -> None:
    audio = synthesize(SENTENCE)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.3 < float(np.abs(audio).max()) <= 0.9
    assert abs(float(audio.mean())) < 1e-3
    assert abs(float(audio[0])) < 1e-3 and abs(float(audio[-1])) < 1e-3  # faded in and out
    assert float(np.sqrt(np.mean(audio**2))) > 0.03


def test_deterministic_and_seeded() -> None:
    a, b = synthesize(SENTENCE, "jake", seed=3), synthesize(SENTENCE, "jake", seed=3)
    assert np.array_equal(a, b)
    c = synthesize(SENTENCE, "jake", seed=4)
    assert not np.array_equal(a[: c.shape[0]], c[: a.shape[0]])
    assert abs(c.shape[0] - a.shape[0]) < 0.15 * a.shape[0]


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        synthesize(text)


def test_duration_grows_linearly_at_a_speaking_rate() -> None:
    durations = [synthesize(" ".join([SENTENCE] * n)).shape[0] / SAMPLE_RATE for n in (1, 2, 4)]
    assert 1.8 < durations[1] / durations[0] < 2.2
    assert 3.6 < durations[2] / durations[0] < 4.4
    chars_per_second = 4 * len(SENTENCE) / durations[2]
    assert 11 < chars_per_second < 17


def test_sentence_punctuation_makes_pauses() -> None:
    with_stop = synthesize("Hello there my friend. General Kenobi is here")
    without = synthesize("Hello there my friend general Kenobi is here")
    with_comma = synthesize("Hello there my friend, general Kenobi is here")
    assert longest_inner_pause(with_stop) >= 0.15
    assert longest_inner_pause(without) < 0.15  # word gaps and stop closures are short
    assert 0.1 < longest_inner_pause(with_comma) < longest_inner_pause(with_stop)
    # The sentence pause sits between the two sentences, not at the ends.
    start, _ = max((r for r in silent_runs(with_stop) if r[0] > 0), key=lambda r: r[1])
    assert 0.2 < start / with_stop.shape[0] < 0.7


def test_voiced_frames_have_the_voice_pitch() -> None:
    pitches = {voice: median_f0(synthesize(SENTENCE, voice)) for voice in FEMALE + MALE}
    for voice, f0 in pitches.items():
        assert abs(f0 / voice_pitch(voice) - 1.0) < 0.12, (voice, f0)
    assert max(pitches[v] for v in MALE) < 140 < 180 < min(pitches[v] for v in FEMALE)


def test_preset_and_custom_voice_pitches() -> None:
    assert set(PRESET_VOICES) == {"default", "chloe", "eleanor", "jake", "marcus", "nora", "oliver"}
    assert all(190 <= voice_pitch(v) <= 230 for v in FEMALE)
    assert all(100 <= voice_pitch(v) <= 130 for v in MALE)
    custom = voice_pitch("voice_0123abcd")
    assert custom == voice_pitch("voice_0123abcd") and 90 <= custom <= 240
    assert len({voice_pitch(f"voice_{i}") for i in range(20)}) > 10


def test_speed_scales_duration() -> None:
    lengths = [synthesize(SENTENCE, speed=s).shape[0] for s in (1.5, 1.0, 0.5)]
    assert lengths[0] < lengths[1] < lengths[2]
    assert 1.3 < lengths[1] / lengths[0] < 1.7 and 1.8 < lengths[2] / lengths[1] < 2.2


def test_pitch_shift_is_in_percent() -> None:
    base = median_f0(synthesize(SENTENCE, "oliver"))
    assert 1.35 < median_f0(synthesize(SENTENCE, "oliver", pitch=50)) / base < 1.65
    assert 0.7 < median_f0(synthesize(SENTENCE, "oliver", pitch=-20)) / base < 0.9


def test_chunks_concatenate_to_the_whole() -> None:
    text = "First sentence here. Second one, with a comma! And a question? " + " ".join(["word"] * 60)
    chunks = list(synthesize_chunks(text, "nora", seed=7))
    assert len(chunks) >= 5
    assert all(c.dtype == np.float32 and c.shape[0] > 0 for c in chunks)
    assert np.array_equal(np.concatenate(chunks), synthesize(text, "nora", seed=7))


def test_ref_audio_pitch_is_adopted() -> None:
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    ref = sum(np.sin(2 * np.pi * 150.0 * k * t) / k for k in range(1, 8)).astype(np.float32) * 0.2
    cloned = median_f0(synthesize(SENTENCE, "chloe", ref_audio=ref))
    assert abs(cloned / 150.0 - 1.0) < 0.12
    male_ref = synthesize("Some reference speech from a deep voice.", "marcus")
    assert median_f0(synthesize(SENTENCE, "nora", ref_audio=male_ref)) < 130


def test_fricatives_are_noisy_and_vowels_are_low() -> None:
    def centroid(audio: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(audio)) ** 2
        freqs = np.fft.rfftfreq(audio.shape[0], 1 / SAMPLE_RATE)
        return float((spectrum * freqs).sum() / spectrum.sum())

    assert centroid(synthesize("sss shh sss")) > 3000 > 1500 > centroid(synthesize("aaa oo maa"))


def test_odd_text_still_speaks() -> None:
    for text in ("42", "Ça va? Très bien.", "你好，世界", "...", "well-known don't & 100%"):
        audio = synthesize(text)
        assert audio.shape[0] > 0.1 * SAMPLE_RATE and np.all(np.isfinite(audio))


def test_long_input_is_synthesized() -> None:
    text = ("Streaming avatars need lots of speech, so here is a long and winding paragraph. " * 70)[:5000]
    audio = synthesize(text, "marcus")
    assert 5000 / 17 < audio.shape[0] / SAMPLE_RATE < 5000 / 11
    assert float(np.abs(audio).max()) <= 0.9
