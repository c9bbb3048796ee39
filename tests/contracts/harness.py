"""Run the conformance suite (a subprocess, as a user would) against an app served on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KEY = "ct-key"


def emulator_app() -> Any:
    from mockserver.core.settings import Settings
    from mockserver.http.app import create_app

    return create_app(Settings(api_keys=(KEY,)))


def run_suite(base_url: str, *args: str, timeout: float = 120) -> dict[str, Any]:
    """Run `pytest -p contracts.plugin --pyargs contracts` against base_url; return the JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "contracts.plugin",
            "--pyargs",
            "contracts",
            "-q",
            "-p",
            "no:cacheprovider",
            "--base-url",
            base_url,
            "--report",
            str(report),
            *args,
        ]
        env = {**os.environ, "BOSON_API_KEY": KEY, "HEYGEN_API_KEY": KEY}
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        if not report.exists():
            raise AssertionError(f"no report; exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        data: dict[str, Any] = json.loads(report.read_text())
        data["exit_code"] = proc.returncode
        data["stdout_tail"] = proc.stdout[-2000:]
        return data


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["clauses"]}


def reasons(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["reason"] for c in report["clauses"]}
