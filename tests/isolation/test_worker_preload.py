"""A pool's preload reaches its workers even when an earlier pool started the fork server without
it: they import it before their memory limit applies (a fork server's preload is fixed once it runs)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio
    import operator
    import sys

    from mockserver.core.workers import WorkerLimits, WorkerPool


    async def main() -> None:
        assert "av" not in sys.modules
        first = WorkerPool("bare", 1, limits=WorkerLimits(memory_bytes=None))
        try:
            assert await first.run(operator.truth) is True  # the fork server now runs, with no preload
        finally:
            first.close()
        from mockserver.providers.boson.tasks import init_segment  # imports PyAV here, not in the fork server

        tight = WorkerPool("tight", 1, limits=WorkerLimits(memory_bytes=300 * 1024 * 1024),
                           preload=["mockserver.providers.boson.tasks"])
        try:
            segment = await tight.run(init_segment, 64, 64)  # libx264 through PyAV, under the limit
        finally:
            tight.close()
        assert segment[4:8] == b"ftyp", segment[:16]
        print("ok")


    if __name__ == "__main__":
        asyncio.run(main())
    """
)


def test_a_late_pools_preload_is_imported_before_the_memory_limit() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
