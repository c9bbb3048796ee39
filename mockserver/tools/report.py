"""`avatar-emulator report REPORT.json`: the dashboard's conformance page on a report file, in a browser."""

from __future__ import annotations

import argparse
import json
import threading
import webbrowser
from pathlib import Path

from ..core.settings import Settings
from ..http.app import create_app
from ..http.serving import listening_socket


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="avatar-emulator report",
                                description="Serve the dashboard on a conformance report (the JSON of "
                                            "`avatar-emulator conformance --report`) and open it in a browser.")
    p.add_argument("report", type=Path, help="the report JSON")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="default: any free port")
    p.add_argument("--no-browser", action="store_true", help="print the address only")
    return p


def check_report(path: Path) -> None:
    """Refuse, with a clear message, a file that is not a conformance report."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SystemExit(f"avatar-emulator report: cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SystemExit(f"avatar-emulator report: {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("clauses"), list):
        raise SystemExit(f"avatar-emulator report: {path} has no 'clauses' list: is it a conformance report?")


def report_settings(path: Path) -> Settings:
    """The emulator's settings for `avatar-emulator report PATH`: defaults, plus the report."""
    return Settings(report_file=path.resolve())


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    args = build_parser().parse_args(argv)
    check_report(args.report)
    app = create_app(report_settings(args.report))
    sock = listening_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/_emulator/ui#/report"
    print(f"avatar-emulator: {args.report} at {url} (Ctrl-C to stop)", flush=True)
    if not args.no_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
    return 0
