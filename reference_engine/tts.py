"""A tiny deterministic speech synthesizer: text -> float32 mono 24 kHz audio that sounds like speech.

It is a crude source-filter model, numpy only. Letters become rough phones (vowels, sonorants, nasals,
fricatives, plosives); a band-limited pulse train at the voice's intonated F0 and a noise source are
shaped, frame by frame, by formant and fricative spectral envelopes (STFT filtering) and gated by
per-phone gains. Words are separated by short gaps, punctuation by longer pauses. Nothing is learned.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from . import SAMPLE_RATE

# fmt: off
PRESET_VOICES: tuple[str, ...] = ("default", "chloe", "eleanor", "jake", "marcus", "nora", "oliver")
_PRESET_PITCH = {"default": 200.0, "chloe": 215.0, "eleanor": 195.0, "nora": 228.0,
                 "jake": 118.0, "marcus": 104.0, "oliver": 126.0}

# fmt: on
_N_FFT, _HOP = 512, 256
_FREQS = np.fft.rfftfreq(_N_FFT, 1.0 / SAMPLE_RATE)
_WINDOW = np.sqrt(0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(_N_FFT) / _N_FFT))  # sqrt-Hann: COLA at 50 %
_FREQS32 = _FREQS.astype(np.float32)
_WINDOW32 = _WINDOW.astype(np.float32)
_OUTPUT_GAIN = 0.16
_TICK = SAMPLE_RATE // 1000  # samples per control value
_TEMPO = 0.9  # global scale of the phone durations (sets ~13-15 characters a second)
_WORD_GAP, _BREATH = 0.055, 0.12
_PAUSES = {",": 0.22, ";": 0.28, ":": 0.28, "-": 0.2, ".": 0.45, "!": 0.45, "?": 0.45, "\n": 0.45, "…": 0.6}
_MAX_PHRASE_WORDS = 24


class _Phone(NamedTuple):
    dur: float  # seconds at speed 1
    voice: float  # voiced-source gain
    noise: float  # noise-source gain
    formants: tuple[float, float, float]  # F1..F3 in Hz for a male-sized vocal tract
    shape: int  # noise spectrum: 0 = aspiration (through the formants), else an index into _SHAPES
    vowel: bool = False


def _bump(center: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((_FREQS - center) / width) ** 2)


def _unit(shape: np.ndarray) -> np.ndarray:
    shape = shape * (_FREQS / (_FREQS + 150.0)) ** 2
    return np.asarray(shape / np.sqrt(np.mean(shape**2)), dtype=np.float64)


# fmt: off
_ASP, _S, _SH, _F, _P, _T, _K = range(7)
_SHAPES = np.stack([
    np.ones_like(_FREQS),  # placeholder: aspiration uses the voiced envelope
    _unit(_bump(6300, 1700) + 0.25 * _bump(4200, 800) + 0.01),  # s z
    _unit(_bump(3000, 700) + 0.45 * _bump(4800, 1300) + 0.01),  # sh zh
    _unit(_FREQS / (_FREQS + 1500.0) + 0.05),  # f v th
    _unit(_bump(900, 600) + 0.2),  # p b burst
    _unit(_bump(4300, 1600) + 0.1),  # t d burst
    _unit(_bump(2000, 500) + 0.15),  # k g burst
])

_SHAPES32 = _SHAPES.astype(np.float32)
_NEUTRAL = (500.0, 1500.0, 2500.0)
_VOWELS = {"a": (730.0, 1090.0, 2440.0), "e": (530.0, 1840.0, 2480.0), "i": (390.0, 1990.0, 2550.0),
           "o": (570.0, 840.0, 2410.0), "u": (440.0, 1020.0, 2240.0), "y": (300.0, 2200.0, 2900.0),
           "ee": (270.0, 2290.0, 3010.0), "oo": (300.0, 870.0, 2240.0)}
# fmt: on
_DIGRAPH_VOWELS = {"ee": "ee", "ea": "ee", "ie": "ee", "oo": "oo", "ou": "oo", "ai": "e", "ay": "e", "ey": "e"}


def _vowel(key: str, dur: float) -> _Phone:
    return _Phone(dur, 1.0, 0.02, _VOWELS[key], _ASP, True)


def _son(f: tuple[float, float, float], gain: float = 0.55, dur: float = 0.06) -> list[_Phone]:
    return [_Phone(dur, gain, 0.0, f, _ASP)]


def _fric(shape: int, noise: float, voice: float = 0.0, dur: float = 0.08) -> list[_Phone]:
    return [_Phone(dur, voice, noise, _NEUTRAL, shape)]


def _stop(shape: int, voiced: bool) -> list[_Phone]:
    closure = _Phone(0.045, 0.12 if voiced else 0.0, 0.0, (250.0, 1000.0, 2200.0), _ASP)
    burst = _Phone(0.012, 0.0, 0.9, _NEUTRAL, shape)
    return [closure, burst] if voiced else [closure, burst, _Phone(0.025, 0.0, 0.25, _NEUTRAL, _ASP)]


# fmt: off
_CONSONANTS: dict[str, list[_Phone]] = {
    "l": _son((360.0, 1300.0, 2700.0)), "r": _son((420.0, 1300.0, 1600.0)), "w": _son((300.0, 610.0, 2200.0)),
    "m": _son((280.0, 1000.0, 2200.0), 0.4, 0.065), "n": _son((280.0, 1600.0, 2500.0), 0.4, 0.065),
    "ng": _son((280.0, 2000.0, 2600.0), 0.4, 0.07), "j": _stop(_T, True) + _fric(_SH, 0.3, 0.3, 0.06),
    "s": _fric(_S, 0.45), "z": _fric(_S, 0.3, 0.3, 0.07), "f": _fric(_F, 0.25, 0.0, 0.075),
    "v": _fric(_F, 0.2, 0.35, 0.07), "th": _fric(_F, 0.2, 0.0, 0.075), "sh": _fric(_SH, 0.45, 0.0, 0.09),
    "h": _fric(_ASP, 0.3, 0.0, 0.05), "ch": _stop(_T, False)[:2] + _fric(_SH, 0.45, 0.0, 0.07),
    "p": _stop(_P, False), "b": _stop(_P, True), "t": _stop(_T, False), "d": _stop(_T, True),
    "k": _stop(_K, False), "g": _stop(_K, True), "x": _stop(_K, False) + _fric(_S, 0.45),
}
_CONSONANTS.update({"q": _CONSONANTS["k"], "ck": _CONSONANTS["k"], "ph": _CONSONANTS["f"],
                    "qu": _CONSONANTS["k"] + _CONSONANTS["w"], "wh": _CONSONANTS["w"]})
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_SYMBOLS = {"&": " and ", "%": " percent ", "@": " at ", "+": " plus ", "=": " equals ", "$": " dollars ",
            "。": ".", "，": ",", "！": "!", "？": "?", "；": ";", "：": ":", "—": "-", "–": "-", "...": "…"}
# fmt: on
_INNER_JOINER = re.compile(r"(?<=[^\W\d_])[-'’](?=[^\W\d_])")
_TOKEN = re.compile(r"[^\W\d_]+|\d|…|[,;:.!?\n-]")


def voice_pitch(voice: str) -> float:
    """Base F0 in Hz of a preset voice; any other voice id maps deterministically (by hash) to a pitch."""
    key = voice.strip().lower()
    if key in _PRESET_PITCH:
        return _PRESET_PITCH[key]
    digest = hashlib.sha256(voice.encode("utf-8")).digest()
    low, span = (100.0, 30.0) if digest[0] % 2 == 0 else (190.0, 40.0)
    return low + span * digest[1] / 255.0


def estimate_pitch(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float | None:
    """Median F0 (Hz) of the voiced 40 ms frames of `samples` by autocorrelation; None if nothing is voiced."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)[: 30 * sample_rate]
    size, hop = int(0.04 * sample_rate), int(0.02 * sample_rate)
    if x.shape[0] < size:
        return None
    frames = np.lib.stride_tricks.sliding_window_view(x, size)[::hop]
    frames = frames - frames.mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    frames = frames[(rms > 0.1 * rms.max()) & (rms > 1e-4)]
    if frames.shape[0] == 0:
        return None
    spectrum = np.fft.rfft(frames * np.hanning(size), 2 * size, axis=1)
    ac = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :size]
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lo, hi = sample_rate // 450, sample_rate // 55
    region = ac[:, lo:hi]
    best = region.max(axis=1)
    voiced = best > 0.45
    if not voiced.any():
        return None
    # The first lag reaching 90 % of the best peak: avoids picking a multiple of the period.
    first = np.argmax(region[voiced] >= 0.9 * best[voiced, None], axis=1)
    lags = []
    for row, lag in zip(region[voiced], first, strict=True):
        while lag + 1 < row.shape[0] and row[lag + 1] > row[lag]:
            lag += 1  # climb to the top of that peak
        lags.append(lo + lag)
    return float(sample_rate / np.median(lags))


def _normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    text = _INNER_JOINER.sub(lambda m: " " if m.group(0) == "-" else "", text)  # well-known, don't
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    return text


def _word_phones(word: str) -> list[_Phone]:
    """Letters -> rough phones (greedy digraphs; non-Latin letters become one pseudo-syllable each)."""
    phones: list[_Phone] = []
    vowels_seen, i = 0, 0
    while i < len(word):
        ch, pair = word[i], word[i : i + 2]
        if not ch.isascii():  # other scripts: CJK-wide characters are syllables, other letters one phone
            code, wide = ord(ch), unicodedata.east_asian_width(ch) in ("W", "F")
            consonant = _CONSONANTS["bdgklmnprstvz"[code % 13]] if wide or code % 5 > 1 else []
            phones += consonant + ([_vowel("aeiou"[code // 13 % 5], 0.1)] if wide or not consonant else [])
            i += 1
            continue
        if ch in "aeiouy" and not (ch == "y" and i == 0 and len(word) > 1):
            key = _DIGRAPH_VOWELS.get(pair, ch)
            step = 2 if pair in _DIGRAPH_VOWELS else 1
            after_vowel = i > 0 and word[i - 1] in "aeiou"
            silent_e = ch == "e" and i == len(word) - 1 and len(word) > 3 and vowels_seen > 0
            dur = 0.03 if silent_e else 0.05 if after_vowel else 0.11 if vowels_seen == 0 else 0.085
            phones.append(_vowel(key, dur * (1.35 if step == 2 else 1.0)))
            vowels_seen += 1
            i += step
            continue
        if ch == "y":
            phones += _son(_VOWELS["ee"], 0.5, 0.05)
            i += 1
            continue
        key = pair if pair in _CONSONANTS else ch
        if key == "c":
            key = "s" if word[i + 1 : i + 2] in ("e", "i", "y") else "k"
        phones += _CONSONANTS.get(key, [])
        i += len(key) if key in _CONSONANTS and len(key) == 2 and pair == key else 1
        while i < len(word) and word[i] == ch and ch not in "aeiou":
            i += 1  # a doubled consonant is said once
    return phones


def _phrases(text: str) -> list[tuple[list[str], str]]:
    """Split into phrases: (words, the punctuation that ends the phrase or '' for a breath break)."""
    phrases: list[tuple[list[str], str]] = []
    words: list[str] = []
    for token in _TOKEN.findall(_normalize(text)):
        if token in _PAUSES:
            if words:
                phrases.append((words, token))
                words = []
            elif phrases and _PAUSES[token] > _PAUSES.get(phrases[-1][1], _BREATH):
                phrases[-1] = (phrases[-1][0], token)
            continue
        words += _DIGITS[int(token)].split() if token.isdigit() else [token]
        if len(words) >= _MAX_PHRASE_WORDS:
            phrases.append((words, ""))
            words = []
    if words:
        phrases.append((words, "."))
    return phrases


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over `width` samples (edges held)."""
    if width <= 1 or x.shape[0] == 0:
        return x
    half = width // 2
    padded = np.concatenate((np.full(half, x[0]), x, np.full(width - half, x[-1])))
    csum = np.concatenate(([0.0], np.cumsum(padded)))
    return (csum[width:] - csum[:-width])[: x.shape[0]] / width


class _Voice(NamedTuple):
    f0: float
    scale: float  # formant scaling: ~1.0 for a male-sized vocal tract, ~1.17 female


def _bandwidths(voice: _Voice) -> np.ndarray:
    return np.array([80.0, 100.0, 140.0, 220.0, 300.0]) * (0.9 + 0.2 * (voice.scale - 1.0) / 0.17)


def _resonance(formant: np.ndarray, bandwidth: float) -> np.ndarray:
    """Second-order resonator magnitude (unit gain at 0 Hz) for each formant value, over _FREQS."""
    f2 = (_FREQS32 * _FREQS32)[None, :]
    fk2 = (formant * formant)[:, None]
    return np.asarray(fk2 / np.sqrt((fk2 - f2) ** 2 + np.float32(bandwidth * bandwidth) * f2))


def _voice_colour(voice: _Voice) -> np.ndarray:
    """Fixed part of the voiced envelope: source tilt, low cut, and the F4/F5 resonances."""
    widths = _bandwidths(voice)
    tilt = (_FREQS / (_FREQS + 90.0)) ** 2 / np.sqrt(1.0 + (_FREQS / 1200.0) ** 2)
    upper = _resonance(np.array([3400.0 * voice.scale], np.float32), widths[3])
    upper = upper * _resonance(np.array([4300.0 * voice.scale], np.float32), widths[4])
    presence = 1.0 + (_FREQS / 4500.0) ** 2  # stands in for the poles above F5
    return np.asarray((tilt * upper[0] * presence).astype(np.float32))


def _phrase_phones(
    words: list[str], end: str, speed: float, rng: np.random.Generator
) -> tuple[list[_Phone], list[float]]:
    """The phrase's phones (word gaps and the final pause included) and a pitch accent factor for each."""
    phones: list[_Phone] = []
    accents: list[float] = []
    for n, word in enumerate(words):
        stretch = _TEMPO * (1.0 + 0.06 * rng.standard_normal()) / speed
        accent = 1.0 + 0.03 * rng.standard_normal()
        word_phones = _word_phones(word)
        vowels = [k for k, p in enumerate(word_phones) if p.vowel]
        if n == len(words) - 1 and vowels:  # phrase-final lengthening
            word_phones[vowels[-1]] = word_phones[vowels[-1]]._replace(dur=word_phones[vowels[-1]].dur * 1.3)
        for k, p in enumerate(word_phones):
            phones.append(p._replace(dur=p.dur * stretch))
            accents.append(accent * (1.07 if vowels and k == vowels[0] else 1.0))
        gap = _WORD_GAP if n < len(words) - 1 else _PAUSES.get(end, _BREATH)
        phones.append(_Phone(gap / speed, 0.0, 0.0, _NEUTRAL, _ASP))
        accents.append(1.0)
    return phones, accents


def _render_phrase(words: list[str], end: str, voice: _Voice, speed: float, rng: np.random.Generator) -> np.ndarray:
    phones, accents = _phrase_phones(words, end, speed, rng)
    # Control tracks run at one value per _TICK samples (1 ms); audio-rate signals repeat them.
    ticks = np.maximum(np.round(np.array([p.dur for p in phones]) * SAMPLE_RATE / _TICK).astype(np.int64), 1)
    total = int(ticks.sum())
    index = np.repeat(np.arange(len(phones)), ticks)
    starts = np.concatenate(([0], np.cumsum(ticks)[:-1]))
    position = (np.arange(total) - starts[index]) / ticks[index]
    is_vowel = np.array([p.vowel for p in phones])[index]
    syllable = np.where(is_vowel, 0.7 + 0.3 * np.sin(np.pi * position), 1.0)  # syllable-rate swell
    voiced_gain = _smooth(np.array([p.voice for p in phones])[index] * syllable, 6)
    noise_gain = _smooth(np.array([p.noise for p in phones])[index], 3)

    # Intonation: declination over the phrase, accents on stressed vowels, a rise for questions.
    t = np.minimum(np.arange(total) / max(total - int(ticks[-1]), 1), 1.0)
    contour = 1.06 - 0.14 * t
    if end == "?":
        contour += 0.3 * np.clip((t - 0.65) / 0.35, 0.0, 1.0)
    elif end in (",", ";", ":", "-", ""):
        contour += 0.08 * np.clip((t - 0.8) / 0.2, 0.0, 1.0)
    f0 = _smooth(voice.f0 * contour * np.array(accents)[index], 60)
    increment = np.repeat(2.0 * np.pi * f0 / SAMPLE_RATE, _TICK)
    phase = np.mod(np.cumsum(increment), 2.0 * np.pi).astype(np.float32)
    harmonics = max(int(0.45 * SAMPLE_RATE / f0.max()), 1)
    half = np.sin(np.float32(0.5) * phase)
    tiny = np.abs(half) < 1e-4
    pulses = np.sin(np.float32(harmonics + 0.5) * phase) / (2.0 * np.where(tiny, np.float32(1.0), half)) - 0.5
    pulses[tiny] = harmonics
    level = np.float32(1.0 / np.sqrt(harmonics / 2.0))
    voiced = pulses * np.repeat((voiced_gain * level).astype(np.float32), _TICK)
    noise = rng.standard_normal(total * _TICK, dtype=np.float32) * np.repeat(noise_gain.astype(np.float32), _TICK)
    return _filter(voiced, noise, phones, np.repeat(index, _TICK), voice)


def _filter(
    voiced: np.ndarray, noise: np.ndarray, phones: list[_Phone], index: np.ndarray, voice: _Voice
) -> np.ndarray:
    """Time-varying spectral shaping by STFT (sqrt-Hann, 50 % overlap) of both sources, then overlap-add."""
    total = voiced.shape[0]
    n_frames = (total + _N_FFT) // _HOP + 1
    padded_len = (n_frames + 1) * _HOP
    spectra = []
    for signal in (voiced, noise):
        padded = np.zeros(padded_len, dtype=np.float32)
        padded[_N_FFT // 2 : _N_FFT // 2 + total] = signal
        frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP][:n_frames]
        spectra.append(np.fft.rfft(frames * _WINDOW32, axis=1))
    centres = np.clip(np.arange(n_frames) * _HOP, 0, total - 1)
    frame_phone = index[centres]
    formants = np.array([p.formants for p in phones])[frame_phone] * voice.scale
    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9.0
    padded_f = np.concatenate((formants[:1].repeat(2, 0), formants, formants[-1:].repeat(2, 0)))
    formants = sum(kernel[k] * padded_f[k : k + n_frames] for k in range(5))
    formants, widths = formants.astype(np.float32), _bandwidths(voice)
    envelope = _voice_colour(voice) * _resonance(formants[:, 0], widths[0])
    for k in (1, 2):  # a cascade of F1..F3 (F4 and F5 are fixed, in the voice colour)
        envelope *= _resonance(formants[:, k], widths[k])
    envelope /= np.sqrt(np.mean(envelope**2, axis=1, keepdims=True)) + np.float32(1e-12)
    shape_index = np.array([p.shape for p in phones])[frame_phone]
    noise_env = np.where((shape_index == _ASP)[:, None], envelope, _SHAPES32[shape_index])
    out_frames = np.fft.irfft(spectra[0] * envelope + spectra[1] * noise_env, n=_N_FFT, axis=1) * _WINDOW32
    blocks = np.zeros((n_frames + 1, _HOP), dtype=np.float32)
    blocks[:-1] += out_frames[:, :_HOP]
    blocks[1:] += out_frames[:, _HOP:]
    return blocks.reshape(-1)[_N_FFT // 2 : _N_FFT // 2 + total]


def _finish(signal: np.ndarray) -> np.ndarray:
    x = signal.astype(np.float64) * _OUTPUT_GAIN
    x = x - np.mean(x)
    knee = 0.7  # soft limiter: transparent below the knee, never above ~0.9
    over = np.abs(x) > knee
    x[over] = np.sign(x[over]) * (knee + 0.2 * np.tanh((np.abs(x[over]) - knee) / 0.2))
    fade = min(120, x.shape[0] // 2)  # 5 ms
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    x[:fade] *= ramp
    x[x.shape[0] - fade :] *= ramp[::-1]
    return x.astype(np.float32)


def _check(text: str, speed: float, pitch: float) -> None:
    if not text or not text.strip():
        raise ValueError("the text to synthesize is empty (or only whitespace)")
    if not np.isfinite(speed) or not 0.25 <= speed <= 4.0:
        raise ValueError(f"speed must be between 0.25 and 4.0, got {speed}")
    if not np.isfinite(pitch) or not -75.0 <= pitch <= 100.0:
        raise ValueError(f"pitch must be between -75 and 100 (percent), got {pitch}")


def synthesize_chunks(text: str, voice: str = "default", *, seed: int = 0, speed: float = 1.0,
                      pitch: float = 0.0, ref_audio: np.ndarray | None = None) -> Iterator[np.ndarray]:  # fmt: skip
    """Like `synthesize`, but yield the audio phrase by phrase as it is made (for streaming).

    Concatenating the chunks gives exactly `synthesize(...)` with the same arguments.
    """
    _check(text, speed, pitch)
    base = estimate_pitch(ref_audio) if ref_audio is not None else None
    f0 = (base if base is not None else voice_pitch(voice)) * (1.0 + pitch / 100.0)
    sized = base if base is not None else voice_pitch(voice)
    scale = 1.0 + 0.17 * float(np.clip((sized - 120.0) / 90.0, 0.0, 1.0))
    phrases = _phrases(text)
    if not phrases:  # punctuation or symbols only: a short silence
        yield np.zeros(int(_PAUSES["."] / speed * SAMPLE_RATE), dtype=np.float32)
        return
    for number, (words, end) in enumerate(phrases):
        rng = np.random.default_rng([seed % 2**63, number])
        yield _finish(_render_phrase(words, end, _Voice(f0, scale), speed, rng))


def synthesize(text: str, voice: str = "default", *, seed: int = 0, speed: float = 1.0,
               pitch: float = 0.0, ref_audio: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Speak `text` as float32 mono SAMPLE_RATE audio (peak <= ~0.9); deterministic for the same arguments.

    `voice` is a preset (PRESET_VOICES) or any custom id (hashed to a pitch); `speed` (0.25-4, 1 = normal,
    about 13 characters a second) divides every duration; `pitch` shifts F0 by that many **percent**
    (+50 -> 1.5x F0); `ref_audio` (float32 24 kHz) replaces the voice's pitch with its median F0.
    Raises ValueError for empty/whitespace text or out-of-range speed/pitch.
    """
    chunks = list(synthesize_chunks(text, voice, seed=seed, speed=speed, pitch=pitch, ref_audio=ref_audio))
    return np.concatenate(chunks).astype(np.float32, copy=False)
