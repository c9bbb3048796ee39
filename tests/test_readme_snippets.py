"""The Python examples in the README's provider sections run, unchanged, against a live emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTION = re.compile(r"^## (?P<title>.+?)\n(?P<body>.*?)(?=^## |\Z)", re.S | re.M)
PYTHON_BLOCK = re.compile(r"```python\n(?P<code>.*?)```", re.S)


def snippets(section_title: str) -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for match in SECTION.finditer(readme):
        if match["title"].strip() == section_title:
            return [m["code"] for m in PYTHON_BLOCK.finditer(match["body"])]
    raise AssertionError(f"README has no section {section_title!r}")


@pytest.mark.parametrize("section", ["Using the Boson emulator", "Using the HeyGen emulator"])
def test_readme_python_examples_run(
    section: str, boson_url: str, face_data_uri: str, speech_data_uri: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocks = snippets(section)
    assert blocks, f"{section} has no Python example"
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        assert "http://127.0.0.1:8000" in code
        namespace = {"image_data_uri": face_data_uri, "audio_data_uri": speech_data_uri}
        exec(compile(code.replace("http://127.0.0.1:8000", boson_url), f"README:{section}", "exec"), namespace)
    outputs = sorted(p.name for p in tmp_path.iterdir())
    assert "out.mp4" in outputs
    assert (tmp_path / "out.mp4").read_bytes()[4:8] == b"ftyp"
