"""The MP4 and the fMP4 last as long as the input audio, within one frame, as ffprobe and PyAV read them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
from PIL import Image

from reference_engine.cli import main as cli_main
from tests.media import blank_image, make_portrait, speech_like, wav_bytes
from tests.system import system_tool

SECONDS = 3.987  # the clip: ffprobe read 4.043 s before the priming was accounted for
FRAME = 1 / 25


def ffprobe_duration(path: Path) -> float:
    ffprobe = system_tool("ffprobe", "apt-get install -y ffmpeg")
    out = subprocess.run([ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return float(out.strip())


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("duration")
    image, audio = folder / "face.png", folder / "speech.wav"
    Image.fromarray(make_portrait(240, 240).rgb).save(image)
    audio.write_bytes(wav_bytes(speech_like(SECONDS, seed=5)))
    out = {"mp4": folder / "out.mp4", "fmp4": folder / "out.fmp4"}
    base = ["--image", str(image), "--audio", str(audio), "--size", "160x160"]
    assert cli_main([*base, "-o", str(out["mp4"])]) == 0
    assert cli_main([*base, "-o", str(out["fmp4"]), "--fragmented"]) == 0
    return out


@pytest.mark.parametrize("kind", ["mp4", "fmp4"])
def test_ffprobe_reads_the_audio_length(outputs: dict[str, Path], kind: str) -> None:
    assert abs(ffprobe_duration(outputs[kind]) - SECONDS) <= FRAME


@pytest.mark.parametrize("kind", ["mp4", "fmp4"])
def test_pyav_reads_the_audio_length(outputs: dict[str, Path], kind: str) -> None:
    with av.open(str(outputs[kind])) as container:
        assert container.duration is not None
        assert abs(container.duration / 1_000_000 - SECONDS) <= FRAME
        audio = container.streams.audio[0]
        assert audio.duration is not None and audio.time_base is not None
        assert float(audio.duration * audio.time_base) == pytest.approx(SECONDS, abs=1e-3)
        assert (audio.start_time or 0) == 0  # audio and video both start at zero: no priming shift


def test_cli_says_when_there_is_no_face(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image, audio, out = tmp_path / "nothing.png", tmp_path / "speech.wav", tmp_path / "out.mp4"
    Image.fromarray(blank_image(200, 200)).save(image)
    audio.write_bytes(wav_bytes(speech_like(0.5)))
    assert cli_main(["--image", str(image), "--audio", str(audio), "-o", str(out), "--size", "160x160"]) == 0
    captured = capsys.readouterr()
    assert "no face found" in captured.err and "out.mp4" in captured.out
