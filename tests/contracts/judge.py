"""Judge many servers in one process: each is served on loopback and the suite runs against it in-process.

`python -m tests.contracts.judge --provider boson --out results.json` judges every Boson mutant under its own
clause (`--strict-conformance`, so a SHOULD clause not met is a FAIL) and writes {name: {status, reason, exit}}.
One interpreter imports the suite (Schemathesis, PyAV, OpenCV...) once instead of once per mutant, which is what
makes a mutation run of some forty servers affordable; each judgement is still a complete `pytest --pyargs
contracts` session against a fresh emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.contracts.harness import KEY, ROOT, emulator_app
from tests.contracts.heygen_mutants import HEYGEN_MUTANTS
from tests.contracts.mutants import MUTANTS, Mutant
from tests.servers import serve

ALL: list[Mutant] = MUTANTS + HEYGEN_MUTANTS
HEYGEN_CONCURRENCY = 3
"""The emulator's default --heygen-concurrency, told to the suite so it can check the queue."""


def suite_args(mutant: Mutant, url: str, report: Path, *, strict: bool = True) -> list[str]:
    args = [
        "-p", "no:avatar_emulator", "-p", "contracts.plugin", "--pyargs", "contracts",
        "-q", "-p", "no:cacheprovider", "--assert=plain", "--base-url", url, "--report", str(report),
        "--provider", mutant.provider, "--tier", mutant.tier, "--clause", mutant.clause,
    ]  # fmt: skip
    if strict:
        args.append("--strict-conformance")
    if mutant.provider == "heygen":
        args += ["--heygen-concurrency", str(HEYGEN_CONCURRENCY)]
    return args


def judge(mutant: Mutant, *, strict: bool = True) -> dict[str, Any]:
    """Serve the mutant, run the suite on it in-process, return its clause's status and reason."""
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, serve(mutant.wrap(emulator_app(**mutant.settings))) as url:
        report = Path(tmp) / "report.json"
        code = pytest.main(suite_args(mutant, url, report, strict=strict))
        data = json.loads(report.read_text()) if report.exists() else {"clauses": []}
    row = next((c for c in data["clauses"] if c["id"] == mutant.clause), {"status": "?", "reason": "no report"})
    return {
        "clause": mutant.clause,
        "status": row["status"],
        "reason": row["reason"],
        "exit": int(code),
        "seconds": round(time.monotonic() - t0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.contracts.judge")
    p.add_argument("--provider", choices=("boson", "heygen"), required=True)
    p.add_argument("--out", required=True, help="where to write the JSON results")
    p.add_argument("--lenient", action="append", default=[],
                   help="also judge this mutant without --strict-conformance (recorded as 'NAME (lenient)')")
    p.add_argument("names", nargs="*", help="mutant names (default: every mutant of the provider)")
    ns = p.parse_args(argv)
    os.chdir(ROOT)
    os.environ.setdefault("BOSON_API_KEY", KEY)
    os.environ.setdefault("HEYGEN_API_KEY", KEY)
    chosen = [m for m in ALL if m.provider == ns.provider and (not ns.names or m.name in ns.names)]
    results = {m.name: judge(m) for m in chosen}
    for m in (m for m in ALL if m.name in ns.lenient):
        results[f"{m.name} (lenient)"] = judge(m, strict=False)
    Path(ns.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
