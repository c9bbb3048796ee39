"""One emulator process shared by every pytest-xdist worker of a run.

The first worker to ask starts it (under a file lock) and the others find its URL in a file. It
serves until the process it watches (the xdist controller, or the lone pytest process) exits.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..http.names import CONTROL_PREFIX

START_TIMEOUT_S = 60.0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + CONTROL_PREFIX + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def shared_emulator_url(folder: Path, watch_pid: int) -> str:
    """Start (once per `folder`) or find the shared emulator; return its base URL."""
    folder.mkdir(parents=True, exist_ok=True)
    url_file = folder / "url"
    with (folder / "lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if url_file.exists() and _healthy(url := url_file.read_text().strip()):
                return url
            url_file.unlink(missing_ok=True)
            # A launcher that starts the server detached and exits: nothing is left for this process to reap.
            subprocess.run([sys.executable, "-m", "mockserver.testkit.shared", "--detach", str(url_file),
                            str(watch_pid)], check=True, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + START_TIMEOUT_S
            while not url_file.exists():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the shared emulator did not start within {START_TIMEOUT_S} s")
                time.sleep(0.05)
            return url_file.read_text().strip()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    if argv[0] == "--detach":
        subprocess.Popen([sys.executable, "-m", "mockserver.testkit.shared", *argv[1:]], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, start_new_session=True)
        return 0
    from ..core.settings import Settings
    from ..http.app import create_app
    from .server import serve

    url_file, watch_pid = Path(argv[0]), int(argv[1])
    with serve(create_app(Settings())) as server:
        partial = url_file.with_suffix(".tmp")
        partial.write_text(server.url)
        partial.replace(url_file)
        while _alive(watch_pid):
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
