"""The clause catalog (clauses.yaml) and the known deviations (deviations.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

HERE = Path(__file__).resolve().parent
Level = Literal["MUST", "SHOULD"]
PROVIDERS = ("boson", "heygen")


@dataclass(frozen=True)
class Clause:
    """One checkable promise of a provider's API."""

    id: str
    provider: str
    level: Level
    sentence: str
    source: str
    untested: str | None = None
    """Why no test checks it yet; such a clause reports UNTESTED."""


@cache
def load_catalog() -> dict[str, Clause]:
    """All clauses by id, in catalog order."""
    raw = yaml.safe_load((HERE / "clauses.yaml").read_text(encoding="utf-8"))
    clauses: dict[str, Clause] = {}
    for provider in PROVIDERS:
        for item in raw.get(provider, []):
            clause = Clause(
                id=item["id"],
                provider=provider,
                level=item["level"],
                sentence=item["sentence"],
                source=item["source"],
                untested=item.get("untested"),
            )
            if clause.id in clauses:
                raise ValueError(f"duplicate clause id {clause.id}")
            if clause.level not in ("MUST", "SHOULD"):
                raise ValueError(f"{clause.id}: level must be MUST or SHOULD")
            clauses[clause.id] = clause
    return clauses


def clauses_for(provider: str) -> list[Clause]:
    """The clauses of one provider, in catalog order."""
    return [c for c in load_catalog().values() if c.provider == provider]


def load_deviations(path: Path | None = None) -> dict[str, dict[str, str]]:
    """clause id -> target name -> reason. Unknown clause ids are an error (the file must stay clean)."""
    path = path or HERE / "deviations.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    catalog = load_catalog()
    result: dict[str, dict[str, str]] = {}
    for clause_id, targets in raw.items():
        if clause_id not in catalog:
            raise ValueError(f"deviations.yaml names unknown clause {clause_id}")
        if not isinstance(targets, dict) or not all(isinstance(v, str) and v for v in targets.values()):
            raise ValueError(f"deviations.yaml: {clause_id} must map target names to non-empty reasons")
        result[clause_id] = {str(k): str(v) for k, v in targets.items()}
    return result
