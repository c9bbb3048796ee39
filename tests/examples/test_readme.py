"""The README's "Testing your client" code blocks are taken verbatim from the files here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n# (tests/examples/\S+\.py)\n(.*?)```", re.S)


def readme_excerpts() -> list[tuple[str, str]]:
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_excerpts_match_the_example_files() -> None:
    excerpts = readme_excerpts()
    assert {path for path, _ in excerpts} == {
        f"tests/examples/{p.name}" for p in (ROOT / "tests/examples").glob("test_*.py") if p.name != "test_readme.py"
    }
    for path, excerpt in excerpts:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert excerpt in source, f"README's excerpt of {path} no longer matches the file"


def test_the_check_notices_a_changed_line() -> None:
    path, excerpt = readme_excerpts()[0]
    source = (ROOT / path).read_text(encoding="utf-8")
    assert excerpt.replace("assert", "assert not", 1) not in source
