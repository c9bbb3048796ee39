"""The provider's OpenAPI document (openapi/<provider>.yaml) as the suite reads it: where it is, its operations."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
EXCLUDED_TAGS = frozenset({"Emulator"})
"""Operations that only exist on the emulator (openapi/heygen.yaml tag Emulator): not part of the contract."""


def spec_path(provider: str) -> Path | None:
    """openapi/<provider>.yaml from a source checkout, or from the installed shared data."""
    here = Path(__file__).resolve().parent
    for base in (here.parent / "openapi", Path(sys.prefix) / "share" / "avatar-emulator" / "openapi"):
        candidate = base / f"{provider}.yaml"
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class SpecOperation:
    """One documented operation: its id, method and path template."""

    id: str
    method: str
    path: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """The path template as a regex: each {param} matches one non-empty path segment."""
        parts = re.split(r"(\{[^}/]+\})", self.path)
        return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))

    def matches(self, method: str, path: str) -> bool:
        return method.upper() == self.method and self.pattern.fullmatch(path) is not None


@cache
def operations(provider: str) -> tuple[SpecOperation, ...]:
    """The provider's documented operations (emulator-only ones excluded); empty when the spec is missing."""
    path = spec_path(provider)
    if path is None:
        return ()
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[SpecOperation] = []
    for template, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None or EXCLUDED_TAGS.intersection(raw.get("tags") or ()):
                continue
            out.append(SpecOperation(str(raw.get("operationId") or f"{method} {template}"), method.upper(), template))
    # Literal paths before templated ones, so /v1/videos/stream is not taken for /v1/videos/{video_id}.
    out.sort(key=lambda op: op.path.count("{"))
    return tuple(out)


def operation_of(provider: str, method: str, path: str) -> str | None:
    """The id of the documented operation a request (method, URL path) is a call of, or None."""
    for op in operations(provider):
        if op.matches(method, path):
            return op.id
    return None
