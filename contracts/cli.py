"""`avatar-emulator conformance ...`: parse the CLI form and run the suite through pytest."""

from __future__ import annotations

import argparse
import subprocess
import sys

from contracts.target import TIERS


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="avatar-emulator conformance", description="Judge a Boson or HeyGen deployment.")
    p.add_argument("--provider", choices=("boson", "heygen"), required=True)
    p.add_argument("--base-url", required=True, help="target base URL (there is no default)")
    p.add_argument("--api-key-env", default=None, help="environment variable holding the API key")
    p.add_argument("--tier", choices=TIERS, default="core")
    p.add_argument("--budget-videos", type=int, default=None, help="max videos to create (required off loopback)")
    p.add_argument("--junitxml", default=None)
    p.add_argument("--report", default=None, help="JSON report path")
    p.add_argument("--target-name", default=None, help="name used in deviations.yaml")
    p.add_argument("--clause", action="append", default=[], help="only tests naming this clause (repeatable)")
    p.add_argument("--video-timeout", type=float, default=None)
    p.add_argument("--strict", action="store_true", help="SHOULD clauses count: one not met is a FAIL, not a WARN")
    p.add_argument("--callback-base-url", default=None,
                   help="public URL that reaches the webhook receiver (HeyGen webhooks on a remote target)")
    p.add_argument("--callback-listen", default=None, help="HOST:PORT the webhook receiver listens on")
    p.add_argument("--heygen-concurrency", type=int, default=None,
                   help="HeyGen: videos the account renders at once (checks the queue)")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    return p


def pytest_args(ns: argparse.Namespace) -> list[str]:
    """The pytest command line equivalent to the parsed CLI."""
    args = [
        "-p",
        "no:avatar_emulator",  # the judge runs no emulator code, even when both are installed
        "-p",
        "contracts.plugin",
        "--pyargs",
        "contracts",
        "-p",
        "no:cacheprovider",
        "-q",
        "--provider",
        ns.provider,
        "--base-url",
        ns.base_url,
        "--tier",
        ns.tier,
    ]
    for flag, value in (
        ("--api-key-env", ns.api_key_env),
        ("--budget-videos", ns.budget_videos),
        ("--junitxml", ns.junitxml),
        ("--report", ns.report),
        ("--target-name", ns.target_name),
        ("--video-timeout", ns.video_timeout),
        ("--callback-base-url", ns.callback_base_url),
        ("--callback-listen", ns.callback_listen),
        ("--heygen-concurrency", ns.heygen_concurrency),
    ):
        if value is not None:
            args += [flag, str(value)]
    for clause in ns.clause:
        args += ["--clause", clause]
    if ns.strict:
        args.append("--strict-conformance")
    return args + list(ns.pytest_args)


def main(argv: list[str] | None = None) -> int:
    """Run the conformance suite; the exit code is pytest's (0: no FAIL)."""
    ns = build_parser().parse_args(argv)
    # A fresh interpreter: nothing the caller imported can leak into the judging process.
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args(ns)])


if __name__ == "__main__":
    raise SystemExit(main())
