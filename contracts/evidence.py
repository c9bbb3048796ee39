"""Per-test, per-clause verdicts: tests record soft checks, the plugin turns them into the test's outcome.

A failed check of a SHOULD clause is a WARN: reported, but it never fails the run unless the run is
`--strict`, where it is a FAIL like any MUST clause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["PASS", "FAIL", "WARN", "NA", "XFAIL"]


@dataclass
class Record:
    clause: str
    verdict: Verdict
    message: str


@dataclass
class Evidence:
    """What one test found about each clause it names.

    `check` never raises: a test goes on after a failed check, so one run reports every broken clause.
    A failed check of a clause listed in deviations.yaml for this target counts as XFAIL instead.
    """

    nodeid: str
    declared: tuple[str, ...]
    deviations: dict[str, str] = field(default_factory=dict)
    """clause id -> reason, for this target."""
    records: list[Record] = field(default_factory=list)
    should: frozenset[str] = frozenset()
    """The declared clauses whose level is SHOULD."""
    strict: bool = False
    """--strict: a SHOULD clause that is not met is a FAIL, not a WARN."""

    def check(self, clause: str, ok: bool, message: str) -> bool:
        """Record a PASS or FAIL (WARN for a SHOULD clause) for `clause`; `message` says what was seen."""
        self._declared(clause)
        if ok:
            self.records.append(Record(clause, "PASS", message))
        else:
            self.records.append(self._unmet(clause, message))
        return ok

    def _unmet(self, clause: str, message: str) -> Record:
        if clause in self.deviations:
            return Record(clause, "XFAIL", f"known deviation ({self.deviations[clause]}): {message}")
        if clause in self.should and not self.strict:
            return Record(clause, "WARN", message)
        return Record(clause, "FAIL", message)

    def na(self, clause: str, reason: str) -> None:
        """Record that `clause` could not be checked here, and why."""
        self._declared(clause)
        self.records.append(Record(clause, "NA", reason))

    def _declared(self, clause: str) -> None:
        if clause not in self.declared:
            raise ValueError(f"{self.nodeid} records {clause} but its clause marker does not name it")

    def verdicts(self) -> dict[str, list[Record]]:
        out: dict[str, list[Record]] = {c: [] for c in self.declared}
        for record in self.records:
            out[record.clause].append(record)
        return out

    def unrecorded(self) -> list[str]:
        return [c for c, recs in self.verdicts().items() if not recs]

    def fill(self, verdict: Verdict, message: str) -> None:
        """Give every declared clause that has no verdict yet this one (the test stopped early)."""
        for clause in self.unrecorded():
            if verdict == "FAIL":
                self.records.append(self._unmet(clause, message))
            else:
                self.records.append(Record(clause, verdict, message))

    def failures(self) -> list[Record]:
        return [r for r in self.records if r.verdict == "FAIL"]

    def xpassed(self) -> list[str]:
        """Deviated clauses this test checked and found conforming (the deviation is fixed)."""
        out = []
        for clause, recs in self.verdicts().items():
            if clause in self.deviations and recs and all(r.verdict == "PASS" for r in recs):
                out.append(clause)
        return out

    def xfailed(self) -> list[Record]:
        return [r for r in self.records if r.verdict == "XFAIL"]

    def warnings(self) -> list[Record]:
        return [r for r in self.records if r.verdict == "WARN"]

    def by_clause(self) -> dict[str, tuple[Verdict, str]]:
        """Each declared clause that has records, folded into one verdict (see summarize_clause)."""
        return {c: summarize_clause(recs) for c, recs in self.verdicts().items() if recs}


def summarize_clause(records: list[Record]) -> tuple[Verdict, str]:
    """Fold all records of one clause into one verdict with a one-line reason (FAIL > XFAIL > WARN > PASS > NA)."""
    for verdict in ("FAIL", "XFAIL", "WARN", "PASS", "NA"):
        hits = [r for r in records if r.verdict == verdict]
        if hits:
            return hits[0].verdict, hits[0].message
    raise ValueError("no records")
