"""Fold per-test evidence into per-clause verdicts; write the JSON report and the one-line summary."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.catalog import clauses_for
from contracts.evidence import Evidence, Record, summarize_clause
from contracts.target import Target

STATUSES = ("PASS", "FAIL", "NA", "XFAIL", "UNTESTED")


@dataclass
class TestResult:
    nodeid: str
    outcome: str
    duration_s: float
    clauses: list[str]
    request_ids: list[str]
    message: str = ""


@dataclass
class RunReport:
    """Everything one run found, clause by clause and test by test."""

    target: Target
    started: float = field(default_factory=time.time)
    records: dict[str, list[Record]] = field(default_factory=dict)
    tests: list[TestResult] = field(default_factory=list)
    not_run: dict[str, str] = field(default_factory=dict)
    """clause id -> why its tests were deselected (tier, --clause, provider)."""

    def add_evidence(self, evidence: Evidence) -> None:
        for record in evidence.records:
            self.records.setdefault(record.clause, []).append(record)

    def clause_rows(self) -> list[dict[str, Any]]:
        rows = []
        for clause in clauses_for(self.target.provider):
            records = self.records.get(clause.id, [])
            tests = sorted({t.nodeid for t in self.tests if clause.id in t.clauses})
            if clause.untested:
                status, reason = "UNTESTED", clause.untested
            elif records:
                status, reason = summarize_clause(records)
            elif clause.id in self.not_run:
                status, reason = "NA", self.not_run[clause.id]
            elif tests:
                status, reason = "NA", "its tests ran but recorded no verdict"
            else:
                status, reason = "UNTESTED", "no test names this clause"
            rows.append(
                {
                    "id": clause.id,
                    "level": clause.level,
                    "sentence": clause.sentence,
                    "source": clause.source,
                    "status": status,
                    "reason": self.target.redact(reason.splitlines()[0] if reason else ""),
                    "tests": tests,
                }
            )
        return rows

    def summary(self, rows: list[dict[str, Any]] | None = None) -> str:
        rows = rows if rows is not None else self.clause_rows()
        counts = Counter(r["status"] for r in rows)
        return ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES) + f" ({len(rows)} {self.target.provider} clauses)"

    def to_json(self) -> dict[str, Any]:
        rows = self.clause_rows()
        t = self.target
        return {
            "provider": t.provider,
            "target": {"name": t.name, "base_url": t.base_url, "loopback": t.loopback},
            "tier": t.tier,
            "budget": {"videos": t.budget_videos, "spent": t.spent_videos},
            "api_key_env": t.api_key_env,
            "started": self.started,
            "duration_s": round(time.time() - self.started, 3),
            "summary": self.summary(rows),
            "clauses": rows,
            "tests": [
                {
                    "nodeid": r.nodeid,
                    "outcome": r.outcome,
                    "duration_s": round(r.duration_s, 3),
                    "clauses": r.clauses,
                    "request_ids": r.request_ids,
                    "message": t.redact(r.message),
                }
                for r in self.tests
            ],
        }

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    def lines(self) -> list[str]:
        """The human summary: non-PASS clauses with their reason, then the count line."""
        rows = self.clause_rows()
        out = []
        for row in rows:
            if row["status"] != "PASS":
                out.append(f"{row['status']:8} {row['id']}: {row['reason']}")
        out.append(self.summary(rows))
        return out
