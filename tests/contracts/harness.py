"""Run the conformance suite (a subprocess, as a user would) against an app served on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KEY = "ct-key"


def emulator_app(**settings: Any) -> Any:
    """The emulator accepting only KEY; `settings` override Settings fields."""
    from mockserver import Settings, create_app

    return create_app(Settings(api_keys=(KEY,), **settings))


def run_suite(base_url: str, *args: str, timeout: float = 300, junit: bool = False) -> dict[str, Any]:
    """Run `pytest -p contracts.plugin --pyargs contracts` against base_url; return the JSON report.

    The report gains `exit_code`, `stdout` (the whole terminal output), `stdout_tail`, `elapsed_s` and, with
    `junit`, `junit_xml` (the JUnit file's text).
    """
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        xml = Path(tmp) / "report.xml"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:avatar_emulator",
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
            *(["--junitxml", str(xml)] if junit else []),
            *args,
        ]
        env = {**os.environ, "BOSON_API_KEY": KEY, "HEYGEN_API_KEY": KEY}
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        elapsed = time.monotonic() - t0
        if not report.exists():
            raise AssertionError(f"no report; exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        data: dict[str, Any] = json.loads(report.read_text())
        data["exit_code"] = proc.returncode
        data["stdout"] = proc.stdout
        data["stdout_tail"] = proc.stdout[-2000:]
        data["elapsed_s"] = round(elapsed, 1)
        if junit:
            data["junit_xml"] = xml.read_text(encoding="utf-8")
        return data


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["clauses"]}


def reasons(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["reason"] for c in report["clauses"]}
