"""Fold per-test evidence into per-clause verdicts, a score and coverage; write the JSON report and the summary."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.catalog import clauses_for
from contracts.evidence import Evidence, Record, summarize_clause
from contracts.spec import operation_of, operations
from contracts.target import Target

STATUSES = ("PASS", "FAIL", "WARN", "NA", "XFAIL", "UNTESTED")
JUDGED = ("PASS", "FAIL", "WARN", "XFAIL")
"""Statuses that mean a test looked at the clause on this target."""


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
    strict: bool = False
    started: float = field(default_factory=time.time)
    records: dict[str, list[Record]] = field(default_factory=dict)
    tests: list[TestResult] = field(default_factory=list)
    not_run: dict[str, str] = field(default_factory=dict)
    """clause id -> why its tests were deselected (tier, --clause, provider)."""
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(method, URL path) of every request the suite's client sent."""
    breadth_operations: set[str] = field(default_factory=set)

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

    def score(self, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """MUST clauses passed / MUST clauses applicable (not NA); with --strict, SHOULD clauses count too.

        UNTESTED and XFAIL clauses are applicable and not passed: a known deviation is still a deviation.
        """
        rows = rows if rows is not None else self.clause_rows()
        levels = ("MUST", "SHOULD") if self.strict else ("MUST",)
        counted = [r for r in rows if r["level"] in levels and r["status"] != "NA"]
        passed = sum(1 for r in counted if r["status"] == "PASS")
        should = [r for r in rows if r["level"] == "SHOULD" and r["status"] != "NA"]
        return {
            "counts": "+".join(levels),
            "passed": passed,
            "applicable": len(counted),
            "ratio": round(passed / len(counted), 4) if counted else None,
            "should_met": sum(1 for r in should if r["status"] == "PASS"),
            "should_applicable": len(should),
        }

    def coverage(self, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Which documented operations the run called, and which clauses it judged, left NA (why) or untested."""
        rows = rows if rows is not None else self.clause_rows()
        provider = self.target.provider
        requests: Counter[str] = Counter()
        for method, path in self.calls:
            called = operation_of(provider, method, path)
            if called is not None:
                requests[called] += 1
        ops = []
        for op in operations(provider):
            ops.append(
                {
                    "id": op.id,
                    "method": op.method,
                    "path": op.path,
                    "requests": requests.get(op.id, 0),
                    "breadth": op.id in self.breadth_operations,
                }
            )
        exercised = [o["id"] for o in ops if o["requests"] or o["breadth"]]
        return {
            "operations": ops,
            "operations_exercised": exercised,
            "operations_not_exercised": [o["id"] for o in ops if o["id"] not in exercised],
            "clauses_judged": [r["id"] for r in rows if r["status"] in JUDGED],
            "clauses_na": {r["id"]: r["reason"] for r in rows if r["status"] == "NA"},
            "clauses_untested": [r["id"] for r in rows if r["status"] == "UNTESTED"],
        }

    def to_json(self) -> dict[str, Any]:
        rows = self.clause_rows()
        t = self.target
        return {
            "provider": t.provider,
            "target": {"name": t.name, "base_url": t.base_url, "loopback": t.loopback},
            "tier": t.tier,
            "strict": self.strict,
            "budget": {"videos": t.budget_videos, "spent": t.spent_videos},
            "api_key_env": t.api_key_env,
            "started": self.started,
            "duration_s": round(time.time() - self.started, 3),
            "summary": self.summary(rows),
            "score": self.score(rows),
            "coverage": self.coverage(rows),
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

    def score_line(self, rows: list[dict[str, Any]] | None = None) -> str:
        s = self.score(rows)
        ratio = f"{100 * s['ratio']:.1f}%" if s["ratio"] is not None else "n/a"
        return (
            f"score {self.target.provider}: {s['passed']}/{s['applicable']} {s['counts']} clauses passed ({ratio}); "
            f"SHOULD met {s['should_met']}/{s['should_applicable']}"
        )

    def coverage_lines(self, rows: list[dict[str, Any]] | None = None) -> list[str]:
        c = self.coverage(rows)
        total = len(c["operations"])
        lines = [
            f"coverage: {len(c['operations_exercised'])}/{total} operations exercised, "
            f"{len(c['clauses_judged'])} clauses judged, {len(c['clauses_na'])} NA, "
            f"{len(c['clauses_untested'])} untested"
        ]
        if c["operations_not_exercised"]:
            lines.append("operations not exercised: " + ", ".join(c["operations_not_exercised"]))
        return lines

    def lines(self) -> list[str]:
        """The human summary: non-PASS clauses with their reason, the counts, the score and the coverage."""
        rows = self.clause_rows()
        out = []
        for row in rows:
            if row["status"] != "PASS":
                out.append(f"{row['status']:8} {row['id']}: {row['reason']}")
        out.append(self.summary(rows))
        out.append(self.score_line(rows))
        out.extend(self.coverage_lines(rows))
        return out

    def junit_properties(self) -> list[tuple[str, str]]:
        """The score, coverage and every clause's verdict, as JUnit testsuite properties."""
        rows = self.clause_rows()
        s, c = self.score(rows), self.coverage(rows)
        props = [
            ("conformance.provider", self.target.provider),
            ("conformance.target", self.target.name),
            ("conformance.tier", self.target.tier),
            ("conformance.strict", str(self.strict).lower()),
            ("conformance.summary", self.summary(rows)),
            ("conformance.score", f"{s['passed']}/{s['applicable']}"),
            ("conformance.score.ratio", "" if s["ratio"] is None else f"{s['ratio']:.4f}"),
            ("conformance.score.counts", s["counts"]),
            ("coverage.operations.exercised", " ".join(c["operations_exercised"])),
            ("coverage.operations.not_exercised", " ".join(c["operations_not_exercised"])),
            ("coverage.clauses.judged", str(len(c["clauses_judged"]))),
            ("coverage.clauses.untested", " ".join(c["clauses_untested"])),
        ]
        for row in rows:
            value = row["status"] if row["status"] in ("PASS",) else f"{row['status']}: {row['reason']}"
            props.append((f"clause.{row['id']}", value))
        return props
